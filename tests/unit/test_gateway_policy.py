"""Who may do what in the admin API (services/gateway/policy.py)."""

import pytest

from services.common.errors import PermissionDenied
from services.gateway.admin import policy
from services.gateway.admin.policy import Principal

OPERATOR = Principal.the_operator()
COORDINATOR = Principal(member_id="coord", administers=frozenset({"wijk-noord", "werkplaats-zuid"}))
FACILITATOR = Principal(member_id="facil", facilitates=frozenset({"wijk-noord"}))
MEMBER = Principal(member_id="ann")


def test_the_operator_may_register_members():
    assert policy.can_register_member(OPERATOR)


def test_a_coordinator_of_any_network_may_register_members():
    assert policy.can_register_member(COORDINATOR)


def test_a_plain_member_or_facilitator_may_not_register_members():
    assert not policy.can_register_member(MEMBER)
    assert not policy.can_register_member(FACILITATOR)


def test_the_operator_searches_all_members():
    assert policy.search_scope(OPERATOR, None) is None
    assert policy.search_scope(OPERATOR, "any-network") is None


def test_a_coordinator_searches_only_members_of_the_networks_they_administer():
    assert policy.search_scope(COORDINATOR, None) == ["werkplaats-zuid", "wijk-noord"]


def test_a_coordinator_may_search_one_network_they_administer():
    assert policy.search_scope(COORDINATOR, "wijk-noord") == ["wijk-noord"]


def test_a_coordinator_may_not_search_a_network_they_do_not_administer():
    with pytest.raises(PermissionDenied):
        policy.search_scope(COORDINATOR, "elsewhere")


@pytest.mark.parametrize("principal", [MEMBER, FACILITATOR], ids=["member", "facilitator"])
def test_a_plain_member_or_facilitator_may_not_search_members(principal):
    with pytest.raises(PermissionDenied):
        policy.search_scope(principal, None)


def test_a_member_may_view_their_own_record():
    assert policy.can_view_member(MEMBER, "ann", [])


def test_a_member_may_not_view_another_member_even_in_the_same_network():
    assert not policy.can_view_member(MEMBER, "bob", ["wijk-noord"])


def test_a_coordinator_may_view_members_of_a_network_they_administer():
    assert policy.can_view_member(COORDINATOR, "bob", ["elsewhere", "wijk-noord"])


def test_a_coordinator_may_not_view_members_outside_their_networks():
    assert not policy.can_view_member(COORDINATOR, "bob", ["elsewhere"])
    assert not policy.can_view_member(COORDINATOR, "bob", [])


def test_a_facilitator_has_no_power_over_the_members_of_their_network():
    assert not policy.can_view_member(FACILITATOR, "bob", ["wijk-noord"])
    assert not policy.can_edit_profile(FACILITATOR, "bob", ["wijk-noord"])


def test_the_operator_may_view_and_edit_anyone():
    assert policy.can_view_member(OPERATOR, "bob", [])
    assert policy.can_edit_profile(OPERATOR, "bob", [])


def test_a_coordinator_may_edit_the_profile_of_members_of_their_networks():
    assert policy.can_edit_profile(COORDINATOR, "bob", ["wijk-noord"])
    assert not policy.can_edit_profile(COORDINATOR, "bob", ["elsewhere"])


def test_only_the_member_or_the_operator_may_change_consent():
    assert policy.can_change_consent(MEMBER, "ann")
    assert policy.can_change_consent(OPERATOR, "ann")
    assert not policy.can_change_consent(COORDINATOR, "ann")


def test_both_consent_flags_count_as_consent_and_profile_fields_do_not():
    assert policy.touches_consent({"name", "findable_by_expertise"})
    assert policy.touches_consent({"named_in_shared_outputs"})
    assert not policy.touches_consent({"name", "email", "organisation", "perspectives", "expertise"})


def test_only_the_operator_or_that_networks_coordinator_may_set_a_membership():
    assert policy.can_set_membership(OPERATOR, "anywhere")
    assert policy.can_set_membership(COORDINATOR, "wijk-noord")
    assert not policy.can_set_membership(COORDINATOR, "elsewhere")
    assert not policy.can_set_membership(MEMBER, "wijk-noord")


def test_a_member_may_not_join_a_network_on_their_own():
    assert not policy.can_set_membership(MEMBER, "wijk-noord")


def test_a_member_may_leave_any_network_themself():
    assert policy.can_remove_membership(MEMBER, "wijk-noord", "ann")
    assert not policy.can_remove_membership(MEMBER, "wijk-noord", "bob")


def test_a_coordinator_may_remove_members_only_from_networks_they_administer():
    assert policy.can_remove_membership(COORDINATOR, "wijk-noord", "bob")
    assert not policy.can_remove_membership(COORDINATOR, "elsewhere", "bob")


def test_only_the_member_or_the_operator_may_export_a_member():
    assert policy.can_export_member(MEMBER, "ann")
    assert policy.can_export_member(OPERATOR, "ann")
    assert not policy.can_export_member(COORDINATOR, "ann")
    assert not policy.can_export_member(MEMBER, "bob")


def test_only_the_member_or_the_operator_may_erase_a_member():
    assert policy.can_erase_member(MEMBER, "ann")
    assert policy.can_erase_member(OPERATOR, "ann")
    assert not policy.can_erase_member(COORDINATOR, "ann")


def test_only_the_operator_issues_and_revokes_tokens():
    assert policy.can_manage_tokens(OPERATOR)
    assert not policy.can_manage_tokens(COORDINATOR)
    assert not policy.can_manage_tokens(MEMBER)


def test_the_operator_is_nobody_in_particular():
    # An operator token does not make "self" checks pass for an absent member id.
    assert not OPERATOR.is_self("")
    assert OPERATOR.member_id is None


def test_a_principal_is_read_from_the_members_services_authenticate_answer():
    principal = Principal.from_rpc({"member_id": "ann", "administers": ["a", "b"], "facilitates": ["c"]})
    assert principal == Principal(member_id="ann", administers=frozenset({"a", "b"}), facilitates=frozenset({"c"}))
    assert not principal.operator


def test_require_raises_permission_denied_with_the_reason():
    with pytest.raises(PermissionDenied, match="not yours"):
        policy.require(False, "not yours")
    policy.require(True)


# --- networks ---------------------------------------------------------------------------------------------


def test_the_operator_may_create_any_network_including_a_top_level_one():
    assert policy.can_create_network(OPERATOR, None)
    assert policy.can_create_network(OPERATOR, "anywhere")


def test_a_coordinator_may_create_a_child_under_a_network_they_administer():
    assert policy.can_create_network(COORDINATOR, "wijk-noord")


def test_a_coordinator_may_not_create_a_child_under_a_network_they_do_not_administer():
    assert not policy.can_create_network(COORDINATOR, "elsewhere")


def test_only_the_operator_may_create_a_top_level_network():
    assert not policy.can_create_network(COORDINATOR, None)


@pytest.mark.parametrize("principal", [MEMBER, FACILITATOR], ids=["member", "facilitator"])
def test_a_plain_member_or_facilitator_may_not_create_networks(principal):
    assert not policy.can_create_network(principal, "wijk-noord")
    assert not policy.can_create_network(principal, None)


def test_the_operator_or_that_networks_coordinator_may_update_and_archive_it():
    for allowed in (policy.can_update_network, policy.can_archive_network):
        assert allowed(OPERATOR, "anywhere")
        assert allowed(COORDINATOR, "wijk-noord")
        assert not allowed(COORDINATOR, "elsewhere")


def test_a_facilitator_or_member_may_not_update_or_archive_their_network():
    for allowed in (policy.can_update_network, policy.can_archive_network):
        assert not allowed(FACILITATOR, "wijk-noord")
        assert not allowed(MEMBER, "wijk-noord")


def test_administering_a_parent_does_not_extend_to_its_children():
    # the scope is the network itself: a child network has its own coordinators
    regional = Principal(member_id="reg", administers=frozenset({"werkplaats-utrecht"}))
    assert not policy.can_update_network(regional, "buurtteam-overvecht")


def test_keeping_the_parent_needs_no_extra_permission():
    assert policy.can_move_network(COORDINATOR, "elsewhere", "elsewhere")
    assert policy.can_move_network(COORDINATOR, None, None)


def test_moving_a_network_under_another_parent_needs_the_new_parents_administrator():
    assert policy.can_move_network(COORDINATOR, "elsewhere", "werkplaats-zuid")
    assert not policy.can_move_network(COORDINATOR, "werkplaats-zuid", "elsewhere")


def test_only_the_operator_may_make_a_network_top_level():
    assert not policy.can_move_network(COORDINATOR, "werkplaats-zuid", None)
    assert policy.can_move_network(OPERATOR, "werkplaats-zuid", None)


def test_the_operator_may_move_a_network_anywhere():
    assert policy.can_move_network(OPERATOR, None, "anywhere")


def test_the_operator_and_the_networks_coordinators_and_facilitators_read_its_health_report():
    assert policy.can_read_health_report(OPERATOR, "anywhere")
    assert policy.can_read_health_report(COORDINATOR, "wijk-noord")
    assert policy.can_read_health_report(FACILITATOR, "wijk-noord")


def test_nobody_else_reads_a_networks_health_report():
    assert not policy.can_read_health_report(COORDINATOR, "elsewhere")
    assert not policy.can_read_health_report(FACILITATOR, "elsewhere")
    assert not policy.can_read_health_report(MEMBER, "wijk-noord")


# --- sessions, outputs, reflections -----------------------------------------------------------------------

PARTICIPANT = Principal(member_id="pia", member_of=frozenset({"wijk-noord"}))
STAFF = (OPERATOR, COORDINATOR, FACILITATOR)
SCOPED = (policy.can_schedule_session, policy.can_change_session, policy.can_list_registrations,
          policy.can_record_attendance, policy.can_publish_output, policy.can_retract_output,
          policy.can_read_learning_report)


def test_a_principal_carries_every_network_the_member_belongs_to():
    principal = Principal.from_rpc({"member_id": "pia", "administers": ["a"], "facilitates": ["b"],
                                    "member_of": ["a", "b", "c"]})
    assert principal.member_of == frozenset({"a", "b", "c"})
    assert principal.networks == frozenset({"a", "b", "c"})


def test_the_networks_a_caller_is_inside_of_include_those_they_administer_or_facilitate():
    assert COORDINATOR.networks == frozenset({"wijk-noord", "werkplaats-zuid"})
    assert PARTICIPANT.networks == frozenset({"wijk-noord"})


@pytest.mark.parametrize("allowed", SCOPED, ids=[f.__name__ for f in SCOPED])
def test_the_operator_and_a_networks_coordinators_and_facilitators_run_its_sessions(allowed):
    assert all(allowed(p, "wijk-noord") for p in STAFF)


@pytest.mark.parametrize("allowed", SCOPED, ids=[f.__name__ for f in SCOPED])
def test_a_participant_or_the_staff_of_another_network_do_not_run_a_networks_sessions(allowed):
    assert not allowed(PARTICIPANT, "wijk-noord")
    assert not allowed(MEMBER, "wijk-noord")
    assert not allowed(COORDINATOR, "elsewhere")
    assert not allowed(FACILITATOR, "werkplaats-zuid")


def test_the_meeting_link_is_for_people_inside_the_sessions_network_and_the_operator():
    assert policy.sees_meeting_url(OPERATOR, "anywhere")
    assert policy.sees_meeting_url(PARTICIPANT, "wijk-noord")
    assert policy.sees_meeting_url(COORDINATOR, "werkplaats-zuid")
    assert not policy.sees_meeting_url(PARTICIPANT, "elsewhere")
    assert not policy.sees_meeting_url(MEMBER, "wijk-noord")


def test_a_member_registers_themself_for_sessions_of_a_network_they_belong_to():
    assert policy.can_register_for_session(PARTICIPANT, "wijk-noord", "pia")


def test_a_member_does_not_register_for_a_network_they_do_not_belong_to_nor_register_someone_else():
    assert not policy.can_register_for_session(PARTICIPANT, "elsewhere", "pia")
    assert not policy.can_register_for_session(PARTICIPANT, "wijk-noord", "bob")


def test_a_networks_staff_and_the_operator_register_anyone_for_its_sessions():
    assert all(policy.can_register_for_session(p, "wijk-noord", "bob") for p in STAFF)
    assert not policy.can_register_for_session(COORDINATOR, "elsewhere", "bob")


def test_a_member_cancels_their_own_registration_and_the_staff_anyones():
    assert policy.can_cancel_registration(PARTICIPANT, "wijk-noord", "pia")
    assert not policy.can_cancel_registration(PARTICIPANT, "wijk-noord", "bob")
    assert all(policy.can_cancel_registration(p, "wijk-noord", "bob") for p in STAFF)


def test_an_output_kept_within_its_network_is_read_only_inside_it():
    assert policy.can_read_output(PARTICIPANT, "wijk-noord", "network")
    assert policy.can_read_output(OPERATOR, "wijk-noord", "network")
    assert not policy.can_read_output(PARTICIPANT, "elsewhere", "network")


@pytest.mark.parametrize("visibility", ["linked", "federation", "public"])
def test_an_output_shared_beyond_its_network_is_read_by_any_caller(visibility):
    assert policy.can_read_output(MEMBER, "wijk-noord", visibility)


def test_readers_attribute_authors_from_inside_every_network_they_belong_to_administer_or_facilitate():
    assert policy.viewer_network_ids(COORDINATOR, "ignored") == ["werkplaats-zuid", "wijk-noord"]
    assert policy.viewer_network_ids(MEMBER) == []


def test_the_operator_reads_an_output_from_inside_its_network():
    assert policy.viewer_network_ids(OPERATOR, "wijk-noord") == ["wijk-noord"]
    assert policy.viewer_network_ids(OPERATOR) == []


def test_reflections_are_personal_so_only_a_member_records_one_and_the_operator_does_not():
    assert policy.can_record_reflection(PARTICIPANT)
    assert policy.can_record_reflection(COORDINATOR)
    assert not policy.can_record_reflection(OPERATOR)


def test_a_member_reflects_on_sessions_of_networks_they_are_in_and_nobody_on_other_networks_sessions():
    assert policy.can_reflect_on(PARTICIPANT, "wijk-noord")
    assert policy.can_reflect_on(COORDINATOR, "werkplaats-zuid") and policy.can_reflect_on(FACILITATOR, "wijk-noord")
    assert not policy.can_reflect_on(PARTICIPANT, "elsewhere")
    assert not policy.can_reflect_on(OPERATOR, "wijk-noord")


def test_a_member_who_creates_a_network_becomes_its_coordinator_and_the_operator_does_not():
    assert policy.new_network_coordinator(COORDINATOR) == "coord"
    assert policy.new_network_coordinator(OPERATOR) is None
