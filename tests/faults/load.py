"""The steady stream of outputs the faults happen under, and a record of every call it made.

Two threads: one publishes outputs of the publishing networks' sessions through the admin API (and retracts
some of them a few seconds later, and reads a feed now and then), the other publishes and retracts a partner's
outputs over gRPC. Visibilities are mixed, private (``network``) ones included. A call that fails is recorded
with its error and the stream goes on; a partner output that failed is published again later with the same
``client_output_id`` (which must change nothing if the first attempt got through).

Clients wait far longer than any call should take (``CLIENT_TIMEOUT``), so that a call hanging shows up as a
call that took too long, instead of being cut short by the client and passing for an ordinary error.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

import grpc
import httpx

from services.api.kring.v1 import federation_pb2 as pb
from tests.faults.harness import OPERATOR_TOKEN, RPC_TIMEOUT
from tests.faults.world import THEMES, World
from tests.support.partner_client import PartnerClient

CLIENT_TIMEOUT = 60.0
SLACK = 3.0  # on top of the gateway's RPC timeout per service call: the gateway's own work, a loaded machine
VISIBILITIES = ("network", "network", "linked", "linked", "linked", "federation", "federation", "federation",
                "public", "public")
PB_VISIBILITY = {"network": pb.VISIBILITY_NETWORK, "linked": pb.VISIBILITY_LINKED,
                 "federation": pb.VISIBILITY_FEDERATION, "public": pb.VISIBILITY_PUBLIC}
RETRACT_SHARE = 0.2
RETRACT_AFTER = 2.0  # seconds between publishing an output and retracting it


@dataclass
class Call:
    what: str
    phase: str
    started: float
    budget: float  # seconds the call may take: RPC timeout per service call it makes, plus slack
    ended: float | None = None
    outcome: str = ""

    @property
    def seconds(self) -> float | None:
        return None if self.ended is None else self.ended - self.started


@dataclass
class Planned:
    key: str  # the title (admin API) or client output id (partner)
    origin: str
    visibility: str
    themes: tuple[str, ...]
    via: str  # "admin" or "partner"
    retract: bool
    output_id: str | None = None  # once a call confirmed it
    confirmed_at: float | None = None
    retracted: bool = False  # a retraction was confirmed
    attempts: int = 0


@dataclass
class Load:
    world: World
    seed: int = 7
    interval: float = 0.1
    calls: list[Call] = field(default_factory=list)
    planned: list[Planned] = field(default_factory=list)
    phase: str = "warm-up"

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []

    # --- recording ---------------------------------------------------------------------------------------

    def _call(self, what: str, service_calls: int) -> Call:
        call = Call(what, self.phase, time.monotonic(), service_calls * RPC_TIMEOUT + SLACK)
        with self._lock:
            self.calls.append(call)
        return call

    def _plan(self, item: Planned) -> Planned:
        with self._lock:
            self.planned.append(item)
        return item

    def http(self, client: httpx.Client, method: str, path: str, what: str, **kwargs) -> httpx.Response | None:
        call = self._call(what, 1)
        try:
            response = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            call.outcome = type(exc).__name__
            return None
        finally:
            call.ended = time.monotonic()
        call.outcome = str(response.status_code)
        return response

    def rpc(self, method, request, what: str, metadata) -> object | None:
        call = self._call(what, 3)  # the key's check, the network's ownership, the call itself
        try:
            return method(request, metadata=metadata, timeout=CLIENT_TIMEOUT)
        except grpc.RpcError as exc:
            call.outcome = exc.code().name
            return None
        finally:
            call.ended = time.monotonic()
            call.outcome = call.outcome or "OK"

    # --- running -----------------------------------------------------------------------------------------

    def start(self) -> None:
        for target in (self._admin_stream, self._partner_stream):
            thread = threading.Thread(target=self._guarded, args=(target,), name=target.__name__, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _guarded(self, target) -> None:
        try:
            target()
        except Exception as exc:  # a bug in the load itself must fail the test, not vanish with its thread
            self.errors.append(f"{target.__name__}: {type(exc).__name__}: {exc}")
            raise

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=CLIENT_TIMEOUT + 10)
        assert not any(t.is_alive() for t in self._threads), "the load threads did not stop: a call hangs"

    def confirmed_after(self, moment: float, via: str = "admin") -> list[Planned]:
        with self._lock:
            return [p for p in self.planned if p.via == via and p.confirmed_at is not None and p.confirmed_at > moment]

    def _admin_stream(self) -> None:
        rng = random.Random(self.seed)
        sessions = sorted(self.world.sessions.items())
        pending: list[tuple[float, Planned]] = []
        n = 0
        with httpx.Client(base_url=self.world.harness.http, timeout=CLIENT_TIMEOUT,
                          headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}) as client:
            while not self._stop.is_set():
                n += 1
                origin, session = sessions[rng.randrange(len(sessions))]
                item = self._plan(Planned(f"Les {n} onder storing", origin, rng.choice(VISIBILITIES),
                                          tuple(sorted(rng.sample(THEMES, rng.randint(1, 2)))), "admin",
                                          rng.random() < RETRACT_SHARE))
                body = {"kind": "lesson", "title": item.key, "authors": [self.world.author],
                        "visibility": item.visibility, "themes": list(item.themes)}
                response = self.http(client, "POST", f"/v1/sessions/{session}/outputs", "POST output", json=body)
                if response is not None and response.status_code == 201:
                    item.output_id, item.confirmed_at = response.json()["id"], time.monotonic()
                    if item.retract:
                        pending.append((time.monotonic() + RETRACT_AFTER, item))
                for due, retracting in [p for p in pending if p[0] <= time.monotonic()]:
                    answer = self.http(client, "POST", f"/v1/outputs/{retracting.output_id}/retract", "POST retract",
                                       json={"reason": "ingetrokken onder storing"})
                    if answer is not None and answer.status_code == 200:
                        retracting.retracted = True
                        pending.remove((due, retracting))
                if n % 10 == 0:
                    network = self.world.by_level["regional"][rng.randrange(len(self.world.by_level["regional"]))]
                    self.http(client, "GET", f"/v1/networks/{network}/feed", "GET feed")
                self._stop.wait(self.interval)

    def _partner_stream(self) -> None:
        rng = random.Random(self.seed + 1)
        partner = PartnerClient(self.world.harness.grpc, self.world.partner_key)
        stub, metadata = partner.stub, partner.metadata
        unconfirmed: list[Planned] = []
        pending: list[tuple[float, Planned]] = []
        n = 0
        try:
            while not self._stop.is_set():
                n += 1
                if unconfirmed and n % 3 == 0:
                    item = unconfirmed.pop(0)  # again, with the same client id
                else:
                    item = self._plan(Planned(f"faults-{n}", self.world.partner_networks[n % 3],
                                              rng.choice(VISIBILITIES),
                                              tuple(sorted(rng.sample(THEMES, rng.randint(1, 2)))), "partner",
                                              rng.random() < RETRACT_SHARE))
                item.attempts += 1
                answer = self.rpc(stub.PublishOutput, pb.PublishOutputRequest(
                    network_id=item.origin, client_output_id=item.key, kind=pb.OUTPUT_KIND_LESSON,
                    title=f"Partnerles {item.key}", visibility=PB_VISIBILITY[item.visibility],
                    themes=list(item.themes), authors=["een praktijkwerker"]), "gRPC PublishOutput", metadata)
                if answer is None:
                    unconfirmed.append(item)
                else:
                    assert item.output_id in (None, answer.output_id), "publishing again gave another output id"
                    item.output_id, item.confirmed_at = answer.output_id, item.confirmed_at or time.monotonic()
                    if item.retract:
                        pending.append((time.monotonic() + RETRACT_AFTER, item))
                for due, retracting in [p for p in pending if p[0] <= time.monotonic()]:
                    if self.rpc(stub.RetractOutput, pb.RetractOutputRequest(output_id=retracting.output_id),
                                "gRPC RetractOutput", metadata) is not None:
                        retracting.retracted = True
                        pending.remove((due, retracting))
                if n % 10 == 0:
                    self.rpc(stub.GetFeedHead, pb.GetFeedHeadRequest(), "gRPC GetFeedHead", metadata)
                self._stop.wait(self.interval * 2)
        finally:
            partner.close()
