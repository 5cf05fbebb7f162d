"""Who may do what with links, blocks, partners, feeds and delivery logs (services/gateway/policy_federation.py)."""

import pytest

from services.gateway.admin import policy_federation as rules
from services.gateway.admin.policy import Principal

OPERATOR = Principal.the_operator()
NOORD_COORDINATOR = Principal(member_id="ann", administers=frozenset({"wijk-noord"}))
BETEROUD_COORDINATOR = Principal(member_id="bob", administers=frozenset({"beteroud"}))
OTHER_COORDINATOR = Principal(member_id="cas", administers=frozenset({"werkplaats-zuid"}))
NOORD_FACILITATOR = Principal(member_id="dia", facilitates=frozenset({"wijk-noord"}))
NOORD_MEMBER = Principal(member_id="eva", member_of=frozenset({"wijk-noord"}))
OUTSIDER = Principal(member_id="fay")

# wijk-noord asked beteroud to link
LINK = {"link_id": "l1", "requester_network_id": "wijk-noord", "target_network_id": "beteroud"}


@pytest.mark.parametrize(("principal", "allowed"), [
    (OPERATOR, True), (NOORD_COORDINATOR, True), (BETEROUD_COORDINATOR, False), (NOORD_FACILITATOR, False),
    (NOORD_MEMBER, False)])
def test_the_requesting_networks_coordinator_requests_a_link(principal, allowed):
    assert rules.can_request_link(principal, "wijk-noord") is allowed


@pytest.mark.parametrize(("principal", "allowed"), [
    (OPERATOR, True), (NOORD_COORDINATOR, True), (BETEROUD_COORDINATOR, True), (OTHER_COORDINATOR, False),
    (NOORD_FACILITATOR, False), (OUTSIDER, False)])
def test_the_coordinators_of_either_side_read_and_revoke_a_link(principal, allowed):
    assert rules.can_read_link(principal, LINK) is allowed
    assert rules.can_revoke_link(principal, LINK) is allowed


@pytest.mark.parametrize(("principal", "allowed"), [
    (OPERATOR, True), (BETEROUD_COORDINATOR, True), (NOORD_COORDINATOR, False), (OTHER_COORDINATOR, False)])
def test_only_the_asked_networks_coordinator_accepts_or_rejects(principal, allowed):
    assert rules.can_answer_link(principal, LINK) is allowed


def test_each_side_sets_the_policy_for_what_flows_from_it_and_only_that():
    assert rules.can_set_link_policy(NOORD_COORDINATOR, "wijk-noord")
    assert not rules.can_set_link_policy(NOORD_COORDINATOR, "beteroud")
    assert rules.can_set_link_policy(OPERATOR, "beteroud")


def test_a_networks_coordinator_lists_its_links():
    assert rules.can_list_links(NOORD_COORDINATOR, "wijk-noord")
    assert not rules.can_list_links(NOORD_FACILITATOR, "wijk-noord")
    assert not rules.can_list_links(BETEROUD_COORDINATOR, "wijk-noord")


@pytest.mark.parametrize("principal", [NOORD_COORDINATOR, BETEROUD_COORDINATOR, NOORD_MEMBER, OUTSIDER])
def test_blocking_and_partners_are_the_operators_alone(principal):
    assert not rules.can_block_network(principal)
    assert not rules.can_manage_partners(principal)
    assert rules.can_block_network(OPERATOR) and rules.can_manage_partners(OPERATOR)


@pytest.mark.parametrize(("principal", "allowed"), [
    (OPERATOR, True), (NOORD_COORDINATOR, True), (NOORD_FACILITATOR, True), (NOORD_MEMBER, True),
    (BETEROUD_COORDINATOR, False), (OUTSIDER, False)])
def test_a_networks_feed_is_for_the_people_inside_it(principal, allowed):
    assert rules.can_read_feed(principal, "wijk-noord") is allowed


@pytest.mark.parametrize(("principal", "allowed"), [
    (OPERATOR, True), (NOORD_COORDINATOR, True), (NOORD_FACILITATOR, False), (BETEROUD_COORDINATOR, False)])
def test_an_outputs_delivery_log_is_for_the_coordinators_of_its_origin(principal, allowed):
    assert rules.can_read_deliveries(principal, "wijk-noord") is allowed
