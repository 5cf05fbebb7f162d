"""``make bench``: run every benchmark, each in its own process (some need eventlet, the gRPC ones must not
have it), print every figure beside its baseline, and save them under bench/results/."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench.common import Figure, print_table, save

BENCHMARKS = {
    "event_path": ["bench.event_path"],  # 1. outbox → relay → idempotent consumer vs raw kombu
    "fanout": ["bench.fanout"],  # 2. one output to a 1,000-network federation
    "partner_api": ["bench.partner_api"],  # 3. GetNetwork / ListOutputs vs a bare grpcio server
    "streams": ["bench.streams"],  # 4. 200 and 1,000 StreamOutputs clients, a burst of 100 outputs
    "memory": ["bench.memory"],  # 5. resident memory per process, at rest and under load 3
    "scale": ["bench.scale"],  # 6. scale curves: fan-out to 100 / 1,000 / 10,000 networks, ListNetworks paging
    "freshness": ["bench.freshness"],  # 7. admin change → first refused or changed read on another gateway replica
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only these")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed to each benchmark")
    options = parser.parse_args()
    figures: list[Figure] = []
    failed: list[str] = []
    for name in options.only or BENCHMARKS:
        print(f"== {name}", flush=True)
        done = subprocess.run([sys.executable, "-m", *BENCHMARKS[name], *options.args], capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:  # the others still run: their figures are saved, and the run fails at the end
            print(done.stderr[-4000:], file=sys.stderr)
            failed.append(name)
            continue
        figures += [Figure(**f) for f in json.loads(done.stdout.strip().splitlines()[-1])]
    if figures:
        print()
        print_table(figures)
        print(f"\nsaved to {save(figures)}")
    if failed:
        raise SystemExit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
