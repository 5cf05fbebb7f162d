"""Commands applied once: a service records every command request it applied, with its answer, in the same
transaction as the command's effect, and answers a repeat of the request from that record.

A repeat happens when the broker delivers an RPC request again (the service died after committing and before
acknowledging it; with two replicas the other one gets it), or when a client retries with the same
``Idempotency-Key`` (admin API) or ``request_id`` (partner API). Either way the request carries the same request
id, and the second attempt must not act again:

- the first attempt *claims* the request id at the start of its transaction (one row in ``processed_commands``);
  a concurrent repeat waits on that row's key until the first commits (then it answers from the record) or
  rolls back (then it takes over);
- the effect, the events in the outbox and the answer commit together, or none of them do;
- a command that changed nothing (or failed before committing anything) leaves no record: trying it again is
  harmless.

The request's *fingerprint* tells a repeat from a different request reusing an id: the gateway sends one made
of the HTTP method, path and body (or the partner call); without it the service takes the command's name and
arguments. The same id with another fingerprint is refused with :class:`~services.common.errors.Conflict`.

Nothing here knows nameko: :mod:`services.common.nameko_kit` gives each RPC entrypoint marked as a ``command``
its request and calls :func:`run_command`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import JSON, Column, MetaData, String, Table

from services.common import errors
from services.common.db import UTCDateTime

log = logging.getLogger(__name__)

R = TypeVar("R")

REQUEST_ID_MAX = 100
IDEMPOTENCY_RULE = "same_request_for_same_key"
SHOWN_ONCE_RULE = "shown_once"
# Keys of the RPC call's context data (nameko sends them as ``nameko.<key>`` headers).
REQUEST_ID_KEY = "request_id"
REQUEST_FINGERPRINT_KEY = "request_fingerprint"


def command_table(metadata: MetaData) -> Table:
    """The record of applied commands, one row per request id (kept for ``KRING_COMMAND_RETENTION_HOURS``)."""
    return Table(
        "processed_commands",
        metadata,
        Column("request_id", String(REQUEST_ID_MAX), primary_key=True),
        Column("command", String(100), nullable=False),
        Column("fingerprint", String(64), nullable=False),
        # {"result": <the JSON answer>} or {"error": {"type": <KringError subclass>, "args": [...]}}; NULL while
        # the first attempt runs (never visible to others: the row commits with its answer)
        Column("outcome", JSON, nullable=True),
        Column("recorded_at", UTCDateTime(), nullable=False, index=True),
    )


@dataclass(frozen=True)
class CommandRequest:
    """What identifies one command request: its id, and what it asked (to tell a repeat from a reuse)."""

    request_id: str
    command: str
    fingerprint: str
    shown_once: tuple[str, ...] = ()  # fields of the answer never kept (a new token or key): see answer_record

    @classmethod
    def of(cls, request_id: str, command: str, args: tuple[Any, ...], kwargs: dict[str, Any],
           fingerprint: str | None = None, shown_once: tuple[str, ...] = ()) -> CommandRequest:
        return cls(request_id[:REQUEST_ID_MAX], command, fingerprint or fingerprint_of(command, args, kwargs),
                   shown_once)


def fingerprint_of(*parts: Any) -> str:
    """A stable digest of JSON-able parts (key order does not matter)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Recorded:
    """A command applied before: its fingerprint and what it answered."""

    fingerprint: str
    outcome: dict[str, Any]

    def replay(self, request: CommandRequest) -> Any:
        """Answer a repeat exactly as the first attempt was answered."""
        if self.fingerprint != request.fingerprint:
            raise errors.Conflict(
                "this Idempotency-Key was used before for a different request",
                [errors.violation("Idempotency-Key", IDEMPOTENCY_RULE,
                                  "a key identifies one request: send the same request again, or use a new key")])
        if "error" in self.outcome:
            raise rebuild_error(self.outcome["error"])
        if self.outcome.get("withheld"):
            withheld = ", ".join(self.outcome["withheld"])
            raise errors.Conflict(
                f"this request was applied before, and the {withheld} it made was shown once and is not kept "
                f"(what it made: {json.dumps(self.outcome.get('result'), ensure_ascii=False)}); revoke that and "
                "ask again with a new key",
                [errors.violation("Idempotency-Key", SHOWN_ONCE_RULE, f"the {withheld} was shown only once")])
        return self.outcome.get("result")


def answer_record(result: Any, shown_once: tuple[str, ...] = ()) -> dict[str, Any]:
    """What is kept of a command's answer: all of it, except secrets (a new token or API key, shown once and
    stored only hashed), which are left out; a repeat of such a request is then refused, naming what it made."""
    withheld = sorted(f for f in shown_once if isinstance(result, dict) and f in result)
    if not withheld:
        return {"result": result}
    return {"result": {k: v for k, v in result.items() if k not in withheld}, "withheld": withheld}


def error_outcome(exc: errors.KringError) -> dict[str, Any]:
    return {"error": {"type": type(exc).__name__, "args": list(exc.args)}}


def rebuild_error(recorded: dict[str, Any]) -> errors.KringError:
    kinds = {kind.__name__: kind for kind in errors.ALL_ERRORS}
    kind = kinds.get(recorded.get("type", ""), errors.KringError)
    return kind(*recorded.get("args", ["the command failed"]))


class CommandUnitOfWork(Protocol):
    """What :func:`run_command` needs of a unit of work (:class:`services.common.uow.SqlUnitOfWork` has it)."""

    def held(self) -> AbstractContextManager[object]: ...

    def claim_command(self, request: CommandRequest) -> Recorded | None: ...

    def record_command(self, request: CommandRequest, outcome: dict[str, Any]) -> None: ...

    @property
    def committed_work(self) -> bool: ...

    def commit_held(self) -> None: ...


def run_command(uow: CommandUnitOfWork, request: CommandRequest, apply: Callable[[], R]) -> R:
    """Apply a command once per request id, in one transaction of ``uow`` (opened with ``uow.held()``).

    ``apply`` runs the entrypoint; the handlers it calls use the same unit of work, whose ``commit`` now only
    marks their work for the one commit made here, with the request's record.
    """
    with uow.held():
        earlier = uow.claim_command(request)
        if earlier is not None:
            log.info("command %s (request %s) was applied before; answering from its record", request.command,
                     request.request_id)
            # What the first attempt answered, kept as JSON: an entrypoint answers JSON, so this is that answer.
            return cast(R, earlier.replay(request))
        try:
            result = apply()
        except errors.KringError as exc:
            if not uow.committed_work:
                raise  # nothing was applied: nothing to remember, the claim is rolled back
            uow.record_command(request, error_outcome(exc))
            uow.commit_held()
            raise
        if uow.committed_work:
            uow.record_command(request, answer_record(result, request.shown_once))
            uow.commit_held()
        return result
