"""A network's pages for its people: overview (and, for coordinators, editing and archiving), members, the
nine-step health report, the learning report, links with other networks, the feed of what they shared, and an
output's delivery log.

Every read and every change is an admin API call as the signed-in person; the API decides what they may see and
do. The field names of each form are the API's, so the API's refusals land next to the field they name.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.common.vocabulary import Perspective
from services.console import charts
from services.console.api import ApiError, api_path
from services.console.pages.frame import network_frame
from services.console.web import Form, Page, PostedForm, SignedInPage

router = APIRouter()

LEVELS = ("national", "regional", "local", "neighbourhood")
KINDS = ("knowledge_network", "learning_circle", "community_of_practice", "werkplaats")
UNPREPARED = ("refuse", "flag")
ROLES = ("participant", "facilitator", "coordinator")
PERSPECTIVES = tuple(perspective.value for perspective in Perspective)  # every one the API takes, none left out
SHAREABLE = ("linked", "federation", "public")  # a link's policy never lists "network"
STEP_STATUSES = ("shown", "not_shown", "not_measurable")
# The fields of the edit form, as UpdateNetwork names them; a blank optional field clears it (null).
EDITABLE = ("name", "level", "kind", "theme", "urgency", "host_organisation", "region", "cadence_weeks",
            "start_date", "requires_preparation", "unprepared_policy")
REQUIRED = frozenset({"name", "level", "kind", "theme", "requires_preparation", "unprepared_policy"})
PAGE_SIZE = 200


def _path(network_id: str, suffix: str = "") -> str:
    return f"/networks/{network_id}{suffix}"


def directory(page: Page) -> dict[str, dict[str, Any]]:
    """The active networks of this instance by id (the directory is open to everyone signed in): for names and
    for picking a network to link with. One page of 200: enough for the picker, and a network missing from it
    is shown by its id."""
    answer = page.api.get("/v1/networks", page_size=PAGE_SIZE)
    return {str(network["id"]): network for network in answer.get("items", [])}


# --- overview ----------------------------------------------------------------------------------------------------


def _staff_names(page: Page, network_id: str, staff: bool) -> dict[str, str]:
    """Names of the network's members for its staff (the API lists members to coordinators, and facilitators
    once it allows them); anyone else sees staff by role and perspectives, as the network's record gives them."""
    if not staff:
        return {}
    try:
        answer = page.api.get("/v1/members", network_id=network_id, page_size=PAGE_SIZE)
    except ApiError as refused:
        if refused.status == 403:
            return {}
        raise
    return {str(member["id"]): str(member["name"]) for member in answer.get("items", [])}


@router.get("/networks/{network_id}", response_class=HTMLResponse)
def overview(network_id: str, page: SignedInPage) -> HTMLResponse:
    frame = network_frame(page, network_id, "overview")
    network = frame["network"]
    tree = page.api.get(api_path("/v1/networks/{}/tree", network_id))
    parent = None
    if network.get("parent_id"):
        try:
            parent = page.api.get(api_path("/v1/networks/{}", network['parent_id']))
        except ApiError as missing:
            if missing.status != 404:
                raise
            parent = {"id": network["parent_id"], "name": network["parent_id"]}
    return page.render("networks/overview.html", **frame, tree=tree, parent=parent,
                       names=_staff_names(page, network_id, frame["staff"]))


def _form_values(network: dict[str, Any]) -> dict[str, Any]:
    values = {name: network.get(name) for name in EDITABLE}
    values = {name: ("" if value is None else value) for name, value in values.items()}
    values["requires_preparation"] = "true" if network.get("requires_preparation") else "false"
    return values


def _edit_form(page: Page, network_id: str, *, status: int = 200, errors: dict[str, str] | None = None,
               values: dict[str, Any] | None = None) -> HTMLResponse:
    frame = network_frame(page, network_id, "overview")
    network = frame["network"]
    drawn = values if values is not None else {**_form_values(network), "revision": network["revision"]}
    return page.render("networks/edit.html", status=status, errors=errors, values=drawn, **frame,
                       levels=[(level, page.t(f"network.level.{level}")) for level in LEVELS],
                       kinds=[(kind, page.t(f"networks.kind.{kind}")) for kind in KINDS],
                       unprepared=[(policy, page.t(f"networks.unprepared.{policy}")) for policy in UNPREPARED])


@router.get("/networks/{network_id}/edit", response_class=HTMLResponse)
def edit_form(network_id: str, page: SignedInPage) -> HTMLResponse:
    return _edit_form(page, network_id)


def changes_of(form: Form, current: dict[str, Any]) -> dict[str, Any]:
    """The fields the person changed, as UpdateNetwork takes them: a blank optional field clears it (null), a
    blank required one is sent blank so the API names it; unchanged fields are left out."""
    before = _form_values(current)
    changes: dict[str, Any] = {}
    for name in EDITABLE:
        typed = form.text(name)
        if typed == str(before[name]):
            continue
        if name == "requires_preparation":
            changes[name] = typed == "true"
        elif name == "cadence_weeks" and typed.isdigit():
            changes[name] = int(typed)
        elif not typed and name not in REQUIRED:
            changes[name] = None
        else:
            changes[name] = typed
    return changes


@router.post("/networks/{network_id}/edit", response_model=None)
def edit(network_id: str, page: SignedInPage, form: PostedForm) -> Response:
    current = page.api.get(api_path("/v1/networks/{}", network_id))
    # The API's update has no revision check; the console makes one, so a change made by someone else since the
    # form was drawn is not silently overwritten: the form comes back with what is stored now.
    me = page.me()
    may_edit = bool(me.get("operator")) or network_id in me.get("administers", [])
    # (Only for those who may edit: anyone else's change goes to the API, which refuses it as it should.)
    if may_edit and form.text("revision") != str(current["revision"]):
        return _edit_form(page, network_id, status=409, errors={"": page.t("networks.edit.changed_meanwhile")},
                          values={**_form_values(current), "revision": current["revision"]})
    changes = changes_of(form, current)
    if not changes:
        return page.redirect(_path(network_id), notice=page.t("networks.edit.nothing_changed"))
    try:
        page.api.patch(api_path("/v1/networks/{}", network_id), changes, form_key=form.key)
    except ApiError as refused:
        if refused.status not in (409, 422):
            raise
        return _edit_form(page, network_id, status=refused.status,
                          errors=refused.field_errors or {"": refused.message}, values=form.values)
    return page.redirect(_path(network_id), notice=page.t("saved"))


@router.get("/networks/{network_id}/archive", response_class=HTMLResponse)
def archive_confirm(network_id: str, page: SignedInPage) -> HTMLResponse:
    """The confirmation step: a page with one button, so archiving works without JavaScript and never by one
    stray click."""
    return page.render("networks/archive.html", **network_frame(page, network_id, "overview"))


@router.post("/networks/{network_id}/archive", response_model=None)
def archive(network_id: str, page: SignedInPage, form: PostedForm) -> Response:
    try:
        page.api.post(api_path("/v1/networks/{}/archive", network_id), form_key=form.key)
    except ApiError as refused:
        if refused.status != 409:
            raise
        return page.render("networks/archive.html", status=409, errors={"": refused.message},
                           **network_frame(page, network_id, "overview"))
    return page.redirect(_path(network_id), notice=page.t("networks.archive.done"))


# --- members -----------------------------------------------------------------------------------------------------


def role_in(member: dict[str, Any], network_id: str) -> str:
    for membership in member.get("memberships", []):
        if membership.get("network_id") == network_id:
            return str(membership.get("role", "participant"))
    return "participant"


def _members_page(page: Page, network_id: str, *, status: int = 200, errors: dict[str, str] | None = None,
                  values: dict[str, Any] | None = None, form_name: str = "", page_token: str | None = None
                  ) -> HTMLResponse:
    frame = network_frame(page, network_id, "members")
    members: list[dict[str, Any]] = []
    refusal, next_page_token = None, None
    try:
        answer = page.api.get("/v1/members", network_id=network_id, page_size=PAGE_SIZE, page_token=page_token)
        members = sorted(answer.get("items", []), key=lambda member: str(member.get("name", "")).lower())
        next_page_token = answer.get("next_page_token")
    except ApiError as refused:
        if refused.status != 403:
            raise
        refusal = refused.message  # facilitators, where the API does not list members to them
    candidates: list[dict[str, Any]] = []
    if frame["coordinator"]:
        # The coordinator's directory: the members of every network they administer, not yet in this one.
        inside = {member["id"] for member in members}
        everyone = page.api.get("/v1/members", page_size=PAGE_SIZE).get("items", [])
        candidates = sorted((m for m in everyone if m["id"] not in inside), key=lambda m: str(m["name"]).lower())
    return page.render("networks/members.html", status=status, errors=errors, values=values, **frame,
                       members=members, refusal=refusal, candidates=candidates, role_choices=ROLES,
                       candidate_options=[(m["id"], f"{m['name']} ({m['organisation']})" if m.get("organisation")
                                           else str(m["name"])) for m in candidates],
                       perspectives=PERSPECTIVES, form_name=form_name, role_in=role_in,
                       next_page_token=next_page_token)


@router.get("/networks/{network_id}/members", response_class=HTMLResponse)
def members(network_id: str, page: SignedInPage, page_token: str | None = None) -> HTMLResponse:
    return _members_page(page, network_id, page_token=page_token or None)


def _membership_refused(refused: ApiError, field: str) -> dict[str, str]:
    """The API's refusal of a membership change as an error next to the field it is about: 404 is the member
    (the network exists, its page is drawn), 409 the archived network, 422 the field the API names."""
    if refused.status == 422:
        return refused.field_errors or {"": refused.message}
    return {field: refused.message} if refused.status == 404 else {"": refused.message}


@router.post("/networks/{network_id}/members/add", response_model=None)
def add_member(network_id: str, page: SignedInPage, form: PostedForm) -> Response:
    member_id, role = form.text("member_id"), form.text("role")
    if not member_id:
        return _members_page(page, network_id, status=422, errors={"member_id": page.t("form.required")},
                             values=form.values, form_name="add")
    try:
        page.api.put(api_path("/v1/networks/{}/members/{}", network_id, member_id), {"role": role}, form_key=form.key)
    except ApiError as refused:
        if refused.status not in (404, 409, 422):
            raise
        return _members_page(page, network_id, status=refused.status, values=form.values, form_name="add",
                             errors=_membership_refused(refused, "member_id"))
    return page.redirect(_path(network_id, "/members"), notice=page.t("networks.members.added"))


@router.post("/networks/{network_id}/members/register", response_model=None)
def register_member(network_id: str, page: SignedInPage, form: PostedForm) -> Response:
    body: dict[str, Any] = {"name": form.text("name"), "email": form.text("email"),
                            "perspectives": form.all("perspectives")}
    if form.optional("organisation"):
        body["organisation"] = form.text("organisation")
    try:
        member = page.api.post("/v1/members", body, form_key=form.key)
    except ApiError as refused:
        if refused.status not in (409, 422):
            raise
        errors = refused.field_errors if refused.status == 422 else {"email": refused.message}
        return _members_page(page, network_id, status=refused.status, values=form.values, form_name="register",
                             errors=errors or {"": refused.message})
    # Two calls: registering, then the membership. Should the second fail (the network archived meanwhile), the
    # person is registered and in no network, which is a valid state: nothing half-made in this network.
    try:
        page.api.put(api_path("/v1/networks/{}/members/{}", network_id, member['id']), {"role": form.text("role")},
                     form_key=f"{form.key}-membership" if form.key else None)
    except ApiError as refused:
        if refused.status not in (404, 409, 422):
            raise
        return _members_page(page, network_id, status=refused.status, values=form.values, form_name="register",
                             errors=_membership_refused(refused, "role"))
    return page.redirect(_path(network_id, "/members"), notice=page.t("networks.members.added"))


@router.post("/networks/{network_id}/members/{member_id}/role", response_model=None)
def set_role(network_id: str, member_id: str, page: SignedInPage, form: PostedForm) -> Response:
    try:
        page.api.put(api_path("/v1/networks/{}/members/{}", network_id, member_id), {"role": form.text("role")},
                     form_key=form.key)
    except ApiError as refused:
        if refused.status not in (409, 422):
            raise
        return _members_page(page, network_id, status=refused.status, values=form.values,
                             errors=_membership_refused(refused, "role"))
    return page.redirect(_path(network_id, "/members"), notice=page.t("saved"))


@router.get("/networks/{network_id}/members/{member_id}/remove", response_class=HTMLResponse)
def remove_member_confirm(network_id: str, member_id: str, page: SignedInPage) -> HTMLResponse:
    """The confirmation step before taking someone out of the network: one stray click must not do it."""
    frame = network_frame(page, network_id, "members")
    member: dict[str, Any] = page.api.get(api_path("/v1/members/{}", member_id))
    return page.render("networks/member_remove.html", **frame, member_id=member_id, name=str(member["name"]))


@router.post("/networks/{network_id}/members/{member_id}/remove", response_model=None)
def remove_member(network_id: str, member_id: str, page: SignedInPage, form: PostedForm) -> RedirectResponse:
    page.api.delete(api_path("/v1/networks/{}/members/{}", network_id, member_id), form_key=form.key)
    return page.redirect(_path(network_id, "/members"), notice=page.t("networks.members.removed"))


# --- health ------------------------------------------------------------------------------------------------------


@router.get("/networks/{network_id}/health", response_class=HTMLResponse)
def health(network_id: str, page: SignedInPage) -> HTMLResponse:
    frame = network_frame(page, network_id, "health")
    report = page.api.get(api_path("/v1/networks/{}/health", network_id))  # in the person's language (Accept-Language)
    steps = report.get("steps", [])
    counts = {status: sum(1 for step in steps if step.get("status") == status) for status in STEP_STATUSES}
    label = page.t("networks.health.chart_label", shown=counts["shown"], not_shown=counts["not_shown"],
                   not_measurable=counts["not_measurable"])
    names = {status: page.t(f"networks.health.status.{status}") for status in STEP_STATUSES}
    return page.render("networks/health.html", **frame, report=report, steps=steps,
                       chart=charts.nine_steps(steps, label, names))


# --- learning report ---------------------------------------------------------------------------------------------


def period_of(page: Page, typed_from: str, typed_to: str) -> tuple[date | None, date | None, dict[str, str]]:
    """The period typed in the form: dates, or the error per field (a date that is no date; an end before the
    start). Empty means the API's default."""
    errors: dict[str, str] = {}
    parsed: dict[str, date | None] = {}
    for name, typed in (("period_from", typed_from), ("period_to", typed_to)):
        try:
            parsed[name] = date.fromisoformat(typed) if typed else None
        except ValueError:
            parsed[name] = None
            errors[name] = page.t("networks.learning.not_a_date")
    start, end = parsed["period_from"], parsed["period_to"]
    if start and end and end < start:
        errors["period_to"] = page.t("networks.learning.to_before_from")
    return start, end, errors


def _bars(page: Page, prefix: str, counts: dict[str, Any]) -> list[tuple[str, float]]:
    catalogue = page.t.catalogue
    return [(page.t(f"{prefix}{key}") if f"{prefix}{key}" in catalogue else key, float(value))
            for key, value in counts.items()]


@router.get("/networks/{network_id}/learning", response_class=HTMLResponse)
def learning(network_id: str, page: SignedInPage, period_from: str = "", period_to: str = "") -> HTMLResponse:
    frame = network_frame(page, network_id, "learning")
    values = {"period_from": period_from, "period_to": period_to}
    start, end, errors = period_of(page, period_from.strip(), period_to.strip())
    if errors:
        return page.render("networks/learning.html", status=422, errors=errors, values=values, **frame,
                           report=None, figures=[])
    try:
        # The form's dates are whole days: from the start of the first to the start of the day after the last
        # (the API's end is exclusive), in UTC.
        report = page.api.get(api_path("/v1/networks/{}/learning-report", network_id),
                              period_from=f"{start.isoformat()}T00:00:00Z" if start else None,
                              period_to=f"{(end + timedelta(days=1)).isoformat()}T00:00:00Z" if end else None)
    except ApiError as refused:
        if refused.status != 422:
            raise
        return page.render("networks/learning.html", status=422, values=values, **frame, report=None, figures=[],
                           errors=refused.field_errors or {"": refused.message})
    loops = report.get("loops", {})
    figures = [
        ("sessions_by_format", _bars(page, "networks.format.", report.get("sessions_by_format", {}))),
        ("perspective_totals", _bars(page, "networks.perspective.", report.get("perspective_totals", {}))),
        ("outputs_by_kind", _bars(page, "networks.output_kind.", report.get("outputs_by_kind", {}))),
        ("reflections_by_kind", _bars(page, "networks.reflection_kind.", report.get("reflections_by_kind", {}))),
        ("loops", _bars(page, "networks.learning.loop.", {key: loops.get(key, 0) for key in
                                                          ("opened", "experiments", "followed_up", "closed",
                                                           "closed_with_output")})),
    ]
    drawn = [{"key": key, "title": page.t(f"networks.learning.chart.{key}"), "bars": bars,
              "svg": charts.bar_chart(bars, page.t(f"networks.learning.chart.{key}"))} for key, bars in figures]
    # The API's end is exclusive; the page names the last day it covers.
    last_day = (datetime.fromisoformat(report["period_to"]) - timedelta(microseconds=1)).date()
    return page.render("networks/learning.html", values=values, **frame, report=report, figures=drawn,
                       first_day=str(report["period_from"])[:10], last_day=last_day.isoformat(),
                       perspectives=PERSPECTIVES)


# --- links -------------------------------------------------------------------------------------------------------


def policy_of(form: Form) -> dict[str, Any]:
    """A sharing policy from the form: the visibilities ticked, and the themes typed (comma-separated; none:
    any theme)."""
    themes = [theme.strip() for theme in form.text("themes").split(",") if theme.strip()]
    policy: dict[str, Any] = {"visibilities": form.all("visibilities")}
    if themes:
        policy["themes"] = themes
    return policy


def _links_page(page: Page, network_id: str, *, status: int = 200, errors: dict[str, str] | None = None,
                values: dict[str, Any] | None = None, form_name: str = "") -> HTMLResponse:
    frame = network_frame(page, network_id, "links")
    links = page.api.get(api_path("/v1/networks/{}/links", network_id)).get("items", [])
    networks = directory(page)
    others = sorted((n for n in networks.values() if n["id"] != network_id), key=lambda n: str(n["name"]).lower())
    return page.render("networks/links.html", status=status, errors=errors, values=values, **frame, links=links,
                       names={key: str(n["name"]) for key, n in networks.items()},
                       other_options=[(n["id"], n["name"]) for n in others],
                       shareable=SHAREABLE, form_name=form_name)


@router.get("/networks/{network_id}/links", response_class=HTMLResponse)
def links(network_id: str, page: SignedInPage) -> HTMLResponse:
    return _links_page(page, network_id)


def _link_refused(refused: ApiError) -> dict[str, str]:
    errors = {("visibilities" if name.startswith("policy.visibilities") else
               "themes" if name.startswith("policy.themes") else name): message
              for name, message in refused.field_errors.items()}
    return errors or {"": refused.message}


@router.post("/networks/{network_id}/links/request", response_model=None)
def request_link(network_id: str, page: SignedInPage, form: PostedForm) -> Response:
    # Two forms post here: a network of this instance (picked), or one of a peer instance (typed, with the peer).
    via_peer = form.text("via") == "peer"
    peer = form.text("peer") if via_peer else None
    target = form.text("peer_network_id") if via_peer else form.text("target_network_id")
    form_name = "peer" if via_peer else "request"
    missing = {name: page.t("form.required") for name, typed in
               ((("peer", peer), ("peer_network_id", target)) if via_peer else (("target_network_id", target),))
               if not typed}
    if missing:
        return _links_page(page, network_id, status=422, errors=missing, values=form.values, form_name=form_name)
    body: dict[str, Any] = {"requester_network_id": network_id, "target_network_id": target,
                            "policy": policy_of(form)}
    if peer:
        body["peer"] = peer
    try:
        page.api.post("/v1/links", body, form_key=form.key)
    except ApiError as refused:
        if refused.status not in (404, 409, 422):
            raise
        errors = _link_refused(refused)
        if via_peer and "target_network_id" in errors:  # the peer form names the other network's id differently
            errors["peer_network_id"] = errors.pop("target_network_id")
        return _links_page(page, network_id, status=refused.status, errors=errors, values=form.values,
                           form_name=form_name)
    return page.redirect(_path(network_id, "/links"), notice=page.t("networks.links.requested"))


@router.post("/networks/{network_id}/links/{link_id}/policy", response_model=None)
def set_policy(network_id: str, link_id: str, page: SignedInPage, form: PostedForm) -> Response:
    try:
        page.api.put(api_path("/v1/links/{}/policy", link_id), {"network_id": network_id, "policy": policy_of(form)},
                     form_key=form.key)
    except ApiError as refused:
        if refused.status not in (409, 422):
            raise
        return _links_page(page, network_id, status=refused.status, errors=_link_refused(refused),
                           values=form.values, form_name=f"policy-{link_id}")
    return page.redirect(_path(network_id, "/links"), notice=page.t("networks.links.policy_set"))


@router.get("/networks/{network_id}/links/{link_id}/revoke", response_class=HTMLResponse)
def revoke_link_confirm(network_id: str, link_id: str, page: SignedInPage) -> HTMLResponse:
    """The confirmation step before ending a link (as for archiving): ending stops the sharing both ways at once,
    so never by one stray click in the links table."""
    frame = network_frame(page, network_id, "links")
    link: dict[str, Any] = page.api.get(api_path("/v1/links/{}", link_id))
    other = link["target_network_id"] if link["requester_network_id"] == network_id else link["requester_network_id"]
    other_name = str(directory(page).get(other, {}).get("name") or other)
    return page.render("networks/link_revoke.html", **frame, link_id=link_id, other_name=other_name)


@router.post("/networks/{network_id}/links/{link_id}/{action}", response_model=None)
def answer_link(network_id: str, link_id: str, action: str, page: SignedInPage, form: PostedForm) -> Response:
    if action not in ("accept", "reject", "revoke"):
        raise ApiError(404, "not_found", "no such action")
    try:
        page.api.post(api_path("/v1/links/{}/{}", link_id, action), form_key=form.key)
    except ApiError as refused:
        if refused.status != 409:
            raise
        return _links_page(page, network_id, status=409, errors={"": refused.message})
    return page.redirect(_path(network_id, "/links"), notice=page.t(f"networks.links.done.{action}"))


# --- feed --------------------------------------------------------------------------------------------------------


@router.get("/networks/{network_id}/feed", response_class=HTMLResponse)
def feed(network_id: str, page: SignedInPage, page_token: str | None = None) -> HTMLResponse:
    frame = network_frame(page, network_id, "feed")
    answer = page.api.get(api_path("/v1/networks/{}/feed", network_id), page_size=20, page_token=page_token or None)
    return page.render("networks/feed.html", **frame, items=answer.get("items", []),
                       next_page_token=answer.get("next_page_token"), names={
                           key: str(n["name"]) for key, n in directory(page).items()})


# --- an output's delivery log ------------------------------------------------------------------------------------


@router.get("/outputs/{output_id}/deliveries", response_class=HTMLResponse)
def deliveries(output_id: str, page: SignedInPage) -> HTMLResponse:
    log = page.api.get(api_path("/v1/outputs/{}/deliveries", output_id))
    names = {key: str(n["name"]) for key, n in directory(page).items()}
    return page.render("networks/deliveries.html", title=page.t("networks.deliveries.title"), log=log, names=names)
