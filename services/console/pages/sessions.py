"""Sessions of a network: the list, scheduling, one session's page, its life cycle, registrations and attendance.

Every read and action is the admin API's, as the signed-in person; the staff forms show for the network's
coordinators and facilitators only as a convenience (the API refuses anyone else, and its refusal is drawn).
Times are typed and shown in Dutch time (the networks are Dutch); the API gets them with their UTC offset.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.common.vocabulary import SessionFormat, SessionMode
from services.console.api import ApiError, api_path
from services.console.dates import api_time, local_input, when
from services.console.pages.frame import network_frame
from services.console.web import Form, Page, PostedForm, SignedInPage

router = APIRouter()

PAGE_SIZE = 20
YEAR = timedelta(days=365)
MAX_YEARS_BACK = 20
PAST_PAGES = 5  # at most 1,000 sessions of one network in one year are shown
# The formats whose tables discuss statements, as the sessions service knows them (its rule `cafe_only`).
STATEMENT_FORMATS = (SessionFormat.WORLD_CAFE.value, SessionFormat.KNOWLEDGE_CAFE.value)
STATEMENT_ROWS = 8  # empty statement fields drawn for a café; more than the rows typed is never needed at once
CONTRIBUTION_ROWS = 3
MEMBER_PAGES = 10  # at most 10 pages of 200 members read for a picker
LIFECYCLE = ("hold", "close", "cancel")


# --- shared with the outputs pages ----------------------------------------------------------------------------


def network_members(page: Page, network_id: str) -> list[dict[str, Any]] | None:
    """The network's members by name (for pickers and names), or None when the API does not let this person
    list them (then pickers take a member id and lists show ids, which the people inside may see)."""
    members: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(MEMBER_PAGES):
        try:
            answer = page.api.get("/v1/members", network_id=network_id, page_size=200, page_token=token)
        except ApiError as refused:
            if refused.status == 403:
                return None
            raise
        members.extend(answer.get("items", []))
        token = answer.get("next_page_token")
        if not token:
            break
    return sorted(members, key=lambda member: str(member.get("name", "")).lower())


def errors_of(refused: ApiError) -> dict[str, str]:
    """The refusal by field; a refusal that names no field (a state conflict) as one general problem."""
    return refused.field_errors or {"": refused.message}


def refusable(refused: ApiError) -> bool:
    """The answers a form is drawn again for: bad input (422) and a state conflict (409). Others propagate."""
    return refused.status in (409, 422)


# --- the list and scheduling ----------------------------------------------------------------------------------


@router.get("/networks/{network_id}/sessions", response_class=HTMLResponse)
def sessions_list(network_id: str, page: SignedInPage, upcoming: str | None = None,
                  year: str | None = None) -> HTMLResponse:
    """Upcoming sessions soonest first, paged as the API pages them; past ones one year at a time, the most
    recent first (the API lists oldest first, so a year's sessions are read whole and turned round)."""
    frame = network_frame(page, network_id, "sessions")
    now = datetime.now(UTC)
    back = min(max(int(year), 1), MAX_YEARS_BACK) if year and year.isdigit() else 1  # any other value: this year
    path = api_path("/v1/networks/{}/sessions", network_id)
    coming = page.api.get(path, starts_from=now.isoformat(), page_size=PAGE_SIZE, page_token=upcoming)
    window_start, window_end = now - YEAR * back, now - YEAR * (back - 1)
    past: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(PAST_PAGES):
        gone = page.api.get(path, starts_from=window_start.isoformat(), starts_before=window_end.isoformat(),
                            page_size=200, page_token=token)
        past.extend(gone["items"])
        token = gone.get("next_page_token")
        if not token:
            break
    return page.render("sessions_list.html", **frame, upcoming=coming["items"], past=past[::-1],
                       upcoming_next=coming.get("next_page_token"), upcoming_token=upcoming, year=back,
                       older=back < MAX_YEARS_BACK, past_from=when(window_start.isoformat())[:10],
                       past_to=when(window_end.isoformat())[:10])


def _schedule_form(page: Page, network_id: str, format: str | None, *, status: int = 200,
                   errors: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> HTMLResponse:
    frame = network_frame(page, network_id, "sessions")
    if not frame["staff"]:
        return _not_staff(page)
    formats = [f.value for f in SessionFormat]
    chosen = format if format in formats else None
    members = network_members(page, network_id) if chosen else None
    return page.render("session_new.html", status=status, errors=errors, values=values, **frame,
                       formats=formats, format=chosen, modes=[m.value for m in SessionMode],
                       cafe=chosen in STATEMENT_FORMATS, statement_rows=STATEMENT_ROWS,
                       contribution_rows=CONTRIBUTION_ROWS, members=members,
                       member_options=[(m["id"], m["name"]) for m in members or []])


def _not_staff(page: Page) -> HTMLResponse:
    # Only a convenience: the API refuses the action itself to anyone who is not staff.
    return page.render("error.html", status=403, title=page.t("error.forbidden.title"),
                       message=page.t("error.forbidden"))


@router.get("/networks/{network_id}/sessions/new", response_class=HTMLResponse)
def schedule_form(network_id: str, page: SignedInPage, format: str | None = None) -> HTMLResponse:
    return _schedule_form(page, network_id, format)


def _plan(form: Form) -> tuple[dict[str, Any], dict[str, Any]]:
    """The API's body from the form, and the values to draw the form again with: rows left empty are dropped
    and the others numbered again, so the API's ``statements.2`` lands next to the third statement drawn."""
    body: dict[str, Any] = {"title": form.text("title"), "format": form.text("format"), "mode": form.text("mode"),
                            "starts_at": api_time(form.text("starts_at")), "ends_at": api_time(form.text("ends_at")),
                            "agenda": form.text("agenda")}
    for name in ("location", "meeting_url"):
        if form.optional(name):
            body[name] = form.text(name)
    capacity = form.text("capacity")
    if capacity:
        body["capacity"] = int(capacity) if capacity.isdigit() else capacity  # not a number: the API says so
    values = {name: form.text(name) for name in ("title", "format", "mode", "location", "meeting_url", "starts_at",
                                                  "ends_at", "capacity", "agenda")}
    statements = [form.text(f"statements.{row}") for row in range(STATEMENT_ROWS) if form.text(f"statements.{row}")]
    if statements:
        body["statements"] = statements
    for number, statement in enumerate(statements):
        values[f"statements.{number}"] = statement
    contributions = []
    for row in range(CONTRIBUTION_ROWS):
        member_id, topic = form.text(f"contributions.{row}.member_id"), form.text(f"contributions.{row}.topic")
        if member_id or topic:
            contributions.append({"member_id": member_id, "topic": topic})
    if contributions:
        body["contributions"] = contributions
    for number, contribution in enumerate(contributions):
        values[f"contributions.{number}.member_id"] = contribution["member_id"]
        values[f"contributions.{number}.topic"] = contribution["topic"]
    return body, values


@router.post("/networks/{network_id}/sessions", response_class=HTMLResponse)
def schedule(network_id: str, page: SignedInPage, form: PostedForm) -> Response:
    body, values = _plan(form)
    try:
        session = page.api.post(api_path("/v1/networks/{}/sessions", network_id), body, form_key=form.key)
    except ApiError as refused:
        if not refusable(refused):
            raise
        return _schedule_form(page, network_id, form.text("format"), status=422, errors=errors_of(refused),
                              values=values)
    return page.redirect(f"/sessions/{session['id']}", notice=page.t("sessions.scheduled", title=session["title"]))


# --- one session ----------------------------------------------------------------------------------------------


def _session_page(page: Page, session_id: str, *, status: int = 200, failed: str | None = None,
                  errors: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> HTMLResponse:
    session: dict[str, Any] = page.api.get(api_path("/v1/sessions/{}", session_id))
    frame = network_frame(page, session["network_id"], "sessions")
    me = page.me()
    registrations: list[dict[str, Any]] = []
    attendance: dict[str, Any] | None = None
    members: list[dict[str, Any]] | None = None
    if frame["staff"]:
        registrations = page.api.get(api_path("/v1/sessions/{}/registrations", session_id))["items"]
        attendance = page.api.get(api_path("/v1/sessions/{}/attendance", session_id))
        members = network_members(page, session["network_id"])
    names = {str(m["id"]): str(m["name"]) for m in members or []}
    active = [r for r in registrations if r["status"] != "cancelled"]
    registered_ids = {r["member_id"] for r in active}
    present = set(attendance["member_ids"]) if attendance else set()
    # Everyone who may be marked present: the registered and waitlisted, then the network's other members.
    attendable = [r["member_id"] for r in active] + [m["id"] for m in members or [] if m["id"] not in registered_ids]
    attendable += sorted(present - set(attendable))
    outputs = page.api.get(api_path("/v1/sessions/{}/outputs", session_id), page_size=50)["items"]
    member_of = session["network_id"] in me.get("member_of", [])
    # A participant's own registration decides which one action their section offers (register, or cancel).
    mine = None
    if not frame["staff"] and member_of and session["status"] == "planned" and me.get("member_id"):
        mine = own_registration(page, session_id, str(me["member_id"]))
    return page.render(
        "session.html", status=status, errors=errors, values=values, failed=failed,
        **{**frame, "title": session["title"]}, session=session, registrations=registrations, attendance=attendance,
        members=members, names=names, registered_ids=registered_ids, present=present, attendable=attendable,
        member_options=[(m["id"], m["name"]) for m in members or [] if m["id"] not in registered_ids],
        member_id=me.get("member_id"), cafe=session["format"] in STATEMENT_FORMATS, outputs=outputs,
        conclusions={c["statement"]: c for c in session.get("conclusions") or []},
        local_input=local_input, member_of=member_of, mine=mine,
    )


def own_registration(page: Page, session_id: str, member_id: str) -> dict[str, Any] | None:
    """The person's registration while it holds a seat or a place on the waitlist; None when they never
    registered (the API's 404) or cancelled."""
    try:
        registration: dict[str, Any] = page.api.get(api_path("/v1/sessions/{}/registrations/{}", session_id, member_id))
    except ApiError as refused:
        if refused.status == 404:
            return None
        raise
    return registration if registration.get("status") in ("registered", "waitlisted") else None


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def session_page(session_id: str, page: SignedInPage) -> HTMLResponse:
    return _session_page(page, session_id)


def _act(page: Page, session_id: str, failed: str, form: Form, call: Callable[[], Any],
         notice: str | Callable[[Any], str], values: dict[str, Any] | None = None) -> Response:
    """One API call for one form; on 409/422 the session page again with the form's problems, nothing saved.
    ``notice``: the text after success, or a function of the API's answer that gives it."""
    try:
        answer = call()
    except ApiError as refused:
        if not refusable(refused):
            raise
        return _session_page(page, session_id, status=422, failed=failed, errors=errors_of(refused),
                             values=values if values is not None else form.values)
    return page.redirect(f"/sessions/{session_id}", notice=notice if isinstance(notice, str) else notice(answer))


@router.post("/sessions/{session_id}/registrations", response_class=HTMLResponse)
def register(session_id: str, page: SignedInPage, form: PostedForm) -> Response:
    """Staff register a member (``member_id``); a member registers themself (no ``member_id``)."""
    body: dict[str, Any] = {}
    if form.optional("member_id"):
        body["member_id"] = form.text("member_id")
    if form.text("preparation_asked"):  # the form asked: an unticked box is "not prepared", not "not said"
        body["prepared"] = form.checked("prepared")
    for_someone = "member_id" in body

    def notice(registration: dict[str, Any]) -> str:
        """What the API answered: a seat, or a place on the waitlist."""
        waitlisted = registration.get("status") == "waitlisted"
        key = {(False, False): "sessions.registered", (False, True): "sessions.waitlisted",
               (True, False): "sessions.member_registered", (True, True): "sessions.member_waitlisted"}
        return page.t(key[(for_someone, waitlisted)], position=registration.get("waitlist_position") or "")

    return _act(page, session_id, "register" if for_someone else "register_self", form,
                lambda: page.api.post(api_path("/v1/sessions/{}/registrations", session_id), body, form_key=form.key),
                notice)


@router.post("/sessions/{session_id}/registrations/{member_id}/cancel", response_class=HTMLResponse)
def cancel_registration(session_id: str, member_id: str, page: SignedInPage, form: PostedForm) -> Response:
    return _act(page, session_id, "registrations", form,
                lambda: page.api.delete(api_path("/v1/sessions/{}/registrations/{}", session_id, member_id),
                                        form_key=form.key),
                page.t("sessions.registration_cancelled"))


@router.post("/sessions/{session_id}/reschedule", response_class=HTMLResponse)
def reschedule(session_id: str, page: SignedInPage, form: PostedForm) -> Response:
    body: dict[str, Any] = {"starts_at": api_time(form.text("starts_at")), "ends_at": api_time(form.text("ends_at"))}
    if form.optional("reason"):
        body["reason"] = form.text("reason")
    return _act(page, session_id, "reschedule", form,
                lambda: page.api.post(api_path("/v1/sessions/{}/reschedule", session_id), body, form_key=form.key),
                page.t("sessions.rescheduled"))


@router.post("/sessions/{session_id}/attendance", response_class=HTMLResponse)
def record_attendance(session_id: str, page: SignedInPage, form: PostedForm) -> Response:
    body = {"member_ids": form.all("member_ids")}
    return _act(page, session_id, "attendance", form,
                lambda: page.api.put(api_path("/v1/sessions/{}/attendance", session_id), body, form_key=form.key),
                page.t("sessions.attendance_recorded"))


@router.post("/sessions/{session_id}/statements/{number}/conclusion", response_class=HTMLResponse)
def conclude(session_id: str, number: int, page: SignedInPage, form: PostedForm) -> Response:
    body = {"conclusion": form.text("conclusion")}
    return _act(page, session_id, f"conclusion-{number}", form,
                lambda: page.api.put(api_path("/v1/sessions/{}/statements/{}/conclusion", session_id, number), body,
                                     form_key=form.key),
                page.t("sessions.concluded", number=number), values={f"conclusion-{number}": form.text("conclusion")})


def _confirm_page(page: Page, session_id: str, action: str, *, status: int = 200,
                  errors: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> HTMLResponse:
    session: dict[str, Any] = page.api.get(api_path("/v1/sessions/{}", session_id))
    frame = network_frame(page, session["network_id"], "sessions")
    if not frame["staff"]:
        return _not_staff(page)
    return page.render("session_confirm.html", status=status, errors=errors, values=values,
                       **{**frame, "title": page.t(f"sessions.{action}.title")}, session=session, action=action)


def _lifecycle_routes(action: str) -> None:
    """``GET /sessions/{id}/<action>``: the confirmation (a page with one form, no script); ``POST``: the step."""

    def confirm(session_id: str, page: SignedInPage) -> HTMLResponse:
        return _confirm_page(page, session_id, action)

    def act(session_id: str, page: SignedInPage, form: PostedForm) -> Response:
        body: dict[str, Any] = {}
        if action == "cancel" and form.optional("reason"):
            body["reason"] = form.text("reason")
        try:
            page.api.post(api_path("/v1/sessions/{}/{}", session_id, action), body, form_key=form.key)
        except ApiError as refused:
            if not refusable(refused):
                raise
            return _confirm_page(page, session_id, action, status=422, errors=errors_of(refused),
                                 values=form.values)
        return page.redirect(f"/sessions/{session_id}", notice=page.t(f"sessions.{action}.done"))

    router.add_api_route(f"/sessions/{{session_id}}/{action}", confirm, methods=["GET"],
                         response_class=HTMLResponse)
    router.add_api_route(f"/sessions/{{session_id}}/{action}", act, methods=["POST"], response_class=HTMLResponse)


for _action in LIFECYCLE:
    _lifecycle_routes(_action)
