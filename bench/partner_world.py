"""What the partner API benchmarks (3, 4 and 5) share: the world they read, the load they drive, the bare
grpcio servers they are measured against, and reading a process's CPU time and resident memory.

The world, built through the admin API of a running stack (:func:`bench.stack.running_stack`):

- an origin network (national) with a member, and a held session in it;
- ``partners`` regional networks under it (so each has an active parent-child link from the origin), each
  registered as one partner's network (a network has one partner at most), each partner's key kept;
- outputs of that session with visibility ``linked``: the federation service shares each with every partner
  network, so they land in those networks' feeds (what ``ListOutputs`` reads and ``StreamOutputs`` sends).

The load (:func:`drive`): ``concurrency`` client threads, each calling one unary method back to back on one
shared channel for ``duration`` seconds after a warm-up, recording each call's latency. A blocking grpcio call
releases the GIL while it waits, so a thread costs the client little beside its share of serialisation; the
client's own CPU time is reported with each run, since it shares the machine's cores with the server.

The baselines (:mod:`bench.bare_grpc`, started in a process of their own by :func:`baseline_server`): a bare
grpcio server with the gateway's thread pool answering with canned messages (benchmark 3), and a bare grpc.aio
server pushing feed items to any number of streams (benchmark 4).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx

from bench.common import ok, summary_ms
from services.api.kring.v1 import federation_pb2 as pb
from services.api.kring.v1 import federation_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
CALL_TIMEOUT = 10.0
PAGE_SIZE = 50  # ListOutputs' default page


def wait_until(probe: Callable[[], Any], what: str, timeout: float = 120, pause: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:g} s")
        time.sleep(pause)


# --- the world ---------------------------------------------------------------------------------------------------


@dataclass
class World:
    grpc: str
    origin: str
    session_id: str
    author_id: str
    networks: list[str]  # one per partner
    keys: list[str]  # partner keys, in the same order
    tag: str = ""
    published: int = 0

    def metadata(self, index: int = 0) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.keys[index]}"),)


def build_world(stack: Any, operator: httpx.Client, partners: int = 1) -> World:
    tag = uuid.uuid4().hex[:6]
    theme = f"bench {tag}"

    def network(name: str, level: str, parent: str | None = None) -> str:
        body = {"name": name, "level": level, "kind": "werkplaats", "theme": theme, "region": "Utrecht",
                "host_organisation": "Movisie"}
        if parent:
            body["parent_id"] = parent
        return ok(operator.post("/v1/networks", json=body), 201)["id"]

    origin = network(f"Bench landelijk {tag}", "national")
    member = ok(operator.post("/v1/members", json={"name": "Bench Auteur", "email": f"bench.{tag}@example.org",
                                                   "perspectives": ["practitioner"]}), 201)["id"]
    ok(operator.put(f"/v1/networks/{origin}/members/{member}", json={"role": "coordinator"}))
    networks = [network(f"Bench regio {tag} {i}", "regional", origin) for i in range(partners)]
    keys = [ok(operator.post("/v1/partners", json={"name": f"Bench partner {tag} {i}", "network_ids": [n]}),
               201)["api_key"] for i, n in enumerate(networks)]
    starts = datetime.now(UTC) - timedelta(hours=2)
    session = ok(operator.post(f"/v1/networks/{origin}/sessions", json={
        "title": f"Bench sessie {tag}", "format": "learning_session", "mode": "in_person", "location": "Utrecht",
        "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat()}), 201)["id"]
    ok(operator.post(f"/v1/sessions/{session}/hold"))

    def linked() -> bool:  # the parent-child links are made from network events: wait for every one
        page = ok(operator.get(f"/v1/networks/{origin}/links", params={"status": "active", "page_size": 200}))
        return len({link["target_network_id"] for link in page["items"]} & set(networks)) == len(networks)

    wait_until(linked, f"{partners} parent-child links active")
    return World(stack.grpc, origin, session, member, networks, keys, tag)


OUTPUT_BODY = ("Wat we leerden over eenzaamheid in de wijk: ouderen zoeken eerder hulp bij een bekende buurvrouw "
               "dan bij het wijkteam, dus het wijkteam gaat mee naar de koffieochtenden. ") * 3


def publish(operator: httpx.Client, world: World, count: int, *, writers: int = 1,
            sent: dict[str, float] | None = None) -> list[tuple[str, float]]:
    """Publish ``count`` outputs (visibility linked) of the world's session, ``writers`` calls at a time:
    (output id, when its call returned). ``sent`` gets, per output id, when its call was made."""
    first = world.published
    world.published += count

    def one(i: int) -> tuple[str, float]:
        body = {"kind": "lesson", "title": f"Les {world.tag} {i}", "body": OUTPUT_BODY, "authors": [world.author_id],
                "themes": ["eenzaamheid", "ouderen"], "visibility": "linked"}
        made = time.time()
        output_id = ok(operator.post(f"/v1/sessions/{world.session_id}/outputs", json=body), 201)["id"]
        returned = time.time()
        if sent is not None:
            sent[output_id] = made
        return output_id, returned

    if writers <= 1:
        return [one(i) for i in range(first, first + count)]
    with ThreadPoolExecutor(writers) as pool:
        return list(pool.map(one, range(first, first + count)))


def feed_size(world: World, index: int = 0) -> int:
    with grpc.insecure_channel(world.grpc) as channel:
        stub = federation_pb2_grpc.FederationStub(channel)
        page = stub.ListOutputs(pb.ListOutputsRequest(network_id=world.networks[index], page_size=200),
                                metadata=world.metadata(index), timeout=CALL_TIMEOUT)
        return len(page.items)


# --- the load ------------------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One unary method with its request: what every client thread sends."""

    name: str  # "GetNetwork"
    request: Any
    metadata: tuple[tuple[str, str], ...] = ()


def calls_for(world: World) -> list[Call]:
    return [Call("GetNetwork", pb.GetNetworkRequest(network_id=world.networks[0]), world.metadata()),
            Call("ListOutputs", pb.ListOutputsRequest(network_id=world.networks[0], page_size=PAGE_SIZE),
                 world.metadata())]


@dataclass
class LoadResult:
    calls: int
    errors: dict[str, int]
    seconds: float
    latencies: list[float] = field(repr=False)
    client_cpu_s: float
    server_cpu_s: dict[str, float]

    @property
    def req_s(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        return {"req_s": self.req_s, "calls": self.calls, "errors": self.errors, "seconds": self.seconds,
                **summary_ms(self.latencies), "client_cpu_s": self.client_cpu_s,
                "client_cpu_ms_per_call": 1000 * self.client_cpu_s / self.calls if self.calls else None,
                "server_cpu_s": self.server_cpu_s,
                "server_cpu_ms_per_call": ({k: 1000 * v / self.calls for k, v in self.server_cpu_s.items()}
                                           if self.calls else {})}


def drive(target: str, call: Call, concurrency: int, duration: float, warmup: float = 1.0,
          pids: dict[str, int] | None = None) -> LoadResult:
    """``concurrency`` threads calling ``call`` back to back: warm up, then measure for ``duration`` seconds.
    ``pids``: processes whose CPU time over the measured window is reported (the server side)."""
    channel = grpc.insecure_channel(target)
    method = getattr(federation_pb2_grpc.FederationStub(channel), call.name)
    stop = threading.Event()
    measuring = threading.Event()
    per_thread: list[list[float]] = [[] for _ in range(concurrency)]
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def client(latencies: list[float]) -> None:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                method(call.request, metadata=call.metadata, timeout=CALL_TIMEOUT)
            except grpc.RpcError as exc:
                with lock:
                    errors[exc.code().name] = errors.get(exc.code().name, 0) + 1
                time.sleep(0.01)
                continue
            if measuring.is_set():
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client, args=(per_thread[i],), daemon=True) for i in range(concurrency)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(warmup)
        with lock:
            errors.clear()
        cpu_before, server_before = time.process_time(), cpu_times(pids or {})
        measuring.set()
        started = time.perf_counter()
        time.sleep(duration)
        measuring.clear()
        seconds = time.perf_counter() - started
        cpu_after, server_after = time.process_time(), cpu_times(pids or {})
    finally:
        stop.set()
        for thread in threads:
            thread.join(CALL_TIMEOUT + 1)
        channel.close()
    latencies = [x for batch in per_thread for x in batch]
    server_cpu = {name: server_after[name] - server_before[name] for name in server_after if name in server_before}
    return LoadResult(len(latencies), dict(errors), seconds, latencies, cpu_after - cpu_before, server_cpu)


# --- processes: CPU time and resident memory --------------------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_time(pid: int) -> float | None:
    """User + system CPU seconds of a process (its threads included), or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_times(pids: dict[str, int]) -> dict[str, float]:
    found = {name: cpu_time(pid) for name, pid in pids.items()}
    return {name: t for name, t in found.items() if t is not None}


def rss_mib(pid: int) -> float | None:
    """VmRSS of a process in MiB, or None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


# --- the bare grpcio baselines -------------------------------------------------------------------------------


@contextmanager
def baseline_server(kind: str, *args: str, ready_timeout: float = 30) -> Iterator[tuple[str, int]]:
    """Start ``python -m bench.bare_grpc <kind> --port P <args>`` in its own process: (address, pid)."""
    from tests.support.stack import free_ports

    [port] = free_ports(1)
    argv = [sys.executable, "-m", "bench.bare_grpc", kind, "--port", str(port), *args]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.monotonic() + ready_timeout
        while "serving" not in line:
            line = process.stdout.readline() if process.stdout else ""
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {kind} baseline server did not start")
        yield f"127.0.0.1:{port}", process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

