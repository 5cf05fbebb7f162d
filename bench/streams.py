"""Benchmark 4, streams: a curve of concurrent ``StreamOutputs`` clients (200 and 1,000 by default), each
receiving a burst of 100 outputs; the lag of every receipt (p50/p99 over all of them), how many clients were
served, and the gateway's resident memory with the streams open; against a bare grpc.aio server pushing the
same burst to as many clients, in the same run.

The gateway allows 4 open streams per partner, so N clients are N/4 partners with 4 streams each; each
partner has its own network under one origin network (a network has one partner at most). The burst: 100
outputs of a held session of the origin, published through the admin API with visibility ``linked`` (4 at a
time), so the federation service shares each with every partner network and every stream of every partner
should receive all 100.

Lag of a receipt: from the moment the publishing call was made to the moment the client read the item. That
includes the admin API call, the event to the federation service, the share (one output into N/4 feeds), the
``feed.appended`` event that wakes the gateway's feed hub, the hub's read of the log and the push down the
stream. The details also give it from the call's return (the share starts after it) and from the item's own
``at`` (the delivery into that network's feed), which leaves out the sharing and measures the stream alone.

The baseline (:class:`bench.bare_grpc.PushingFederation`): a bare grpc.aio server in its own process holding
the streams, whose ``PublishOutput`` puts one feed item of the same shape on every open stream; the same
client publishes the burst with the same concurrency and the same clients read it. It is what grpcio costs to
push the burst with nothing behind it (20,000 messages for 200 streams, 100,000 for 1,000).

The gateway's partner server is grpc.aio too: an open stream is a coroutine awaiting the feed hub's
notification, no thread, so ``KRING_GRPC_MAX_STREAMS`` (2,000 by default) is a plain cap. Gateway RSS: VmRSS
of the gateway process once every stream is open (``rss_open_mib``) and its peak during the burst.

The burst starts once every stream follows the gateway's feed hub (``kring_partner_streams_following``: each
read its past and subscribed), as the baseline's starts once every stream is subscribed; the time from opening
the first stream to that moment is a figure of its own (``streams: N opened until all follow the hub``). Before,
the burst started when every call had begun, and at 1,000 streams it mostly measured streams still opening.

The clients are grpc.aio streams on one event loop in the benchmark's process: a sync client would need a
thread per stream and several times the CPU, on the cores the server uses too.

How busy the whole machine was during each burst (every process: the stack, PostgreSQL, RabbitMQ, the clients) is
reported beside the lag (``machine_busy``, :class:`bench.common.MachineLoad`): the gateway's side runs the whole
publishing path on the same cores as the clients, the baseline's one process.

Run alone: ``python -m bench.streams [--clients 200,1000] [--outputs 100]``; prints the curve on stderr and
the figures as JSON on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import grpc

from bench.common import Figure, MachineLoad, busy_text, log, summary_ms
from bench.partner_world import World, baseline_server, build_world, cpu_times, publish, rss_mib
from bench.stack import running_stack
from services.api.kring.v1 import federation_pb2 as pb
from services.api.kring.v1 import federation_pb2_grpc

STREAMS_PER_PARTNER = 4  # services.gateway.partner.servicer.STREAMS_PER_PARTNER
TARGET_S = 1.0
WRITERS = 4  # publishing calls in flight during the burst


@dataclass
class Client:
    """One stream: each item's output id, when it was read, and its ``at``; or the status that ended it."""

    call: Any = None
    receipts: list[tuple[str, float, float]] = field(default_factory=list)
    error: str | None = None
    started: threading.Event = field(default_factory=threading.Event)

    async def read(self) -> None:
        try:
            await self.call.initial_metadata()  # the gateway sends it as the call begins, before admitting it
            self.started.set()
            async for item in self.call:
                read_at = time.time()
                self.receipts.append((item.output.output_id, read_at, item.at.seconds + item.at.nanos / 1e9))
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = exc.code().name
        except asyncio.CancelledError:
            pass
        finally:
            self.started.set()


class Clients:
    """``count`` streams, ``per_key`` per partner key (one channel per key), read by grpc.aio on one event loop
    in a thread of its own: a sync client would spend a thread and several times the CPU on each stream, on the
    cores the server uses too."""

    def __init__(self, target: str, keys: list[str], count: int, per_key: int) -> None:
        self.clients = [Client() for _ in range(count)]
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(target, keys, per_key),),
                                        daemon=True)
        self._thread.start()

    async def _main(self, target: str, keys: list[str], per_key: int) -> None:
        channels = [grpc.aio.insecure_channel(target) for _ in keys]
        tasks = []
        for i, client in enumerate(self.clients):
            index = (i // per_key) % len(keys)
            stub = federation_pb2_grpc.FederationStub(channels[index])
            client.call = stub.StreamOutputs(pb.StreamOutputsRequest(),
                                             metadata=(("authorization", f"Bearer {keys[index]}"),))
            tasks.append(asyncio.create_task(client.read()))
        await self._stop.wait()
        for client in self.clients:
            client.call.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in channels:
            await channel.close()

    def settle(self, timeout: float = 30, grace: float = 2.0) -> None:
        """Until every call has begun (or been refused), then ``grace`` more seconds for refusals to arrive."""
        deadline = time.monotonic() + timeout
        for client in self.clients:
            client.started.wait(max(0.0, deadline - time.monotonic()))
        time.sleep(grace)

    @property
    def open(self) -> list[Client]:
        return [c for c in self.clients if c.error is None]

    def refusals(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for c in self.clients:
            if c.error:
                found[c.error] = found.get(c.error, 0) + 1
        return found

    def wait_for(self, expected: int, timeout: float) -> float:
        """Until every open stream read ``expected`` items (or ``timeout``); the time it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if all(len(c.receipts) >= expected for c in self.open):
                break
            time.sleep(0.05)
        return time.monotonic() - started

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        self._loop.close()


def lags(clients: Clients, sent: dict[str, float], returned: dict[str, float]) -> dict[str, Any]:
    from_sent, from_return, from_at = [], [], []
    for client in clients.open:
        for output_id, read_at, at in client.receipts:
            if output_id in sent:
                from_sent.append(read_at - sent[output_id])
                from_return.append(read_at - returned[output_id])
                if at:
                    from_at.append(read_at - at)
    expected = len(clients.open) * len(sent)
    return {"receipts": len(from_sent), "expected": expected, "streams_open": len(clients.open),
            "refused": clients.refusals(), "from_call_made": summary_ms(from_sent),
            "from_call_returned": summary_ms(from_return), "from_delivery_at": summary_ms(from_at) if from_at else None}


def kring(clients_count: int, outputs: int, settle: float) -> dict[str, Any]:
    partners = -(-clients_count // STREAMS_PER_PARTNER)
    with running_stack(env={"KRING_PARTNER_RATE": "0"}) as stack, stack.client() as operator:
        world: World = build_world(stack, operator, partners=partners)
        log(f"world: {partners} partners, opening {clients_count} streams")
        opening = time.monotonic()
        clients = Clients(world.grpc, world.keys, clients_count, STREAMS_PER_PARTNER)
        try:
            clients.settle(grace=settle)
            following_s = wait_following(stack, len(clients.open), opening)
            log(f"streams open: {len(clients.open)}, refused: {clients.refusals()}, all following the hub "
                f"{following_s:.1f} s after the first was opened")
            sent: dict[str, float] = {}
            pids = stack.pids()
            rss = RssPeak(pids["gateway"])
            rss_open = rss.now()
            cpu_before = cpu_times(pids)
            updates_before = hub_updates(stack)
            machine = MachineLoad()
            burst_started = time.time()
            published = publish(operator, world, outputs, writers=WRITERS, sent=sent)
            returned = dict(published)
            burst_s = time.time() - burst_started
            took = clients.wait_for(outputs, timeout=120 + clients_count / 10)
            machine_busy = machine.stop()
            cpu_after = cpu_times(pids)
            updates = {source: hub_updates(stack)[source] - updates_before[source] for source in updates_before}
            rss_peak = rss.stop()
            result = lags(clients, sent, returned)
        finally:
            clients.close()
    cpu = {name: round(cpu_after[name] - cpu_before[name], 2) for name in cpu_after if name in cpu_before}
    return {**result, "publish_burst_s": burst_s, "all_received_after_s": took, "partners": partners,
            "cpu_s_during_burst": cpu, "gateway_rss_open_mib": rss_open, "gateway_rss_peak_mib": rss_peak,
            "all_following_after_s": following_s, "hub_updates_during_burst": updates, "machine_busy": machine_busy}


def hub_updates(stack: Any) -> dict[str, float]:
    """How the gateway's feed hub got the entries it handed to streams, so far: batches carried by
    ``feed.appended`` (``event``) and pages read from the federation service's log (``log``)."""
    return {source: stack.gateway_metric("kring_partner_feed_hub_updates_total", f'source="{source}"') or 0.0
            for source in ("event", "log")}


def wait_following(stack: Any, expected: int, since: float, timeout: float = 300) -> float:
    """Until the gateway says ``expected`` streams follow its feed hub (each read its past and subscribed); the
    seconds since ``since``. The burst measures live streams, as the baseline's (all subscribed before it), not
    streams still reading their past; how long opening takes is this figure."""
    deadline = time.monotonic() + timeout
    while (stack.gateway_metric("kring_partner_streams_following") or 0) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {expected} streams follow the hub after {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - since


class RssPeak:
    """The peak VmRSS of one process, read every 100 ms on a thread of its own until :meth:`stop`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = self.now()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def now(self) -> float:
        return round(rss_mib(self.pid) or 0.0, 1)

    def _watch(self) -> None:
        while not self._done.wait(0.1):
            self.peak = max(self.peak, self.now())

    def stop(self) -> float:
        self._done.set()
        self._thread.join(1.0)
        return self.peak


def baseline(clients_count: int, outputs: int) -> dict[str, Any]:
    with baseline_server("streams") as (address, pid):
        keys = [f"bench-key-{i}" for i in range(-(-clients_count // STREAMS_PER_PARTNER))]
        clients = Clients(address, keys, clients_count, STREAMS_PER_PARTNER)
        try:
            clients.settle(grace=0.5)
            with grpc.insecure_channel(address) as channel:
                stub = federation_pb2_grpc.FederationStub(channel)
                wait = time.monotonic() + 30
                while stub.GetFeedHead(pb.GetFeedHeadRequest()).pending < len(clients.open):  # all subscribed
                    if time.monotonic() > wait:
                        raise RuntimeError("the baseline streams did not all subscribe")
                    time.sleep(0.05)
                sent: dict[str, float] = {}
                returned: dict[str, float] = {}
                lock = threading.Lock()

                def one(i: int) -> None:
                    request = pb.PublishOutputRequest(
                        network_id="bench", client_output_id=str(i), kind=pb.OUTPUT_KIND_LESSON, title=f"Les {i}",
                        body=BODY, themes=["eenzaamheid", "ouderen"], visibility=pb.VISIBILITY_LINKED,
                        authors=["a practitioner"])
                    made = time.time()
                    answer = stub.PublishOutput(request, timeout=10)
                    with lock:
                        sent[answer.output_id], returned[answer.output_id] = made, time.time()

                cpu_before = cpu_times({"baseline": pid})
                machine = MachineLoad()
                burst_started = time.time()
                writers = [threading.Thread(target=lambda w=w: [one(i) for i in range(w, outputs, WRITERS)])
                           for w in range(WRITERS)]
                for writer in writers:
                    writer.start()
                for writer in writers:
                    writer.join()
                burst_s = time.time() - burst_started
            took = clients.wait_for(outputs, timeout=60)
            machine_busy = machine.stop()
            cpu = {"baseline": round(cpu_times({"baseline": pid})["baseline"] - cpu_before["baseline"], 2)}
            result = lags(clients, sent, returned)
        finally:
            clients.close()
    return {**result, "publish_burst_s": burst_s, "all_received_after_s": took, "cpu_s_during_burst": cpu,
            "machine_busy": machine_busy}


BODY = ("Wat we leerden over eenzaamheid in de wijk: ouderen zoeken eerder hulp bij een bekende buurvrouw "
        "dan bij het wijkteam, dus het wijkteam gaat mee naar de koffieochtenden. ") * 3


def point(clients_count: int, outputs: int, settle: float) -> tuple[dict[str, Any], list[Figure]]:
    """One point of the curve: the gateway and the bare server at ``clients_count`` streams."""
    k = kring(clients_count, outputs, settle)
    log(f"kring: {k['streams_open']} streams, {k['receipts']}/{k['expected']} receipts, "
        f"p99 {k['from_call_made']['p99_ms']:.0f} ms, gateway RSS {k['gateway_rss_open_mib']} MiB open, "
        f"{k['gateway_rss_peak_mib']} MiB peak, hub batches by source {k['hub_updates_during_burst']}, machine busy "
        f"{busy_text(k)} during the burst")
    base = baseline(clients_count, outputs)
    log(f"baseline: {base['streams_open']} streams, p99 {base['from_call_made']['p99_ms']:.0f} ms, machine busy "
        f"{busy_text(base)} during the burst")
    # The lag is compared at the number of streams the gateway served: the same messages to push.
    served = k["streams_open"]
    same = base if served == clients_count else baseline(served, outputs) if served else None
    if same is not base and same is not None:
        log(f"baseline at {served} streams: p99 {same['from_call_made']['p99_ms']:.0f} ms")
    complete = served == clients_count and k["receipts"] == clients_count * outputs
    met = complete and k["from_call_made"]["p99_ms"] <= TARGET_S * 1000
    lag_base = same["from_call_made"] if same else {"p50_ms": None, "p99_ms": None}
    lag_base_name = f"bare grpc.aio server, {served} streams (as many as the gateway served)"
    bare = f"bare grpc.aio server, {clients_count} streams"
    details = {"kring": k, "baseline": base, "baseline_same_streams": same, "clients": clients_count,
               "outputs": outputs}
    figures = [
        Figure(f"streams p99 lag ({clients_count} clients, burst of {outputs})", "ms",
               k["from_call_made"]["p99_ms"], lag_base["p99_ms"], lag_base_name,
               f"≤ {TARGET_S * 1000:.0f} ms, every client served", met, details),
        Figure(f"streams p50 lag ({clients_count} clients, burst of {outputs})", "ms",
               k["from_call_made"]["p50_ms"], lag_base["p50_ms"], lag_base_name),
        Figure(f"streams served of {clients_count}", "streams", served, base["streams_open"], bare,
               f"{clients_count}", served == clients_count,
               {"refused": k["refused"], "baseline_p99_ms": base["from_call_made"]["p99_ms"]}),
        Figure(f"streams receipts of the burst ({clients_count} clients)", "items", k["receipts"], base["receipts"],
               bare, f"{clients_count * outputs}", k["receipts"] == clients_count * outputs),
        Figure(f"gateway RSS with {clients_count} streams open", "MiB", k["gateway_rss_open_mib"], None, None,
               None, None, {"peak_during_burst_mib": k["gateway_rss_peak_mib"]}),
        Figure(f"streams: {clients_count} opened until all follow the hub", "s", k["all_following_after_s"]),
    ]
    row = {"clients": clients_count, "served": served, "receipts": k["receipts"],
           "expected": clients_count * outputs, "p50_ms": k["from_call_made"]["p50_ms"],
           "p99_ms": k["from_call_made"]["p99_ms"], "bare_p99_ms": base["from_call_made"]["p99_ms"],
           "rss_open_mib": k["gateway_rss_open_mib"], "rss_peak_mib": k["gateway_rss_peak_mib"],
           "following_s": k["all_following_after_s"], "busy": busy_text(k), "bare_busy": busy_text(base)}
    return row, figures


def print_curve(rows: list[dict[str, Any]]) -> None:
    """The curve on stderr, a row per client count, so a reader sees how lag and memory grow."""
    log("streams curve: clients | served | receipts | p50 ms | p99 ms | bare p99 ms | gateway RSS open / peak MiB"
        " | all following after s | machine busy in the burst, gateway / bare")
    for r in rows:
        log(f"  {r['clients']:>6,} | {r['served']:>6,} | {r['receipts']:>7,}/{r['expected']:<7,} | "
            f"{r['p50_ms']:>6.0f} | {r['p99_ms']:>6.0f} | {r['bare_p99_ms']:>11.0f} | "
            f"{r['rss_open_mib']:.0f} / {r['rss_peak_mib']:.0f} | {r['following_s']:.1f} | {r['busy']} / "
            f"{r['bare_busy']}")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        per_stream = (last["rss_open_mib"] - first["rss_open_mib"]) / max(1, last["served"] - first["served"])
        log(f"  {last['clients'] / first['clients']:.0f}x the clients: p99 {last['p99_ms'] / first['p99_ms']:.2f}x, "
            f"gateway RSS +{per_stream * 1024:.0f} KiB per stream")


def run(counts: list[int], outputs: int, settle: float) -> list[Figure]:
    rows, figures = [], []
    for clients_count in counts:
        row, found = point(clients_count, outputs, settle)
        rows.append(row)
        figures += found
        print_curve(rows)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", default="200,1000", help="client counts of the curve, comma-separated")
    parser.add_argument("--outputs", type=int, default=100)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds for refusals to arrive before the burst")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    print(json.dumps([asdict(f) for f in run(counts, args.outputs, args.settle)]))


if __name__ == "__main__":
    main()
