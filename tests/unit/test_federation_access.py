"""Who may do what with links, blocks, partners, feeds and delivery logs (services/federation/domain/access.py)."""

import pytest

from services.common.caller import Caller
from services.common.errors import PermissionDenied
from services.federation.domain import access as rules

OPERATOR = Caller.the_operator()
NOORD_COORDINATOR = Caller.member("ann", administers={"wijk-noord"})
BETEROUD_COORDINATOR = Caller.member("bob", administers={"beteroud"})
OTHER_COORDINATOR = Caller.member("cas", administers={"werkplaats-zuid"})
NOORD_FACILITATOR = Caller.member("dia", facilitates={"wijk-noord"})
NOORD_MEMBER = Caller.member("eva", member_of={"wijk-noord"})
OUTSIDER = Caller.member("fay")
NOORD_PARTNER = Caller.partner("p-noord", {"wijk-noord"})
OTHER_PARTNER = Caller.partner("p-zuid", {"werkplaats-zuid"})

# wijk-noord asked beteroud to link; wijk-noord is registered to the partner p-noord
SIDES = [("wijk-noord", "p-noord"), ("beteroud", None)]


@pytest.mark.parametrize(("caller", "allowed"), [
    (OPERATOR, True), (NOORD_COORDINATOR, True), (NOORD_PARTNER, True), (BETEROUD_COORDINATOR, False),
    (NOORD_FACILITATOR, False), (NOORD_MEMBER, False), (OTHER_PARTNER, False)])
def test_the_requesting_networks_coordinator_or_partner_requests_a_link(caller, allowed):
    assert rules.acts_for(caller, "wijk-noord", "p-noord") is allowed


@pytest.mark.parametrize(("caller", "allowed"), [
    (OPERATOR, True), (NOORD_COORDINATOR, True), (BETEROUD_COORDINATOR, True), (NOORD_PARTNER, True),
    (OTHER_COORDINATOR, False), (NOORD_FACILITATOR, False), (OUTSIDER, False), (OTHER_PARTNER, False)])
def test_the_coordinators_or_partners_of_either_side_read_and_revoke_a_link(caller, allowed):
    assert rules.can_read_link(caller, SIDES) is allowed


@pytest.mark.parametrize(("caller", "allowed"), [
    (OPERATOR, True), (BETEROUD_COORDINATOR, True), (NOORD_COORDINATOR, False), (OTHER_COORDINATOR, False),
    (NOORD_PARTNER, False), (OUTSIDER, False)])
def test_only_the_asked_networks_coordinators_or_the_operator_accept_or_reject(caller, allowed):
    """README and FEDERATION.md say the same: the target's coordinators, or the operator; never a partner."""
    assert rules.can_answer_link(caller, "beteroud") is allowed


def test_each_side_sets_the_policy_for_what_flows_from_it_and_only_that():
    assert rules.can_set_link_policy(NOORD_COORDINATOR, "wijk-noord")
    assert not rules.can_set_link_policy(NOORD_COORDINATOR, "beteroud")
    assert rules.can_set_link_policy(OPERATOR, "beteroud")


def test_a_networks_coordinator_lists_its_links():
    assert rules.can_list_links(NOORD_COORDINATOR, "wijk-noord")
    assert not rules.can_list_links(NOORD_FACILITATOR, "wijk-noord")
    assert not rules.can_list_links(BETEROUD_COORDINATOR, "wijk-noord")


@pytest.mark.parametrize("caller", [NOORD_COORDINATOR, BETEROUD_COORDINATOR, NOORD_MEMBER, OUTSIDER, NOORD_PARTNER])
def test_blocking_partners_and_peers_are_the_operators_alone(caller):
    with pytest.raises(PermissionDenied):
        rules.require_operator(caller)
    rules.require_operator(OPERATOR)


@pytest.mark.parametrize(("caller", "allowed"), [
    (OPERATOR, True), (NOORD_COORDINATOR, True), (NOORD_FACILITATOR, True), (NOORD_MEMBER, True),
    (NOORD_PARTNER, True), (BETEROUD_COORDINATOR, False), (OUTSIDER, False), (OTHER_PARTNER, False)])
def test_a_networks_feed_is_for_the_people_inside_it_and_its_partner(caller, allowed):
    assert rules.can_read_feed(caller, "wijk-noord", "p-noord") is allowed


@pytest.mark.parametrize(("caller", "allowed"), [
    (OPERATOR, True), (NOORD_COORDINATOR, True), (NOORD_FACILITATOR, False), (BETEROUD_COORDINATOR, False)])
def test_an_outputs_delivery_log_is_for_the_coordinators_of_its_origin(caller, allowed):
    assert rules.can_read_deliveries(caller, "wijk-noord") is allowed


def test_a_partner_refused_another_network_is_told_which_field_and_rule():
    with pytest.raises(PermissionDenied) as refused:
        rules.require_acts_for(OTHER_PARTNER, "wijk-noord", "p-noord", "network_ids.0")
    assert refused.value.violations[0]["field"] == "network_ids.0"
    assert refused.value.violations[0]["rule"] == "own_network"
