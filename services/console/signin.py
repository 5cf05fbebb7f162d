"""Signing in and out: the sign-in page, the development sign-in, and what every way of signing in ends with.

Whatever proved the person's e-mail (the OpenID provider in production, :mod:`services.console.oidc`; the
development sign-in in ``make run``), :func:`complete_sign_in` turns it into a session: the API's sign-in
exchange gives a short-lived token for the member with that e-mail (the console's broker credential can do
nothing else), and the session lasts as long as the token. Signing out revokes the token at the API, so the
session is over everywhere, not only in this browser.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.api import AdminApi, ApiError, api_path
from services.console.oidc import OidcClient, PendingSignIn, SignInFailed
from services.console.session import SignedIn, sign_in, sign_out
from services.console.settings import ConsoleSettings
from services.console.web import AnyPage, Page, PostedForm, safe_next

router = APIRouter()
log = logging.getLogger(__name__)


def settings_of(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


def complete_sign_in(page: Page, email: str, back_to: str) -> Response:
    """Exchange a verified e-mail for the member's token and start their session; a clear page if unknown."""
    settings = settings_of(page.request)
    if settings.sign_in_broker_token is None:
        return page.render("error.html", status=503, title=page.t("error.unavailable.title"),
                           message=page.t("signin.none_configured"))
    try:
        issued = page.api.exchange_sign_in(settings.sign_in_broker_token.get_secret_value(), email,
                                           int(settings.console_session_hours * 3600))
    except ApiError as refused:
        if refused.status in (404, 422):
            return sign_in_page(page, back_to, status=403, problem=page.t("signin.unknown_email", email=email))
        raise
    member_id, token = str(issued["member_id"]), str(issued["token"])
    member: dict[str, Any] = AdminApi(page.request.app.state.api_client, token, page.language).get(
        api_path("/v1/members/{}", member_id))
    person = SignedIn(member_id=member_id, name=str(member.get("name") or email), token=token,
                      token_id=str(issued["token_id"]),
                      expires_at=datetime.fromisoformat(str(issued["expires_at"]).replace("Z", "+00:00")).timestamp(),
                      operator=bool(issued.get("operator", False)))
    sign_in(page.session, person)
    log.info("signed in", extra={"member_id": person.member_id, "token_id": person.token_id})
    return RedirectResponse(safe_next(back_to), status_code=303)


def sign_in_page(page: Page, back_to: str, *, status: int = 200, problem: str | None = None) -> HTMLResponse:
    settings = settings_of(page.request)
    demo_people: list[dict[str, str]] = []
    if settings.console_dev_sign_in:
        from services.demo.catalogue import DEMO_MEMBERS  # the demo data's people, only for the development sign-in

        demo_people = [{"name": m.name, "email": m.email, "organisation": m.organisation} for m in DEMO_MEMBERS]
    return page.render("sign_in.html", status=status, back_to=safe_next(back_to), problem=problem,
                       oidc=settings.oidc_enabled, dev_sign_in=settings.console_dev_sign_in, demo_people=demo_people,
                       title=page.t("signin.title"))


@router.get("/sign-in", response_class=HTMLResponse)
def show_sign_in(page: AnyPage, next: str = "/") -> Response:
    if page.person is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return sign_in_page(page, next)


@router.post("/sign-in/dev")
def dev_sign_in(page: AnyPage, form: PostedForm) -> Response:
    if not settings_of(page.request).console_dev_sign_in:
        return page.render("error.html", status=404, title=page.t("error.not_found.title"),
                           message=page.t("error.not_found"))
    email = form.text("email") or form.text("demo_email")
    back_to = form.text("next")
    if not email:
        return sign_in_page(page, back_to, status=422, problem=page.t("form.required"))
    return complete_sign_in(page, email, back_to)


# --- OpenID Connect --------------------------------------------------------------------------------------------

OIDC_PENDING = "oidc"  # the session key of a sign-in in progress (state, nonce, PKCE verifier): one use only
OIDC_RETURN = "/sign-in/oidc/return"  # the redirect URI to register at the provider, after KRING_CONSOLE_PUBLIC_URL
# What the person sees for each way a sign-in can fail (the log has the detail).
FAILED_STATUS = {"provider_unreachable": 503, "denied": 403, "state": 400, "expired": 400, "id_token": 403,
                 "email_unverified": 403}


def oidc_client(settings: ConsoleSettings) -> OidcClient | None:
    """The configured provider's client, or None without one (create_app keeps it for the process)."""
    if not settings.oidc_enabled:
        return None
    assert settings.console_oidc_issuer and settings.console_oidc_client_id and settings.console_oidc_client_secret
    http = httpx.Client(timeout=10.0, follow_redirects=False)
    return OidcClient(settings.console_oidc_issuer, settings.console_oidc_client_id,
                      settings.console_oidc_client_secret.get_secret_value(), http)


def _provider(page: Page) -> OidcClient | None:
    client: OidcClient | None = getattr(page.request.app.state, "oidc", None)
    return client


@router.get("/sign-in/oidc")
def oidc_begin(page: AnyPage, next: str = "/") -> Response:
    """To the provider, with a new state, nonce and PKCE verifier kept in this browser's session."""
    client = _provider(page)
    if client is None:
        return page.render("error.html", status=404, title=page.t("error.not_found.title"),
                           message=page.t("error.not_found"))
    if page.person is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return_to = settings_of(page.request).console_public_url.rstrip("/") + OIDC_RETURN
    try:
        url, pending = client.begin(return_to, safe_next(next))
    except SignInFailed as failed:
        log.warning("OpenID provider unavailable", extra={"reason": failed.reason, "detail": failed.detail})
        return sign_in_page(page, next, status=503, problem=page.t("signin.failed.provider_unreachable"))
    page.session[OIDC_PENDING] = pending.as_dict()
    return RedirectResponse(url, status_code=303)


@router.get(OIDC_RETURN)
def oidc_return(page: AnyPage) -> Response:
    """Back from the provider: the verified e-mail becomes the member's session, or a page says why not."""
    client = _provider(page)
    if client is None:
        return page.render("error.html", status=404, title=page.t("error.not_found.title"),
                           message=page.t("error.not_found"))
    pending = PendingSignIn.from_dict(page.session.pop(OIDC_PENDING, None))
    back_to = pending.next_path if pending else "/"
    try:
        identity = client.finish(pending, dict(page.request.query_params))
    except SignInFailed as failed:
        log.warning("sign-in refused", extra={"reason": failed.reason, "detail": failed.detail})
        return sign_in_page(page, back_to, status=FAILED_STATUS[failed.reason],
                            problem=page.t(f"signin.failed.{failed.reason}"))
    return complete_sign_in(page, identity.email, back_to)


@router.post("/sign-out")
def do_sign_out(page: AnyPage, form: PostedForm) -> Response:
    person = sign_out(page.session)
    if person is not None:
        as_them = AdminApi(page.request.app.state.api_client, person.token, page.language)
        try:
            as_them.delete(api_path("/v1/tokens/{}", person.token_id))
        except ApiError as refused:
            # Already revoked or expired: the session is over either way.
            log.info("sign-out: token not revoked", extra={"status": refused.status})
    return page.redirect("/sign-in", notice=page.t("signout.done"))


@router.post("/language")
def choose_language(page: AnyPage, form: PostedForm) -> Response:
    chosen = form.text("lang")
    if chosen in ("nl", "en"):
        page.session["lang"] = chosen
    return RedirectResponse(safe_next(form.text("next")), status_code=303)
