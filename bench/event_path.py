"""Benchmark 1, the event path: outbox write → relay → idempotent consumer, against a raw kombu publish
(persistent, confirmed, pipelined) → consume baseline on the same broker, same queue type, same run.

Run alone: ``python -m bench.event_path [--events N] [--writers W]``; prints the figures as JSON on the last
line.

What is measured, and how the two sides are kept comparable:

- **Same process, same shape.** Each side runs in this one eventlet process: the baseline's publisher and
  consumer, and Kring's writers, relay (in the members container) and consumer (a nameko container), so
  each side has the same CPU to spend. Both consume a durable quorum queue declared by ``event_queue``
  (delivery limit, dead-letter exchange), on a fresh vhost; Kring also gets a fresh PostgreSQL database.
- **Throughput window.** From the first write (Kring: the first outbox transaction begins; baseline: the
  first publish) to the last event applied (Kring: the commit of the transaction holding its marker and
  effect; baseline: its ack). ``msgs_per_s`` = events applied / that window, so the producer's side counts:
  the window cannot end before the last write. ``writes_per_s`` (events / time the writers took) is
  therefore the ceiling of Kring's figure in this process.
- **Writers.** ``--writers`` green threads (default 8), each committing one event per transaction (an
  outbox row through ``MembersUnitOfWork``, as a command handler does), with PostgreSQL's default
  durability (``synchronous_commit`` on). The baseline publishes pipelined batches of 500 with confirms, as
  the relay does; it has no database.
- **Latency.** Kring: from the envelope's ``occurred_at`` (made before the writer's commit) to the commit
  that applied the event; baseline: from the publisher's timestamp in the body to the consumer's callback.
- **The consumer.** The headline figure is the batching handler (``batch_event_handler``: the deliveries
  waiting in the queue applied in one transaction, settled one by one after its commit). The one-by-one
  handler (``event_handler`` + ``apply_once``: a worker and a transaction per event, as most handlers are
  written) is measured in the same run and reported under ``details.kring_one_by_one``. The effect is the
  same for both: one insert, plus the processed-event marker.
- ``cpu_ms_per_event`` (this process's CPU time over the run / events) is steadier than the rates on a
  shared machine; the broker and PostgreSQL run beside it and are not in it.
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
import resource  # noqa: E402
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
from services.common.nameko_kit import (  # noqa: E402
    ServiceDatabase,
    batch_event_handler,
    event_handler,
    event_queue,
)
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
    """Records each event's latency when the transaction that applied it commits, not before."""

    outbox = ledger_outbox
    processed = ledger_processed

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.applied_here: list[datetime] = []

    def apply(self, envelope: Envelope) -> None:
        self.connection.execute(insert(applied).values(event_id=str(envelope.id)))
        self.applied_here.append(envelope.occurred_at)

    def commit(self) -> None:
        super().commit()
        now = datetime.now(UTC)
        arrivals.extend((now - occurred).total_seconds() for occurred in self.applied_here)
        self.applied_here = []
        last_arrival[0] = time.perf_counter()

    def rollback(self) -> None:
        super().rollback()
        self.applied_here = []


class BenchLedger:
    """The consumer as most handlers are written today: one worker and one transaction per event."""

    name = "bench_ledger"
    uow = ServiceDatabase(LedgerUnitOfWork)

    @event_handler("members", "member.registered")
    def on_member_registered(self, envelope: Envelope, payload: MemberRegistered) -> None:
        apply_once(self.uow(), envelope.id, "bench_ledger.on_member_registered", lambda uow: uow.apply(envelope))


class BatchBenchLedger:
    """The same effect behind the batching handler: the deliveries waiting in the queue in one transaction."""

    name = "bench_ledger"
    uow = ServiceDatabase(LedgerUnitOfWork)

    @batch_event_handler("members", "member.registered")
    def on_member_registered(self, envelope: Envelope, payload: MemberRegistered, uow: LedgerUnitOfWork) -> None:
        uow.apply(envelope)


def payload(i: int) -> MemberRegistered:
    return MemberRegistered(member_id=str(uuid.uuid4()), revision=1, name=f"Bench {i}", email=f"b{i}@example.org",
                            organisation=None, perspectives=["resident"], expertise=[], findable_by_expertise=False,
                            named_in_shared_outputs=False)


def kring_path(events: int, writers: int, consumer: type = BatchBenchLedger) -> dict:
    arrivals.clear()
    with vhost() as amqp_uri, database() as db_url:
        upgrade("members", db_url)
        engine = create_service_engine(db_url, "bench_ledger")
        ensure_schema(engine, "bench_ledger")
        metadata.create_all(engine)
        engine.dispose()
        config = {"AMQP_URI": amqp_uri, "DATABASE_URL": db_url, "serializer": "json", "max_workers": 10,
                  "KRING_EVENT_DELIVERY_LIMIT": 5}
        ledger = ServiceContainer(consumer, config)
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

        cpu_before = _cpu_seconds()
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
        cpu = _cpu_seconds() - cpu_before
        members.stop()
        ledger.stop()
        writer_engine.dispose()
    return {"consumer": consumer.__name__, "events": events, "writers": writers,
            "delivered": len(arrivals), "msgs_per_s": len(arrivals) / elapsed, "write_phase_s": written - started,
            "writes_per_s": events / (written - started), "cpu_ms_per_event": 1000 * cpu / events,
            **summary_ms(list(arrivals))}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def kombu_baseline(events: int, batch: int = 500) -> dict:
    latencies: list[float] = []
    done = [0.0]
    with vhost() as amqp_uri:
        queue = event_queue("bench", "baseline.sent", "bench", "consume")
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
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        for first in range(0, events, batch):
            publisher.publish(OutgoingMessage("bench.events", "baseline.sent", {"i": i, "t": time.time()}, {})
                              for i in range(first, min(events, first + batch)))
        consumer.wait()
        cpu = _cpu_seconds() - cpu_before
        publisher.close()
    return {"events": events, "delivered": len(latencies), "msgs_per_s": len(latencies) / (done[0] - started),
            "cpu_ms_per_event": 1000 * cpu / events, **summary_ms(latencies)}


def run(events: int, writers: int) -> list[Figure]:
    baseline = kombu_baseline(events)
    kring = kring_path(events, writers, BatchBenchLedger)
    one_by_one = kring_path(events, writers, BenchLedger)
    ratio = kring["msgs_per_s"] / baseline["msgs_per_s"]
    return [
        Figure("event path throughput", "msg/s", kring["msgs_per_s"], baseline["msgs_per_s"],
               "raw kombu confirmed+pipelined → consume", "≥ 50% of baseline", ratio >= 0.5,
               {"kring": kring, "kring_one_by_one": one_by_one, "baseline": baseline}),
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
