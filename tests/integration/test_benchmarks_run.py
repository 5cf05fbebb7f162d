"""The benchmarks that need no whole stack still run against this release's code, small.

``make bench`` is not part of ``make test`` (it measures, and takes minutes), so a benchmark whose code fell behind
a changed handler would only be found when someone next measured. These run each such benchmark at a size of a few
seconds, in its own process as ``make bench`` does, and check that it reports its figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def reported(*argv: str) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, f"{argv[0]} failed:\n{done.stderr[-4000:]}"
    figures: list[dict] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def figures_of(*argv: str) -> dict[str, float]:
    return {figure["name"]: figure["value"] for figure in reported(*argv)}


def test_the_scale_benchmark_runs_and_reports_its_curves():
    found = figures_of("bench.scale", "--fanout", "10,20", "--networks", "120", "--repeats", "1")
    assert found["fan-out to 20 networks, ms"] > 0
    assert found["ListNetworks last page of 3 (keyset), ms"] > 0


def test_the_event_path_benchmark_runs_and_reports_every_figure_and_how_busy_the_machine_was():
    figures = reported("bench.event_path", "--events", "40", "--writers", "2")
    found = {figure["name"]: figure["value"] for figure in figures}
    assert {"event path throughput", "event path throughput, 2 replicas each side",
            "event path drain (outbox written first)",
            "event path: writers alone, no relay (the commands' ceiling)"} <= set(found)
    assert all(value > 0 for value in found.values())
    throughput = next(figure for figure in figures if figure["name"] == "event path throughput")["details"]
    for side in ("kring", "baseline"):
        machine = throughput[side]["machine_busy"]
        assert 0 < machine["busy_cores"] <= machine["cores"], machine
