"""The one error the gateway adds to the typed errors of :mod:`services.common.errors`: a bug.

Clients get a fixed message and the correlation id, never the exception text or a stack trace; the
details go to the log under the same correlation id.
"""

from __future__ import annotations

from services.common.errors import KringError
from services.common.logs import correlation_id


class InternalError(KringError):
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
