"""One error shape for every failure of the admin API.

``{"error": {"code", "message", "violations": [{"field", "rule", "message"}]}}`` with the status of the
typed error (:mod:`services.common.errors`). FastAPI's own validation errors and Starlette's HTTP errors
(unknown route, wrong method, body too large) are rewritten into the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.common.errors import KringError, Unauthenticated, ValidationFailed, violation

# Where a parameter came from is not part of the field's name for a client.
_LOCATION_KINDS = frozenset({"body", "query", "path", "header", "cookie"})

_HTTP_CODES = {
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class Violation(BaseModel):
    field: str
    rule: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    violations: list[Violation] = []


class ErrorResponse(BaseModel):
    error: ErrorBody


# A route's documented responses, as FastAPI takes them: status code to OpenAPI response (model, description).
Responses = dict[int | str, dict[str, Any]]


def documented_error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


# Added to every /v1 route so the OpenAPI document shows the real error shape.
ERROR_RESPONSES: Responses = {
    401: documented_error("missing or invalid bearer token"),
    403: documented_error("the token's scope does not cover this"),
    413: documented_error("the request body is larger than the gateway accepts (1 MiB)"),
    422: documented_error("invalid input; violations name each field and rule (a body that is not JSON is "
                          "`(body)`, rule `json_invalid`; text may not contain U+0000; dates and times fall "
                          "between the years 1000 and 8999)"),
    429: documented_error("too many requests with this token; wait the `Retry-After` header's seconds"),
    503: documented_error("a service or the message broker did not answer"),
}


def error_content(code: str, message: str, violations: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "violations": list(violations)}}


def kring_error_response(exc: KringError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(error_content(exc.code, exc.message, exc.violations), status_code=exc.http_status,
                        headers=headers or None)


def request_violations(errors: Sequence[Any]) -> list[dict[str, str]]:
    """FastAPI's error list as violations: ``field`` is the dotted location without body/query/path."""
    found = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in _LOCATION_KINDS:
            loc = loc[1:]
        if error.get("type") == "json_invalid":
            loc = []  # the location is a character offset, not a field
        found.append(violation(".".join(loc) or "(body)", str(error.get("type", "invalid")),
                               str(error.get("msg", "invalid value"))))
    return found


def validation_failed(exc: RequestValidationError) -> ValidationFailed:
    found = request_violations(exc.errors())
    summary = "; ".join(f"{v['field']}: {v['message']}" for v in found[:5])
    return ValidationFailed(f"invalid input: {summary}", found)


async def _on_kring_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KringError)
    return kring_error_response(exc)


async def _on_request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return kring_error_response(validation_failed(exc))


# FastAPI answers 400 "There was an error parsing the body" for a body that is not even text (invalid UTF-8);
# a body that is text but not JSON is already a 422 `json_invalid`. Both are bad input: one status, one rule.
UNPARSABLE_BODY = ValidationFailed.single("(body)", "json_invalid", "the body is not valid JSON in UTF-8")


async def _on_http_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        return kring_error_response(UNPARSABLE_BODY)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    # Starlette types the detail as text, but FastAPI's HTTPException (a subclass, handled here too) takes any.
    detail: object = exc.detail
    message = detail if isinstance(detail, str) else code.replace("_", " ")
    return JSONResponse(error_content(code, message), status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Unexpected exceptions are not handled here but in the request middleware (it owns the 500)."""
    app.add_exception_handler(KringError, _on_kring_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
