"""The console's session: an encrypted cookie, the signed-in person in it, and CSRF protection for every form.

The session is a small JSON object sealed with Fernet (the key from ``KRING_CONSOLE_SESSION_KEY``) in one cookie:
HttpOnly, SameSite=Lax (the OpenID provider's redirect back is a top-level GET, which Lax lets carry it), Secure
when the console is served over https. Nothing about a session is kept in the process, so any replica serves any
request; what ends a session early is the API revoking its token (sign-out does that), which every later call
then sees as 401.

The middleware gives Starlette's ``request.session`` (a dict) to the routes, so the OpenID client keeps its state
and nonce there too, and writes the cookie back only when the session changed.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "kring_console"
PERSON = "person"
CSRF = "csrf"


@dataclass(frozen=True)
class SignedIn:
    """The person behind a session, and the short-lived API token the console acts with for them."""

    member_id: str
    name: str
    token: str
    token_id: str
    expires_at: float  # epoch seconds; the session ends then, with the token
    operator: bool = False

    def expired(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) >= self.expires_at

    def stored(self) -> dict[str, Any]:
        return {"member_id": self.member_id, "name": self.name, "token": self.token, "token_id": self.token_id,
                "expires_at": self.expires_at, "operator": self.operator}

    @classmethod
    def from_stored(cls, data: Any) -> SignedIn | None:
        try:
            return cls(member_id=str(data["member_id"]), name=str(data["name"]), token=str(data["token"]),
                       token_id=str(data["token_id"]), expires_at=float(data["expires_at"]),
                       operator=bool(data.get("operator", False)))
        except (KeyError, TypeError, ValueError):
            return None


def session_sealer(keys: str | None) -> MultiFernet:
    """The keys from the setting (the first encrypts, all decrypt), or one made now when none is configured."""
    values = [key.strip() for key in (keys or "").split(",") if key.strip()] or [Fernet.generate_key().decode()]
    return MultiFernet([Fernet(value) for value in values])


class EncryptedSessionMiddleware:
    """``scope["session"]`` from the sealed cookie, sealed again into it when a route changed it."""

    def __init__(self, app: ASGIApp, *, sealer: MultiFernet, max_age: float, secure: bool) -> None:
        self.app = app
        self.sealer = sealer
        self.max_age = int(max_age)
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        loaded = self._open(connection.cookies.get(COOKIE))
        scope["session"] = dict(loaded)
        before = json.dumps(loaded, sort_keys=True)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session: MutableMapping[str, Any] = scope["session"]
                now = json.dumps(session, sort_keys=True)
                if now != before:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._cookie(dict(session)))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _open(self, sealed: str | None) -> dict[str, Any]:
        if not sealed:
            return {}
        try:
            data = json.loads(self.sealer.decrypt(sealed.encode(), ttl=self.max_age))
        except (InvalidToken, ValueError):
            return {}  # tampered, sealed with a retired key, or older than a session lasts: a new session
        return data if isinstance(data, dict) else {}

    def _cookie(self, session: dict[str, Any]) -> str:
        attributes = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")
        if not session:
            return f"{COOKIE}=; Max-Age=0; {attributes}"
        sealed = self.sealer.encrypt(json.dumps(session, sort_keys=True).encode()).decode()
        return f"{COOKIE}={sealed}; Max-Age={self.max_age}; {attributes}"


# --- the person and the CSRF token, read from request.session ------------------------------------------------


def signed_in(session: MutableMapping[str, Any]) -> SignedIn | None:
    person = SignedIn.from_stored(session.get(PERSON))
    if person is not None and person.expired():
        session.pop(PERSON, None)
        return None
    return person


def sign_in(session: MutableMapping[str, Any], person: SignedIn) -> None:
    """Start the person's session: a fresh CSRF token too, so none from before the sign-in stays valid."""
    language = session.get("lang")
    session.clear()
    session[PERSON] = person.stored()
    session[CSRF] = secrets.token_urlsafe(32)
    if language:
        session["lang"] = language


def sign_out(session: MutableMapping[str, Any]) -> SignedIn | None:
    person = SignedIn.from_stored(session.get(PERSON))
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    return person


def csrf_token(session: MutableMapping[str, Any]) -> str:
    token = session.get(CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF] = token
    return token


def csrf_matches(session: MutableMapping[str, Any], submitted: object) -> bool:
    expected = session.get(CSRF)
    return isinstance(expected, str) and isinstance(submitted, str) and secrets.compare_digest(expected, submitted)
