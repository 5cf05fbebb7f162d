"""A small consumer used by the integration tests: it records every member event it applies, so a test
can count effects. It uses the kit exactly as a real service does."""

from __future__ import annotations

from typing import Any

import eventlet
from nameko.rpc import RpcProxy, rpc
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from services.common.catalogue import MemberRegistered
from services.common.events import Envelope
from services.common.logs import correlation_id
from services.common.nameko_kit import Observability, ServiceDatabase, command, event_handler
from services.common.outbox import messaging_tables
from services.common.uow import SqlUnitOfWork
from tests.support.callers import OPERATOR_WIRE

metadata = MetaData()
applied = Table(
    "applied",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("member_id", String(36), nullable=False),
    Column("name", String(200), nullable=False),
    Column("correlation_id", String(100), nullable=False),
    Column("handler_correlation_id", String(100), nullable=True),
)
outbox, processed, commands = messaging_tables(metadata)

POISON_NAME = "Poison Pill"


class LedgerUnitOfWork(SqlUnitOfWork):
    outbox = outbox
    processed = processed
    commands = commands


class LedgerService:
    name = "ledger"

    uow = ServiceDatabase(LedgerUnitOfWork)
    observability = Observability()

    @event_handler("members", "member.registered")
    def on_member_registered(self, envelope: Envelope, payload: MemberRegistered, uow: LedgerUnitOfWork) -> None:
        if payload.name == POISON_NAME:
            raise RuntimeError("this handler can never process a poison pill")
        assert uow.connection is not None
        uow.connection.execute(
            insert(applied).values(event_id=str(envelope.id), member_id=payload.member_id, name=payload.name,
                                   correlation_id=envelope.correlation_id, handler_correlation_id=correlation_id.get())
        )


class CallerService:
    """Calls the members service concurrently from inside nameko (kombu connection pools under eventlet)."""

    name = "caller"
    members = RpcProxy("members")

    @rpc
    def register_many(self, count: int, prefix: str) -> list[str]:
        def register(i: int) -> str:
            member: dict[str, Any] = self.members.register_member(
                OPERATOR_WIRE,
                {"name": f"{prefix} {i}", "email": f"{prefix.lower()}{i}@example.org", "perspectives": ["resident"]},
            )
            return member["id"]

        pool = eventlet.GreenPool(size=count)
        return list(pool.imap(register, range(count)))


class IntakeService:
    """A service with a command that calls another service's command twice: each call must be a request of its own,
    not a repeat of the request that started the command."""

    name = "intake"

    uow = ServiceDatabase(LedgerUnitOfWork)
    members = RpcProxy("members")

    @command
    def register_pair(self, prefix: str) -> list[str]:
        return [self.members.register_member(OPERATOR_WIRE, {"name": f"{prefix} {i}",
                                                             "email": f"{prefix.lower()}{i}@example.org",
                                                             "perspectives": ["resident"]})["id"] for i in (1, 2)]
