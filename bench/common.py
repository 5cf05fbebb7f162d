"""What every benchmark shares: figures, percentiles, throwaway broker and database, and the results file."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
import sqlalchemy

RESULTS = Path(__file__).parent / "results"
MANAGEMENT = os.environ.get("KRING_BENCH_RABBIT_MANAGEMENT", "http://127.0.0.1:15672")
RABBIT = os.environ.get("KRING_BENCH_RABBIT", "guest:guest@127.0.0.1:5672")
POSTGRES = os.environ.get("KRING_BENCH_POSTGRES_URL",
                          os.environ.get("KRING_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"))


@dataclass
class Figure:
    """One measured figure beside its baseline from the same run."""

    name: str
    unit: str
    value: float
    baseline: float | None = None
    baseline_name: str | None = None
    target: str | None = None
    met: bool | None = None
    details: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline if self.baseline else None


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(latencies_s: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(latencies_s, 50) * 1000, "p99_ms": percentile(latencies_s, 99) * 1000,
            "mean_ms": statistics.fmean(latencies_s) * 1000 if latencies_s else float("nan")}


@contextmanager
def vhost(prefix: str = "kring-bench") -> Iterator[str]:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    user = RABBIT.partition("@")[0]
    auth = tuple(user.split(":", 1))
    with httpx.Client(base_url=MANAGEMENT, auth=auth, timeout=10) as api:
        api.put(f"/api/vhosts/{quote(name, safe='')}").raise_for_status()
        api.put(f"/api/permissions/{quote(name, safe='')}/{auth[0]}",
                json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    try:
        yield f"amqp://{RABBIT}/{quote(name, safe='')}"
    finally:
        try:  # a busy broker may answer late: a vhost left behind costs nothing, the figures are measured
            with httpx.Client(base_url=MANAGEMENT, auth=auth, timeout=60) as api:
                api.delete(f"/api/vhosts/{quote(name, safe='')}")
        except httpx.HTTPError as exc:
            log(f"could not delete the virtual host {name}: {exc!r}")


@contextmanager
def database(prefix: str = "kring_bench") -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sqlalchemy.engine.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def save(figures: list[Figure]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    document = {
        "measured_at": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "figures": [{**asdict(f), "ratio": f.ratio} for f in figures],
    }
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(document, indent=2))
    (RESULTS / "latest.json").write_text(json.dumps(document, indent=2))
    return path


def print_table(figures: list[Figure]) -> None:
    print(f"{'figure':<46} {'value':>12} {'baseline':>12} {'ratio':>7}  target")
    for f in figures:
        base = f"{f.baseline:,.1f}" if f.baseline is not None else "-"
        ratio = f"{f.ratio:.2f}" if f.ratio is not None else "-"
        verdict = "" if f.met is None else (" (met)" if f.met else " (MISSED)")
        print(f"{f.name + ' [' + f.unit + ']':<46} {f.value:>12,.1f} {base:>12} {ratio:>7}  {f.target or ''}{verdict}")


class MachineLoad:
    """How busy the whole machine was: every process on it (the stack, PostgreSQL, RabbitMQ and the benchmark's own
    clients), from the kernel's counters (``/proc/stat``), sampled every ``interval`` seconds on a thread of its own
    from creation to :meth:`stop`. Kring's side of a benchmark runs several services, a database and a broker where
    its baseline runs one or two processes: a figure missed with ``busy_cores`` close to ``cores`` was missed because
    the machine had nothing left, not because one part waited on another.

    :meth:`between` gives it for a window inside the sampling (by the wall clock, as the benchmark's processes report
    their windows), so that starting and stopping processes around the window do not thin it out."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self._samples: list[tuple[float, int, int]] = []  # (time.time(), busy ticks, all ticks)
        self._done = threading.Event()
        self._sample()
        self._thread = threading.Thread(target=self._watch, name="machine-load", daemon=True)
        self._thread.start()

    @staticmethod
    def _jiffies() -> tuple[int, int] | None:
        """(busy, total) clock ticks of every core since boot; None where there is no /proc/stat."""
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        except (OSError, ValueError, IndexError):
            return None
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields  # idle and waiting on disk: not busy
        return user + nice + system + irq + softirq + steal, sum(fields)

    def _sample(self) -> None:
        ticks = self._jiffies()
        if ticks is not None:
            self._samples.append((time.time(), *ticks))

    def _watch(self) -> None:
        while not self._done.wait(self.interval):
            self._sample()

    def stop(self) -> dict[str, float]:
        """Busy cores over the whole sampling."""
        self._done.set()
        self._thread.join(1.0)
        self._sample()
        return self._over(self._samples)

    def between(self, start: float, end: float) -> dict[str, float]:
        """Busy cores from ``start`` to ``end`` (``time.time()``), from the last sample before the window to the first
        after it (a window shorter than the interval is measured over the two samples around it); call after
        :meth:`stop`."""
        before = [sample for sample in self._samples if sample[0] <= start][-1:] or self._samples[:1]
        after = [sample for sample in self._samples if sample[0] >= end][:1] or self._samples[-1:]
        return self._over([*before, *after])

    @staticmethod
    def _over(samples: list[tuple[float, int, int]]) -> dict[str, float]:
        if len(samples) < 2 or samples[-1][2] == samples[0][2]:
            return {}
        (first_at, first_busy, first_all), (last_at, last_busy, last_all) = samples[0], samples[-1]
        cores = os.cpu_count() or 1
        busy = (last_busy - first_busy) / (last_all - first_all)
        return {"busy_cores": round(busy * cores, 2), "cores": cores, "seconds": round(last_at - first_at, 2)}


def busy_text(side: dict) -> str:
    """How busy the machine was while ``side`` was measured (its ``machine_busy``), for the progress log."""
    machine = side.get("machine_busy") or {}
    return f"{machine['busy_cores']:.2f} of {machine['cores']} cores" if machine else "(unknown)"


def log(message: str) -> None:
    """Progress on stderr: stdout's last line is the figures' JSON, which ``make bench`` reads."""
    print(message, file=sys.stderr, flush=True)


def ok(response: httpx.Response, *status: int) -> dict:
    """The JSON body of an admin API answer with one of ``status`` (200 when none is given), or a clear error."""
    if response.status_code not in (status or (200,)):
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json()
