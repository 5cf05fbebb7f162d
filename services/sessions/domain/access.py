"""Who may do what with sessions, registrations, attendance, outputs and reflections: plain functions of a
:class:`Caller`.

A network's coordinators and facilitators (its staff) and the operator schedule its sessions, move them through
their life cycle, register anyone in the network, list registrations, record attendance, publish and retract outputs
and read its learning report. A member registers themself for sessions of networks they belong to, cancels and reads
their own registration, and records and reads their own reflections on those networks' sessions; reflections are
personal, so not even the operator records one (the operator may read them). The session directory is open to every
caller, but a meeting link only reaches the people inside the network. Inside its network every output shows,
authors named; outside it only public ones, an author who did not consent shown by their role (outputs shared with
linked networks or the federation reach those networks through their feeds). A learning question and its experiment
are their owner's and their network's: the owner and the network's staff see and move them, the network's other
members see them only if the owner shared them, and nobody outside the network sees them at all.
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


def can_read_registration(caller: Caller, network_id: str, member_id: str) -> bool:
    """One's own registration, so a member sees whether they hold a seat or wait; the staff see anyone's (they
    list them all). Another member's is not theirs to see: who goes is the staff's to tell."""
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


def reads_reflections_of(caller: Caller, member_id: str) -> bool:
    """Reflections are personal: the member reads their own; the operator may read anyone's. Facilitators and
    coordinators see them only counted, in the learning report."""
    return caller.is_self(member_id) or caller.operator


def owns_personal_data(caller: Caller, member_id: str) -> bool:
    """A member's data export: the member themself, or the operator."""
    return caller.operator or caller.is_self(member_id)


# --- the action-learning loop: a person's questions and experiments are theirs and their network's -------------

LOOP_NOT_YOURS = "a learning question is seen by its owner and their network's coordinators and facilitators"


def can_open_question(caller: Caller, network_id: str) -> bool:
    """A learning question is the member's own: they open it, in a network they belong to (any role)."""
    return caller.is_member and network_id in caller.networks


def works_on_loop(caller: Caller, network_id: str, owner_id: str) -> bool:
    """The owner, and the network's staff (who record what the group did with it); the operator as staff."""
    return caller.is_self(owner_id) or caller.staffs(network_id)


def sees_loop(caller: Caller, network_id: str, owner_id: str, shared_with_network: bool) -> bool:
    """Those who work on it; the network's other members only if the owner shared it with them. Nobody outside."""
    return works_on_loop(caller, network_id, owner_id) or (shared_with_network and caller.inside(network_id))
