"""Random federations for the property tests, how to build one through the real handlers, and an oracle.

- :func:`federations` draws 10 to 40 networks (a hierarchy, some archived, some blocked), parent/child and peer
  links in random statuses with random per-direction policies (a subset of linked/federation/public and an
  optional theme filter), members with random names, perspectives and consent, and outputs with random
  origins, visibilities, themes and authors.
- :func:`build` drives the federation service's real handlers (links, network snapshots) on a
  ``FederationUnitOfWork``; events go through ``apply_once`` by envelope id, as the service's entrypoints do.
- :func:`reach_by_fixpoint` is the oracle (:func:`expected_audience` applies it to a plan), written
  independently of ``domain/audience.py``: it grows the reached set until a fixpoint instead of a
  breadth-first search, over edges read from the plan (never from the database).

The property suite needs neither a broker nor eventlet: run it in its own pytest process
(``HYPOTHESIS_PROFILE=long`` for a longer run).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from services.common.catalogue import Attribution, NetworkSnapshot, OutputPublished, SharingPolicy
from services.common.uow import apply_once
from services.common.vocabulary import (
    NetworkKind,
    NetworkLevel,
    NetworkStatus,
    OutputKind,
    Perspective,
    UnpreparedPolicy,
    Visibility,
    author_role,
)
from services.federation import models
from services.federation.handlers import links
from services.federation.schemas import AcceptLink, BlockSubject, RequestLink, SetLinkPolicy
from services.sessions.domain.outputs import attribution
from services.sessions.domain.read_models import Person
from tests.support.callers import OPERATOR

# --- profiles: bounded by default, longer on request ----------------------------------------------------------

_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("kring-property", max_examples=int(os.environ.get("KRING_PROPERTY_EXAMPLES", "100")),
                          **_COMMON)
settings.register_profile("long", max_examples=1000, **_COMMON)
PROFILE = settings.get_profile("long" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "kring-property")

SHAREABLE = ("linked", "federation", "public")
POLICY_THEMES = ("wonen", "Zorg", "ARMOEDE", "jeugd")  # as an administrator may type them
OUTPUT_THEMES = ("wonen", "zorg", "Armoede", "jeugd", "sport")
PUBLIC = "public"  # the public feed
T0 = datetime(2026, 3, 3, 19, 30, tzinfo=UTC)


# --- the plan --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyPlan:
    visibilities: frozenset[str]
    themes: frozenset[str] | None  # None: no filter

    def admits(self, visibility: str, themes: tuple[str, ...]) -> bool:
        if visibility not in self.visibilities:
            return False
        return self.themes is None or any(t.lower() in {f.lower() for f in self.themes} for t in themes)

    def wire(self) -> SharingPolicy:
        return SharingPolicy(visibilities=[Visibility(v) for v in sorted(self.visibilities)],
                             themes=sorted(self.themes) if self.themes is not None else None)


EVERYTHING = PolicyPlan(frozenset(SHAREABLE), None)  # what a link carries when nobody set a policy


@dataclass(frozen=True)
class LinkPlan:
    kind: str  # parent_child or peer
    requester: str
    target: str
    status: str  # requested, active, rejected or revoked (before any block)
    requester_policy: PolicyPlan | None  # what flows requester → target; None: left at the default
    target_policy: PolicyPlan | None


@dataclass(frozen=True)
class Member:
    member_id: str
    name: str
    perspectives: tuple[Perspective, ...]
    consents: bool

    def person(self) -> Person:
        return Person(self.member_id, 1, self.name, self.perspectives, self.consents)


@dataclass(frozen=True)
class OutputPlan:
    output_id: str
    origin: str
    visibility: str
    themes: tuple[str, ...]
    authors: tuple[Member, ...]

    def event(self) -> OutputPublished:
        """output.published exactly as the sessions service builds it: each author as seen from outside."""
        return OutputPublished(
            output_id=self.output_id, session_id=f"s-{self.output_id}", network_id=self.origin,
            kind=OutputKind.LESSON, title=f"Title of {self.output_id}", body="What we learned.", url=None,
            resource_type=None, themes=list(self.themes), visibility=Visibility(self.visibility),
            licence="CC-BY-4.0", authors=[attribution(m.person(), inside_network=False) for m in self.authors],
            published_at=T0 + timedelta(minutes=int(self.output_id.split("-")[1])))


@dataclass(frozen=True)
class Federation:
    networks: tuple[str, ...]
    parents: dict[str, str]
    archived: frozenset[str]
    blocked: frozenset[str]
    links: tuple[LinkPlan, ...]
    members: tuple[Member, ...]
    outputs: tuple[OutputPlan, ...]

    def active_edges(self) -> list[tuple[str, str, PolicyPlan]]:
        """Directed edges of the links active once everything is built: a block ends every open link of the
        blocked network, so a link is active iff planned active and neither side is blocked."""
        edges = []
        for link in self.links:
            if link.status == "active" and not {link.requester, link.target} & self.blocked:
                edges.append((link.requester, link.target, link.requester_policy or EVERYTHING))
                edges.append((link.target, link.requester, link.target_policy or EVERYTHING))
        return edges


@dataclass
class Event:
    kind: str  # publish or retract
    output: OutputPlan
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


# --- strategies ------------------------------------------------------------------------------------------------


def policies() -> st.SearchStrategy[PolicyPlan | None]:
    plan = st.builds(PolicyPlan, st.frozensets(st.sampled_from(SHAREABLE)),
                     st.none() | st.frozensets(st.sampled_from(POLICY_THEMES), max_size=3))
    # A theme filter without visibilities is refused (rule required_with_themes): no link can carry one.
    return st.none() | plan.filter(lambda p: bool(p.visibilities) or not p.themes)


@st.composite
def federations(draw: st.DrawFn, min_networks: int = 10, max_networks: int = 40,
                max_outputs: int = 25) -> Federation:
    count = draw(st.integers(min_networks, max_networks))
    ids = tuple(f"n{i:02d}" for i in range(count))
    parents = {}
    for i, network_id in enumerate(ids[1:], start=1):
        parent = draw(st.none() | st.sampled_from(ids[:i]))
        if parent is not None:
            parents[network_id] = parent
    plans = [LinkPlan("parent_child", parent, child, draw(st.sampled_from(("active", "active", "revoked"))),
                      draw(policies()), draw(policies())) for child, parent in parents.items()]
    hierarchy = {frozenset(pair) for pair in parents.items()}
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=count * 2,
                          unique_by=lambda p: frozenset(p)))
    for requester, target in pairs:
        if requester != target and frozenset((requester, target)) not in hierarchy:
            status = draw(st.sampled_from(("requested", "requested", "active", "active", "active", "rejected",
                                           "revoked")))
            plans.append(LinkPlan("peer", requester, target, status, draw(policies()), draw(policies())))
    archived = draw(st.frozensets(st.sampled_from(ids), max_size=max(1, count // 4)))
    blocked = draw(st.frozensets(st.sampled_from(ids), max_size=max(1, count // 6)))
    # Names are any text, fenced so that no name can hide inside another; ids are equally recognisable.
    anything = st.text(st.characters(codec="utf-8", exclude_characters="«»"), max_size=8)
    members = tuple(
        Member(f"member-{i}-id", f"«Name{i}:{draw(anything)}»",
               tuple(draw(st.lists(st.sampled_from(list(Perspective)), max_size=2, unique=True))),
               draw(st.booleans()))
        for i in range(draw(st.integers(1, 6))))
    # Most outputs come from a few busy networks, so that backfill and retraction meet shared outputs often.
    origins = st.sampled_from(ids[: max(3, count // 4)]) | st.sampled_from(ids)
    outputs = tuple(
        OutputPlan(f"out-{k}", draw(origins), draw(st.sampled_from([v.value for v in Visibility])),
                   tuple(draw(st.lists(st.sampled_from(OUTPUT_THEMES), max_size=3, unique=True))),
                   tuple(draw(st.lists(st.sampled_from(members), max_size=3, unique_by=lambda m: m.member_id))))
        for k in range(draw(st.integers(1, max_outputs))))
    return Federation(ids, parents, archived, blocked, tuple(plans), members, outputs)


@st.composite
def scripts(draw: st.DrawFn, federation: Federation) -> list[Event]:
    """Publish every output, retract some; duplicate some events (the same envelope redelivered, or the same
    payload under a new envelope); deliver the lot in any order."""
    events = [Event("publish", o) for o in federation.outputs]
    events += [Event("retract", o) for o in federation.outputs if draw(st.booleans()) and draw(st.booleans())]
    duplicates = draw(st.lists(st.tuples(st.sampled_from(events), st.booleans()), max_size=len(events)))
    events += [Event(e.kind, e.output, e.event_id if same else uuid.uuid4()) for e, same in duplicates]
    return draw(st.permutations(events))


# --- building it through the real handlers -----------------------------------------------------------------------


class NoLookup:
    """Every network is in the federation's read model before it is linked; asking elsewhere is a bug here."""

    def get(self, network_id: str) -> dict[str, Any] | None:
        raise AssertionError(f"the read model should know {network_id}")


def reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(models.metadata.sorted_tables):
            conn.execute(delete(table))


def snapshot(network_id: str, revision: int, parent: str | None, status: str) -> NetworkSnapshot:
    return NetworkSnapshot(
        network_id=network_id, revision=revision, name=f"Network {network_id}", level=NetworkLevel.LOCAL,
        kind=NetworkKind.COMMUNITY_OF_PRACTICE, theme="eenzaamheid", urgency=None, host_organisation=None,
        parent_id=parent, region=None, cadence_weeks=6, start_date=date(2026, 1, 1), requires_preparation=False,
        unprepared_policy=UnpreparedPolicy.FLAG, status=NetworkStatus(status))


def network_event(uow: Any, event: NetworkSnapshot) -> None:
    apply_once(uow, uuid.uuid4(), "federation.on_network_updated", lambda u: links.on_network_changed(event, u))


def build(uow: Any, federation: Federation) -> None:
    """Networks (with their hierarchy links), then peer links and policies, then archives, then blocks."""
    for network_id in federation.networks:
        network_event(uow, snapshot(network_id, 1, federation.parents.get(network_id), "active"))
    for plan in federation.links:
        if plan.kind == "parent_child":
            _shape_hierarchy_link(uow, plan)
        else:
            _make_peer_link(uow, plan)
    for network_id in sorted(federation.archived):
        network_event(uow, snapshot(network_id, 2, federation.parents.get(network_id), "archived"))
    for network_id in sorted(federation.blocked):
        links.block_network(OPERATOR, network_id, BlockSubject(reason="property test"), uow, NoLookup())


def _shape_hierarchy_link(uow: Any, plan: LinkPlan) -> None:
    [link] = [link for link in links.list_links(OPERATOR, plan.target, "active", uow)
              if link.kind == "parent_child" and link.requester_network_id == plan.requester]
    for side, policy in ((plan.requester, plan.requester_policy), (plan.target, plan.target_policy)):
        if policy is not None:
            links.set_link_policy(OPERATOR, link.link_id, SetLinkPolicy(network_id=side, policy=policy.wire()), uow)
    if plan.status == "revoked":
        links.revoke_link(OPERATOR, link.link_id, uow)


def _make_peer_link(uow: Any, plan: LinkPlan) -> None:
    wire = plan.requester_policy.wire() if plan.requester_policy else None
    link = links.request_link(OPERATOR, RequestLink(requester_network_id=plan.requester,
                                                    target_network_id=plan.target, policy=wire), uow, NoLookup()).link
    answer = plan.target_policy.wire() if plan.target_policy else None
    if plan.status == "requested" and answer is not None:
        links.set_link_policy(OPERATOR, link.link_id, SetLinkPolicy(network_id=plan.target, policy=answer), uow)
    elif plan.status in ("active", "revoked"):
        links.accept_link(OPERATOR, link.link_id, AcceptLink(policy=answer), uow)
        if plan.status == "revoked":
            links.revoke_link(OPERATOR, link.link_id, uow)
    elif plan.status == "rejected":
        links.reject_link(OPERATOR, link.link_id, uow)


# --- the oracle --------------------------------------------------------------------------------------------------


def expected_audience(federation: Federation, output: OutputPlan) -> set[str]:
    """Networks that must hold a copy of ``output`` when it is shared after the federation was built
    (the public feed is not a network; see :func:`expected_recipients`)."""
    return reach_by_fixpoint(output.origin, output.visibility, output.themes, federation.active_edges(),
                             blocked=set(federation.blocked), closed=set(federation.archived))


def reach_by_fixpoint(origin: str, visibility: str, themes: tuple[str, ...],
                      edges: list[tuple[str, str, PolicyPlan]], *, blocked: set[str], closed: set[str]) -> set[str]:
    """The oracle: keep the directed edges whose policy admits the output and that touch no blocked or
    archived network; `linked` takes one step from the origin, `federation` and `public` grow the reached set
    step by step until it stops changing."""
    if visibility == "network" or origin in blocked:
        return set()
    shut = blocked | closed
    usable = {(source, target) for source, target, policy in edges
              if source not in shut and target not in shut and policy.admits(visibility, themes)}
    if visibility == "linked":
        return {target for source, target in usable if source == origin} - {origin}
    reached = {origin}
    while True:
        grown = reached | {target for source, target in usable if source in reached}
        if grown == reached:
            return reached - {origin}
        reached = grown


def expected_recipients(federation: Federation, output: OutputPlan) -> set[str]:
    """The audience, and the public feed for a public output whose origin is not blocked."""
    public = {PUBLIC} if output.visibility == "public" and output.origin not in federation.blocked else set()
    return expected_audience(federation, output) | public


def shown_authors(output: OutputPlan, erased: set[str]) -> list[dict[str, Any]]:
    """The authors a copy must show: as attributed outside the network; an erased one as a former member."""
    shown = []
    for member in output.authors:
        a: Attribution = attribution(
            Person(member.member_id, 1, "", (), False, erased=True) if member.member_id in erased
            else member.person(), inside_network=False)
        # A reader gets each author's role code beside the English label (None for a name): the vocabulary's table.
        shown.append({"shown_as": a.shown_as, "named": a.named, "role": author_role(a.shown_as, a.named)})
    return shown


def strings_in(value: Any) -> list[str]:
    """Every string in a JSON-like value, keys included: where a name could hide."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_in(k), *strings_in(v))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_in(v)]
    return []


def table_state(engine: Engine) -> dict[str, list[tuple]]:
    """What readers can observe: outputs, deliveries and the log (not the processed-event markers)."""
    with engine.connect() as conn:
        return {table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))]
                for table in (models.outputs, models.deliveries, models.feed_log, models.links, models.blocks)}
