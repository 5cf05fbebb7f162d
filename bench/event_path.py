"""Benchmark 1, the event path: outbox write → relay → idempotent consumer, against a raw kombu publish
(persistent, confirmed, pipelined) → consume baseline on the same broker, same queue type, same run.

Run alone: ``python -m bench.event_path [--events N]``; prints the figures as JSON on the last line.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from dataclasses import asdict  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import kombu  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from sqlalchemy import Column, MetaData, String, Table, insert  # noqa: E402

from bench.common import Figure, database, summary_ms, vhost  # noqa: E402
from services.common.catalogue import MemberRegistered  # noqa: E402
from services.common.db import create_service_engine, ensure_schema  # noqa: E402
from services.common.events import Envelope  # noqa: E402
from services.common.migrations import upgrade  # noqa: E402
from services.common.nameko_kit import ServiceDatabase, event_handler, event_queue  # noqa: E402
from services.common.outbox import ConfirmingPublisher, OutgoingMessage, messaging_tables  # noqa: E402
from services.common.uow import SqlUnitOfWork, apply_once  # noqa: E402
from services.members.service import MembersService  # noqa: E402
from services.members.unit_of_work import MembersUnitOfWork  # noqa: E402

metadata = MetaData()
applied = Table("applied", metadata, Column("event_id", String(36), primary_key=True))
ledger_outbox, ledger_processed = messaging_tables(metadata)
arrivals: list[float] = []  # seconds from occurred_at to applied, per event
last_arrival = [0.0]


class LedgerUnitOfWork(SqlUnitOfWork):
    outbox = ledger_outbox
    processed = ledger_processed


class BenchLedger:
    name = "bench_ledger"
    uow = ServiceDatabase(LedgerUnitOfWork)

    @event_handler("members", "member.registered")
    def on_member_registered(self, envelope: Envelope, payload: MemberRegistered) -> None:
        def effect(uow: LedgerUnitOfWork) -> None:
            uow.connection.execute(insert(applied).values(event_id=str(envelope.id)))

        apply_once(self.uow(), envelope.id, "bench_ledger.on_member_registered", effect)
        arrivals.append((datetime.now(UTC) - envelope.occurred_at).total_seconds())
        last_arrival[0] = time.perf_counter()


def payload(i: int) -> MemberRegistered:
    return MemberRegistered(member_id=str(uuid.uuid4()), revision=1, name=f"Bench {i}", email=f"b{i}@example.org",
                            organisation=None, perspectives=["resident"], expertise=[], findable_by_expertise=False,
                            named_in_shared_outputs=False)


def kring_path(events: int, writers: int) -> dict:
    arrivals.clear()
    with vhost() as amqp_uri, database() as db_url:
        upgrade("members", db_url)
        engine = create_service_engine(db_url, "bench_ledger")
        ensure_schema(engine, "bench_ledger")
        metadata.create_all(engine)
        engine.dispose()
        config = {"AMQP_URI": amqp_uri, "DATABASE_URL": db_url, "serializer": "json", "max_workers": 10,
                  "KRING_EVENT_DELIVERY_LIMIT": 5}
        ledger = ServiceContainer(BenchLedger, config)
        members = ServiceContainer(MembersService, config)
        ledger.start()
        members.start()
        relay = next(d for d in members.dependencies if isinstance(d, ServiceDatabase))
        writer_engine = create_service_engine(db_url, "members")

        def write(share: range) -> None:
            for i in share:
                with MembersUnitOfWork(writer_engine, producer="members", on_commit=relay._wake.set) as uow:
                    uow.add_event(payload(i))
                    uow.commit()

        started = time.perf_counter()
        pool = eventlet.GreenPool(writers)
        for w in range(writers):
            pool.spawn(write, range(w, events, writers))
        pool.waitall()
        written = time.perf_counter()
        deadline = time.monotonic() + 300
        while len(arrivals) < events and time.monotonic() < deadline:
            eventlet.sleep(0.05)
        elapsed = last_arrival[0] - started
        members.stop()
        ledger.stop()
        writer_engine.dispose()
    return {"events": events, "delivered": len(arrivals), "msgs_per_s": len(arrivals) / elapsed,
            "write_phase_s": written - started, **summary_ms(list(arrivals))}


def kombu_baseline(events: int, batch: int = 500) -> dict:
    latencies: list[float] = []
    done = [0.0]
    with vhost() as amqp_uri:
        queue = event_queue("bench", "baseline.sent", "bench", "consume", 5)
        with kombu.Connection(amqp_uri) as conn:
            queue(conn.default_channel).declare()

        def consume() -> None:
            with kombu.Connection(amqp_uri) as conn:
                def on_message(body: dict, message: kombu.Message) -> None:
                    latencies.append(time.time() - body["t"])
                    message.ack()
                    done[0] = time.perf_counter()

                with conn.Consumer(queue, callbacks=[on_message], prefetch_count=100, accept=["json"]):
                    deadline = time.monotonic() + 300
                    while len(latencies) < events and time.monotonic() < deadline:
                        try:
                            conn.drain_events(timeout=1)
                        except TimeoutError:
                            continue

        consumer = eventlet.spawn(consume)
        eventlet.sleep(0.5)
        publisher = ConfirmingPublisher(amqp_uri)
        started = time.perf_counter()
        for first in range(0, events, batch):
            publisher.publish(OutgoingMessage("bench.events", "baseline.sent", {"i": i, "t": time.time()}, {})
                              for i in range(first, min(events, first + batch)))
        consumer.wait()
        publisher.close()
    return {"events": events, "delivered": len(latencies), "msgs_per_s": len(latencies) / (done[0] - started),
            **summary_ms(latencies)}


def run(events: int, writers: int) -> list[Figure]:
    baseline = kombu_baseline(events)
    kring = kring_path(events, writers)
    ratio = kring["msgs_per_s"] / baseline["msgs_per_s"]
    return [
        Figure("event path throughput", "msg/s", kring["msgs_per_s"], baseline["msgs_per_s"],
               "raw kombu confirmed+pipelined → consume", "≥ 50% of baseline", ratio >= 0.5,
               {"kring": kring, "baseline": baseline}),
        Figure("event path p50 latency", "ms", kring["p50_ms"], baseline["p50_ms"], "raw kombu"),
        Figure("event path p99 latency", "ms", kring["p99_ms"], baseline["p99_ms"], "raw kombu"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers committing one event each")
    args = parser.parse_args()
    print(json.dumps([asdict(f) for f in run(args.events, args.writers)]))


if __name__ == "__main__":
    main()
