"""Loading the demo federation through the admin API, exactly as an administrator would.

Idempotent: a network whose name exists is reused, a member whose email is already registered (409) is
looked up instead of created, memberships are set with PUT, and sessions converge on their plan
(:mod:`services.demo.sessions`). Sessions load side by side, so a first load takes seconds.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import httpx

from services.common.vocabulary import MembershipRole
from services.demo.catalogue import (
    DEMO_MEMBERS,
    DEMO_MEMBERSHIPS,
    DEMO_NETWORKS,
    DEMO_QUESTIONS,
    EXAMPLE_TOKEN_HOLDER,
    EXAMPLE_TOKEN_LABEL,
    DemoMember,
    DemoQuestion,
    demo_member,
)
from services.demo.http import DemoDataError, all_pages, expect
from services.demo.plan import LoopSpec, ReflectionSpec, SessionSpec, plan_loops, plan_reflections, plan_sessions
from services.demo.sessions import Tally, existing_sessions, load_loops, load_reflections, load_session

PARALLEL = 8  # requests in flight at once
T = TypeVar("T")
U = TypeVar("U")


@dataclass
class DemoResult:
    network_ids: dict[str, str] = field(default_factory=dict)
    network_starts: dict[str, date] = field(default_factory=dict)
    networks_created: int = 0
    member_ids: dict[str, str] = field(default_factory=dict)
    created: int = 0
    existing: int = 0
    memberships: int = 0
    sessions: Tally = field(default_factory=Tally)
    token_holder: str = ""
    token: str | None = None
    token_reused: bool = False
    questions_answered: int = 0  # new this run
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        s = self.sessions
        return (f"{len(self.network_ids)} networks ({self.networks_created} new), {self.created + self.existing} "
                f"members ({self.created} new), {self.memberships} memberships, {s.sessions} sessions "
                f"({s.sessions_new} new), new: {s.registrations} registrations, {s.outputs} outputs "
                f"({s.retracted} retracted), {s.reflections} reflections, {s.loops} learning questions, "
                f"{self.questions_answered} questions to experts answered; loaded in {self.seconds:.1f} s")


def load_demo_data(client: httpx.Client, known_token: str | None = None,
                   now: Callable[[], datetime] = lambda: datetime.now(UTC),
                   networks: frozenset[str] | None = None) -> DemoResult:
    """Create the demo networks and members, set their memberships, bring their sessions to the plan and make
    sure an example token exists.

    ``known_token`` is the example token from an earlier run; it is kept when the API still accepts it,
    so restarts do not pile up tokens. ``networks``: only these demo networks (keys; a parent left out makes
    its children top-level networks), for one part of a federation of instances.
    """
    started = time.monotonic()
    result = DemoResult()
    paths = expect(client.get("/openapi.json"), "read the OpenAPI document", 200).get("paths", {})
    _load_networks(client, result, paths, now().date(), networks)
    _load_members(client, result)
    _load_memberships(client, result)
    if result.network_ids and "post" in paths.get("/v1/networks/{network_id}/sessions", {}):
        _load_sessions(client, result, now())
    elif result.network_ids:
        result.notes.append("this admin API has no sessions routes, so no sessions")
    if "post" in paths.get("/v1/questions", {}):
        for question in DEMO_QUESTIONS:
            if question.network in result.network_ids:
                result.questions_answered += _ask_and_answer(client, question, result)
    _example_token(client, result, known_token)
    result.seconds = time.monotonic() - started
    return result


def _in_parallel(work: Callable[[T], U], items: Iterable[T]) -> list[U]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(work, items))  # re-raises the first failure


def _load_networks(client: httpx.Client, result: DemoResult, paths: dict[str, Any], today: date,
                   only: frozenset[str] | None) -> None:
    if "post" not in paths.get("/v1/networks", {}):
        result.notes.append("this admin API cannot create networks (no POST /v1/networks), so no memberships")
        return
    known = {n["name"]: n for n in all_pages(client, "/v1/networks", {})}
    for network in DEMO_NETWORKS:  # parents first
        if only is not None and network.key not in only:
            continue
        item = known.get(network.name)
        if item is None:
            parent_id = result.network_ids.get(network.parent) if network.parent else None
            item = expect(client.post("/v1/networks", json=network.creation(parent_id, today)),
                          f"create network {network.name}", 201, 200)
            result.networks_created += 1
        result.network_ids[network.key] = item["id"]
        started = item.get("start_date")
        result.network_starts[network.key] = date.fromisoformat(started) if started else network.start_date(today)


def _load_members(client: httpx.Client, result: DemoResult) -> None:
    for member, (member_id, created) in zip(DEMO_MEMBERS, _in_parallel(lambda m: _ensure_member(client, m),
                                                                        DEMO_MEMBERS), strict=True):
        result.member_ids[member.key] = member_id
        if created:
            result.created += 1
        else:
            result.existing += 1


def _load_memberships(client: httpx.Client, result: DemoResult) -> None:
    def set_role(membership: tuple[str, str, MembershipRole]) -> None:
        network_key, key, role = membership
        path = f"/v1/networks/{result.network_ids[network_key]}/members/{result.member_ids[key]}"
        expect(client.put(path, json={"role": str(role)}), "set membership", 200, 201, 204)

    chosen = [m for m in DEMO_MEMBERSHIPS if m[0] in result.network_ids]
    _in_parallel(set_role, chosen)
    result.memberships = len(chosen)


def _load_sessions(client: httpx.Client, result: DemoResult, now: datetime) -> None:
    networks = [n for n in DEMO_NETWORKS if n.key in result.network_ids]
    plans = {n.key: plan_sessions(n, result.network_starts[n.key], now) for n in networks}
    found = dict(zip(plans, _in_parallel(lambda key: existing_sessions(client, result.network_ids[key]), plans),
                     strict=True))

    def load(item: tuple[str, SessionSpec]) -> tuple[str, int, str, Tally]:
        key, spec = item
        session_id, tally = load_session(client, result.network_ids[key], spec, found[key].get(spec.title),
                                         result.member_ids)
        return key, spec.number, session_id, tally

    session_ids: dict[tuple[str, int], str] = {}
    # Sessions are independent of each other, so they load side by side.
    for key, number, session_id, tally in _in_parallel(load, [(k, s) for k, specs in plans.items() for s in specs]):
        session_ids[key, number] = session_id
        result.sessions += tally
    by_member: dict[str, list[tuple[str, ReflectionSpec]]] = defaultdict(list)
    for network in networks:
        for spec in plan_reflections(network, plans[network.key]):
            by_member[spec.member].append((session_ids[network.key, spec.session_number], spec))
    recorded = _in_parallel(lambda item: load_reflections(client, result.member_ids[item[0]], item[1]),
                            sorted(by_member.items()))
    result.sessions.reflections += sum(recorded)
    loops: dict[tuple[str, str], list[LoopSpec]] = defaultdict(list)
    for network in networks:
        for loop in plan_loops(network, plans[network.key]):
            loops[loop.member, network.key].append(loop)

    def load_owner(item: tuple[tuple[str, str], list[LoopSpec]]) -> int:
        (member, key), specs = item
        numbered = {number: session_id for (k, number), session_id in session_ids.items() if k == key}
        return load_loops(client, result.member_ids[member], result.network_ids[key], specs, numbered)

    result.sessions.loops += sum(_in_parallel(load_owner, sorted(loops.items())))


def _example_token(client: httpx.Client, result: DemoResult, known_token: str | None) -> None:
    holder = demo_member(EXAMPLE_TOKEN_HOLDER)
    coordinates = [n.name for n in DEMO_NETWORKS if n.key in result.network_ids
                   and (n.key, holder.key, MembershipRole.COORDINATOR) in DEMO_MEMBERSHIPS]
    result.token_holder = holder.name + (f", coordinator of {coordinates[0]}" if coordinates else "")
    if known_token and _token_works(client, known_token):
        result.token, result.token_reused = known_token, True
        return
    response = client.post(f"/v1/members/{result.member_ids[holder.key]}/tokens", json={"label": EXAMPLE_TOKEN_LABEL})
    result.token = expect(response, "issue token", 200, 201)["token"]


def _ask_and_answer(client: httpx.Client, question: DemoQuestion, result: DemoResult) -> int:
    """The asker asks and the expert answers, each with a token of their own revoked afterwards, so restarts
    neither pile up tokens nor ask twice. Returns 1 if the question was answered now, 0 if it was before."""
    member_ids = result.member_ids
    tokens = {key: expect(client.post(f"/v1/members/{member_ids[key]}/tokens", json={"label": "demo: question"}),
                          "issue token", 200, 201) for key in (question.asker, question.expert)}

    def as_member(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[key]['token']}"}

    try:
        asked = expect(client.get("/v1/questions", params={"role": "asked"}, headers=as_member(question.asker)),
                       "list questions asked", 200)["items"]
        found = next((q for q in asked if q["question"] == question.question), None)
        if found is None:
            found = expect(client.post("/v1/questions", headers=as_member(question.asker), json={
                "expert_id": member_ids[question.expert], "network_id": result.network_ids[question.network],
                "tag": question.tag, "question": question.question, "share_name": question.share_name}),
                "ask an expert", 201)
        if found["status"] != "open":
            return 0
        expect(client.post(f"/v1/questions/{found['id']}/answer", headers=as_member(question.expert), json={
            "answer": question.answer, "share_email": True, "contact_note": question.contact_note}),
            "answer a question", 200)
        return 1
    finally:
        for issued in tokens.values():
            client.delete(f"/v1/tokens/{issued['token_id']}")


def _ensure_member(client: httpx.Client, member: DemoMember) -> tuple[str, bool]:
    response = client.post("/v1/members", json=member.registration())
    if response.status_code == 409:  # loaded by an earlier run
        return _find_member_id(client, member), False
    return expect(response, f"register {member.email}", 201, 200)["id"], True


def _find_member_id(client: httpx.Client, member: DemoMember) -> str:
    for item in all_pages(client, "/v1/members", {"organisation": member.organisation}):
        if str(item.get("email", "")).lower() == member.email.lower():
            found: str = item["id"]
            return found
    raise DemoDataError(f"{member.email} is registered (409) but GET /v1/members does not list it")


def _token_works(client: httpx.Client, token: str) -> bool:
    response = client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    return response.status_code == 200
