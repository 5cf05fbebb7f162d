"""The admin API, as the console calls it: as the signed-in person, in their language.

Every page's data and every action goes through here, with the person's own short-lived token: the API decides
what they may see and do, exactly as for any other client. The console adds nothing to that and holds no other
credential for acting, only the broker's for the sign-in exchange (:meth:`AdminApi.exchange_sign_in`).

A form's submission carries an idempotency key made when the form was drawn (``form_key``), so a double click or
a resubmitted form applies the command once (the API's ``Idempotency-Key``).

Every path holding a value is built by :func:`api_path`, which quotes each value as one path segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from services.console.texts import CONSOLE

Json = dict[str, Any]

PLACE = "{}"


def api_path(template: str, *values: object) -> str:
    """An admin API path: the template's fixed parts as written, each ``{}`` replaced by a value quoted as one
    segment, so an id typed into the console's URL as ``..`` or holding ``?`` or ``#`` stays that id.

    ``api_path("/v1/networks/{}/members/{}", network_id, member_id)``. A template whose places do not match the
    values, or an empty value (no segment at all), is a bug in the console: ``ValueError``. A value holding ``/``
    names nothing the API holds: ``ApiError`` 404, as the API would answer, without asking it.
    """
    fixed = template.split(PLACE)
    if len(fixed) != len(values) + 1:
        raise ValueError(f"{template!r} has {len(fixed) - 1} places for {len(values)} values")
    return fixed[0] + "".join(_segment(value) + after for value, after in zip(values, fixed[1:], strict=True))


def _segment(value: object) -> str:
    text = str(value)
    if not text:
        raise ValueError("an empty value would drop its path segment")
    if "/" in text:
        # The API decodes %2F before it routes, so no quoting keeps such a value one segment; and no id holds a "/".
        raise ApiError(404, "not_found", f"no such id: {text}")
    quoted = quote(text, safe="")
    # quote() leaves dots as they are, and httpx resolves a "." or ".." segment away (RFC 3986 dot segments).
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


@dataclass
class ApiError(Exception):
    """The API refused or failed: its status, code, message and the violations naming each field and rule."""

    status: int
    code: str
    message: str
    violations: list[Json] = field(default_factory=list)
    language: str = "en"  # the language the page asked the API in

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    @property
    def field_errors(self) -> dict[str, str]:
        """The first message per field, keyed by the field's name as the API gives it (``title``, ``statements.0``).

        The API words its messages in English, with the limits in them ("at least 3 characters"): an English page
        shows them as they are; a Dutch page shows the console's own text for the rule where it has one
        (``rule.<rule>`` in texts/common.py), and the API's words for a rule it does not know.
        """
        errors: dict[str, str] = {}
        for item in self.violations:
            name = str(item.get("field") or "")
            errors.setdefault(name, self._say(str(item.get("rule") or ""), str(item.get("message") or "")))
        return errors

    def _say(self, rule: str, message: str) -> str:
        forms = CONSOLE.get(f"rule.{rule}")
        if self.language != "nl" or forms is None:
            return message or rule
        return str(forms["nl"])  # the console's languages are Dutch and English


class ApiUnavailable(Exception):
    """The admin API did not answer (not started, unreachable or too slow)."""


class AdminApi:
    """Calls of one request, as one person (``token``) or, for the sign-in exchange, as the broker."""

    def __init__(self, client: httpx.Client, token: str | None, language: str) -> None:
        self._client = client
        self._token = token
        self._language = language

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Json | None = None, *, form_key: str | None = None) -> Any:
        return self._call("POST", path, json=body if body is not None else {}, idempotency_key=form_key)

    def put(self, path: str, body: Json, *, form_key: str | None = None) -> Any:
        return self._call("PUT", path, json=body, idempotency_key=form_key)

    def patch(self, path: str, body: Json, *, form_key: str | None = None) -> Any:
        return self._call("PATCH", path, json=body, idempotency_key=form_key)

    def delete(self, path: str, *, form_key: str | None = None) -> Any:
        return self._call("DELETE", path, idempotency_key=form_key)

    def exchange_sign_in(self, broker_token: str, email: str, ttl_seconds: int) -> Json:
        """A short-lived token for the member with this verified e-mail (404 ``ApiError``: no such member)."""
        answer: Json = self._call("POST", "/v1/sign-in/tokens", json={"email": email, "ttl_seconds": ttl_seconds},
                                  token=broker_token)
        return answer

    def _call(self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None,
              idempotency_key: str | None = None, token: str | None = None) -> Any:
        headers = {"Accept-Language": self._language}
        bearer = token or self._token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = self._client.request(method, path, params=params, json=json, headers=headers)
        except httpx.TransportError as exc:
            raise ApiUnavailable(type(exc).__name__) from None
        if response.status_code == 204:
            return None
        if response.is_success:
            return response.json()
        raise _error_of(response, self._language)


def _error_of(response: httpx.Response, language: str) -> ApiError:
    try:
        body = response.json().get("error", {})
    except (ValueError, AttributeError):
        body = {}
    if response.status_code >= 500 and not body:
        raise ApiUnavailable(f"status {response.status_code}")
    return ApiError(status=response.status_code, code=str(body.get("code", "error")),
                    message=str(body.get("message", response.reason_phrase)),
                    violations=list(body.get("violations") or []), language=language)
