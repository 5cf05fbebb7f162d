"""Benchmark 3, the partner API: ``GetNetwork`` and ``ListOutputs`` through the gateway at concurrency 1, 8 and
32 (req/s, p50/p99), against a bare grpcio server answering the same messages, in the same run.

The stack runs with ``KRING_PARTNER_RATE=0`` (no per-key rate limit). The world (:mod:`bench.partner_world`):
one partner whose network has a feed of 50 outputs (one ``ListOutputs`` page, about 40 KB); ``GetNetwork``
reads that network. Through the gateway a call is: the edge interceptor (correlation id, admission, metrics),
the partner key (cached), then one nameko RPC over RabbitMQ to the networks or federation service, which
reads its database.

The baseline is a bare grpcio server in its own process: the same grpcio, the same 32-thread pool, in-flight
cap and options as the gateway's gRPC server, answering each method with the message the gateway answered in
this run (same bytes on the wire), with nothing behind it. Both are driven by the same client
(:func:`bench.partner_world.drive`): N threads on one channel, back to back. The client shares the machine's
cores with the server, so its CPU time and the server processes' CPU time per call are in each figure's
details: read req/s as what the whole machine does, and the per-call CPU to see where it goes.

What limits it (profiled with py-spy on the gateway and the services under this load, 2 cores): every call
crosses two Python processes and the broker. A ``GetNetwork`` costs about 1 ms of gateway CPU (half of it the
nameko standalone RPC: a publish with a publisher confirm, then the reply; a quarter grpcio's own work) and
about 1.4 ms in the networks service (three SQL statements with a pool pre-ping and a rollback, then the reply
published with a confirm), plus RabbitMQ's share; against about 0.25 ms for the bare server. That is well under
1,000 req/s on two cores whatever the gateway does, and more client threads only queue (c=32 is no faster
than c=8). ``ListOutputs`` adds a 40 KB JSON page to decode and 50 feed items to convert in the gateway, and
about 3 ms in the federation service (the feed query, pydantic dumps and JSON). What would lift it: serving
directory reads from a short-lived cache in the gateway (the answers are public; the partner key cache already
accepts 10 s), a reply path without publisher confirms in the services, fewer statements per read, and a
gateway that runs more than one process (the GIL caps one process at about one core).

Run alone: ``python -m bench.partner_api [--duration S] [--concurrency 1 8 32]``; prints the figures as JSON
on the last line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import asdict
from pathlib import Path

import grpc

from bench.bare_grpc import GATEWAY_WORKERS, write_canned
from bench.common import Figure, log
from bench.partner_world import (
    CALL_TIMEOUT,
    Call,
    World,
    baseline_server,
    build_world,
    calls_for,
    drive,
    feed_size,
    publish,
    wait_until,
)
from bench.stack import running_stack
from services.api.kring.v1 import federation_pb2_grpc

TARGET_RPS = 1000.0
TARGET_CONCURRENCY = 8
FEED_OUTPUTS = 50


def prepare(stack, operator) -> World:
    world = build_world(stack, operator, partners=1)
    publish(operator, world, FEED_OUTPUTS, writers=4)
    wait_until(lambda: feed_size(world) >= FEED_OUTPUTS, f"{FEED_OUTPUTS} outputs in the partner's feed")
    return world


def canned_answers(world: World, calls: list[Call], path: Path) -> dict[str, int]:
    """Ask the gateway once per method; the baseline gives exactly these answers. Returns their sizes."""
    with grpc.insecure_channel(world.grpc) as channel:
        stub = federation_pb2_grpc.FederationStub(channel)
        answers = {c.name: getattr(stub, c.name)(c.request, metadata=c.metadata, timeout=CALL_TIMEOUT) for c in calls}
    write_canned(path, answers["GetNetwork"], answers["ListOutputs"])
    return {name: answer.ByteSize() for name, answer in answers.items()}


def measure(world: World, pids: dict[str, int], calls: list[Call], concurrencies: list[int], duration: float,
            canned: Path) -> dict[tuple[str, int], dict[str, dict]]:
    results: dict[tuple[str, int], dict[str, dict]] = {}
    with baseline_server("unary", "--canned", str(canned), "--workers", str(GATEWAY_WORKERS)) as (bare, bare_pid):
        for call in calls:
            for c in concurrencies:
                # Alternate kring and baseline per step, so a noisy neighbour hurts both alike.
                kring = drive(world.grpc, call, c, duration, pids=pids).summary()
                base = drive(bare, call, c, duration, pids={"baseline": bare_pid}).summary()
                log(f"{call.name} c={c}: kring {kring['req_s']:.0f} req/s p50 {kring['p50_ms']:.1f} ms "
                    f"p99 {kring['p99_ms']:.1f} ms; bare grpcio {base['req_s']:.0f} req/s p50 {base['p50_ms']:.2f} ms")
                results[(call.name, c)] = {"kring": kring, "baseline": base}
    return results


def figures(results: dict[tuple[str, int], dict[str, dict]], sizes: dict[str, int]) -> list[Figure]:
    found: list[Figure] = []
    for (method, c), r in results.items():
        kring, base = r["kring"], r["baseline"]
        details = {"kring": kring, "baseline": base, "response_bytes": sizes.get(method), "concurrency": c}
        target = met = None
        if c == TARGET_CONCURRENCY:
            target, met = f"≥ {TARGET_RPS:,.0f} req/s at c={TARGET_CONCURRENCY}", kring["req_s"] >= TARGET_RPS
        bare = "bare grpcio, canned answer"
        found += [
            Figure(f"partner {method} c={c} throughput", "req/s", kring["req_s"], base["req_s"], bare, target, met,
                   details),
            Figure(f"partner {method} c={c} p50", "ms", kring["p50_ms"], base["p50_ms"], bare),
            Figure(f"partner {method} c={c} p99", "ms", kring["p99_ms"], base["p99_ms"], bare),
        ]
    return found


def run(duration: float, concurrencies: list[int]) -> list[Figure]:
    with running_stack(env={"KRING_PARTNER_RATE": "0"}) as stack, stack.client() as operator, \
            tempfile.TemporaryDirectory(prefix="kring-bench-") as tmp:
        world = prepare(stack, operator)
        calls = calls_for(world)
        canned = Path(tmp) / "canned.bin"
        sizes = canned_answers(world, calls, canned)
        pids = stack.pids()
        results = measure(world, pids, calls, concurrencies, duration, canned)
    return figures(results, sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per method and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()
    print(json.dumps([asdict(f) for f in run(args.duration, args.concurrency)]))


if __name__ == "__main__":
    main()
