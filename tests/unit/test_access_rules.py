"""Who may do what with members, networks and sessions: the rules of each service (services/<service>/domain/
access.py), as plain functions of a caller (services/common/caller.py)."""

import pytest

from services.common.caller import Caller, require
from services.common.errors import PermissionDenied
from services.common.vocabulary import Visibility
from services.gateway.admin.auth import caller_of_member
from services.members.domain import access as members
from services.networks.domain import access as networks
from services.sessions.domain import access as sessions

OPERATOR = Caller.the_operator()
COORDINATOR = Caller.member("coord", administers={"wijk-noord", "werkplaats-zuid"})
FACILITATOR = Caller.member("facil", facilitates={"wijk-noord"})
MEMBER = Caller.member("ann")


def test_the_operator_may_register_members():
    assert members.can_register_member(OPERATOR)


def test_a_coordinator_of_any_network_may_register_members():
    assert members.can_register_member(COORDINATOR)


def test_a_plain_member_or_facilitator_may_not_register_members():
    assert not members.can_register_member(MEMBER)
    assert not members.can_register_member(FACILITATOR)


def test_the_operator_searches_all_members():
    assert members.search_scope(OPERATOR, None) is None
    assert members.search_scope(OPERATOR, "any-network") is None


def test_a_coordinator_searches_only_members_of_the_networks_they_administer():
    assert members.search_scope(COORDINATOR, None) == ["werkplaats-zuid", "wijk-noord"]


def test_a_coordinator_may_search_one_network_they_administer():
    assert members.search_scope(COORDINATOR, "wijk-noord") == ["wijk-noord"]


def test_a_coordinator_may_not_search_a_network_they_do_not_administer():
    with pytest.raises(PermissionDenied):
        members.search_scope(COORDINATOR, "elsewhere")


def test_a_plain_member_may_not_search_members():
    with pytest.raises(PermissionDenied):
        members.search_scope(MEMBER, None)


def test_a_facilitator_searches_only_the_members_of_the_networks_they_facilitate():
    assert members.search_scope(FACILITATOR, None) == ["wijk-noord"]
    assert members.search_scope(FACILITATOR, "wijk-noord") == ["wijk-noord"]
    with pytest.raises(PermissionDenied, match="elsewhere"):
        members.search_scope(FACILITATOR, "elsewhere")


def test_one_who_coordinates_one_network_and_facilitates_another_searches_both():
    both = Caller.member("cf", administers={"wijk-noord"}, facilitates={"werkplaats-zuid"})
    assert members.search_scope(both, None) == ["werkplaats-zuid", "wijk-noord"]


def test_a_member_may_view_their_own_record():
    assert members.can_view_member(MEMBER, "ann", [])


def test_a_member_may_not_view_another_member_even_in_the_same_network():
    assert not members.can_view_member(MEMBER, "bob", ["wijk-noord"])


def test_a_coordinator_may_view_members_of_a_network_they_administer():
    assert members.can_view_member(COORDINATOR, "bob", ["elsewhere", "wijk-noord"])


def test_a_coordinator_may_not_view_members_outside_their_networks():
    assert not members.can_view_member(COORDINATOR, "bob", ["elsewhere"])
    assert not members.can_view_member(COORDINATOR, "bob", [])


def test_a_facilitator_reads_but_does_not_edit_the_records_of_the_members_of_their_network():
    assert members.can_view_member(FACILITATOR, "bob", ["wijk-noord"])
    assert not members.can_edit_profile(FACILITATOR, "bob", ["wijk-noord"])


def test_a_facilitator_does_not_read_the_records_of_members_outside_their_networks():
    assert not members.can_view_member(FACILITATOR, "bob", ["elsewhere"])


def test_the_operator_may_view_and_edit_anyone():
    assert members.can_view_member(OPERATOR, "bob", [])
    assert members.can_edit_profile(OPERATOR, "bob", [])


def test_a_coordinator_may_edit_the_profile_of_members_of_their_networks():
    assert members.can_edit_profile(COORDINATOR, "bob", ["wijk-noord"])
    assert not members.can_edit_profile(COORDINATOR, "bob", ["elsewhere"])


def test_only_the_member_or_the_operator_may_change_consent():
    assert members.can_change_consent(MEMBER, "ann")
    assert members.can_change_consent(OPERATOR, "ann")
    assert not members.can_change_consent(COORDINATOR, "ann")


def test_both_consent_flags_count_as_consent_and_profile_fields_do_not():
    assert members.touches_consent({"name", "findable_by_expertise"})
    assert members.touches_consent({"named_in_shared_outputs"})
    assert not members.touches_consent({"name", "email", "organisation", "perspectives", "expertise"})


def test_only_the_operator_or_that_networks_coordinator_may_set_a_membership():
    assert members.can_set_membership(OPERATOR, "anywhere")
    assert members.can_set_membership(COORDINATOR, "wijk-noord")
    assert not members.can_set_membership(COORDINATOR, "elsewhere")
    assert not members.can_set_membership(MEMBER, "wijk-noord")


def test_a_member_may_not_join_a_network_on_their_own():
    assert not members.can_set_membership(MEMBER, "wijk-noord")


def test_a_member_may_leave_any_network_themself():
    assert members.can_remove_membership(MEMBER, "wijk-noord", "ann")
    assert not members.can_remove_membership(MEMBER, "wijk-noord", "bob")


def test_a_coordinator_may_remove_members_only_from_networks_they_administer():
    assert members.can_remove_membership(COORDINATOR, "wijk-noord", "bob")
    assert not members.can_remove_membership(COORDINATOR, "elsewhere", "bob")


def test_only_the_member_or_the_operator_may_export_a_member():
    assert members.owns_personal_data(MEMBER, "ann")
    assert members.owns_personal_data(OPERATOR, "ann")
    assert not members.owns_personal_data(COORDINATOR, "ann")
    assert not members.owns_personal_data(MEMBER, "bob")


def test_only_the_member_or_the_operator_may_erase_a_member():
    assert members.owns_personal_data(MEMBER, "ann")
    assert members.owns_personal_data(OPERATOR, "ann")
    assert not members.owns_personal_data(COORDINATOR, "ann")


def test_only_the_operator_issues_tokens():
    assert members.can_issue_tokens(OPERATOR)
    assert not members.can_issue_tokens(COORDINATOR)
    assert not members.can_issue_tokens(MEMBER)


def test_a_member_revokes_their_own_token_the_operator_anyones_no_one_else_anothers():
    assert members.can_revoke_token(MEMBER, "ann")
    assert members.can_revoke_token(OPERATOR, "ann")
    assert not members.can_revoke_token(COORDINATOR, "ann")
    assert not members.can_revoke_token(MEMBER, "bob")


def test_the_operator_is_nobody_in_particular():
    # An operator token does not make "self" checks pass for an absent member id.
    assert not OPERATOR.is_self("")
    assert OPERATOR.member_id is None


def test_a_caller_is_read_from_the_members_services_authenticate_answer():
    caller = caller_of_member({"member_id": "ann", "administers": ["a", "b"], "facilitates": ["c"]})
    assert caller == Caller.member("ann", administers={"a", "b"}, facilitates={"c"})
    assert not caller.operator


def test_a_caller_travels_as_json_and_comes_back_the_same():
    for caller in (OPERATOR, COORDINATOR, Caller.partner("p-1", {"x", "y"}), Caller.internal("sessions")):
        assert Caller.of(caller.wire()) == caller


def test_a_service_asking_on_its_own_behalf_has_the_operators_authority_but_is_nobody():
    service = Caller.internal("sessions")
    assert service.operator and service.member_id is None and service.scope == "service:sessions"


def test_idempotency_keys_are_scoped_to_the_person_behind_an_operators_sign_in_not_shared_by_all_operators():
    olga, piet = Caller(kind="operator", member_id="olga"), Caller(kind="operator", member_id="piet")
    assert (olga.scope, piet.scope) == ("member:olga", "member:piet")
    assert OPERATOR.scope == "operator" and Caller.member("olga").scope == "member:olga"
    assert olga.operator and olga.coordinates("any") and not olga.is_member  # its authority is unchanged


def test_require_raises_permission_denied_with_the_reason():
    with pytest.raises(PermissionDenied, match="not yours"):
        require(False, "not yours")
    require(True)


# --- networks ---------------------------------------------------------------------------------------------


def test_the_operator_may_create_any_network_including_a_top_level_one():
    assert networks.can_create_network(OPERATOR, None)
    assert networks.can_create_network(OPERATOR, "anywhere")


def test_a_coordinator_may_create_a_child_under_a_network_they_administer():
    assert networks.can_create_network(COORDINATOR, "wijk-noord")


def test_a_coordinator_may_not_create_a_child_under_a_network_they_do_not_administer():
    assert not networks.can_create_network(COORDINATOR, "elsewhere")


def test_only_the_operator_may_create_a_top_level_network():
    assert not networks.can_create_network(COORDINATOR, None)


@pytest.mark.parametrize("principal", [MEMBER, FACILITATOR], ids=["member", "facilitator"])
def test_a_plain_member_or_facilitator_may_not_create_networks(principal):
    assert not networks.can_create_network(principal, "wijk-noord")
    assert not networks.can_create_network(principal, None)


def test_the_operator_or_that_networks_coordinator_may_update_and_archive_it():
    for allowed in (networks.can_update_network, networks.can_archive_network):
        assert allowed(OPERATOR, "anywhere")
        assert allowed(COORDINATOR, "wijk-noord")
        assert not allowed(COORDINATOR, "elsewhere")


def test_a_facilitator_or_member_may_not_update_or_archive_their_network():
    for allowed in (networks.can_update_network, networks.can_archive_network):
        assert not allowed(FACILITATOR, "wijk-noord")
        assert not allowed(MEMBER, "wijk-noord")


def test_administering_a_parent_does_not_extend_to_its_children():
    # the scope is the network itself: a child network has its own coordinators
    regional = Caller.member("reg", administers={"werkplaats-utrecht"})
    assert not networks.can_update_network(regional, "buurtteam-overvecht")


def test_keeping_the_parent_needs_no_extra_permission():
    assert networks.can_move_network(COORDINATOR, "elsewhere", "elsewhere")
    assert networks.can_move_network(COORDINATOR, None, None)


def test_moving_a_network_under_another_parent_needs_the_new_parents_administrator():
    assert networks.can_move_network(COORDINATOR, "elsewhere", "werkplaats-zuid")
    assert not networks.can_move_network(COORDINATOR, "werkplaats-zuid", "elsewhere")


def test_only_the_operator_may_make_a_network_top_level():
    assert not networks.can_move_network(COORDINATOR, "werkplaats-zuid", None)
    assert networks.can_move_network(OPERATOR, "werkplaats-zuid", None)


def test_the_operator_may_move_a_network_anywhere():
    assert networks.can_move_network(OPERATOR, None, "anywhere")


def test_the_operator_and_the_networks_coordinators_and_facilitators_read_its_health_report():
    assert networks.can_read_health_report(OPERATOR, "anywhere")
    assert networks.can_read_health_report(COORDINATOR, "wijk-noord")
    assert networks.can_read_health_report(FACILITATOR, "wijk-noord")


def test_nobody_else_reads_a_networks_health_report():
    assert not networks.can_read_health_report(COORDINATOR, "elsewhere")
    assert not networks.can_read_health_report(FACILITATOR, "elsewhere")
    assert not networks.can_read_health_report(MEMBER, "wijk-noord")


# --- sessions, outputs, reflections -----------------------------------------------------------------------

PARTICIPANT = Caller.member("pia", member_of={"wijk-noord"})
STAFF = (OPERATOR, COORDINATOR, FACILITATOR)


def test_a_caller_carries_every_network_the_member_belongs_to():
    caller = caller_of_member({"member_id": "pia", "administers": ["a"], "facilitates": ["b"],
                               "member_of": ["a", "b", "c"]})
    assert caller.member_of == frozenset({"a", "b", "c"})
    assert caller.networks == frozenset({"a", "b", "c"})


def test_the_networks_a_caller_is_inside_of_include_those_they_administer_or_facilitate():
    assert COORDINATOR.networks == frozenset({"wijk-noord", "werkplaats-zuid"})
    assert PARTICIPANT.networks == frozenset({"wijk-noord"})


def test_the_operator_and_a_networks_coordinators_and_facilitators_run_its_sessions():
    # scheduling, the life cycle, registrations, attendance, outputs and the learning report
    assert all(sessions.staffs(p, "wijk-noord") for p in STAFF)


def test_a_participant_or_the_staff_of_another_network_do_not_run_a_networks_sessions():
    assert not sessions.staffs(PARTICIPANT, "wijk-noord")
    assert not sessions.staffs(MEMBER, "wijk-noord")
    assert not sessions.staffs(COORDINATOR, "elsewhere")
    assert not sessions.staffs(FACILITATOR, "werkplaats-zuid")


def test_the_meeting_link_is_for_people_inside_the_sessions_network_and_the_operator():
    assert sessions.sees_meeting_url(OPERATOR, "anywhere")
    assert sessions.sees_meeting_url(PARTICIPANT, "wijk-noord")
    assert sessions.sees_meeting_url(COORDINATOR, "werkplaats-zuid")
    assert not sessions.sees_meeting_url(PARTICIPANT, "elsewhere")
    assert not sessions.sees_meeting_url(MEMBER, "wijk-noord")


def test_a_member_registers_themself_for_sessions_of_a_network_they_belong_to():
    assert sessions.can_register_for_session(PARTICIPANT, "wijk-noord", "pia")


def test_a_member_does_not_register_for_a_network_they_do_not_belong_to_nor_register_someone_else():
    assert not sessions.can_register_for_session(PARTICIPANT, "elsewhere", "pia")
    assert not sessions.can_register_for_session(PARTICIPANT, "wijk-noord", "bob")


def test_a_networks_staff_and_the_operator_register_anyone_for_its_sessions():
    assert all(sessions.can_register_for_session(p, "wijk-noord", "bob") for p in STAFF)
    assert not sessions.can_register_for_session(COORDINATOR, "elsewhere", "bob")


def test_a_member_cancels_their_own_registration_and_the_staff_anyones():
    assert sessions.can_cancel_registration(PARTICIPANT, "wijk-noord", "pia")
    assert not sessions.can_cancel_registration(PARTICIPANT, "wijk-noord", "bob")
    assert all(sessions.can_cancel_registration(p, "wijk-noord", "bob") for p in STAFF)


def test_a_member_reads_their_own_registration_and_the_staff_anyones_but_not_another_networks_staff():
    assert sessions.can_read_registration(PARTICIPANT, "wijk-noord", "pia")
    assert not sessions.can_read_registration(PARTICIPANT, "wijk-noord", "bob")
    assert all(sessions.can_read_registration(p, "wijk-noord", "bob") for p in STAFF)
    assert not sessions.can_read_registration(COORDINATOR, "elsewhere", "bob")


@pytest.mark.parametrize("visibility", list(Visibility))
def test_inside_its_network_every_output_is_read(visibility):
    assert sessions.may_read_output(PARTICIPANT, "wijk-noord", visibility)
    assert sessions.may_read_output(OPERATOR, "wijk-noord", visibility)


@pytest.mark.parametrize("visibility", [Visibility.NETWORK, Visibility.LINKED, Visibility.FEDERATION])
def test_outside_its_network_an_output_is_read_here_only_when_public_the_others_travel_through_feeds(visibility):
    assert not sessions.may_read_output(PARTICIPANT, "elsewhere", visibility)
    assert sessions.may_read_output(PARTICIPANT, "elsewhere", Visibility.PUBLIC)


def test_readers_attribute_authors_from_inside_every_network_they_belong_to_administer_or_facilitate():
    assert sessions.reads_as_inside(COORDINATOR, "werkplaats-zuid")
    assert sessions.reads_as_inside(FACILITATOR, "wijk-noord")
    assert not sessions.reads_as_inside(MEMBER, "wijk-noord")


def test_the_operator_reads_an_output_from_inside_its_network():
    assert sessions.reads_as_inside(OPERATOR, "wijk-noord")


def test_reflections_are_personal_so_only_a_member_records_one_and_the_operator_does_not():
    assert sessions.can_record_reflection(PARTICIPANT)
    assert sessions.can_record_reflection(COORDINATOR)
    assert not sessions.can_record_reflection(OPERATOR)


def test_reflections_are_read_by_their_member_and_the_operator_never_by_the_networks_staff():
    assert sessions.reads_reflections_of(PARTICIPANT, "pia")
    assert sessions.reads_reflections_of(OPERATOR, "pia")
    assert not sessions.reads_reflections_of(COORDINATOR, "pia")
    assert not sessions.reads_reflections_of(FACILITATOR, "pia")
    assert not sessions.reads_reflections_of(Caller.partner("p", {"wijk-noord"}), "pia")


def test_a_member_reflects_on_sessions_of_networks_they_are_in_and_nobody_on_other_networks_sessions():
    assert sessions.can_reflect_on(PARTICIPANT, "wijk-noord")
    assert sessions.can_reflect_on(COORDINATOR, "werkplaats-zuid")
    assert sessions.can_reflect_on(FACILITATOR, "wijk-noord")
    assert not sessions.can_reflect_on(PARTICIPANT, "elsewhere")
    assert not sessions.can_reflect_on(OPERATOR, "wijk-noord")


def test_a_member_who_creates_a_network_becomes_its_coordinator_and_the_operator_does_not():
    assert members.creator_becomes_coordinator(COORDINATOR)
    assert not members.creator_becomes_coordinator(OPERATOR)
