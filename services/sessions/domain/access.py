"""Who may do what with sessions, registrations, attendance, outputs and reflections: plain functions of a
:class:`Caller`.

A network's coordinators and facilitators (its staff) and the operator schedule its sessions, move them through
their life cycle, register anyone in the network, list registrations, record attendance, publish and retract
outputs and read its learning report. A member registers themself for sessions of networks they belong to,
cancels their own registration, and records their own reflections on those networks' sessions; reflections are
personal, so not even the operator records one. The session directory is open to every caller, but a meeting
link only reaches the people inside the network. Inside its network every output shows, authors named; outside
it only public ones, an author who did not consent shown by their role (outputs shared with linked networks or
the federation reach those networks through their feeds).
"""

from __future__ import annotations

from services.common.caller import Caller
from services.common.vocabulary import Visibility

NOT_STAFF = "only the network's coordinators and facilitators do this"


def staffs(caller: Caller, network_id: str) -> bool:
    return caller.staffs(network_id)


def sees_meeting_url(caller: Caller, network_id: str) -> bool:
    return caller.inside(network_id)


def sees_conclusions(caller: Caller, network_id: str) -> bool:
    """A café's conclusions stay with the people inside the network; they travel as outputs."""
    return caller.inside(network_id)


def can_register_for_session(caller: Caller, network_id: str, member_id: str) -> bool:
    """Members register themselves for sessions of their networks; the network's staff register anyone."""
    return caller.staffs(network_id) or (caller.is_self(member_id) and network_id in caller.member_of)


def can_cancel_registration(caller: Caller, network_id: str, member_id: str) -> bool:
    return caller.staffs(network_id) or caller.is_self(member_id)


def reads_as_inside(caller: Caller, network_id: str) -> bool:
    """Inside the network (the operator reads as if inside every one): every output shows, authors named."""
    return caller.inside(network_id)


def may_read_output(caller: Caller, network_id: str, visibility: Visibility) -> bool:
    return reads_as_inside(caller, network_id) or visibility == Visibility.PUBLIC


def can_record_reflection(caller: Caller) -> bool:
    """A reflection is the member's own: only a member records one, for themself."""
    return caller.is_member


def can_reflect_on(caller: Caller, network_id: str) -> bool:
    """On a session of a network they belong to (in any role), as registering for one: outside it, 403."""
    return can_record_reflection(caller) and network_id in caller.networks


def owns_personal_data(caller: Caller, member_id: str) -> bool:
    """A member's data export: the member themself, or the operator."""
    return caller.operator or caller.is_self(member_id)
