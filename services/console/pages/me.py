"""The person's own pages: their record and consent, their data export, their reflections, and "Wie weet wat"
(finding people in their own networks by expertise, asking them a question, and their questions).

Everything here is about the signed-in person themselves: the API decides what they see of others (only members
who consented to be found, never an e-mail address) and the console shows exactly that.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.console.api import ApiError, api_path
from services.console.dates import parsed
from services.console.pages.home import my_networks
from services.console.web import Page, PostedForm, SignedInPage

router = APIRouter()

REFLECTION_KINDS = ("self_image", "behaviour", "perspective", "task_conception")
REFLECTABLE = ("held", "closed")  # the API takes reflections on these sessions only
REFLECT_WITHIN_DAYS = 365  # how far back the form offers sessions to reflect on
REFLECTIONS_SHOWN = 50
EXPERT_PAGES = 5  # how far the ask page looks for the expert (200 per page) before calling them not findable


def errors_of(refused: ApiError) -> dict[str, str]:
    """The API's errors by field; a refusal without a field (a 409 on a state) as one general problem."""
    return refused.field_errors or {"": refused.message}


def me_id(page: Page) -> str:
    assert page.person is not None  # SignedInPage
    return page.person.member_id


def network_names(page: Page) -> dict[str, str]:
    return {str(network["id"]): str(network.get("name", network["id"])) for network in my_networks(page)}


# --- my record, consent and export -----------------------------------------------------------------------------


def render_me(page: Page, *, status: int = 200, errors: dict[str, str] | None = None,
              values: dict[str, Any] | None = None) -> HTMLResponse:
    member: dict[str, Any] = page.api.get(api_path("/v1/members/{}", me_id(page)))
    return page.render("me.html", status=status, errors=errors, values=values, title=page.t("me.title"),
                       member=member, names=network_names(page))


@router.get("/me", response_class=HTMLResponse)
def my_record(page: SignedInPage) -> HTMLResponse:
    return render_me(page)


@router.post("/me/consent", response_model=None)
def change_consent(page: SignedInPage, form: PostedForm) -> Response:
    # Both consents in one PATCH: an unticked box is a "no" the person chose, so both are always sent.
    body = {"findable_by_expertise": form.checked("findable_by_expertise"),
            "named_in_shared_outputs": form.checked("named_in_shared_outputs")}
    try:
        page.api.patch(api_path("/v1/members/{}", me_id(page)), body, form_key=form.key)
    except ApiError as refused:
        if refused.status not in (409, 422):
            raise
        return render_me(page, status=refused.status, errors=errors_of(refused), values=form.values)
    return page.redirect("/me", notice=page.t("me.consent.saved"))


@router.get("/me/export", response_class=HTMLResponse)
def export_page(page: SignedInPage) -> HTMLResponse:
    return page.render("me_export.html", title=page.t("me.export.title"))


@router.get("/me/export.json")
def export_download(page: SignedInPage) -> Response:
    """Everything Kring holds about the person, as the API answers it, as a file (never cached: it is all theirs)."""
    data = page.api.get(api_path("/v1/members/{}/export", me_id(page)))
    return Response(json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="kring-mijn-gegevens.json"',
                             "Cache-Control": "no-store"})


# --- my reflections ------------------------------------------------------------------------------------------------


def reflectable_sessions(page: Page) -> list[dict[str, Any]]:
    """Held and closed sessions of the person's networks over the last REFLECT_WITHIN_DAYS, newest first: the API
    takes a reflection on any of them (not only those attended)."""
    me = page.me()
    now = datetime.now(UTC)
    found: list[dict[str, Any]] = []
    for network_id in sorted({*me.get("member_of", []), *me.get("administers", []), *me.get("facilitates", [])}):
        answer: dict[str, Any] = page.api.get(api_path("/v1/networks/{}/sessions", network_id), page_size=200,
                                              starts_from=(now - timedelta(days=REFLECT_WITHIN_DAYS)).isoformat(),
                                              starts_before=now.isoformat())
        found.extend(s for s in answer.get("items", []) if s.get("status") in REFLECTABLE)
    return sorted(found, key=lambda s: parsed(s["starts_at"]), reverse=True)


def session_titles(page: Page, known: list[dict[str, Any]], reflections: list[dict[str, Any]]) -> dict[str, str]:
    """The title of each reflection's session: from the sessions already read, else asked one by one (an older
    session, or one of a network the person has left: then its id)."""
    titles = {str(s["id"]): str(s["title"]) for s in known}
    for session_id in {str(r["session_id"]) for r in reflections} - set(titles):
        try:
            titles[session_id] = str(page.api.get(api_path("/v1/sessions/{}", session_id))["title"])
        except ApiError as refused:
            if refused.status not in (403, 404):
                raise
    return titles


def render_reflections(page: Page, *, status: int = 200, errors: dict[str, str] | None = None,
                       values: dict[str, Any] | None = None, page_token: str | None = None) -> HTMLResponse:
    # The person's own list (not the export: reading one's reflections is no export and is not audited).
    mine: dict[str, Any] = page.api.get("/v1/reflections", page_size=REFLECTIONS_SHOWN, page_token=page_token)
    reflections = list(mine.get("items", []))
    choices = reflectable_sessions(page)
    return page.render("me_reflections.html", status=status, errors=errors, values=values,
                       title=page.t("me.reflections.title"), reflections=reflections,
                       titles=session_titles(page, choices, reflections), choices=choices, kinds=REFLECTION_KINDS,
                       next_page_token=mine.get("next_page_token"))


@router.get("/me/reflections", response_class=HTMLResponse)
def my_reflections(page: SignedInPage, page_token: str | None = None) -> HTMLResponse:
    return render_reflections(page, page_token=page_token)


@router.post("/me/reflections", response_model=None)
def write_reflection(page: SignedInPage, form: PostedForm) -> Response:
    body = {"session_id": form.text("session_id"), "kind": form.text("kind"), "text": form.text("text")}
    try:
        page.api.post("/v1/reflections", body, form_key=form.key)
    except ApiError as refused:
        if refused.status not in (409, 422):
            raise
        return render_reflections(page, status=refused.status, errors=errors_of(refused), values=form.values)
    return page.redirect("/me/reflections", notice=page.t("me.reflections.saved"))


# --- who knows what ------------------------------------------------------------------------------------------------


def my_questions(page: Page, role: str) -> list[dict[str, Any]]:
    try:
        answer: dict[str, Any] = page.api.get("/v1/questions", role=role, page_size=50)
    except ApiError as refused:
        if refused.status == 403 and page.person is not None and page.person.operator:
            return []  # a sign-in with the operator's authority acts for no member: it has no questions of its own
        raise
    return list(answer.get("items", []))


@router.get("/experts", response_class=HTMLResponse)
def find_experts(page: SignedInPage, tag: str | None = None, network_id: str | None = None,
                 page_token: str | None = None) -> HTMLResponse:
    names = network_names(page)
    values = {"tag": tag or "", "network_id": network_id or ""}
    status, errors, experts, next_token = 200, {}, [], None
    try:
        found: dict[str, Any] = page.api.get("/v1/expertise", tag=tag or None, network_id=network_id or None,
                                             page_token=page_token or None)
        experts, next_token = list(found.get("items", [])), found.get("next_page_token")
    except ApiError as refused:
        if refused.status != 422:
            raise
        status, errors = 422, errors_of(refused)
    return page.render("experts.html", status=status, errors=errors, values=values, title=page.t("experts.title"),
                       experts=experts, next_token=next_token, names=names,
                       asked=my_questions(page, "asked"), received=my_questions(page, "received"))


def findable_expert(page: Page, expert_id: str, network_id: str | None) -> dict[str, Any] | None:
    """The expert as the API shows them to this person, or None when they cannot be asked (not findable to them)."""
    token: str | None = None
    for _ in range(EXPERT_PAGES):
        found: dict[str, Any] = page.api.get("/v1/expertise", network_id=network_id or None, page_size=200,
                                             page_token=token)
        for expert in found.get("items", []):
            if expert.get("member_id") == expert_id:
                return dict(expert)
        token = found.get("next_page_token")
        if not token:
            break
    return None


def render_ask(page: Page, expert_id: str, network_id: str | None, *, status: int = 200,
               errors: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> HTMLResponse:
    expert = findable_expert(page, expert_id, network_id)
    if expert is None:
        raise ApiError(404, "not_found", "no such findable expert")
    return page.render("experts_ask.html", status=status, errors=errors, values=values,
                       title=page.t("experts.ask.title", name=expert["name"]), expert=expert,
                       names=network_names(page))


@router.get("/experts/{expert_id}/ask", response_class=HTMLResponse)
def ask_page(page: SignedInPage, expert_id: str, network_id: str | None = None, tag: str | None = None) -> HTMLResponse:
    return render_ask(page, expert_id, network_id, values={"network_id": network_id or "", "tag": tag or ""})


@router.post("/experts/{expert_id}/ask", response_model=None)
def ask_question(page: SignedInPage, expert_id: str, form: PostedForm) -> Response:
    body: dict[str, Any] = {"expert_id": expert_id, "network_id": form.text("network_id"),
                            "question": form.text("question"), "share_name": form.checked("share_name")}
    if form.optional("tag"):
        body["tag"] = form.text("tag")
    try:
        page.api.post("/v1/questions", body, form_key=form.key)
    except ApiError as refused:
        if refused.status not in (409, 422):
            raise
        return render_ask(page, expert_id, None, status=refused.status, errors=errors_of(refused),
                          values=form.values)
    return page.redirect("/experts#questions", notice=page.t("experts.ask.sent"))


def render_question(page: Page, question_id: str, *, status: int = 200, errors: dict[str, str] | None = None,
                    values: dict[str, Any] | None = None) -> HTMLResponse:
    question: dict[str, Any] = page.api.get(api_path("/v1/questions/{}", question_id))
    return page.render("experts_question.html", status=status, errors=errors, values=values,
                       title=page.t("experts.question.title"), question=question, names=network_names(page))


@router.get("/experts/questions/{question_id}", response_class=HTMLResponse)
def question_page(page: SignedInPage, question_id: str) -> HTMLResponse:
    return render_question(page, question_id)


@router.post("/experts/questions/{question_id}/answer", response_model=None)
def answer_question(page: SignedInPage, question_id: str, form: PostedForm) -> Response:
    body: dict[str, Any] = {"answer": form.text("answer"), "share_email": form.checked("share_email")}
    if form.optional("contact_note"):
        body["contact_note"] = form.text("contact_note")
    try:
        page.api.post(api_path("/v1/questions/{}/answer", question_id), body, form_key=form.key)
    except ApiError as refused:
        if refused.status not in (409, 422):
            raise
        return render_question(page, question_id, status=refused.status, errors=errors_of(refused),
                               values=form.values)
    return page.redirect(f"/experts/questions/{question_id}", notice=page.t("experts.question.answered"))


@router.post("/experts/questions/{question_id}/decline", response_model=None)
def decline_question(page: SignedInPage, question_id: str, form: PostedForm) -> Response:
    body = {"reason": form.text("reason")} if form.optional("reason") else {}
    try:
        page.api.post(api_path("/v1/questions/{}/decline", question_id), body, form_key=form.key)
    except ApiError as refused:
        if refused.status not in (409, 422):
            raise
        return render_question(page, question_id, status=refused.status, errors=errors_of(refused),
                               values=form.values)
    return page.redirect(f"/experts/questions/{question_id}", notice=page.t("experts.question.declined"))
