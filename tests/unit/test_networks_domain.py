"""The network aggregate's rules, in plain Python: the national → regional → local → neighbourhood hierarchy,
the archive life cycle, revisions and the events every change records."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.common.catalogue import NetworkArchived, NetworkCreated, NetworkUpdated
from services.common.errors import Conflict, IllegalTransition, ValidationFailed
from services.common.events import new_envelope, parse_event
from services.common.vocabulary import NetworkKind, NetworkLevel, NetworkStatus, UnpreparedPolicy
from services.networks.domain import Network, ancestors_of

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=1)

NATIONAL, REGIONAL, LOCAL, NEIGHBOURHOOD = NetworkLevel  # in hierarchy order, highest first


def profile(level: NetworkLevel, parent_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    return {
        "name": f"A {level} network", "level": level, "kind": NetworkKind.COMMUNITY_OF_PRACTICE,
        "theme": "Eenzaamheid onder ouderen", "urgency": "Een op de drie 75-plussers voelt zich eenzaam",
        "host_organisation": "Movisie", "parent_id": parent_id, "region": "Utrecht", "cadence_weeks": 6,
        "start_date": date(2025, 1, 15), "requires_preparation": False, "unprepared_policy": UnpreparedPolicy.REFUSE,
    } | overrides


class Hierarchy:
    """Networks held in a dict, handed to the domain the way the update handler hands them over."""

    def __init__(self) -> None:
        self.networks: dict[str, Network] = {}

    def add(self, network_id: str, level: NetworkLevel, parent_id: str | None = None, **overrides: Any) -> Network:
        parent = self.networks.get(parent_id) if parent_id else None
        network = Network.create(network_id, now=T0, parent=parent, **profile(level, parent_id, **overrides))
        network.events.clear()
        self.networks[network_id] = network
        return network

    def parent_of(self, network_id: str) -> str | None:
        found = self.networks.get(network_id)
        return found.parent_id if found else None

    def update(self, network_id: str, **changes: Any) -> Network:
        network = self.networks[network_id]
        parent_id = changes.get("parent_id", network.parent_id)
        network.update(
            changes, now=LATER, parent=self.networks.get(parent_id) if parent_id else None,
            ancestors=ancestors_of(parent_id, self.parent_of),
            child_levels=[n.level for n in self.networks.values() if n.parent_id == network_id and n.active],
        )
        return network


@pytest.fixture
def tree() -> Hierarchy:
    """national ← regional ← local ← neighbourhood, one of each."""
    hierarchy = Hierarchy()
    hierarchy.add("beter-oud", NATIONAL)
    hierarchy.add("werkplaats-utrecht", REGIONAL, "beter-oud")
    hierarchy.add("utrecht-armoede", LOCAL, "werkplaats-utrecht")
    hierarchy.add("wijk-overvecht", NEIGHBOURHOOD, "utrecht-armoede")
    return hierarchy


def rules(raised: pytest.ExceptionInfo) -> list[tuple[str, str]]:
    return [(v["field"], v["rule"]) for v in raised.value.violations]


# --- hierarchy ---------------------------------------------------------------------------------------------

LEGAL = [(parent, child) for parent, child in itertools.product(NetworkLevel, repeat=2) if child.depth > parent.depth]
ILLEGAL = [(parent, child) for parent, child in itertools.product(NetworkLevel, repeat=2)
           if child.depth <= parent.depth]


def test_the_levels_run_national_regional_local_neighbourhood() -> None:
    assert [level.depth for level in (NATIONAL, REGIONAL, LOCAL, NEIGHBOURHOOD)] == [0, 1, 2, 3]
    assert (len(LEGAL), len(ILLEGAL)) == (6, 10)


@pytest.mark.parametrize(("parent_level", "child_level"), ILLEGAL, ids=lambda level: str(level))
def test_a_child_at_the_same_or_a_higher_level_than_its_parent_is_refused(
    parent_level: NetworkLevel, child_level: NetworkLevel
) -> None:
    hierarchy = Hierarchy()
    hierarchy.add("parent", parent_level)
    with pytest.raises(ValidationFailed) as raised:
        hierarchy.add("child", child_level, "parent")
    assert rules(raised) == [("parent_id", "level_below_parent")]
    assert "child" not in hierarchy.networks


@pytest.mark.parametrize(("parent_level", "child_level"), LEGAL, ids=lambda level: str(level))
def test_a_child_at_any_lower_level_than_its_parent_is_accepted(
    parent_level: NetworkLevel, child_level: NetworkLevel
) -> None:
    hierarchy = Hierarchy()
    hierarchy.add("parent", parent_level)
    assert hierarchy.add("child", child_level, "parent").parent_id == "parent"


def test_a_network_without_a_parent_may_sit_at_any_level() -> None:
    hierarchy = Hierarchy()
    assert [hierarchy.add(f"n-{level}", level).parent_id for level in NetworkLevel] == [None] * 4


def test_a_parent_that_does_not_exist_is_refused_on_parent_id_with_rule_exists() -> None:
    with pytest.raises(ValidationFailed) as raised:
        Hierarchy().add("child", LOCAL, "nowhere")
    assert rules(raised) == [("parent_id", "exists")]
    assert "nowhere" in raised.value.message


def test_an_archived_parent_is_refused_on_parent_id_with_rule_active() -> None:
    hierarchy = Hierarchy()
    hierarchy.add("old-national", NATIONAL).archive(now=LATER, active_children=0)
    with pytest.raises(ValidationFailed) as raised:
        hierarchy.add("child", REGIONAL, "old-national")
    assert rules(raised) == [("parent_id", "active")]


def test_moving_a_network_under_an_archived_parent_is_refused(tree: Hierarchy) -> None:
    tree.add("other-national", NATIONAL).archive(now=LATER, active_children=0)
    with pytest.raises(ValidationFailed) as raised:
        tree.update("werkplaats-utrecht", parent_id="other-national")
    assert rules(raised) == [("parent_id", "active")]


def test_moving_a_network_under_a_parent_at_its_own_level_is_refused(tree: Hierarchy) -> None:
    tree.add("werkplaats-zuid", REGIONAL)
    with pytest.raises(ValidationFailed) as raised:
        tree.update("werkplaats-utrecht", parent_id="werkplaats-zuid")
    assert rules(raised) == [("parent_id", "level_below_parent")]


def test_a_network_cannot_be_its_own_parent(tree: Hierarchy) -> None:
    with pytest.raises(ValidationFailed) as raised:
        tree.update("werkplaats-utrecht", parent_id="werkplaats-utrecht")
    assert rules(raised) == [("parent_id", "no_cycle")]


@pytest.mark.parametrize("descendant", ["utrecht-armoede", "wijk-overvecht"])
def test_a_network_cannot_move_under_one_of_its_descendants(tree: Hierarchy, descendant: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        tree.update("werkplaats-utrecht", parent_id=descendant)
    assert rules(raised) == [("parent_id", "no_cycle")]


def test_a_loop_is_reported_as_a_cycle_rather_than_as_a_level_error() -> None:
    hierarchy = Hierarchy()
    hierarchy.add("top", LOCAL)
    hierarchy.add("bottom", NEIGHBOURHOOD, "top")
    with pytest.raises(ValidationFailed) as raised:
        hierarchy.update("top", parent_id="bottom")  # also a level error, but the loop is what to fix
    assert rules(raised) == [("parent_id", "no_cycle")]


def test_a_network_can_move_to_another_parent_higher_up() -> None:
    hierarchy = Hierarchy()
    hierarchy.add("national", NATIONAL)
    hierarchy.add("regional", REGIONAL, "national")
    hierarchy.add("local", LOCAL, "regional")
    moved = hierarchy.update("local", parent_id="national")
    assert moved.parent_id == "national"
    assert moved.events[0].parent_id == "national"


def test_a_network_can_leave_the_hierarchy(tree: Hierarchy) -> None:
    assert tree.update("utrecht-armoede", parent_id=None).parent_id is None


@pytest.mark.parametrize("new_level", [LOCAL, NEIGHBOURHOOD])
def test_a_network_cannot_drop_to_or_below_the_level_of_an_active_child(tree: Hierarchy,
                                                                         new_level: NetworkLevel) -> None:
    # werkplaats-utrecht (regional) has utrecht-armoede (local) below it
    with pytest.raises(ValidationFailed) as raised:
        tree.update("werkplaats-utrecht", level=new_level)
    assert rules(raised) == [("level", "above_children")]


def test_a_network_can_change_level_while_it_stays_between_its_parent_and_its_children() -> None:
    hierarchy = Hierarchy()
    hierarchy.add("national", NATIONAL)
    hierarchy.add("middle", REGIONAL, "national")
    hierarchy.add("street", NEIGHBOURHOOD, "middle")
    assert hierarchy.update("middle", level=LOCAL).level == LOCAL


def test_an_archived_child_does_not_hold_its_parent_level_in_place(tree: Hierarchy) -> None:
    tree.networks["wijk-overvecht"].archive(now=LATER, active_children=0)
    assert tree.update("utrecht-armoede", level=NEIGHBOURHOOD).level == NEIGHBOURHOOD


def test_a_rejected_update_leaves_the_network_as_it_was(tree: Hierarchy) -> None:
    network = tree.networks["werkplaats-utrecht"]
    before = network.snapshot()
    with pytest.raises(ValidationFailed):
        tree.update("werkplaats-utrecht", level=LOCAL, name="Renamed")
    assert network.snapshot() == before
    assert network.events == []


# --- ancestors_of ------------------------------------------------------------------------------------------


def test_ancestors_of_lists_the_network_then_its_parents_nearest_first(tree: Hierarchy) -> None:
    assert ancestors_of("wijk-overvecht", tree.parent_of) == [
        "wijk-overvecht", "utrecht-armoede", "werkplaats-utrecht", "beter-oud",
    ]


def test_ancestors_of_no_network_is_empty() -> None:
    assert ancestors_of(None, {}.get) == []


def test_ancestors_of_stops_at_its_limit_when_stored_parents_loop() -> None:
    looping = {"a": "b", "b": "a"}
    assert ancestors_of("a", looping.get, limit=5) == ["a", "b", "a", "b", "a"]


# --- life cycle ----------------------------------------------------------------------------------------------


def test_archiving_a_network_with_active_children_is_a_conflict_that_changes_nothing(tree: Hierarchy) -> None:
    network = tree.networks["werkplaats-utrecht"]
    with pytest.raises(Conflict) as raised:
        network.archive(now=LATER, active_children=1)
    assert not isinstance(raised.value, IllegalTransition)
    assert rules(raised) == [("status", "no_active_children")]
    assert "1 active child" in raised.value.message
    assert (network.status, network.revision, network.updated_at, network.events) == (NetworkStatus.ACTIVE, 1, T0, [])


def test_archiving_a_network_without_active_children_archives_it(tree: Hierarchy) -> None:
    network = tree.networks["wijk-overvecht"]
    network.archive(now=LATER, active_children=0)
    assert network.status == NetworkStatus.ARCHIVED
    assert not network.active


@pytest.mark.parametrize("verb", ["update", "archive"])
def test_an_archived_network_can_be_neither_updated_nor_archived_again(tree: Hierarchy, verb: str) -> None:
    network = tree.networks["wijk-overvecht"]
    network.archive(now=LATER, active_children=0)
    network.events.clear()
    with pytest.raises(IllegalTransition) as raised:
        if verb == "update":
            tree.update("wijk-overvecht", name="Wijk Overvecht-Noord")
        else:
            network.archive(now=LATER, active_children=0)
    assert rules(raised) == [("status", "illegal_transition")]
    assert (network.revision, network.events) == (2, [])


# --- revisions and events ----------------------------------------------------------------------------------

CHANGES: dict[str, tuple[Callable[[Hierarchy], Network], type]] = {
    "rename": (lambda h: h.update("utrecht-armoede", name="Armoede en schulden Utrecht"), NetworkUpdated),
    "clear urgency": (lambda h: h.update("utrecht-armoede", urgency=None), NetworkUpdated),
    "change kind and cadence": (lambda h: h.update("utrecht-armoede", kind=NetworkKind.LEARNING_CIRCLE,
                                                   cadence_weeks=2), NetworkUpdated),
    "require preparation": (lambda h: h.update("utrecht-armoede", requires_preparation=True,
                                               unprepared_policy=UnpreparedPolicy.FLAG), NetworkUpdated),
    "move": (lambda h: h.update("utrecht-armoede", parent_id="beter-oud"), NetworkUpdated),
    "archive": (lambda h: _archived(h.networks["wijk-overvecht"]), NetworkArchived),
}


def _archived(network: Network) -> Network:
    network.archive(now=LATER, active_children=0)
    return network


def round_trip(payload: Any) -> Any:
    """What a consumer gets back after the event crossed the wire."""
    _, parsed = parse_event(new_envelope(payload, producer="networks").to_wire())
    return parsed


def test_creating_records_one_network_created_event_at_revision_one() -> None:
    network = Network.create("beter-oud", now=T0, parent=None, **profile(NATIONAL))
    assert (network.revision, network.status, network.created_at, network.updated_at) == (
        1, NetworkStatus.ACTIVE, T0, T0)
    (created,) = network.events
    assert created == NetworkCreated(**network.snapshot())
    assert created.network_id == "beter-oud" and created.revision == 1
    assert round_trip(created) == created


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_raises_the_revision_by_one_and_records_one_event_that_crosses_the_wire(
    tree: Hierarchy, change: str
) -> None:
    apply, event_type = CHANGES[change]
    network = apply(tree)
    assert network.revision == 2
    assert network.updated_at == LATER and network.created_at == T0
    (recorded,) = network.events
    assert type(recorded) is event_type
    assert recorded.revision == network.revision  # a consumer can drop stale snapshots by revision
    assert recorded == type(recorded)(**network.snapshot())  # the whole new state, not a diff
    assert round_trip(recorded) == recorded


def test_two_changes_make_revision_three_and_two_events_in_order(tree: Hierarchy) -> None:
    tree.update("utrecht-armoede", name="Armoede Utrecht")
    network = tree.update("utrecht-armoede", region="Midden-Nederland")
    assert network.revision == 3
    assert [(type(e), e.revision) for e in network.events] == [(NetworkUpdated, 2), (NetworkUpdated, 3)]


def test_an_update_that_changes_nothing_records_nothing_and_keeps_the_revision(tree: Hierarchy) -> None:
    network = tree.networks["utrecht-armoede"]
    same = {name: value for name, value in network.snapshot().items()
            if name not in ("network_id", "revision", "status")}
    tree.update("utrecht-armoede", **same)
    assert (network.revision, network.updated_at, network.events) == (1, T0, [])


def test_the_archived_event_carries_the_archived_status(tree: Hierarchy) -> None:
    network = _archived(tree.networks["wijk-overvecht"])
    assert network.events[0].status == NetworkStatus.ARCHIVED
