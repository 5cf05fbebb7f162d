"""Typed errors to gRPC statuses, with rich details partners can read programmatically.

Every error carries ``google.rpc.ErrorInfo`` (reason = the error code, e.g. ``VALIDATION_FAILED``) and
``google.rpc.RequestInfo`` (the correlation id). An error that names fields and rules also carries
``google.rpc.BadRequest`` with one field violation per broken rule (field, reason = rule, description =
message), whatever its code: a validation error (INVALID_ARGUMENT), and also e.g. PERMISSION_DENIED for a
network that is not the partner's (rule ``own_network``) or NOT_FOUND naming the unknown id's field, so a
partner reads the field and rule the same way for every code. A rate-limited call carries
``google.rpc.RetryInfo`` (how long to wait).
"""

from __future__ import annotations

from typing import NoReturn, Protocol

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common.errors import KringError
from services.common.logs import correlation_id

ERROR_DOMAIN = "kring.v1"


class DeadlineExceeded(KringError):
    """The caller's deadline passed before the gateway could ask a service: asking would be wasted work."""

    code = "deadline_exceeded"
    http_status = 504
    grpc_status = "DEADLINE_EXCEEDED"


def grpc_code(exc: KringError) -> grpc.StatusCode:
    return grpc.StatusCode.__members__.get(exc.grpc_status, grpc.StatusCode.UNKNOWN)


def _packed(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def rich_status(exc: KringError) -> status_pb2.Status:
    code = grpc_code(exc)
    details = [_packed(error_details_pb2.ErrorInfo(reason=exc.code.upper(), domain=ERROR_DOMAIN))]
    cid = correlation_id.get()
    if cid:
        details.append(_packed(error_details_pb2.RequestInfo(request_id=cid)))
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:  # rate limited: say when to try again
        details.append(_packed(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=retry_after))))
    if exc.violations:  # every code: PERMISSION_DENIED's own_network detail is as much the partner's as a 422's
        details.append(_packed(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v["field"], reason=v["rule"], description=v["message"])
            for v in exc.violations
        ])))
    return status_pb2.Status(code=code.value[0], message=exc.message, details=details)


class Aborting(Protocol):
    """The part of a ``grpc.aio`` servicer context that ends a call."""

    async def abort_with_status(self, status: grpc.Status) -> NoReturn: ...


async def abort_with_error(context: Aborting, exc: KringError) -> NoReturn:
    """End the call with the error's status code, message and details; raises, as ``context.abort`` does."""
    await context.abort_with_status(rpc_status.to_status(rich_status(exc)))
    # abort_with_status always raises (grpcio's does); should a context return, the call still ends here.
    raise AssertionError("unreachable")

