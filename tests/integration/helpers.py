from __future__ import annotations

from typing import Any, TypeVar

import kombu
from sqlalchemy import func, select

from services.common.db import create_service_engine, ensure_schema
from services.common.nameko_kit import DEAD_LETTER_QUEUE
from tests.integration import ledger_service

T = TypeVar("T")


def ledger_config(base: dict[str, Any], max_workers: int = 10, service: str = "ledger") -> dict[str, Any]:
    """Config for a test service on the ledger's tables, in the schema of ``service``."""
    engine = create_service_engine(base["DATABASE_URL"], service)
    ensure_schema(engine, service)
    ledger_service.metadata.create_all(engine)
    engine.dispose()
    return {**base, "max_workers": max_workers}


def applied_rows(db_url: str) -> list[Any]:
    engine = create_service_engine(db_url, "ledger")
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(ledger_service.applied).order_by(ledger_service.applied.c.id)))
    finally:
        engine.dispose()


def count_rows(db_url: str, service: str, table: Any, *where: Any) -> int:
    engine = create_service_engine(db_url, service)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    finally:
        engine.dispose()


def dead_letters(amqp_uri: str) -> list[kombu.Message]:
    """Take every message now in the dead-letter queue."""
    taken = []
    with kombu.Connection(amqp_uri) as conn:
        queue = kombu.Queue(DEAD_LETTER_QUEUE, queue_arguments={"x-queue-type": "quorum"}, durable=True)
        bound = queue(conn.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            taken.append(message)
    return taken


def all_processed(database_url: str, service: str, processed: Any, event_ids: list[str]) -> bool:
    """Whether ``service`` has applied every one of ``event_ids`` (its processed-event markers in the
    ``processed`` table): handlers run concurrently and a failed one retries after a pause, so one event
    arriving says nothing about the others."""
    engine = create_service_engine(database_url, service)
    try:
        with engine.connect() as conn:
            done = conn.execute(select(func.count(func.distinct(processed.c.event_id)))
                                .where(processed.c.event_id.in_(event_ids))).scalar_one()
    finally:
        engine.dispose()
    return done >= len(set(event_ids))
