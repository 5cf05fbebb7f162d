"""Outputs of a network's sessions: the list, publishing one, one output, retracting it, and the preview of how an
output and its authors appear OUTSIDE the network.

The preview: the admin API has no read that renders an output as a reader outside its network sees it (a
reader inside, as the staff who publish are, always gets names). So the console draws it from the member
records the API gives the network's staff (``GET /v1/members?network_id=``: name, perspectives and the consent
``named_in_shared_outputs``), by the sessions service's rule (decision 0012, services/sessions/domain/outputs.py
``attribution``): outside the network no member id ever; a name only with consent; otherwise the author's first
perspective ("a participant with lived experience"), or "a participant" without one; an erased member is "a
former member". tests/unit/console/test_console_outputs.py pins this function to that rule case by case. An
author whose record the API does not give this person is shown as unknown here, never by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.common.vocabulary import (
    AUTHOR_ROLES,
    PERSPECTIVE_ROLE_NAMES,
    OutputKind,
    Perspective,
    ResourceType,
    Visibility,
)
from services.console.api import ApiError, api_path
from services.console.pages.frame import network_frame
from services.console.pages.sessions import PAGE_SIZE, errors_of, network_members, refusable
from services.console.web import Form, Page, PostedForm, SignedInPage

router = APIRouter()

# As the sessions service writes them (services/sessions/domain/outputs.py); the console may not import it.
FORMER_MEMBER = "a former member"
A_PARTICIPANT = "a participant"
ERASED_PREFIX = "erased-"  # the pseudonym erasure leaves in place of a member id
LICENCES = ("CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "all-rights-reserved")
DEFAULT_LICENCE = "CC-BY-4.0"
KINDS = tuple(kind.value for kind in OutputKind)
RESOURCE_TYPES = tuple(kind.value for kind in ResourceType)
VISIBILITIES = tuple(visibility.value for visibility in Visibility)


@dataclass(frozen=True)
class ShownOutside:
    """One author as a reader outside the output's network sees them. ``known`` False: the console could not
    read the author's consent, so the preview cannot say (and names nobody)."""

    shown_as: str
    named: bool
    known: bool = True
    role: str | None = None  # an unnamed author's role code (as the API's ``role``), said in the page's language


def shown_outside(member_id: str, record: dict[str, Any] | None) -> ShownOutside:
    """How an author appears outside the output's network, from their member record as the API returns it."""
    if member_id.startswith(ERASED_PREFIX):
        return ShownOutside(FORMER_MEMBER, named=False, role=AUTHOR_ROLES[FORMER_MEMBER])
    if record is None:
        return ShownOutside("", named=False, known=False)
    name = str(record.get("name") or "")
    if name and record.get("named_in_shared_outputs") is True:
        return ShownOutside(name, named=True)
    perspectives = record.get("perspectives") or []
    shown_as = PERSPECTIVE_ROLE_NAMES[Perspective(perspectives[0])] if perspectives else A_PARTICIPANT
    return ShownOutside(shown_as, named=False, role=AUTHOR_ROLES[shown_as])


def preview(author_ids: list[str], members: list[dict[str, Any]] | None) -> list[ShownOutside]:
    records = {str(member["id"]): member for member in members or []}
    return [shown_outside(member_id, records.get(member_id)) for member_id in author_ids]


def _themes(typed: str) -> list[str]:
    return [theme.strip() for theme in typed.split(",") if theme.strip()]


def _by_field(errors: dict[str, str]) -> dict[str, str]:
    """``authors.1`` and ``themes.0`` next to the one field each list is typed in."""
    shown: dict[str, str] = {}
    for name, message in errors.items():
        base = name.split(".")[0] if name.startswith(("authors.", "themes.")) else name
        shown.setdefault(base, message)
    return shown


# --- the list --------------------------------------------------------------------------------------------------


@router.get("/networks/{network_id}/outputs", response_class=HTMLResponse)
def outputs_list(network_id: str, page: SignedInPage, next: str | None = None, kind: str | None = None) -> HTMLResponse:
    frame = network_frame(page, network_id, "outputs")
    kinds = list(KINDS)
    answer = page.api.get(api_path("/v1/networks/{}/outputs", network_id), page_size=PAGE_SIZE, page_token=next,
                          kind=kind if kind in kinds else None)
    return page.render("outputs_list.html", **frame, outputs=answer["items"], next_token=answer.get("next_page_token"),
                       kinds=kinds, kind=kind if kind in kinds else "")


# --- publishing --------------------------------------------------------------------------------------------------


def _publish_form(page: Page, session_id: str, *, status: int = 200, errors: dict[str, str] | None = None,
                  values: dict[str, Any] | None = None, to_preview: dict[str, Any] | None = None) -> HTMLResponse:
    """The form; with ``to_preview`` (an output's body as it would be sent) the preview from outside above it."""
    session: dict[str, Any] = page.api.get(api_path("/v1/sessions/{}", session_id))
    frame = network_frame(page, session["network_id"], "outputs")
    if not frame["staff"]:
        return page.render("error.html", status=403, title=page.t("error.forbidden.title"),
                           message=page.t("error.forbidden"))
    members = network_members(page, session["network_id"])
    attendees: list[str] = page.api.get(api_path("/v1/sessions/{}/attendance", session_id)).get("member_ids", [])
    names = {str(m["id"]): str(m["name"]) for m in members or []}
    # Attendees first (who were there usually wrote it), then the network's other members.
    candidates = [*attendees, *[str(m["id"]) for m in members or [] if m["id"] not in attendees]]
    chosen = (values or {}).get("authors", [])
    previewed = None
    if to_preview is not None:
        # Only known values are drawn (a tampered form must not reach a text that does not exist).
        previewed = {**to_preview, "shown": preview(to_preview["authors"], members),
                     "kind": to_preview["kind"] if to_preview["kind"] in KINDS else "",
                     "resource_type": to_preview.get("resource_type")
                     if to_preview.get("resource_type") in RESOURCE_TYPES else None,
                     "visibility": to_preview["visibility"]
                     if to_preview["visibility"] in VISIBILITIES else Visibility.NETWORK.value}
    return page.render(
        "output_new.html", status=status, errors=_by_field(errors or {}), values=values,
        **{**frame, "title": page.t("outputs.new.title")}, session=session, candidates=candidates,
        attendees=set(attendees),
        names=names, chosen=set(chosen if isinstance(chosen, list) else [chosen]), members_known=members is not None,
        kinds=KINDS, default_licence=DEFAULT_LICENCE, previewed=previewed,
        kind_options=[(k, page.t(f"outputs.kind.{k}")) for k in KINDS],
        resource_type_options=[(r.value, page.t(f"outputs.resource_type.{r.value}")) for r in ResourceType],
        visibility_options=[(v.value, page.t(f"outputs.visibility.{v.value}")) for v in Visibility],
        licence_options=[(licence, page.t(f"outputs.licence.{licence}")) for licence in LICENCES],
        statement_options=[(n, f"{n}. {text}") for n, text in enumerate(session.get("statements") or [], 1)],
    )


def _output_body(form: Form) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": form.text("kind"), "title": form.text("title"), "body": form.text("body"),
                            "authors": form.all("authors"), "themes": _themes(form.text("themes")),
                            "visibility": form.text("visibility") or Visibility.NETWORK.value,
                            "licence": form.text("licence") or DEFAULT_LICENCE}
    for name in ("url", "resource_type"):
        if form.optional(name):
            body[name] = form.text(name)
    statement = form.text("statement")
    if statement:
        body["statement"] = int(statement) if statement.isdigit() else statement  # not a number: the API says so
    return body


def _values(form: Form) -> dict[str, Any]:
    values = dict(form.values)
    values["authors"] = form.all("authors")  # always a list, one author or several
    return values


@router.get("/sessions/{session_id}/outputs/new", response_class=HTMLResponse)
def publish_form(session_id: str, page: SignedInPage) -> HTMLResponse:
    return _publish_form(page, session_id)


@router.post("/sessions/{session_id}/outputs/preview", response_class=HTMLResponse)
def publish_preview(session_id: str, page: SignedInPage, form: PostedForm) -> HTMLResponse:
    """The form again, what was typed kept, with the preview beside it. Nothing is sent to the API to save."""
    return _publish_form(page, session_id, values=_values(form), to_preview=_output_body(form))


@router.post("/sessions/{session_id}/outputs", response_class=HTMLResponse)
def publish(session_id: str, page: SignedInPage, form: PostedForm) -> Response:
    try:
        output = page.api.post(api_path("/v1/sessions/{}/outputs", session_id), _output_body(form), form_key=form.key)
    except ApiError as refused:
        if not refusable(refused):
            raise
        return _publish_form(page, session_id, status=422, errors=errors_of(refused), values=_values(form))
    return page.redirect(f"/outputs/{output['id']}", notice=page.t("outputs.published", title=output["title"]))


# --- one output ------------------------------------------------------------------------------------------------


def _output_page(page: Page, output_id: str, template: str, *, status: int = 200, staff_only: bool = False,
                 errors: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> HTMLResponse:
    output: dict[str, Any] = page.api.get(api_path("/v1/outputs/{}", output_id))
    if "network_id" not in output:  # a tombstone: retracted, nothing else of it remains to show
        return page.render("output_retracted.html", title=page.t("outputs.retracted.title"), output=output)
    frame = network_frame(page, output["network_id"], "outputs")
    if staff_only and not frame["staff"]:
        return page.render("error.html", status=403, title=page.t("error.forbidden.title"),
                           message=page.t("error.forbidden"))
    shown: list[ShownOutside] | None = None
    if frame["staff"] and output["visibility"] != Visibility.NETWORK.value:
        members = network_members(page, output["network_id"])
        # Inside the network (where staff read) each author comes with their member id; outside never.
        shown = preview([str(a.get("member_id") or "") for a in output["authors"]], members)
    return page.render(template, status=status, errors=errors, values=values, **{**frame, "title": output["title"]},
                       output=output, shown=shown, kinds=KINDS)


@router.get("/outputs/{output_id}", response_class=HTMLResponse)
def output_page(output_id: str, page: SignedInPage) -> HTMLResponse:
    return _output_page(page, output_id, "output.html")


@router.get("/outputs/{output_id}/retract", response_class=HTMLResponse)
def retract_confirm(output_id: str, page: SignedInPage) -> HTMLResponse:
    return _output_page(page, output_id, "output_retract.html", staff_only=True)


@router.post("/outputs/{output_id}/retract", response_class=HTMLResponse)
def retract(output_id: str, page: SignedInPage, form: PostedForm) -> Response:
    body: dict[str, Any] = {}
    if form.optional("reason"):
        body["reason"] = form.text("reason")
    try:
        tombstone = page.api.post(api_path("/v1/outputs/{}/retract", output_id), body, form_key=form.key)
    except ApiError as refused:
        if not refusable(refused):
            raise
        return _output_page(page, output_id, "output_retract.html", status=422, errors=errors_of(refused),
                            values=form.values)
    return page.redirect(f"/outputs/{tombstone['id']}", notice=page.t("outputs.retracted"))
