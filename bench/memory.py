"""Benchmark 5, memory: the resident memory (VmRSS) of each process of the stack at rest with the demo data,
and its peak under load 3 (the partner API load of :mod:`bench.partner_api` at concurrency 8).

The stack is ``kring run`` with the demo data and ``KRING_PARTNER_RATE=0``. At rest: a few seconds after it
is ready (demo data loaded), the median of several readings per process. Then the partner API world is made
(a partner with a 50-output feed) and ``GetNetwork`` and ``ListOutputs`` are driven at concurrency 8, one
after the other, while every process's RSS is read every 100 ms; the peak is reported, and what stays after.

Baselines, each stated with its figure:

- at rest, per process: an idle bare Python interpreter for the nameko services, the relay and the supervisor
  (what any Python process costs); for the gateway, the bare grpcio server of benchmark 3 at rest (the same
  grpcio server with canned answers), which is what serving gRPC costs before any of Kring's code;
- under load, per process: the same process at rest, so the ratio is how much load 3 adds. The details also
  hold the bare grpcio server's peak under the same load.

Run alone: ``python -m bench.memory [--duration S]`` (seconds of load per method); prints the figures as JSON
on the last line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from bench.bare_grpc import GATEWAY_WORKERS
from bench.common import Figure, log
from bench.partner_api import canned_answers, prepare
from bench.partner_world import baseline_server, calls_for, drive, rss_mib
from bench.stack import running_stack

CONCURRENCY = 8  # load 3 at the concurrency of its target


def at_rest(pids: dict[str, int], readings: int = 5, pause: float = 0.5) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in pids}
    for _ in range(readings):
        for name, pid in pids.items():
            value = rss_mib(pid)
            if value is not None:
                samples[name].append(value)
        time.sleep(pause)
    return {name: statistics.median(values) for name, values in samples.items() if values}


class PeakSampler:
    """Reads every process's RSS every ``interval`` seconds on its own thread; keeps the peak."""

    def __init__(self, pids: dict[str, int], interval: float = 0.1) -> None:
        self.pids = pids
        self.interval = interval
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                value = rss_mib(pid)
                if value is not None and value > self.peak.get(name, 0.0):
                    self.peak[name] = value
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(2)


def bare_python_rss() -> float:
    """An idle interpreter of the same Python, nothing imported."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(1.0)
        return rss_mib(process.pid) or float("nan")
    finally:
        process.kill()
        process.wait(5)


def measure(duration: float, settle: float) -> dict:
    with running_stack(demo=True, env={"KRING_PARTNER_RATE": "0"}) as stack, stack.client() as operator, \
            tempfile.TemporaryDirectory(prefix="kring-bench-") as tmp:
        pids = {**stack.pids(), "supervisor": stack.process.pid}
        time.sleep(settle)
        rest = at_rest(pids)
        log("at rest: " + ", ".join(f"{n} {v:.0f} MiB" for n, v in rest.items()))
        world = prepare(stack, operator)
        calls = calls_for(world)
        canned = Path(tmp) / "canned.bin"
        canned_answers(world, calls, canned)
        load: dict[str, dict] = {}
        with PeakSampler(pids) as sampler:
            for call in calls:
                load[call.name] = drive(world.grpc, call, CONCURRENCY, duration).summary()
        after = at_rest(pids, readings=3)
        log("under load (peak): " + ", ".join(f"{n} {v:.0f} MiB" for n, v in sampler.peak.items()))
        with baseline_server("unary", "--canned", str(canned), "--workers", str(GATEWAY_WORKERS)) as (bare, pid):
            bare_rest = at_rest({"bare": pid}, readings=3)["bare"]
            with PeakSampler({"bare": pid}) as bare_sampler:
                for call in calls:
                    drive(bare, call, CONCURRENCY, duration)
            bare_peak = bare_sampler.peak["bare"]
    return {"rest": rest, "peak": sampler.peak, "after": after, "load": {k: {"req_s": v["req_s"], "errors": v["errors"]}
            for k, v in load.items()}, "bare_grpcio_rest": bare_rest, "bare_grpcio_peak": bare_peak,
            "bare_python": bare_python_rss()}


def figures(m: dict) -> list[Figure]:
    found: list[Figure] = []
    for name in sorted(m["rest"]):
        rest, peak = m["rest"][name], m["peak"].get(name, float("nan"))
        if name == "gateway":
            base, base_name = m["bare_grpcio_rest"], "bare grpcio server (benchmark 3's) at rest"
        else:
            base, base_name = m["bare_python"], "idle bare Python interpreter"
        found.append(Figure(f"RSS {name} at rest (demo data)", "MiB", rest, base, base_name))
        details = {"after_load_mib": m["after"].get(name), "load": m["load"]}
        if name == "gateway":
            details |= {"bare_grpcio_rest_mib": m["bare_grpcio_rest"], "bare_grpcio_peak_mib": m["bare_grpcio_peak"]}
        found.append(Figure(f"RSS {name} under load 3 (peak)", "MiB", peak, rest, "same process at rest",
                            details=details))
    total_rest, total_peak = sum(m["rest"].values()), sum(m["peak"].get(n, 0.0) for n in m["rest"])
    found.append(Figure("RSS all processes under load 3 (sum of peaks)", "MiB", total_peak, total_rest,
                        "all processes at rest", details={"processes": sorted(m["rest"])}))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of load per method (two methods)")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the stack is ready, before at rest")
    args = parser.parse_args()
    print(json.dumps([asdict(f) for f in figures(measure(args.duration, args.settle))]))


if __name__ == "__main__":
    main()
