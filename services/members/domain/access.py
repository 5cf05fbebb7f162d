"""Who may do what with members' records, tokens and memberships: plain functions of a :class:`Caller`.

The operator may everything. A member reaches their own record; a coordinator also the records of the members
of the networks they coordinate, and may register new members; a facilitator reads (lists, looks up) the records
of the members of the networks they facilitate, whom they register for sessions, but edits none. Consent is the
member's own decision: a coordinator may fix a typo in a name, not opt someone in. A member's data export and
erasure are theirs (and the operator's). Tokens are issued by the operator, or by a sign-in the sign-in broker
vouches for (the gateway authenticates the broker); a member may revoke their own (signing out), the operator
anyone's. A network's coordinators set its memberships; anyone may leave a network.

A question to an expert is between its two parties: a member asks in a network they belong to, only the asker
and the expert see it, only the expert answers or declines it. The operator keeps Kring running and reads no
one's questions, not even their metadata (docs/decisions/0010-asking-an-expert.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from services.common.caller import Caller, require
from services.members.schemas import CONSENT_FIELDS


def can_register_member(caller: Caller) -> bool:
    return caller.operator or caller.is_coordinator


def search_scope(caller: Caller, network_id: str | None) -> list[str] | None:
    """The networks a search must stay within: ``None`` means no restriction.

    Raises PermissionDenied when the caller may not search at all, or names a network they do not coordinate.
    """
    if caller.operator:
        return None
    staffed = caller.administers | caller.facilitates
    require(bool(staffed), "searching members needs a coordinator's, a facilitator's or the operator's token")
    if network_id is not None:
        require(network_id in staffed, f"you neither coordinate nor facilitate network {network_id}")
        return [network_id]
    return sorted(staffed)


def expertise_scope(caller: Caller, network_id: str | None) -> list[str] | None:
    """The networks an expertise search stays within (``None``: no restriction, the operator's).

    A member finds the experts of the networks they belong to, in any role; naming a network they are not in is
    refused, as is a partner (partners search across the federation over gRPC) or no member at all.
    """
    if caller.operator:
        return None if network_id is None else [network_id]
    require(caller.is_member, "finding experts needs a member's token")
    if network_id is not None:
        require(caller.inside(network_id), f"you are not in network {network_id}")
        return [network_id]
    return sorted(caller.networks)


def can_view_member(caller: Caller, member_id: str, member_networks: Iterable[str]) -> bool:
    networks = frozenset(member_networks)
    return can_edit_profile(caller, member_id, networks) or not caller.facilitates.isdisjoint(networks)


def can_edit_profile(caller: Caller, member_id: str, member_networks: Iterable[str]) -> bool:
    return caller.operator or caller.is_self(member_id) or caller.coordinates_any(member_networks)


def can_change_consent(caller: Caller, member_id: str) -> bool:
    return caller.operator or caller.is_self(member_id)


def touches_consent(changed_fields: Iterable[str]) -> bool:
    return not CONSENT_FIELDS.isdisjoint(changed_fields)


def can_set_membership(caller: Caller, network_id: str) -> bool:
    return caller.coordinates(network_id)


def can_remove_membership(caller: Caller, network_id: str, member_id: str) -> bool:
    return caller.coordinates(network_id) or caller.is_self(member_id)


def owns_personal_data(caller: Caller, member_id: str) -> bool:
    """Export and erasure: the member themself, or the operator."""
    return caller.operator or caller.is_self(member_id)


def can_issue_tokens(caller: Caller) -> bool:
    return caller.operator


def can_revoke_token(caller: Caller, holder_id: str) -> bool:
    """The operator, or the token's own holder (signing out)."""
    return caller.operator or caller.is_self(holder_id)


def creator_becomes_coordinator(caller: Caller) -> bool:
    """A member who creates a network becomes its coordinator, so they can staff it; the operator is nobody in
    particular, so nobody."""
    return caller.is_member


def require_asking_in(caller: Caller, network_id: str) -> str:
    """The asker's member id: a member, asking in a network they belong to."""
    require(caller.is_member and caller.member_id is not None, "asking an expert needs a member's token")
    require(network_id in caller.networks, f"you are not in network {network_id}")
    assert caller.member_id is not None
    return caller.member_id


def require_own_questions(caller: Caller) -> str:
    """Whose questions a list shows: the caller's own; only a member has any."""
    require(caller.is_member and caller.member_id is not None, "questions to experts are a member's own")
    assert caller.member_id is not None
    return caller.member_id


def can_see_question(caller: Caller, asker_id: str, expert_id: str) -> bool:
    return caller.is_self(asker_id) or caller.is_self(expert_id)


def can_close_question(caller: Caller, expert_id: str) -> bool:
    """Answering or declining: the expert asked, no one else."""
    return caller.is_self(expert_id)
