"""The member aggregate's rules, in plain Python."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.common.catalogue import (
    MemberErased,
    MemberRegistered,
    MembershipJoined,
    MembershipLeft,
    MemberUpdated,
)
from services.common.errors import Conflict, NotFound
from services.common.vocabulary import MembershipRole, Perspective
from services.members.domain import ERASED_NAME, Member, email_taken

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=1)


def new_member(member_id: str = "m-1", **overrides: Any) -> Member:
    profile: dict[str, Any] = {
        "name": "Anna de Vries", "email": "anna@example.org", "organisation": "Gemeente Utrecht",
        "perspectives": [Perspective.MUNICIPALITY_POLICY, Perspective.LIVED_EXPERIENCE],
        "expertise": ["armoede", "schulden"], "findable_by_expertise": True, "named_in_shared_outputs": True,
    }
    member = Member.register(member_id, now=T0, **(profile | overrides))
    member.events.clear()
    return member


def test_registering_records_one_member_registered_event_at_revision_one() -> None:
    member = Member.register("m-1", now=T0, name="Anna", email="anna@example.org", organisation=None,
                             perspectives=[Perspective.RESIDENT], expertise=[], findable_by_expertise=False,
                             named_in_shared_outputs=False)
    assert member.revision == 1
    assert member.created_at == member.updated_at == T0
    assert member.events == [MemberRegistered(member_id="m-1", revision=1, name="Anna", email="anna@example.org",
                                              organisation=None, perspectives=[Perspective.RESIDENT],
                                              expertise=[], findable_by_expertise=False,
                                              named_in_shared_outputs=False)]


CHANGES: dict[str, tuple[Callable[[Member], Any], type]] = {
    "update": (lambda m: m.update({"name": "Anna Jansen"}, now=LATER), MemberUpdated),
    "join": (lambda m: m.join("utrecht-armoede", MembershipRole.PARTICIPANT, now=LATER), MembershipJoined),
    "change role": (lambda m: m.join("wijk-noord", MembershipRole.COORDINATOR, now=LATER), MembershipJoined),
    "leave": (lambda m: m.leave("wijk-noord", now=LATER), MembershipLeft),
    "erase": (lambda m: m.erase(now=LATER), MemberErased),
}


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_raises_the_revision_and_records_one_event(change: str) -> None:
    member = new_member()
    member.join("wijk-noord", MembershipRole.PARTICIPANT, now=T0)
    member.events.clear()
    before = member.revision
    apply, event_type = CHANGES[change]

    apply(member)

    assert member.revision == before + 1
    assert member.updated_at == LATER
    assert len(member.events) == 1
    assert isinstance(member.events[0], event_type)
    assert member.events[0].revision == member.revision  # a read model can drop stale events by revision


def test_an_update_that_changes_nothing_records_no_event_and_keeps_the_revision() -> None:
    member = new_member()
    member.update({"name": member.name, "expertise": list(member.expertise)}, now=LATER)
    assert member.revision == 1
    assert member.updated_at == T0
    assert member.events == []


def test_an_update_event_carries_the_whole_new_profile() -> None:
    member = new_member()
    member.update({"organisation": None, "findable_by_expertise": False}, now=LATER)
    (updated,) = member.events
    assert isinstance(updated, MemberUpdated)
    assert updated.organisation is None
    assert updated.findable_by_expertise is False
    assert updated.name == member.name and updated.email == member.email


def test_joining_again_with_the_same_role_changes_nothing() -> None:
    member = new_member()
    first = member.join("utrecht-armoede", MembershipRole.FACILITATOR, now=T0)
    member.events.clear()
    revision = member.revision

    again = member.join("utrecht-armoede", MembershipRole.FACILITATOR, now=LATER)

    assert again == first
    assert member.revision == revision
    assert member.events == []


def test_changing_role_keeps_the_original_join_date() -> None:
    member = new_member()
    member.join("utrecht-armoede", MembershipRole.PARTICIPANT, now=T0)
    changed = member.join("utrecht-armoede", MembershipRole.COORDINATOR, now=LATER)
    assert changed.role == MembershipRole.COORDINATOR
    assert changed.joined_at == T0


def test_a_joined_event_carries_the_members_perspectives_and_role() -> None:
    member = new_member()
    member.join("utrecht-armoede", MembershipRole.FACILITATOR, now=LATER)
    (joined,) = member.events
    assert joined == MembershipJoined(member_id="m-1", network_id="utrecht-armoede",
                                      role=MembershipRole.FACILITATOR, perspectives=member.perspectives,
                                      revision=2)


def test_leaving_a_network_one_is_not_in_is_not_found() -> None:
    member = new_member()
    with pytest.raises(NotFound) as raised:
        member.leave("elsewhere", now=LATER)
    assert raised.value.violations[0]["field"] == "network_id"
    assert member.revision == 1
    assert member.events == []


def test_erasure_removes_name_email_organisation_perspectives_and_memberships() -> None:
    member = new_member()
    member.join("utrecht-armoede", MembershipRole.COORDINATOR, now=T0)

    member.erase(now=LATER)

    assert member.id == "m-1"  # kept, so counts elsewhere stay right
    assert member.name == ERASED_NAME
    assert "anna" not in member.email and member.email.endswith(".invalid")
    assert member.organisation is None
    assert member.perspectives == [] and member.expertise == []
    assert member.memberships == {}
    assert member.findable_by_expertise is False and member.named_in_shared_outputs is False
    assert member.erased and member.erased_at == LATER


def test_erased_members_get_distinct_placeholder_emails() -> None:
    one, two = new_member("m-1"), new_member("m-2", email="b@example.org")
    one.erase(now=LATER)
    two.erase(now=LATER)
    assert one.email != two.email  # the email column is unique


def test_erasing_twice_changes_nothing_the_second_time() -> None:
    member = new_member()
    member.erase(now=T0)
    member.events.clear()
    member.erase(now=LATER)
    assert member.erased_at == T0
    assert member.revision == 2
    assert member.events == []


@pytest.mark.parametrize("change", [
    lambda m: m.update({"name": "Someone"}, now=LATER),
    lambda m: m.join("utrecht-armoede", MembershipRole.PARTICIPANT, now=LATER),
    lambda m: m.leave("utrecht-armoede", now=LATER),
], ids=["update", "join", "leave"])
def test_an_erased_member_cannot_be_updated(change: Callable[[Member], Any]) -> None:
    member = new_member()
    member.erase(now=T0)
    member.events.clear()
    with pytest.raises(Conflict) as raised:
        change(member)
    assert raised.value.violations[0]["rule"] == "not_erased"
    assert member.events == []


def test_administers_lists_coordinator_networks_only() -> None:
    member = new_member()
    member.join("z-network", MembershipRole.COORDINATOR, now=T0)
    member.join("a-network", MembershipRole.COORDINATOR, now=T0)
    member.join("facilitated", MembershipRole.FACILITATOR, now=T0)
    member.join("attended", MembershipRole.PARTICIPANT, now=T0)
    assert member.administers() == ["a-network", "z-network"]


def test_facilitates_lists_facilitator_networks_only() -> None:
    member = new_member()
    member.join("run", MembershipRole.COORDINATOR, now=T0)
    member.join("helps-b", MembershipRole.FACILITATOR, now=T0)
    member.join("helps-a", MembershipRole.FACILITATOR, now=T0)
    assert member.facilitates() == ["helps-a", "helps-b"]


def test_a_taken_email_is_a_conflict_on_field_email_rule_unique() -> None:
    error = email_taken("anna@example.org")
    assert isinstance(error, Conflict)
    assert error.violations == [{"field": "email", "rule": "unique",
                                 "message": "this email address is already registered"}]

