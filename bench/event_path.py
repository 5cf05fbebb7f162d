"""Benchmark 1, the event path: outbox write → relay → idempotent consumer, against a raw kombu publish
(persistent, confirmed, pipelined) → consume baseline on the same broker, same queue type, same run.

Run alone: ``python -m bench.event_path [--events N] [--writers W]``; prints the figures as JSON on the last
line.

What is measured, and how the two sides are kept comparable:

- **Producers and consumers in separate processes**, as in production: for Kring, one process runs the
  writers and the members service (whose outbox relay publishes what they commit), another the consuming
  service (a nameko container); for the baseline, one process publishes and another consumes. Each side thus
  has what a deployment gives it: a process (and here a core) of its own. Both consume a durable quorum queue
  declared by ``event_queue`` (delivery limit, dead-letter exchange), on a fresh vhost; Kring also gets a
  fresh PostgreSQL database. This module starts the processes (``--role``) and reads their reports.
- **Throughput window.** From the first write (Kring: the first outbox transaction begins; baseline: the
  first publish) to the last event applied (Kring: the commit of the transaction holding its marker and
  effect; baseline: its ack), by the wall clock both processes share. ``msgs_per_s`` = events applied / that
  window, so the producer's side counts: the window cannot end before the last write. ``writes_per_s``
  (events / time the writers took) is the ceiling of Kring's figure.
- **Writers.** ``--writers`` green threads (default 8), each committing one event per transaction (an
  outbox row through ``MembersUnitOfWork``, as a command handler does), with PostgreSQL's default
  durability (``synchronous_commit`` on). The relay publishes what is waiting as one pipelined batch with
  publisher confirms and marks it sent in one transaction. The baseline publishes pipelined batches of 500
  with confirms; it has no database.
- **The writers alone** (the commands' ceiling): the same writers, committing the same events through the same
  ``MembersUnitOfWork`` in the same process layout, on a fresh database, with no relay and no consumer; timed
  from the first write to the last commit. The end-to-end figure cannot exceed the rate at which commands
  commit, one durable transaction each, and the baseline has no database: so this figure is reported beside
  it, and the end-to-end figure's ``details.of_writers_alone`` says how much of the commands' own rate the
  event path keeps.
- **Latency.** Kring: from the envelope's ``occurred_at`` (made before the writer's commit) to the commit
  that applied the event; baseline: from the publisher's timestamp in the body to the consumer's callback.
- **The consumer.** The headline figure is the batching handler (``batch_event_handler``: the deliveries
  waiting in the queue applied in one transaction, settled one by one after its commit), which every
  service's consumers use. The one-by-one handler (``event_handler`` + ``apply_once``: a worker and a
  transaction per event) is measured in the same run and reported under ``details.kring_one_by_one``. The
  effect is the same for both: one insert, plus the processed-event marker.
- ``cpu_ms_per_event`` (each process's CPU time over the run / events) is steadier than the rates on a
  shared machine; the broker and PostgreSQL run beside them and are not in it. ``machine_busy``: how busy the
  whole machine was in the throughput window (:class:`bench.common.MachineLoad`), broker and database included.
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
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import kombu  # noqa: E402
import sqlalchemy  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from sqlalchemy import Column, MetaData, String, Table, insert  # noqa: E402

from bench.common import Figure, MachineLoad, busy_text, database, log, summary_ms, vhost  # noqa: E402
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
from services.common.uow import SqlUnitOfWork  # noqa: E402
from services.members.service import MembersService  # noqa: E402
from services.members.unit_of_work import MembersUnitOfWork  # noqa: E402

metadata = MetaData()
applied = Table("applied", metadata, Column("event_id", String(36), primary_key=True))
ledger_tables = messaging_tables(metadata)
arrivals: list[float] = []  # seconds from occurred_at to applied, per event
last_arrival = [0.0]  # wall clock (time.time) of the last commit that applied events
TIMEOUT_S = 300.0
REPLICAS = 2  # of each service, as deploy/k8s/base/autoscalers.yaml's minReplicas
BASELINE_QUEUE = ("bench", "baseline.sent", "bench", "consume")


class LedgerUnitOfWork(SqlUnitOfWork):
    """Records each event's latency when the transaction that applied it commits, not before."""

    outbox = ledger_tables.outbox
    processed = ledger_tables.processed_events
    commands = ledger_tables.processed_commands

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
        last_arrival[0] = time.time()

    def rollback(self) -> None:
        super().rollback()
        self.applied_here = []


class BenchLedger:
    """The one-by-one consumer (``event_handler``): one worker and one transaction per event."""

    name = "bench_ledger"
    uow = ServiceDatabase(LedgerUnitOfWork)

    @event_handler("members", "member.registered")
    def on_member_registered(self, envelope: Envelope, payload: MemberRegistered, uow: LedgerUnitOfWork) -> None:
        uow.apply(envelope)


class BatchBenchLedger:
    """The same effect behind the batching handler: the deliveries waiting in the queue in one transaction."""

    name = "bench_ledger"
    uow = ServiceDatabase(LedgerUnitOfWork)

    @batch_event_handler("members", "member.registered")
    def on_member_registered(self, envelope: Envelope, payload: MemberRegistered, uow: LedgerUnitOfWork) -> None:
        uow.apply(envelope)


CONSUMERS = {"batch": BatchBenchLedger, "one_by_one": BenchLedger}


def payload(i: int) -> MemberRegistered:
    return MemberRegistered(member_id=str(uuid.uuid4()), revision=1, name=f"Bench {i}", email=f"b{i}@example.org",
                            organisation=None, perspectives=["resident"], expertise=[], findable_by_expertise=False,
                            named_in_shared_outputs=False)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _config(amqp_uri: str, db_url: str) -> dict:
    return {"AMQP_URI": amqp_uri, "DATABASE_URL": db_url, "serializer": "json", "max_workers": 10,
            "KRING_EVENT_DELIVERY_LIMIT": 5}


def _ready() -> None:
    print("ready", flush=True)


# --- the roles, each in a process of its own ----------------------------------------------------------------


def kring_consumer(amqp_uri: str, db_url: str, events: int, consumer: str) -> dict:
    """One replica of the consuming service: applies what it is delivered until every replica together applied
    ``events`` (counted in the database they share)."""
    container = ServiceContainer(CONSUMERS[consumer], _config(amqp_uri, db_url))
    container.start()
    counting = create_service_engine(db_url, "bench_ledger", pool_size=1)
    _ready()
    cpu_before = _cpu_seconds()
    deadline = time.monotonic() + TIMEOUT_S
    with counting.connect() as conn:
        while time.monotonic() < deadline:
            total = conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(applied)).scalar_one()
            conn.rollback()
            if total >= events:
                break
            eventlet.sleep(0.05)
    cpu = _cpu_seconds() - cpu_before
    container.stop()
    counting.dispose()
    return {"delivered": len(arrivals), "last_applied": last_arrival[0], "cpu_s": cpu,
            "arrivals": [round(a, 5) for a in arrivals]}


def kring_producer(amqp_uri: str, db_url: str, events: int, writers: int, prefilled: bool, relay_on: bool,
                   share: range) -> dict:
    """One replica of the producing service: writers commit one event per transaction (the events of ``share``)
    while the members service's relay publishes them; or, with ``prefilled``, the writers fill the outbox first
    (untimed) and the window starts when the service (and its relay) starts: the event path alone, draining a
    backlog, without the commands' own commits. Without ``relay_on``, the writers alone: the service is never
    started, and the window ends at the last commit. Every replica starts its window when the benchmark says go
    (a line on stdin), so that replicas started one after another begin together."""
    members = ServiceContainer(MembersService, _config(amqp_uri, db_url))
    relay = next(d for d in members.dependencies if isinstance(d, ServiceDatabase))
    writer_engine = create_service_engine(db_url, "members")
    wake: list[Callable[[], None]] = []

    def write(share: range) -> None:
        for i in share:
            with MembersUnitOfWork(writer_engine, producer="members",
                                   on_commit=lambda: [w() for w in wake]) as uow:
                uow.add_event(payload(i))
                uow.commit()

    def write_all() -> None:
        pool = eventlet.GreenPool(writers)
        for w in range(writers):
            pool.spawn(write, share[w::writers])
        pool.waitall()

    _ready()
    sys.stdin.readline()  # go
    cpu_before = _cpu_seconds()
    if not relay_on:
        started = time.time()
        write_all()
        written = time.time()
        cpu = _cpu_seconds() - cpu_before
        writer_engine.dispose()
        return {"started": started, "write_phase_s": written - started, "cpu_s": cpu}
    if prefilled:
        write_all()
        cpu_before = _cpu_seconds()
        started = time.time()
        members.start()
        written = started
    else:
        members.start()
        wake.append(relay._wake.set)
        started = time.time()
        write_all()
        written = time.time()
    outbox = relay.uow_class.outbox
    deadline = time.monotonic() + TIMEOUT_S
    with writer_engine.connect() as conn:
        while time.monotonic() < deadline and conn.execute(
                sqlalchemy.select(sqlalchemy.func.count()).where(outbox.c.published_at.is_(None))).scalar():
            conn.rollback()
            eventlet.sleep(0.02)
    relayed = time.time()
    cpu = _cpu_seconds() - cpu_before
    members.stop()
    writer_engine.dispose()
    return {"started": started, "write_phase_s": written - started, "relayed_s": relayed - started, "cpu_s": cpu}


def baseline_consumer(amqp_uri: str, events: int) -> dict:
    latencies: list[float] = []
    done = [0.0]
    queue = event_queue(*BASELINE_QUEUE)
    with kombu.Connection(amqp_uri) as conn:
        def on_message(body: dict, message: kombu.Message) -> None:
            latencies.append(time.time() - body["t"])
            message.ack()
            done[0] = time.time()

        with conn.Consumer(queue, callbacks=[on_message], prefetch_count=100, accept=["json"]):
            _ready()
            cpu_before = _cpu_seconds()
            deadline = time.monotonic() + TIMEOUT_S
            while len(latencies) < events and time.monotonic() < deadline:
                try:
                    conn.drain_events(timeout=1)
                except TimeoutError:
                    continue
            cpu = _cpu_seconds() - cpu_before
    return {"delivered": len(latencies), "last_applied": done[0], "cpu_s": cpu, **summary_ms(latencies)}


def baseline_producer(amqp_uri: str, events: int, batch: int = 500) -> dict:
    publisher = ConfirmingPublisher(amqp_uri)
    publisher.declare_exchange("bench.events")
    _ready()
    sys.stdin.readline()  # go
    cpu_before = _cpu_seconds()
    started = time.time()
    for first in range(0, events, batch):
        publisher.publish(OutgoingMessage("bench.events", "baseline.sent", {"i": i, "t": time.time()}, {})
                          for i in range(first, min(events, first + batch)))
    published = time.time()
    cpu = _cpu_seconds() - cpu_before
    publisher.close()
    return {"started": started, "write_phase_s": published - started, "cpu_s": cpu}


def role(args: argparse.Namespace) -> dict:
    if args.role == "kring-consumer":
        return kring_consumer(args.amqp, args.db, args.events, args.consumer)
    if args.role == "kring-producer":
        share = range(args.replica, args.events, args.replicas)
        return kring_producer(args.amqp, args.db, args.events, args.writers, args.prefilled, not args.no_relay, share)
    if args.role == "baseline-consumer":
        return baseline_consumer(args.amqp, args.events)
    return baseline_producer(args.amqp, args.events)


# --- the orchestration: two processes per side, their reports combined ------------------------------------------


class Side:
    """A role running in a child process: started, waited for its ``ready``, then for its report."""

    def __init__(self, name: str, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bench.event_path", "--role", name, *args],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "ready":
            self.process.kill()
            raise RuntimeError(f"{name} did not start (said {line!r})")

    def go(self) -> None:
        """A producer waits for this before it starts its window."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def report(self) -> dict:
        out, _ = self.process.communicate(timeout=TIMEOUT_S + 60)
        if self.process.returncode != 0:
            raise RuntimeError(f"a benchmark process failed ({self.process.returncode})")
        result: dict = json.loads(out.strip().splitlines()[-1])
        return result


def combine(events: int, producers: list[dict], consumers: list[dict], machine: MachineLoad) -> dict:
    """The reports of every producing and consuming process as one side's figures: the window from the first
    write to the last event applied, CPU summed over the replicas, how busy the machine was in that window."""
    started = min(p["started"] for p in producers)
    finished = max(c["last_applied"] for c in consumers)
    window = finished - started
    write_phase_s = max(p["started"] + p["write_phase_s"] for p in producers) - started
    delivered = sum(c["delivered"] for c in consumers)
    latencies = [a for c in consumers for a in c.get("arrivals", [])]
    # Kring's consumers report every latency (replicas' lists are merged); the baseline's consumer its summary.
    latency = summary_ms(latencies) if latencies else {k: consumers[0][k] for k in ("p50_ms", "p99_ms", "mean_ms")}
    combined = {"events": events, "delivered": delivered, "msgs_per_s": delivered / window,
                "write_phase_s": write_phase_s, "writes_per_s": events / write_phase_s if write_phase_s else None,
                "cpu_ms_per_event_producer": 1000 * sum(p["cpu_s"] for p in producers) / events,
                "cpu_ms_per_event_consumer": 1000 * sum(c["cpu_s"] for c in consumers) / events,
                **latency}
    combined["machine_busy"] = machine.between(started, finished)
    if all("relayed_s" in p for p in producers):
        combined["relayed_s"] = max(p["started"] + p["relayed_s"] for p in producers) - started
    return combined


def kring_path(events: int, writers: int, consumer: str = "batch", prefilled: bool = False,
               relay: bool = True, replicas: int = 1) -> dict:
    """Kring's side; without ``relay``, the writers alone: the producer process commits the events and starts
    neither the members service nor a consumer. ``replicas``: processes of the producing service (each with
    ``writers`` writers and its own relay, sharing the events) and of the consuming one, as a deployment runs
    them (at least 2 each)."""
    with vhost() as amqp_uri, database() as db_url:
        upgrade("members", db_url)
        engine = create_service_engine(db_url, "bench_ledger")
        ensure_schema(engine, "bench_ledger")
        metadata.create_all(engine)
        engine.dispose()
        common = ["--amqp", amqp_uri, "--db", db_url, "--events", str(events)]
        if not relay:
            alone = Side("kring-producer", *common, "--writers", str(writers), "--no-relay")
            alone.go()
            written = alone.report()
            return {"writers": writers, "events": events, "write_phase_s": written["write_phase_s"],
                    "writes_per_s": events / written["write_phase_s"],
                    "cpu_ms_per_event_producer": 1000 * written["cpu_s"] / events}
        consuming = [Side("kring-consumer", *common, "--consumer", consumer) for _ in range(replicas)]
        producing = [Side("kring-producer", *common, "--writers", str(writers), "--replica", str(r),
                          "--replicas", str(replicas), *(["--prefilled"] if prefilled else []))
                     for r in range(replicas)]
        machine = MachineLoad()
        for producer in producing:
            producer.go()
        produced = [producer.report() for producer in producing]
        consumed = [consumer_side.report() for consumer_side in consuming]
        machine.stop()
        return {"consumer": consumer, "writers": writers, "prefilled": prefilled, "replicas": replicas,
                **combine(events, produced, consumed, machine)}


def kombu_baseline(events: int) -> dict:
    with vhost() as amqp_uri:
        with kombu.Connection(amqp_uri) as conn:
            event_queue(*BASELINE_QUEUE)(conn.default_channel).declare()
        common = ["--amqp", amqp_uri, "--events", str(events)]
        consuming = Side("baseline-consumer", *common)
        producing = Side("baseline-producer", *common)
        machine = MachineLoad()
        producing.go()
        produced, consumed = producing.report(), consuming.report()
        machine.stop()
        return combine(events, [produced], [consumed], machine)


def told(side: dict) -> dict:
    """Logs a side's rate and how busy the machine was meanwhile; returns the side."""
    log(f"  {side['msgs_per_s']:,.0f} msg/s; machine busy {busy_text(side)}")
    return side


def run(events: int, writers: int) -> list[Figure]:
    log("event path: raw kombu baseline")
    baseline = told(kombu_baseline(events))
    log("event path: Kring's writers alone, no relay and no consumer (the commands' ceiling)")
    alone = kring_path(events, writers, relay=False)
    log("event path: Kring, writers committing while the relay publishes, batching consumer")
    kring = told(kring_path(events, writers, "batch"))
    log(f"event path: the same with {REPLICAS} replicas of the producing and of the consuming service")
    replicated = told(kring_path(events, writers, "batch", replicas=REPLICAS))
    log("event path: Kring, a written outbox drained, batching consumer")
    drain = told(kring_path(events, writers, "batch", prefilled=True))
    log("event path: Kring, a written outbox drained, one-by-one consumer")
    drain_one_by_one = kring_path(events, writers, "one_by_one", prefilled=True)
    ratio = kring["msgs_per_s"] / baseline["msgs_per_s"]
    replicated_ratio = replicated["msgs_per_s"] / baseline["msgs_per_s"]
    # How much of the commands' own commit rate the event path keeps (1.0: it costs the writers nothing).
    kept = kring["msgs_per_s"] / alone["writes_per_s"]
    drain_ratio = drain["msgs_per_s"] / baseline["msgs_per_s"]
    return [
        Figure("event path throughput", "msg/s", kring["msgs_per_s"], baseline["msgs_per_s"],
               "raw kombu confirmed+pipelined → consume", "≥ 35% of baseline", ratio >= 0.35,
               {"kring": kring, "baseline": baseline, "of_writers_alone": kept,
                "processes": "producer and consumer in separate processes on each side"}),
        Figure(f"event path throughput, {REPLICAS} replicas each side", "msg/s", replicated["msgs_per_s"],
               baseline["msgs_per_s"], "raw kombu confirmed+pipelined → consume", "≥ 35% of baseline",
               replicated_ratio >= 0.35,
               {"kring": replicated, "baseline": baseline,
                "what": f"{REPLICAS} processes of the producing service (each with its writers and its relay) and "
                        f"{REPLICAS} of the consuming one, as a deployment runs them (minReplicas)"}),
        Figure("event path drain (outbox written first)", "msg/s", drain["msgs_per_s"], baseline["msgs_per_s"],
               "raw kombu confirmed+pipelined → consume", "≥ 35% of baseline", drain_ratio >= 0.35,
               {"kring": drain, "kring_one_by_one": drain_one_by_one, "baseline": baseline}),
        Figure("event path: writers alone, no relay (the commands' ceiling)", "msg/s", alone["writes_per_s"],
               baseline["msgs_per_s"], "raw kombu confirmed+pipelined → consume", None, None,
               {"kring": alone, "what": "the same writers and transactions with no relay and no consumer: "
                                        "the end-to-end figure cannot exceed it; the baseline has no database"}),
        Figure("event path p50 latency", "ms", kring["p50_ms"], baseline["p50_ms"], "raw kombu"),
        Figure("event path p99 latency", "ms", kring["p99_ms"], baseline["p99_ms"], "raw kombu"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers committing one event each")
    parser.add_argument("--role", choices=["kring-consumer", "kring-producer", "baseline-consumer",
                                           "baseline-producer"], help=argparse.SUPPRESS)
    parser.add_argument("--amqp", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--prefilled", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-relay", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--consumer", choices=sorted(CONSUMERS), default="batch", help=argparse.SUPPRESS)
    parser.add_argument("--replica", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--replicas", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        print(json.dumps(role(args)), flush=True)
    else:
        print(json.dumps([asdict(f) for f in run(args.events, args.writers)]))


if __name__ == "__main__":
    main()
