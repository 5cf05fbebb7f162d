"""Benchmark 2, fan-out: outputs shared to a 1,000-network federation, through the whole stack (``kring run``).

The federation: one national network with 1,000 networks under it (10 regional, 990 local under those),
made through the admin API. The hierarchy's links are the federation service's own ``parent_child`` links,
made ``active`` from each network's parent (no requests to accept), and an output of visibility
``federation`` travels every active hop, so one output of the national network has exactly 1,000 networks in
its audience: 1,000 feed deliveries, each a ``shared`` log entry and a delivery record, in one transaction.

Each output takes the real path: ``POST /v1/sessions/{id}/outputs`` on the gateway → sessions service (output
and ``output.published`` in its outbox) → relay → RabbitMQ → federation service (audience, feeds, log).

Measured per output, from its ``published_at`` (written by the sessions service when the output is shared;
the admin API call returns just after) until all 1,000 of its deliveries are visible in
``federation.deliveries``. The service writes them in one transaction, so they become visible at its commit;
the benchmark polls the table every ``POLL_S`` (the commit time is known to within that, late; PostgreSQL keeps no
commit timestamps unless ``track_commit_timestamp`` is on). The rows' own ``delivered_at`` is the time the
handler took up the output (it stamps every delivery of one share with that time), so
``delivered_at - published_at`` is the event path (outbox, relay, broker) and ``visible - delivered_at`` the
fan-out itself. Outputs are shared one after another (each waits for the previous to arrive), then as a
burst of concurrent shares. A control output, from another national network with one network under it,
measures the same path with one delivery.

Figures: p50 and p99 share-to-all-feeds lag (target ≤ 2,000 ms p99), and feed deliveries per second over the
burst (1,000 times outputs / first share to last arrival).

Baseline, in the same run and the same database: the floor for writing the same deliveries. Scratch copies of
the federation service's ``feed_log`` and ``deliveries`` tables (same columns, keys and indexes, schema
``bench_floor``) get, per output, the same 1,000 log entries and 1,000 delivery records carrying their
positions, in one transaction, writers taking turns on an advisory lock as the service's do; as one set-based
statement (the networks as an array, ``INSERT … SELECT FROM unnest(…)`` into the log, its ``RETURNING`` into
the delivery records), the cheapest way to write those rows. The floor repeats the run's pattern: as many
outputs one after another, then a burst of as many writers at once (each timed from the common start to its
commit). Nothing else: no HTTP, no events, no audience. Its percentiles are the baseline of the lag figures,
its burst rate that of deliveries per second. The details also give the client-side variant (a multi-row
``INSERT … RETURNING`` of the log entries, then an ``executemany`` of the delivery records).

Run alone: ``python -m bench.fanout [--networks 1000 --outputs 10 --burst 10]``; prints the figures as JSON
on the last line. ``--profile FILE`` records the federation process with py-spy (``pip install py-spy``; not a
dependency of Kring) while the outputs are shared: a flame graph (``.svg``), speedscope (``.json``) or collapsed
stacks (``.txt``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy
import sqlalchemy.exc
from sqlalchemy import MetaData, bindparam, insert, text

from bench.common import Figure, log, ok, percentile, summary_ms
from bench.stack import BenchStack, running_stack
from services.federation import models as federation_models

POLL_S = 0.01  # how often the arrival poller looks at federation.deliveries
TARGET_MS = 2000.0
ARRIVAL_TIMEOUT_S = 120.0


# --- the federation --------------------------------------------------------------------------------------------


def create_network(client: httpx.Client, name: str, level: str, parent_id: str | None = None) -> str:
    body = {"name": name, "level": level, "kind": "werkplaats", "theme": "zorg en welzijn", "region": "Utrecht",
            "host_organisation": "Movisie", **({"parent_id": parent_id} if parent_id else {})}
    for attempt in range(5):
        response = client.post("/v1/networks", json=body)
        if response.status_code == 201:
            return response.json()["id"]
        if response.status_code < 500 or attempt == 4:
            ok(response, 201)
        time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def build_federation(stack: BenchStack, receivers: int, workers: int) -> dict:
    """A national network with ``receivers`` networks under it (regional, then local under those), and a
    control: another national network with one regional network under it. Returns their ids."""
    regional_count = max(1, min(10, receivers // 10))
    local_count = receivers - regional_count
    started = time.perf_counter()
    with stack.client() as op:
        root = create_network(op, "Kring Nationaal (fan-out)", "national")
        control = create_network(op, "Kring Controle (fan-out)", "national")
        control_child = create_network(op, "Controle regio", "regional", control)
        with ThreadPoolExecutor(workers) as pool:
            regionals = list(pool.map(lambda i: create_network(op, f"Werkplaats regio {i}", "regional", root),
                                      range(regional_count)))
            locals_ = list(pool.map(
                lambda i: create_network(op, f"Lokaal netwerk {i}", "local", regionals[i % regional_count]),
                range(local_count)))
    log(f"{2 + receivers + 1} networks created in {time.perf_counter() - started:.1f} s")
    return {"root": root, "control": control, "control_child": control_child,
            "receivers": [*regionals, *locals_], "created_s": time.perf_counter() - started}


def wait_for_links(engine: sqlalchemy.Engine, expected: int, timeout: float = 180) -> float:
    """Until the federation service has made every hierarchy link (from the network.created events)."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            active = conn.execute(text("SELECT count(*) FROM federation.links WHERE status = 'active'")).scalar()
        if active >= expected:
            return time.perf_counter() - started
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {active} of {expected} hierarchy links after {timeout:g} s")
        time.sleep(0.2)


def author_and_session(client: httpx.Client, network_id: str) -> tuple[str, str]:
    """A member of the network (the outputs' author) and a held session of it."""
    member = ok(client.post("/v1/members", json={"name": "Fenna Fan-out", "perspectives": ["practitioner"],
                                                 "email": f"fenna.{network_id}@example.org"}), 201)["id"]
    ok(client.put(f"/v1/networks/{network_id}/members/{member}", json={"role": "coordinator"}))
    now = datetime.now(UTC)
    session = ok(client.post(f"/v1/networks/{network_id}/sessions", json={
        "title": "Leersessie", "format": "learning_session", "mode": "in_person", "location": "Buurthuis",
        "starts_at": (now - timedelta(hours=3)).isoformat(), "ends_at": (now - timedelta(hours=1)).isoformat()}),
        201)["id"]
    ok(client.post(f"/v1/sessions/{session}/hold"))
    return member, session


# --- arrivals --------------------------------------------------------------------------------------------------


class Arrivals:
    """Polls federation.deliveries: when every expected delivery of an output is visible, notes the time."""

    def __init__(self, engine: sqlalchemy.Engine) -> None:
        self.engine = engine
        self.expected: dict[str, int] = {}
        self.visible_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="arrivals", daemon=True)
        self._query = text("SELECT output_id, count(*) FROM federation.deliveries WHERE output_id IN :ids "
                           "GROUP BY output_id").bindparams(bindparam("ids", expanding=True))

    def __enter__(self) -> Arrivals:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def expect(self, output_id: str, count: int) -> None:
        with self._lock:
            self.expected[output_id] = count

    def wait(self, output_ids: list[str], timeout: float = ARRIVAL_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not all(o in self.visible_at for o in output_ids):
            if time.monotonic() > deadline:
                missing = [o for o in output_ids if o not in self.visible_at]
                raise RuntimeError(f"{len(missing)} outputs did not reach every feed within {timeout:g} s")
            time.sleep(POLL_S)

    def _run(self) -> None:
        """Each poll's start time is noted for the outputs it finds complete: the commit came before the poll's
        snapshot, and after the previous poll's, so the time is late by at most one poll interval."""
        while not self._stop.is_set():
            try:
                with self.engine.connect() as conn:
                    while not self._stop.is_set():
                        with self._lock:
                            pending = [o for o in self.expected if o not in self.visible_at]
                        if pending:
                            polled = time.time()
                            rows = conn.execute(self._query, {"ids": pending}).all()
                            conn.commit()
                            with self._lock:
                                for output_id, count in rows:
                                    if count >= self.expected[output_id]:
                                        self.visible_at[output_id] = polled
                        self._stop.wait(POLL_S)
            except sqlalchemy.exc.SQLAlchemyError as exc:  # a dropped connection: poll again on a new one
                log(f"arrival poll failed ({exc.__class__.__name__}); polling on")
                self._stop.wait(POLL_S)


def handler_started(engine: sqlalchemy.Engine, output_ids: list[str]) -> dict[str, float]:
    """The deliveries' own ``delivered_at``: when the federation service took up each output."""
    query = text("SELECT output_id, min(delivered_at), max(delivered_at) FROM federation.deliveries "
                 "WHERE output_id IN :ids GROUP BY output_id").bindparams(bindparam("ids", expanding=True))
    with engine.connect() as conn:
        rows = conn.execute(query, {"ids": output_ids}).all()
    return {row[0]: _epoch(row[1]) for row in rows}


def _epoch(value: datetime | str) -> float:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def share(client: httpx.Client, session: str, author: str, title: str) -> dict:
    called = time.time()
    output = ok(client.post(f"/v1/sessions/{session}/outputs", json={
        "kind": "lesson", "title": title, "body": "Wat we leerden over samenwerken met bewoners.",
        "authors": [author], "themes": ["eenzaamheid"], "visibility": "federation"}), 201)
    return {"output_id": output["id"], "called": called, "returned": time.time(),
            "published": _epoch(output["published_at"])}


def measure(stack: BenchStack, engine: sqlalchemy.Engine, federation: dict, receivers: int, outputs: int,
            burst: int) -> dict:
    with stack.client() as op:
        author, session = author_and_session(op, federation["root"])
        control_author, control_session = author_and_session(op, federation["control"])
    shared: dict[str, list[dict]] = {"sequential": [], "burst": [], "control": []}
    with Arrivals(engine) as arrivals, stack.client() as op:
        def one(phase: str, i: int, session_id: str, who: str, audience: int) -> dict:
            done = share(op, session_id, who, f"Les {phase} {i}")
            arrivals.expect(done["output_id"], audience)
            return done

        # Warm-up (not counted): the first share pays for connections and caches along the path.
        warm = one("warm-up", 0, session, author, receivers)
        arrivals.wait([warm["output_id"]])
        for i in range(outputs):
            control = one("control", i, control_session, control_author, 1)
            arrivals.wait([control["output_id"]])
            shared["control"].append(control)
            done = one("sequential", i, session, author, receivers)
            arrivals.wait([done["output_id"]])
            shared["sequential"].append(done)
        if burst:
            start = threading.Barrier(burst)

            def burst_share(i: int) -> dict:
                start.wait()
                return one("burst", i, session, author, receivers)

            with ThreadPoolExecutor(burst) as pool:
                shared["burst"] = list(pool.map(burst_share, range(burst)))
            arrivals.wait([s["output_id"] for s in shared["burst"]])
        visible = dict(arrivals.visible_at)
    started = handler_started(engine, [s["output_id"] for phase in shared.values() for s in phase])
    for phase in shared.values():
        for s in phase:
            s["visible"] = visible[s["output_id"]]
            s["handler_started"] = started[s["output_id"]]
    return shared


def phase_summary(shares: list[dict], deliveries: int) -> dict:
    if not shares:
        return {}
    lag = [s["visible"] - s["published"] for s in shares]
    path = [s["handler_started"] - s["published"] for s in shares]
    fan = [s["visible"] - s["handler_started"] for s in shares]
    from_return = [s["visible"] - s["returned"] for s in shares]
    first = min(s["called"] for s in shares)
    last = max(s["visible"] for s in shares)
    return {"outputs": len(shares), "deliveries_per_output": deliveries,
            "lag_ms": summary_ms(lag), "lag_from_api_return_ms": summary_ms(from_return),
            "event_path_ms": summary_ms(path), "fan_out_ms": summary_ms(fan),
            "max_ms": max(lag) * 1000, "span_s": last - first,
            "deliveries_per_s": len(shares) * deliveries / (last - first),
            "fan_out_deliveries_per_s": deliveries / percentile(fan, 50) if percentile(fan, 50) > 0 else None}


# --- the floor ---------------------------------------------------------------------------------------------------

FLOOR_LOCK = 0x464C4F4F52  # "FLOOR": the floor's writers take turns as the service's do, on a lock of their own

SET_BASED = text("""
WITH logged AS (
    INSERT INTO bench_floor.feed_log (network_id, output_id, kind, backfill, at)
    SELECT given.network_id, :output_id, 'shared', false, :at
    FROM unnest(CAST(:network_ids AS varchar[])) WITH ORDINALITY AS given(network_id, ordinal)
    ORDER BY given.ordinal
    RETURNING position, network_id)
INSERT INTO bench_floor.deliveries (output_id, network_id, position, delivered_at, backfill)
SELECT :output_id, network_id, position, :at, false FROM logged
""")


class Floor:
    """The same 1,000 log entries and delivery records per output, written straight into scratch copies of
    the federation service's tables (same columns, keys, indexes) in the same database, one transaction per
    output, writers taking turns on an advisory lock as the service's do. Nothing else: no HTTP, no events,
    no audience."""

    def __init__(self, database_url: str, receivers: list[str], writers: int) -> None:
        self.engine = sqlalchemy.create_engine(database_url, pool_size=writers + 1)
        self.receivers = receivers
        scratch = MetaData(schema="bench_floor")
        self.feed_log = federation_models.feed_log.to_metadata(scratch)
        self.deliveries = federation_models.deliveries.to_metadata(scratch)
        with self.engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA IF NOT EXISTS bench_floor"))
        scratch.create_all(self.engine)
        self._log_insert = insert(self.feed_log).returning(self.feed_log.c.position, sort_by_parameter_order=True)

    def close(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA bench_floor CASCADE"))
        self.engine.dispose()

    def set_based(self, output_id: str) -> None:
        """One statement: the networks as an array, the server writes the rows (what the service does on
        PostgreSQL)."""
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FLOOR_LOCK})
            conn.execute(SET_BASED, {"output_id": output_id, "at": datetime.now(UTC), "network_ids": self.receivers})

    def executemany(self, output_id: str) -> None:
        """Rows sent from the client: a multi-row INSERT … RETURNING of the log entries, then an executemany of
        the delivery records (SQLAlchemy's insertmanyvalues)."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FLOOR_LOCK})
            positions = conn.execute(self._log_insert, [
                {"network_id": n, "output_id": output_id, "kind": "shared", "backfill": False, "at": now}
                for n in self.receivers]).scalars().all()
            conn.execute(insert(self.deliveries), [
                {"output_id": output_id, "network_id": n, "position": p, "delivered_at": now, "backfill": False}
                for n, p in zip(self.receivers, positions, strict=True)])

    def sequential(self, write: Callable[[str], None], repeats: int, tag: str) -> list[float]:
        write(f"{tag}-warm-up")
        durations = []
        for i in range(repeats):
            started = time.perf_counter()
            write(f"{tag}-{i}")
            durations.append(time.perf_counter() - started)
        return durations

    def burst(self, write: Callable[[str], None], size: int, tag: str) -> tuple[list[float], float]:
        """``size`` writers at once; each one's time from the common start to its commit, and the span."""
        gate = threading.Barrier(size + 1)

        def one(i: int) -> float:
            gate.wait()
            write(f"{tag}-burst-{i}")
            return time.perf_counter()

        with ThreadPoolExecutor(size) as pool:
            done = [pool.submit(one, i) for i in range(size)]
            gate.wait()
            started = time.perf_counter()
            finished = [f.result() for f in done]
        return [f - started for f in finished], max(finished) - started


def floor_baseline(database_url: str, receivers: list[str], outputs: int, burst: int) -> dict:
    floor = Floor(database_url, receivers, max(1, burst))
    try:
        sequential = floor.sequential(floor.set_based, outputs, "set")
        burst_lags, burst_span = floor.burst(floor.set_based, burst, "set") if burst else ([], 0.0)
        client_side = floor.sequential(floor.executemany, outputs, "many")
    finally:
        floor.close()
    lags = sequential + burst_lags
    per_output = len(receivers)
    return {"method": "set-based INSERT … SELECT FROM unnest(array) (what the service does on PostgreSQL)",
            "deliveries_per_transaction": per_output, **summary_ms(lags),
            "sequential_ms": summary_ms(sequential), "burst_ms": summary_ms(burst_lags) if burst else None,
            "deliveries_per_s": (burst * per_output / burst_span) if burst
            else per_output / statistics.fmean(sequential),
            "executemany_sequential_ms": summary_ms(client_side),
            "executemany_deliveries_per_s": per_output / statistics.fmean(client_side)}


# --- the run ---------------------------------------------------------------------------------------------------


LIMITS = (
    "What limits it (py-spy of the federation process during the shares, `--profile`): per share the handler "
    "reads every active link (here 1,001 rows, 2,002 hops) to compute the audience, the largest part (about 40% "
    "of the share handler's samples); the 1,000 log entries and delivery records are one set-based statement "
    "(about a fifth); the rest is the unit of work (processed-event record, the output's row, commit) and waiting "
    "on PostgreSQL. In a burst the shares take turns on the feed-log advisory lock (positions must become visible "
    "in commit order), so the last of a burst waits for the ones before it, and the burst's handlers share one "
    "eventlet process (one core), which stretches the event path (published → handler) as well. What would lift "
    "it: an audience graph kept in the process and refreshed only when a link changes (a links revision bumped "
    "with every link change), instead of reading every active link per share; and, for bursts, computing "
    "audiences outside the lock in more federation processes, since only the log write itself (the floor's "
    "sequential time for 1,000 rows) must be serialised.")


LEGEND = {
    "lag_ms": "the output's published_at (sessions service) → all its deliveries visible in federation.deliveries "
              f"(polled every {POLL_S * 1000:g} ms)",
    "lag_from_api_return_ms": "the admin API call returning → all deliveries visible",
    "event_path_ms": "published_at → the deliveries' delivered_at (the federation handler taking the output up): "
                     "sessions outbox, relay, RabbitMQ, consumer",
    "fan_out_ms": "delivered_at → all deliveries visible: audience, log entries and delivery records, commit",
    "deliveries_per_s": "outputs times deliveries per output / first share to last arrival",
}


def note(met: bool, p99_ms: float, fanout: dict) -> str:
    def part(phase: str) -> str:
        summary = fanout[phase]
        if not summary:
            return f"{phase}: none"
        return (f"{phase}: lag p50 {summary['lag_ms']['p50_ms']:,.0f} ms = event path "
                f"{summary['event_path_ms']['p50_ms']:,.0f} ms + fan-out {summary['fan_out_ms']['p50_ms']:,.0f} ms")
    verdict = "Met" if met else "Missed"
    return (f"{verdict}: p99 {p99_ms:,.0f} ms against {TARGET_MS:,.0f} ms. {part('sequential')}; {part('burst')}; "
            f"{part('control_one_delivery')}. {LIMITS}")


def profiler(stack: BenchStack, output: str | None) -> subprocess.Popen | None:
    """``py-spy record`` of the federation process while outputs are shared (``--profile``), if installed."""
    if not output:
        return None
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if py_spy is None:
        log("--profile: py-spy is not installed (pip install py-spy); not profiling")
        return None
    fmt = "speedscope" if output.endswith(".json") else "raw" if output.endswith(".txt") else "flamegraph"
    argv = [py_spy, "record", "--pid", str(stack.pids()["federation"]), "--output", output, "--format", fmt,
            "--rate", "200", "--nonblocking"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=sys.stderr)


def stop_profiler(process: subprocess.Popen | None) -> None:
    if process is not None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def run(receivers: int, outputs: int, burst: int, workers: int, profile: str | None = None) -> list[Figure]:
    env = {"KRING_ADMIN_RATE": "0"}
    with running_stack(env=env) as stack:
        engine = sqlalchemy.create_engine(stack.database_url, pool_size=4)
        try:
            federation = build_federation(stack, receivers, workers)
            links_s = wait_for_links(engine, receivers + 1)
            log(f"hierarchy links active {links_s:.1f} s after the last network was created")
            recording = profiler(stack, profile)
            try:
                shared = measure(stack, engine, federation, receivers, outputs, burst)
            finally:
                stop_profiler(recording)
            floor = floor_baseline(stack.database_url, federation["receivers"], outputs, burst)
        finally:
            engine.dispose()
    every = shared["sequential"] + shared["burst"]
    lags = [s["visible"] - s["published"] for s in every]
    fanout = {"all": phase_summary(every, receivers), "sequential": phase_summary(shared["sequential"], receivers),
              "burst": phase_summary(shared["burst"], receivers),
              "control_one_delivery": phase_summary(shared["control"], 1)}
    p99, p50 = percentile(lags, 99) * 1000, percentile(lags, 50) * 1000
    met = p99 <= TARGET_MS
    details = {"networks": {"receiving": receivers, "total": receivers + 3, "structure":
                            "1 national → 10 regional → local (round-robin); parent_child links; visibility "
                            "federation", "create_s": federation["created_s"]},
               "fanout": fanout, "floor": floor, "poll_interval_ms": POLL_S * 1000,
               "legend": LEGEND,
               "note": note(met, p99, fanout)}
    deliveries_per_s = fanout["burst"].get("deliveries_per_s") or fanout["sequential"]["deliveries_per_s"]
    baseline_name = f"floor: the {receivers:,} deliveries' rows written directly, same DB, same pattern"
    return [
        Figure(f"fan-out p99 share → all {receivers:,} feeds", "ms", p99, floor["p99_ms"], baseline_name,
               f"≤ {TARGET_MS:,.0f} ms p99", met, details),
        Figure(f"fan-out p50 share → all {receivers:,} feeds", "ms", p50, floor["p50_ms"], baseline_name),
        Figure("fan-out feed deliveries", "deliveries/s", deliveries_per_s, floor["deliveries_per_s"], baseline_name,
               details={"measured_over": "the burst: outputs times receivers / first share to last arrival"}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", type=int, default=1000, help="networks in the audience of each output")
    parser.add_argument("--outputs", type=int, default=10, help="outputs shared one after another")
    parser.add_argument("--burst", type=int, default=10, help="outputs then shared at once")
    parser.add_argument("--workers", type=int, default=8, help="concurrent admin API calls building the federation")
    parser.add_argument("--profile", metavar="FILE", help="record the federation process with py-spy while "
                        "outputs are shared: .svg flame graph, .json speedscope, .txt collapsed stacks")
    args, _ = parser.parse_known_args()
    started = time.perf_counter()
    figures = run(args.networks, args.outputs, args.burst, args.workers, args.profile)
    log(f"done in {time.perf_counter() - started:.0f} s")
    print(json.dumps([asdict(f) for f in figures]))


if __name__ == "__main__":
    main()
