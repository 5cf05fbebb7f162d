"""Callers for tests: the operator, and members with the networks they are in."""

from __future__ import annotations

from services.common.caller import Caller

OPERATOR = Caller.the_operator()
member = Caller.member


def partner(partner_id: str, *network_ids: str) -> Caller:
    """A partner organisation (its networks are checked where the service holds them)."""
    return Caller.partner(partner_id, network_ids)


def reader(*network_ids: str) -> Caller:
    """A member inside these networks (any role): what they may read, and how authors appear to them."""
    return Caller.member("reader", member_of=set(network_ids))

THE_GATEWAY = Caller.internal("gateway")  # the gateway's feed hub, reading every network's log for all streams

OPERATOR_WIRE = OPERATOR.wire()  # the operator as a call carries it (for fakes of the services)
