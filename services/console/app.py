"""The console's web application: its middleware, its error pages and its routes.

Routes live in :mod:`services.console.signin` and :mod:`services.console.pages`; this module only assembles them.
Every response carries a strict Content-Security-Policy (scripts and styles from the console itself only: no
inline script, no CDN), and pages about people are never cached.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from services.console import pages, signin
from services.console.api import ApiError, ApiUnavailable
from services.console.session import EncryptedSessionMiddleware, session_sealer, sign_out, signed_in
from services.console.settings import ConsoleSettings
from services.console.web import CsrfRefused, NotSignedIn, Page, sign_in_url

log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # pages name people: never in a shared cache
        return response


def create_app(settings: ConsoleSettings, *, api_transport: httpx.BaseTransport | None = None) -> FastAPI:
    """The console; ``api_transport`` lets a test put the admin API in the same process."""
    app = FastAPI(title="Kring console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.api_client = httpx.Client(base_url=settings.console_api_url, timeout=settings.console_api_timeout,
                                        transport=api_transport)
    app.state.oidc = signin.oidc_client(settings)  # None when no OpenID provider is configured
    app.add_middleware(SecurityHeaders)
    session_key = settings.console_session_key.get_secret_value() if settings.console_session_key else None
    app.add_middleware(EncryptedSessionMiddleware, sealer=session_sealer(session_key),
                       max_age=settings.console_session_hours * 3600, secure=settings.secure_cookies)
    app.mount("/static", StaticFiles(packages=[("services.console", "static")]), name="static")
    app.include_router(signin.router)
    for router in pages.ROUTERS:
        app.include_router(router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> Response:
        try:
            ready = app.state.api_client.get("/readyz", timeout=2.0).is_success
        except httpx.TransportError:
            ready = False
        return JSONResponse({"status": "ok" if ready else "admin API not ready"}, status_code=200 if ready else 503)

    @app.exception_handler(NotSignedIn)
    def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        return RedirectResponse(sign_in_url(exc.back_to), status_code=303)

    @app.exception_handler(CsrfRefused)
    def _csrf(request: Request, exc: CsrfRefused) -> Response:
        page = Page(request, None)
        return page.render("error.html", status=403, title=page.t("error.forbidden.title"),
                           message=page.t("error.csrf"))

    @app.exception_handler(ApiError)
    def _api_error(request: Request, exc: ApiError) -> Response:
        page = Page(request, None)
        if exc.status == 401:  # the token expired or was revoked: the session is over
            sign_out(request.session)
            page.session["notice"] = page.t("signin.expired")
            return RedirectResponse(sign_in_url(request.url.path if request.method == "GET" else "/"),
                                    status_code=303)
        page = Page(request, signed_in(request.session))  # the refusal keeps the person's menu, to go on from
        if exc.status == 403:
            return page.render("error.html", status=403, title=page.t("error.forbidden.title"),
                               message=page.t("error.forbidden"), detail=page.t("error.api_said", message=exc.message))
        if exc.status == 404:
            return page.render("error.html", status=404, title=page.t("error.not_found.title"),
                               message=page.t("error.not_found"))
        return page.render("error.html", status=exc.status if 400 <= exc.status < 500 else 502,
                           title=page.t("error.title"), message=page.t("error.api_said", message=exc.message))

    @app.exception_handler(ApiUnavailable)
    def _unavailable(request: Request, exc: ApiUnavailable) -> Response:
        log.warning("admin API unavailable: %s", exc)
        page = Page(request, signed_in(request.session))
        return page.render("error.html", status=503, title=page.t("error.unavailable.title"),
                           message=page.t("error.unavailable"))

    @app.exception_handler(404)
    def _not_found(request: Request, exc: Any) -> HTMLResponse:
        page = Page(request, signed_in(request.session))
        return page.render("error.html", status=404, title=page.t("error.not_found.title"),
                           message=page.t("error.not_found"))

    return app
