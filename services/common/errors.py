"""Typed errors: they name the field and the rule, cross nameko RPC intact, and map to HTTP and gRPC.

Every error's constructor takes only JSON-safe positional arguments (message, violations), because
nameko serialises ``exc.args`` and rebuilds the exception from them on the calling side.
"""

from __future__ import annotations

from typing import Any

from nameko import exceptions as nameko_exceptions
from pydantic import ValidationError as PydanticValidationError

from services.common.logs import correlation_id


def _register(error: type[Exception]) -> None:
    """Tell nameko to rebuild this type on the calling side of an RPC instead of a generic RemoteError."""
    nameko_exceptions.registry[nameko_exceptions.get_module_path(error)] = error


class KringError(Exception):
    code = "error"
    http_status = 400
    grpc_status = "UNKNOWN"  # name of a grpc.StatusCode member; kept as text so domain code needs no grpc

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _register(cls)

    def __init__(self, message: str, violations: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message, list(violations or []))

    @property
    def message(self) -> str:
        message: str = self.args[0]
        return message

    @property
    def violations(self) -> list[dict[str, Any]]:
        violations: list[dict[str, Any]] = self.args[1]
        return violations

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.violations:
            body["violations"] = self.violations
        return body

    def __str__(self) -> str:
        return self.message


class ValidationFailed(KringError):
    """Input broke a rule. ``violations`` lists ``{"field", "rule", "message"}``."""

    code = "validation_failed"
    http_status = 422
    grpc_status = "INVALID_ARGUMENT"

    @classmethod
    def single(cls, field: str, rule: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", [violation(field, rule, message)])


class Unauthenticated(KringError):
    code = "unauthenticated"
    http_status = 401
    grpc_status = "UNAUTHENTICATED"


class PermissionDenied(KringError):
    code = "permission_denied"
    http_status = 403
    grpc_status = "PERMISSION_DENIED"


class NotFound(KringError):
    code = "not_found"
    http_status = 404
    grpc_status = "NOT_FOUND"


class Conflict(KringError):
    """The request clashes with current state (a duplicate, an illegal transition)."""

    code = "conflict"
    http_status = 409
    grpc_status = "ALREADY_EXISTS"


class IllegalTransition(Conflict):
    code = "illegal_transition"
    grpc_status = "FAILED_PRECONDITION"


class RateLimited(KringError):
    code = "rate_limited"
    http_status = 429
    grpc_status = "RESOURCE_EXHAUSTED"


class InternalError(KringError):
    """A bug, as the edges tell it: a fixed message and the correlation id, never the exception's text or a stack
    trace; the details go to the log under the same correlation id."""

    code = "internal_error"
    http_status = 500
    grpc_status = "INTERNAL"

    @classmethod
    def safe(cls) -> InternalError:
        cid = correlation_id.get()
        suffix = f" (correlation id {cid})" if cid else ""
        return cls(f"internal error{suffix}; the operators have the details")


def as_kring_error(exc: BaseException) -> KringError:
    """A typed error passes through unchanged; anything else becomes a safe internal error."""
    return exc if isinstance(exc, KringError) else InternalError.safe()


class Unavailable(KringError):
    """A dependency (broker, service, database) did not answer in time."""

    code = "unavailable"
    http_status = 503
    grpc_status = "UNAVAILABLE"


# How a partner stream of all the key's networks ends when they change (another instance's network approved or
# withdrawn): UNAVAILABLE with this message. A relay reading it reconnects at once, counting no failure.
KEY_NETWORKS_CHANGED = "the networks of this key changed; reconnect with your last cursor"


ALL_ERRORS: tuple[type[KringError], ...] = (
    KringError,
    ValidationFailed,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    Conflict,
    IllegalTransition,
    RateLimited,
    Unavailable,
)

_register(KringError)


def violation(field: str, rule: str, message: str) -> dict[str, str]:
    return {"field": field, "rule": rule, "message": message}


def violations_from_pydantic(exc: PydanticValidationError,
                             prefix: tuple[str | int, ...] = ()) -> list[dict[str, str]]:
    found = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in (*prefix, *error["loc"])]
        found.append(violation(".".join(loc) or "(body)", error["type"], error["msg"]))
    return found


def from_pydantic(exc: PydanticValidationError) -> ValidationFailed:
    found = violations_from_pydantic(exc)
    summary = "; ".join(f"{v['field']}: {v['message']}" for v in found[:5])
    return ValidationFailed(f"invalid input: {summary}", found)
