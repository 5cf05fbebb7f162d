"""The federation the faults run against, built once through the admin API as the operator.

Three national networks, each with four regional ones under it, five local ones under each regional one and
three neighbourhood networks under each local one: 255 networks, whose parent/child links the federation
service makes by itself. Three peer links across the trees, each with a restrictive policy in at least one
direction, and one blocked local network (which cuts its three neighbourhood networks off from their tree).
Outputs come from a held session in each of about twenty publishing networks (one author, a member of each)
and from a partner that owns three networks and publishes over gRPC.

The plan here is what the ledger's expectations are computed from; nothing is read back from Kring to
compute them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy

from tests.faults.harness import OPERATOR_TOKEN, Harness
from tests.support.http import ok
from tests.support.waiting import eventually

SHAREABLE = frozenset({"linked", "federation", "public"})
LEVELS = ("national", "regional", "local", "neighbourhood")
FAN_OUT = {"national": 4, "regional": 5, "local": 3}  # children per network of that level
TREES = 3
SETTLE = 60.0  # seconds for the federation to catch up with what the operator set up (255 networks)
THEMES = ("zorg", "wonen", "armoede")


@dataclass(frozen=True)
class Policy:
    visibilities: frozenset[str] = SHAREABLE
    themes: frozenset[str] | None = None

    def admits(self, visibility: str, themes: tuple[str, ...]) -> bool:
        if visibility not in self.visibilities:
            return False
        return self.themes is None or bool(self.themes & {t.strip().lower() for t in themes})

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"visibilities": sorted(self.visibilities)}
        if self.themes is not None:
            body["themes"] = sorted(self.themes)
        return body


@dataclass(frozen=True)
class PeerLink:
    requester: str
    target: str
    requester_policy: Policy  # what flows from the requester
    target_policy: Policy  # what flows from the target


@dataclass
class World:
    harness: Harness
    engine: sqlalchemy.Engine
    networks: dict[str, str] = field(default_factory=dict)  # id -> level
    parent: dict[str, str] = field(default_factory=dict)  # child id -> parent id
    by_level: dict[str, list[str]] = field(default_factory=dict)
    peer_links: list[PeerLink] = field(default_factory=list)
    blocked: set[str] = field(default_factory=set)
    sessions: dict[str, str] = field(default_factory=dict)  # publishing network -> its held session
    author: str = ""
    partner_id: str = ""
    partner_key: str = ""
    partner_networks: list[str] = field(default_factory=list)

    def operator(self, timeout: float = 60.0) -> httpx.Client:
        return httpx.Client(base_url=self.harness.http, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
                            timeout=timeout)

    def hops(self) -> list[tuple[str, str, Policy]]:
        """Every direction of every link that should be active: (from, to, the policy of the side it leaves)."""
        found = []
        for child, parent in self.parent.items():
            found += [(parent, child, Policy()), (child, parent, Policy())]
        for link in self.peer_links:
            found += [(link.requester, link.target, link.requester_policy),
                      (link.target, link.requester, link.target_policy)]
        return [(a, b, p) for a, b, p in found if not {a, b} & self.blocked]


def in_parallel(work: Callable[[Any], Any], items: list[Any], threads: int = 8) -> list[Any]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(work, items))


def build_world(harness: Harness, engine: sqlalchemy.Engine) -> World:
    world = World(harness, engine)
    with world.operator() as api:
        _networks(world, api)
        _wait_for_links(world)  # blocking a network whose children's links are still to come would race
        _peer_links(world, api)
        ok(api.post(f"/v1/networks/{world.by_level['local'][12]}/block", json={"reason": "faults: cut off"}))
        world.blocked.add(world.by_level["local"][12])
        _publishers(world, api)
        _partner(world, api)
    _wait_for_links(world)
    return world


def _networks(world: World, api: httpx.Client) -> None:
    def create(item: tuple[str, str | None, int]) -> tuple[str, str | None]:
        level, parent, n = item
        body = {"name": f"Faults {level} {n}", "level": level, "kind": "learning_circle",
                "theme": THEMES[n % len(THEMES)]} | ({"parent_id": parent} if parent else {})
        return ok(api.post("/v1/networks", json=body), 201)["id"], parent

    wanted: list[tuple[str, str | None, int]] = [("national", None, n) for n in range(TREES)]
    for depth, level in enumerate(LEVELS):
        made = in_parallel(create, wanted)
        world.by_level[level] = [network_id for network_id, _ in made]
        for network_id, parent in made:
            world.networks[network_id] = level
            if parent:
                world.parent[network_id] = parent
        if depth + 1 < len(LEVELS):
            below = LEVELS[depth + 1]
            wanted = [(below, network_id, i * FAN_OUT[level] + k) for i, (network_id, _) in enumerate(made)
                      for k in range(FAN_OUT[level])]


def _peer_links(world: World, api: httpx.Client) -> None:
    regional, local, national, hood = (world.by_level[lvl] for lvl in ("regional", "local", "national",
                                                                       "neighbourhood"))
    # Trees are contiguous in creation order: tree t's regional networks are regional[4t:4t+4], and so on.
    planned = [
        PeerLink(regional[0], regional[4], Policy(frozenset({"linked"})),
                 Policy(themes=frozenset({"zorg"}))),
        PeerLink(local[25], local[47], Policy(frozenset({"federation", "public"})), Policy()),
        PeerLink(national[2], hood[10], Policy(frozenset({"public"})), Policy(frozenset({"linked"}))),
    ]
    for link in planned:
        link_id = ok(api.post("/v1/links", json={"requester_network_id": link.requester,
                                                 "target_network_id": link.target,
                                                 "policy": link.requester_policy.wire()}), 201)["link_id"]
        ok(api.post(f"/v1/links/{link_id}/accept", json={"policy": link.target_policy.wire()}))
    world.peer_links = planned


def _publishers(world: World, api: httpx.Client) -> None:
    levels = world.by_level
    cut_off = [n for n, p in world.parent.items() if p == levels["local"][12]]
    chosen = sorted({*levels["national"], levels["regional"][0], levels["regional"][4], levels["regional"][9],
                     levels["local"][0], levels["local"][25], levels["local"][47], levels["local"][12],
                     levels["local"][33], levels["neighbourhood"][10], levels["neighbourhood"][0],
                     levels["neighbourhood"][100], levels["neighbourhood"][170], cut_off[0],
                     levels["regional"][6], levels["local"][58]})
    world.author = ok(api.post("/v1/members", json={"name": "Fenna Fout", "email": "fenna.fout@example.org",
                                                    "perspectives": ["practitioner"]}), 201)["id"]
    starts = datetime.now(UTC) - timedelta(hours=3)

    def prepare(network_id: str) -> tuple[str, str]:
        ok(api.put(f"/v1/networks/{network_id}/members/{world.author}", json={"role": "participant"}))
        session = ok(api.post(f"/v1/networks/{network_id}/sessions", json={
            "title": "Leersessie onder storing", "format": "learning_session", "mode": "online",
            "meeting_url": "https://meet.example.org/faults", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat()}), 201)["id"]
        ok(api.post(f"/v1/sessions/{session}/hold"))
        return network_id, session

    world.sessions = dict(in_parallel(prepare, chosen))

    # The sessions service learns the author's memberships from events: one private output per session
    # (part of the ledger too) once it accepts them.
    def first_output(session: str) -> None:
        body = {"kind": "lesson", "title": f"Eerste les {session}", "authors": [world.author],
                "visibility": "network", "themes": ["zorg"]}
        eventually(lambda: api.post(f"/v1/sessions/{session}/outputs", json=body).status_code == 201,
                   "the author's membership reaching the sessions service", SETTLE, interval=0.2)

    in_parallel(first_output, list(world.sessions.values()))


def _partner(world: World, api: httpx.Client) -> None:
    levels = world.by_level
    world.partner_networks = [levels["regional"][2], levels["local"][30], levels["neighbourhood"][150]]
    partner = ok(api.post("/v1/partners", json={"name": "Partner onder storing",
                                                "network_ids": world.partner_networks}), 201)
    world.partner_id, world.partner_key = partner["partner_id"], partner["api_key"]
    # The relay follows a peer that never answers: it keeps trying and reporting, which is all it can do here.
    ok(api.post("/v1/peers", json={"instance_id": "kring-elders", "name": "Kring Elders", "address": "127.0.0.1:9",
                                   "api_key": "faults-peer-key-0123456789"}), 200, 201)


def _wait_for_links(world: World) -> None:
    """Outputs reach whoever is linked when they are shared: start only once every planned link is active."""
    pairs = [{c, p} for c, p in world.parent.items()] + [{x.requester, x.target} for x in world.peer_links]
    wanted = sum(1 for pair in pairs if not pair & world.blocked)

    def active() -> bool:
        with world.engine.connect() as conn:
            count = conn.execute(sqlalchemy.text(
                "SELECT count(*) FROM federation.links WHERE status = 'active'")).scalar_one()
        return count == wanted

    eventually(active, f"{wanted} active links in the federation service", SETTLE, interval=0.2)
