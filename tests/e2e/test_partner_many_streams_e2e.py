"""1,000 open StreamOutputs streams on one gateway process, as issue "A fast edge" asks of the partner server.

The gateway serves the partner API on grpc.aio: an open stream is a coroutine awaiting the feed hub's
notification, not a thread. 250 partners (4 streams each, the per-partner cap) each hold a regional network
under one national network; the national network's partner publishes one output (visibility linked), which the
federation service shares with every regional network. Every one of the 1,000 streams must receive it, and unary
calls must still answer while they are all open.

The clients are grpc.aio calls on one event loop of their own thread: a sync client would need a thread per
stream.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.api.kring.v1 import federation_pb2 as pb
from services.api.kring.v1 import federation_pb2_grpc
from tests.support.http import ok
from tests.support.naming import fresh_tag
from tests.support.partner_client import PartnerClient
from tests.support.waiting import eventually

STREAMS = 1000
PER_PARTNER = 4  # services.gateway.partner.servicer.STREAMS_PER_PARTNER
ARRIVAL = 60.0


@dataclass
class Reader:
    """One stream: the output ids it read, or the status that ended it."""

    call: grpc.aio.UnaryStreamCall | None = None
    outputs: list[str] = field(default_factory=list)
    error: grpc.StatusCode | None = None
    began: threading.Event = field(default_factory=threading.Event)

    async def read(self) -> None:
        assert self.call is not None
        try:
            await self.call.initial_metadata()
            self.began.set()
            async for item in self.call:
                self.outputs.append(item.output.output_id)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = exc.code()
        except asyncio.CancelledError:
            pass
        finally:
            self.began.set()


class Streams:
    """``len(keys) * per_key`` streams read by grpc.aio on one event loop in a thread of its own."""

    def __init__(self, target: str, keys: list[str], per_key: int) -> None:
        self.readers = [Reader() for _ in range(len(keys) * per_key)]
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(target, keys, per_key),),
                                        daemon=True)
        self._thread.start()

    async def _main(self, target: str, keys: list[str], per_key: int) -> None:
        self._stop = asyncio.Event()
        channels = [grpc.aio.insecure_channel(target) for _ in range(8)]
        tasks = []
        for i, reader in enumerate(self.readers):
            key = keys[i // per_key]
            stub = federation_pb2_grpc.FederationStub(channels[i % len(channels)])
            reader.call = stub.StreamOutputs(pb.StreamOutputsRequest(), metadata=(("authorization", f"Bearer {key}"),))
            tasks.append(asyncio.create_task(reader.read()))
        await self._stop.wait()
        for reader in self.readers:
            assert reader.call is not None
            reader.call.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in channels:
            await channel.close()

    def began(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for reader in self.readers:
            assert reader.began.wait(max(0.0, deadline - time.monotonic())), "a stream did not begin"

    def refused(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for reader in self.readers:
            if reader.error is not None:
                found[reader.error.name] = found.get(reader.error.name, 0) + 1
        return found

    def close(self) -> None:
        stop = self._stop
        if stop is not None:
            self._loop.call_soon_threadsafe(stop.set)
        self._thread.join(30)
        self._loop.close()


@dataclass
class Federation:
    origin: str
    publisher: PartnerClient
    reader_keys: list[str]


@pytest.fixture
def federation(stack) -> Iterator[Federation]:
    """A national network with a publishing partner, and STREAMS / PER_PARTNER regional networks under it, each
    with a partner of its own; linked parent to child by the federation service."""
    tag = fresh_tag()
    with stack.client() as operator, ThreadPoolExecutor(max_workers=8) as pool:
        def network(name: str, level: str, parent: str | None = None) -> str:
            body = {"name": name, "level": level, "kind": "werkplaats", "theme": f"streams {tag}",
                    "region": "Utrecht", "host_organisation": "Movisie", **({"parent_id": parent} if parent else {})}
            return ok(operator.post("/v1/networks", json=body), 201)["id"]

        def partner(i: int, network_id: str) -> str:
            return ok(operator.post("/v1/partners", json={"name": f"Stroom {tag} {i}", "network_ids": [network_id]}),
                      201)["api_key"]

        origin = network(f"Landelijk {tag}", "national")
        regions = list(pool.map(lambda i: network(f"Regio {tag} {i}", "regional", origin),
                                range(STREAMS // PER_PARTNER)))
        keys = list(pool.map(lambda pair: partner(*pair), enumerate(regions)))
        publisher = PartnerClient(stack.grpc, partner(-1, origin))

        def linked() -> bool:
            page = ok(operator.get(f"/v1/networks/{origin}/links", params={"status": "active", "page_size": 500}))
            return {link["target_network_id"] for link in page["items"]} >= set(regions)

        eventually(linked, "every regional network linked to the national one", timeout=120)
        yield Federation(origin, publisher, keys)
        publisher.close()


def streams_open(stack) -> float:
    """The gateway's own count of open streams (its /metrics)."""
    for family in text_string_to_metric_families(httpx.get(stack.metrics_url("gateway"), timeout=10).text):
        if family.name == "kring_partner_streams_open":
            return sum(sample.value for sample in family.samples)
    return 0.0


def test_a_thousand_open_streams_each_receive_a_new_output_while_unary_calls_still_answer(stack, federation):
    streams = Streams(stack.grpc, federation.reader_keys, PER_PARTNER)
    try:
        streams.began(timeout=60)
        eventually(lambda: streams_open(stack), f"{STREAMS} streams open on the gateway", timeout=120,
                   accept=lambda count: count >= STREAMS or streams.refused())
        assert streams.refused() == {}

        # Unary calls answer with every stream open: a cached read and one that calls a service.
        started = time.monotonic()
        assert federation.publisher.GetNetwork(pb.GetNetworkRequest(network_id=federation.origin)).id == \
            federation.origin
        head = federation.publisher.GetFeedHead(pb.GetFeedHeadRequest())
        assert int(head.cursor) >= 0
        assert time.monotonic() - started < 5.0

        published = federation.publisher.PublishOutput(pb.PublishOutputRequest(
            network_id=federation.origin, client_output_id=f"stroom-{fresh_tag()}", kind=pb.OUTPUT_KIND_LESSON,
            title="Wat duizend stromen leerden", body="Elke stroom krijgt het.", themes=["eenzaamheid"],
            visibility=pb.VISIBILITY_LINKED, authors=["een ervaringsdeskundige"]))
        assert published.recipients >= STREAMS // PER_PARTNER

        def received() -> int:
            return sum(published.output_id in reader.outputs for reader in streams.readers)

        eventually(received, f"the output on all {STREAMS} streams (streams that have it)", timeout=ARRIVAL,
                   accept=lambda count: count == STREAMS)
        assert streams.refused() == {}
        assert [reader.outputs.count(published.output_id) for reader in streams.readers] == [1] * STREAMS
    finally:
        streams.close()
