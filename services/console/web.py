"""What every page of the console uses: who is signed in, their API, their language, forms and rendering.

A route takes a :class:`Page` (``page: SignedInPage``): the signed-in person, the admin API as them, the texts in
their language. A route that changes something takes the submitted form as :class:`Form` (``form: PostedForm``),
which has already been checked against the session's CSRF token. After a change a route redirects (303) to the
page that shows it, with a notice; when the API refuses the input the route draws the form again with each
field's error and what was typed (:meth:`Page.render` with ``errors`` and ``values``), and nothing is saved.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from services.common.i18n import LANGUAGES, Language, Texts, negotiate
from services.console.api import AdminApi
from services.console.dates import day, when
from services.console.session import SignedIn, csrf_matches, csrf_token, signed_in
from services.console.texts import CONSOLE

NOTICE = "notice"

templates = Environment(
    loader=PackageLoader("services.console", "templates"),
    autoescape=select_autoescape(default=True),  # every value escaped, in every template
    undefined=StrictUndefined,  # a missing value is a bug found by the tests, not an empty space on the page
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["when"] = when  # {{ session.starts_at|when }}: UTC from the API, local time on the page
templates.filters["day"] = day  # {{ network.start_date|day }}: a day written as `when` writes it


class NotSignedIn(Exception):
    """A page that needs a signed-in person was asked for without one: the sign-in page, then back here."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class CsrfRefused(Exception):
    """A form without this session's CSRF token: from another site, or from a session that has ended."""


def language_of(request: Request) -> Language:
    chosen = request.session.get("lang")
    if chosen in LANGUAGES:
        return chosen  # type: ignore[no-any-return]
    return negotiate(request.headers.get("accept-language"))


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after sign-in; anything else (another site, ``//host``) goes home instead."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


class Page:
    """One request's view of the console: who, in which language, and their API."""

    def __init__(self, request: Request, person: SignedIn | None) -> None:
        self.request = request
        self.person = person
        self.language = language_of(request)
        self.t = Texts(CONSOLE, self.language)
        client: httpx.Client = request.app.state.api_client
        self.api = AdminApi(client, person.token if person else None, self.language)
        self._me: dict[str, Any] | None = None

    @property
    def session(self) -> Any:
        return self.request.session

    def me(self) -> dict[str, Any]:
        """The API's ``whoami`` for this person (their roles in each network), asked once per request."""
        if self._me is None:
            self._me = self.api.get("/v1/whoami")
        return self._me

    def render(self, template: str, *, status: int = 200, errors: Mapping[str, str] | None = None,
               values: Mapping[str, Any] | None = None, **context: Any) -> HTMLResponse:
        body = templates.get_template(template).render(
            t=self.t, lang=self.language, languages=LANGUAGES, person=self.person, csrf=csrf_token(self.session),
            form_key=secrets.token_urlsafe(16), notice=self.session.pop(NOTICE, None), path=self.request.url.path,
            errors=dict(errors or {}), values=dict(values or {}), **context,
        )
        return HTMLResponse(body, status_code=status)

    def redirect(self, url: str, notice: str | None = None) -> RedirectResponse:
        if notice:
            self.session[NOTICE] = notice
        return RedirectResponse(url, status_code=303)


def _anyone(request: Request) -> Page:
    return Page(request, signed_in(request.session))


def _signed_in(request: Request) -> Page:
    person = signed_in(request.session)
    if person is None:
        back_to = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise NotSignedIn(back_to if request.method == "GET" else "/")
    return Page(request, person)


class Form:
    """A submitted form (CSRF checked): text fields, repeated fields, and the key that makes it apply once."""

    def __init__(self, fields: Mapping[str, Any], lists: Mapping[str, list[str]]) -> None:
        self.fields = fields
        self.lists = lists

    def text(self, name: str) -> str:
        value = self.fields.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def optional(self, name: str) -> str | None:
        return self.text(name) or None

    def all(self, name: str) -> list[str]:
        return [value.strip() for value in self.lists.get(name, []) if value.strip()]

    def checked(self, name: str) -> bool:
        return self.text(name) in ("on", "true", "1", "yes")

    @property
    def key(self) -> str | None:
        """The idempotency key the form was drawn with (one submission applies once)."""
        return self.optional("form_key")

    @property
    def values(self) -> dict[str, Any]:
        """What was typed, to draw the form again with it after an error."""
        return {name: (values if len(values) > 1 else values[0]) for name, values in self.lists.items()
                if name not in ("csrf", "form_key")}


async def _posted_form(request: Request) -> Form:
    data = await request.form()
    if not csrf_matches(request.session, data.get("csrf")):
        raise CsrfRefused
    lists = {name: [str(v) for v in data.getlist(name) if isinstance(v, str)] for name in data}
    return Form({name: data.get(name) for name in data}, lists)


AnyPage = Annotated[Page, Depends(_anyone)]
SignedInPage = Annotated[Page, Depends(_signed_in)]
PostedForm = Annotated[Form, Depends(_posted_form)]


def sign_in_url(back_to: str) -> str:
    return f"/sign-in?next={quote(back_to, safe='/')}"
