"""Sessions, registrations, attendance, outputs, reflections and the learning report in the admin API: who
may call what, the status codes and shapes, and that refused calls never reach the sessions service, against
hand-written fakes (tests/unit/gateway_fakes.py). Also the merged member export and the coordinator of a new
child network."""

import warnings

import pytest

from services.common.config import Settings
from services.gateway.admin.app import create_app
from services.gateway.admin.routes import outputs as routes_outputs
from services.gateway.admin.routes import sessions as routes_sessions
from services.sessions.schemas.commands import LearningReportQuery, ListSessions, ScheduleSession
from tests.support.http import error
from tests.unit.gateway_fakes import NOW, FakeMembers, FakeNetworks, FakeReadiness, FakeServices, FakeSessions

with warnings.catch_warnings():  # starlette prefers httpx2 for its test client; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

OPERATOR_TOKEN = "operator-secret"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
PLAN = {"title": "Kenniscafé eenzaamheid", "format": "knowledge_cafe", "mode": "in_person",
        "location": "Buurthuis De Boog", "starts_at": "2025-03-04T19:30:00+01:00",
        "ends_at": "2025-03-04T21:30:00+01:00"}
LIVED = "a participant with lived experience"
TOMBSTONE = {"id": "o1", "retracted_at": "2025-01-01T00:00:00Z"}  # NOW, as the API writes it


@pytest.fixture
def networks():
    fake = FakeNetworks()
    fake.add("werkplaats-utrecht", "regional")
    fake.add("overvecht", "neighbourhood", "werkplaats-utrecht")
    fake.add("twente", "regional")
    return fake


@pytest.fixture
def members(networks):
    return FakeMembers(networks)


@pytest.fixture
def sessions():
    fake = FakeSessions()
    fake.add_session("overvecht")  # s1, planned
    fake.add_session("overvecht", status="held")  # s2
    fake.add_session("twente", status="held")  # s3
    return fake


@pytest.fixture
def client(members, networks, sessions):
    services = FakeServices(members=members, networks=networks, sessions=sessions)
    return TestClient(create_app(Settings(operator_token=OPERATOR_TOKEN), services, readiness=FakeReadiness({})))


@pytest.fixture
def coordinator(members):
    return members.token_for("coord", administers=["overvecht", "werkplaats-utrecht"])


@pytest.fixture
def facilitator(members):
    return members.token_for("facil", facilitates=["overvecht"])


@pytest.fixture
def participant(members):
    return members.token_for("pia", member_of=["overvecht"])


@pytest.fixture
def outsider(members):
    """Belongs to (and coordinates) twente only."""
    return members.token_for("otto", administers=["twente"])


# --- scheduling ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", "facilitator"])
def test_a_networks_coordinator_or_facilitator_schedules_a_session_and_gets_201(client, sessions, request, who):
    response = client.post("/v1/networks/overvecht/sessions", headers=request.getfixturevalue(who), json=PLAN)
    assert response.status_code == 201, response.text
    assert (response.json()["network_id"], response.json()["status"]) == ("overvecht", "planned")


def test_the_network_comes_from_the_path_and_only_the_fields_sent_reach_the_service(client, sessions):
    client.post("/v1/networks/overvecht/sessions", headers=OPERATOR, json=PLAN)
    assert sessions.calls[-1] == ("schedule_session", {
        "network_id": "overvecht", "title": "Kenniscafé eenzaamheid", "format": "knowledge_cafe", "mode": "in_person",
        "location": "Buurthuis De Boog", "starts_at": "2025-03-04T18:30:00Z", "ends_at": "2025-03-04T20:30:00Z"})


@pytest.mark.parametrize("who", ["participant", "outsider"])
def test_a_participant_or_another_networks_coordinator_may_not_schedule_and_the_service_is_not_asked(
        client, sessions, request, who):
    response = client.post("/v1/networks/overvecht/sessions", headers=request.getfixturevalue(who), json=PLAN)
    assert error(response) == (403, "permission_denied", set())
    assert sessions.writes() == []


@pytest.mark.parametrize(("change", "expected"), [
    ({"network_id": "twente"}, ("network_id", "extra_forbidden")),
    ({"starts_at": "2025-03-04T19:30:00"}, ("starts_at", "timezone_aware")),
    ({"mode": "teleport"}, ("mode", "enum")),
    ({"capacity": 0}, ("capacity", "greater_than_equal")),
], ids=["network-in-body", "naive-time", "unknown-mode", "capacity-zero"])
def test_a_bad_session_plan_is_422_before_the_service_is_asked(client, sessions, change, expected):
    status, _, found = error(client.post("/v1/networks/overvecht/sessions", headers=OPERATOR,
                                         json={**PLAN, **change}))
    assert status == 422 and expected in found
    assert sessions.writes() == []


def test_the_services_rules_come_back_as_422_naming_field_and_rule(client):
    response = client.post("/v1/networks/overvecht/sessions", headers=OPERATOR,
                           json={**PLAN, "format": "webinar", "statements": ["Eenzaamheid is een taboe"]})
    assert error(response) == (422, "validation_failed", {("statements", "cafe_only")})


# --- reading sessions ------------------------------------------------------------------------------------------


def test_any_authenticated_caller_lists_a_networks_sessions_with_the_window_and_status(client, sessions, outsider):
    response = client.get("/v1/networks/overvecht/sessions", headers=outsider,
                          params={"starts_from": "2025-01-01T00:00:00+01:00", "status": "held", "page_size": 10})
    assert response.status_code == 200
    assert [s["id"] for s in response.json()["items"]] == ["s2"]
    assert sessions.calls[-1] == ("list_sessions", {"network_id": "overvecht", "status": "held", "page_size": 10,
                                                    "starts_from": "2024-12-31T23:00:00+00:00"})


def test_a_naive_window_is_422(client, participant):
    status, _, found = error(client.get("/v1/networks/overvecht/sessions", headers=participant,
                                        params={"starts_before": "2025-01-01T00:00:00"}))
    assert status == 422 and "starts_before" in {f for f, _ in found}


def test_the_meeting_link_is_hidden_from_callers_outside_the_network(client, outsider):
    assert client.get("/v1/sessions/s1", headers=outsider).json()["meeting_url"] is None
    listed = client.get("/v1/networks/overvecht/sessions", headers=outsider).json()["items"]
    assert {s["meeting_url"] for s in listed} == {None}


@pytest.mark.parametrize("who", ["participant", "facilitator", "coordinator"])
def test_the_meeting_link_is_shown_inside_the_network(client, request, who):
    response = client.get("/v1/sessions/s1", headers=request.getfixturevalue(who))
    assert response.json()["meeting_url"] == "https://meet.example.org/kring"


def test_the_operator_sees_the_meeting_link(client):
    assert client.get("/v1/sessions/s1", headers=OPERATOR).json()["meeting_url"] == "https://meet.example.org/kring"


def test_an_unknown_session_is_404(client, participant):
    response = client.get("/v1/sessions/nope", headers=participant)
    assert response.json() == {"error": {"code": "not_found", "message": "session nope not found", "violations": []}}


# --- the life cycle ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "body", "before", "after"), [
    ("hold", None, "planned", "held"),
    ("cancel", {"reason": "te weinig aanmeldingen"}, "planned", "cancelled"),
    ("reschedule", {"starts_at": "2025-03-11T19:30:00+01:00", "ends_at": "2025-03-11T21:30:00+01:00"},
     "planned", "planned"),
    ("close", None, "held", "closed"),
])
def test_a_networks_facilitator_moves_its_sessions_through_the_life_cycle(client, sessions, facilitator, action,
                                                                          body, before, after):
    session_id = "s1" if before == "planned" else "s2"
    response = client.post(f"/v1/sessions/{session_id}/{action}", headers=facilitator, json=body)
    assert (response.status_code, response.json()["status"]) == (200, after), response.text
    assert sessions.writes() == [f"{action}_session"]  # one call: the sessions service checks the caller itself
    assert len(sessions.calls) == 1


@pytest.mark.parametrize("action", ["hold", "cancel", "close"])
def test_another_networks_coordinator_may_not_move_a_session_and_nothing_changes(client, sessions, outsider, action):
    assert client.post(f"/v1/sessions/s2/{action}", headers=outsider).status_code == 403
    assert sessions.writes() == []


def test_a_participant_may_not_cancel_a_session(client, sessions, participant):
    assert client.post("/v1/sessions/s1/cancel", headers=participant).status_code == 403
    assert sessions.writes() == []


def test_the_operator_moves_a_session_without_a_lookup(client, sessions):
    client.post("/v1/sessions/s1/hold", headers=OPERATOR)
    assert [c[0] for c in sessions.calls] == ["hold_session"]


def test_cancelling_without_a_body_sends_an_empty_request(client, sessions):
    client.post("/v1/sessions/s1/cancel", headers=OPERATOR)
    assert sessions.calls[-1] == ("cancel_session", "s1", {})


def test_an_illegal_transition_is_409_naming_the_rule(client):
    response = client.post("/v1/sessions/s2/cancel", headers=OPERATOR)
    assert error(response) == (409, "illegal_transition", {("status", "illegal_transition")})


def test_acting_on_an_unknown_session_is_404(client, facilitator):
    assert client.post("/v1/sessions/nope/hold", headers=facilitator).status_code == 404


# --- registrations and attendance ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"member_id": "pia"}, {"prepared": True}], ids=["omitted", "own-id", "prepared"])
def test_a_member_registers_themself_for_a_session_of_their_network_and_gets_201(client, sessions, participant, body):
    response = client.post("/v1/sessions/s1/registrations", headers=participant, json=body)
    assert (response.status_code, response.json()["member_id"]) == (201, "pia")
    # no member named: the sessions service registers the caller
    assert sessions.calls[-1] == ("register_for_session", "s1", body.get("member_id"),
                                  {"prepared": True} if "prepared" in body else {})
    assert sessions.callers[-1]["member_id"] == "pia"


def test_a_member_may_not_register_for_a_session_of_a_network_they_do_not_belong_to(client, sessions, members):
    stranger = members.token_for("sam", member_of=["twente"])
    response = client.post("/v1/sessions/s1/registrations", headers=stranger, json={})
    assert error(response) == (403, "permission_denied", set())
    assert sessions.writes() == []


def test_a_member_may_not_register_someone_else(client, sessions, participant):
    assert client.post("/v1/sessions/s1/registrations", headers=participant, json={"member_id": "bob"}).status_code \
        == 403
    assert sessions.writes() == []


@pytest.mark.parametrize("who", ["coordinator", "facilitator"])
def test_the_networks_staff_register_someone_else(client, sessions, request, who):
    response = client.post("/v1/sessions/s1/registrations", headers=request.getfixturevalue(who),
                           json={"member_id": "bob"})
    assert (response.status_code, response.json()["member_id"]) == (201, "bob")


def test_the_operator_names_whom_to_register(client, sessions):
    assert error(client.post("/v1/sessions/s1/registrations", headers=OPERATOR, json={})) == (
        422, "validation_failed", {("member_id", "required")})
    assert client.post("/v1/sessions/s1/registrations", headers=OPERATOR, json={"member_id": "bob"}).status_code == 201


def test_at_capacity_a_registration_joins_the_waitlist(client, sessions, facilitator):
    sessions.sessions["s1"]["capacity"] = 1
    first = client.post("/v1/sessions/s1/registrations", headers=facilitator, json={"member_id": "ann"}).json()
    second = client.post("/v1/sessions/s1/registrations", headers=facilitator, json={"member_id": "bob"}).json()
    assert (first["status"], second["status"], second["waitlist_position"]) == ("registered", "waitlisted", 1)


def test_a_member_cancels_their_own_registration_but_not_someone_elses(client, sessions, participant, facilitator):
    client.post("/v1/sessions/s1/registrations", headers=facilitator, json={"member_id": "bob"})
    client.post("/v1/sessions/s1/registrations", headers=participant, json={})
    assert client.delete("/v1/sessions/s1/registrations/bob", headers=participant).status_code == 403
    response = client.delete("/v1/sessions/s1/registrations/pia", headers=participant)
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert client.delete("/v1/sessions/s1/registrations/bob", headers=facilitator).json()["status"] == "cancelled"


def test_a_member_reads_their_own_registration_with_its_place_on_the_waitlist(client, sessions, participant,
                                                                              facilitator):
    sessions.sessions["s1"]["capacity"] = 1
    client.post("/v1/sessions/s1/registrations", headers=facilitator, json={"member_id": "bob"})
    client.post("/v1/sessions/s1/registrations", headers=participant, json={"prepared": True})
    response = client.get("/v1/sessions/s1/registrations/pia", headers=participant)
    assert response.status_code == 200, response.text
    mine = response.json()
    assert (mine["member_id"], mine["status"], mine["waitlist_position"], mine["prepared"]) == (
        "pia", "waitlisted", 1, True)
    assert sessions.calls[-1] == ("get_registration", "s1", "pia")


def test_a_member_may_not_read_someone_elses_registration_but_the_networks_staff_and_the_operator_may(
        client, sessions, participant, facilitator, outsider):
    client.post("/v1/sessions/s1/registrations", headers=facilitator, json={"member_id": "bob"})
    assert error(client.get("/v1/sessions/s1/registrations/bob", headers=participant))[0] == 403
    assert error(client.get("/v1/sessions/s1/registrations/bob", headers=outsider))[0] == 403  # staff elsewhere
    assert client.get("/v1/sessions/s1/registrations/bob", headers=facilitator).json()["status"] == "registered"
    assert client.get("/v1/sessions/s1/registrations/bob", headers=OPERATOR).status_code == 200


def test_reading_a_registration_that_was_never_made_is_404(client, sessions, participant):
    response = client.get("/v1/sessions/s1/registrations/pia", headers=participant)
    assert response.status_code == 404
    assert client.get("/v1/sessions/s99/registrations/pia", headers=participant).status_code == 404


def test_only_the_networks_staff_list_registrations(client, sessions, participant, facilitator):
    assert client.get("/v1/sessions/s1/registrations", headers=participant).status_code == 403
    response = client.get("/v1/sessions/s1/registrations", headers=facilitator)
    assert (response.status_code, response.json()["session_id"], response.json()["items"]) == (200, "s1", [])


def test_the_networks_staff_record_and_read_attendance(client, sessions, facilitator):
    response = client.put("/v1/sessions/s2/attendance", headers=facilitator, json={"member_ids": ["ann", "bob", "ann"]})
    assert (response.status_code, response.json()["attendee_count"]) == (200, 2)
    assert sessions.calls[-1] == ("record_attendance", "s2", {"member_ids": ["ann", "bob"]})
    assert client.get("/v1/sessions/s2/attendance", headers=facilitator).status_code == 200


@pytest.mark.parametrize("who", ["participant", "outsider"])
def test_a_participant_or_outsider_may_not_record_or_read_attendance(client, sessions, request, who):
    headers = request.getfixturevalue(who)
    assert client.put("/v1/sessions/s2/attendance", headers=headers, json={"member_ids": ["ann"]}).status_code == 403
    assert client.get("/v1/sessions/s2/attendance", headers=headers).status_code == 403
    assert "get_attendance" not in [c[0] for c in sessions.calls] and sessions.writes() == []


# --- outputs -----------------------------------------------------------------------------------------------------


def test_a_networks_facilitator_publishes_an_output_and_gets_201(client, sessions, facilitator):
    response = client.post("/v1/sessions/s2/outputs", headers=facilitator,
                           json={"kind": "lesson", "title": "Vraag eerst naar de buren", "authors": ["pia"],
                                 "visibility": "federation"})
    assert response.status_code == 201, response.text
    assert response.json()["authors"] == [{"member_id": "pia", "shown_as": "Pia", "named": True, "role": None}]


def test_a_participant_may_not_publish_and_the_service_is_not_asked(client, sessions, participant):
    response = client.post("/v1/sessions/s2/outputs", headers=participant,
                           json={"kind": "lesson", "title": "Mijn les", "authors": ["pia"]})
    assert response.status_code == 403
    assert sessions.writes() == []


def test_an_output_of_a_planned_session_is_409(client):
    response = client.post("/v1/sessions/s1/outputs", headers=OPERATOR,
                           json={"kind": "lesson", "title": "Too early", "authors": ["pia"]})
    assert error(response)[:2] == (409, "illegal_transition")


def test_outside_the_network_a_non_consenting_author_is_shown_as_their_perspective(client, sessions, outsider):
    sessions.add_output("s2", visibility="public",
                        authors=[("henk", "Henk Jansen", False), ("anouk", "Anouk de Vries", True)])
    authors = client.get("/v1/outputs/o1", headers=outsider).json()["authors"]
    assert [a["shown_as"] for a in authors] == [LIVED, "Anouk de Vries"]
    assert sessions.calls[-1] == ("get_output", "o1")
    assert sessions.callers[-1]["member_of"] == ["twente"]  # the reader's networks decide how authors appear


@pytest.mark.parametrize("who", ["participant", "facilitator"])
def test_inside_the_network_authors_are_named(client, sessions, request, who):
    sessions.add_output("s2", authors=[("henk", "Henk Jansen", False)])
    assert client.get("/v1/outputs/o1", headers=request.getfixturevalue(who)).json()["authors"][0]["shown_as"] == \
        "Henk Jansen"


def test_the_operator_reads_an_output_from_inside_its_network(client, sessions):
    sessions.add_output("s2", authors=[("henk", "Henk Jansen", False)])
    assert client.get("/v1/outputs/o1", headers=OPERATOR).json()["authors"][0]["shown_as"] == "Henk Jansen"
    assert (sessions.calls[-1], sessions.callers[-1]) == (("get_output", "o1"), {"kind": "operator"})


def test_an_output_kept_within_its_network_is_403_outside_it_and_left_out_of_lists(client, sessions, outsider,
                                                                                  participant):
    sessions.add_output("s2", visibility="network")
    sessions.add_output("s2", visibility="public")
    assert client.get("/v1/outputs/o1", headers=outsider).status_code == 403
    assert client.get("/v1/outputs/o1", headers=participant).status_code == 200
    for path in ("/v1/networks/overvecht/outputs", "/v1/sessions/s2/outputs"):
        assert [o["id"] for o in client.get(path, headers=outsider).json()["items"]] == ["o2"]
        assert [o["id"] for o in client.get(path, headers=participant).json()["items"]] == ["o1", "o2"]


def test_lists_of_outputs_pass_the_reader_and_the_filters(client, sessions, coordinator):
    client.get("/v1/networks/overvecht/outputs", headers=coordinator, params={"kind": "lesson", "page_size": 5})
    assert sessions.calls[-1] == ("list_outputs", {"network_id": "overvecht", "kind": "lesson", "page_size": 5})
    assert set(sessions.callers[-1]["member_of"]) == {"overvecht", "werkplaats-utrecht"}


def test_the_operator_lists_a_sessions_outputs_from_inside_its_network(client, sessions):
    sessions.add_output("s2", authors=[("henk", "Henk Jansen", False)])
    items = client.get("/v1/sessions/s2/outputs", headers=OPERATOR).json()["items"]
    assert items[0]["authors"][0]["shown_as"] == "Henk Jansen"
    assert sessions.calls[-1] == ("list_outputs", {"session_id": "s2", "page_size": 50})  # no lookup first


def test_a_networks_facilitator_retracts_its_output_which_becomes_a_tombstone(client, sessions, facilitator):
    sessions.add_output("s2")
    response = client.post("/v1/outputs/o1/retract", headers=facilitator, json={"reason": "privacy"})
    assert (response.status_code, response.json()) == (200, TOMBSTONE)
    assert client.get("/v1/outputs/o1", headers=facilitator).json() == TOMBSTONE


@pytest.mark.parametrize("who", ["participant", "outsider"])
def test_a_participant_or_outsider_may_not_retract_and_the_service_is_not_asked(client, sessions, request, who):
    sessions.add_output("s2")
    assert client.post("/v1/outputs/o1/retract", headers=request.getfixturevalue(who)).status_code == 403
    assert sessions.writes() == []


def test_retracting_a_retracted_output_again_changes_nothing_and_outsiders_still_may_not(client, sessions, outsider,
                                                                                        facilitator):
    sessions.add_output("s2", retracted_at=NOW)
    assert client.post("/v1/outputs/o1/retract", headers=outsider).status_code == 403
    response = client.post("/v1/outputs/o1/retract", headers=facilitator)
    assert (response.status_code, response.json()) == (200, TOMBSTONE)


def test_an_unknown_output_is_404(client, participant):
    assert client.get("/v1/outputs/nope", headers=participant).status_code == 404
    assert client.post("/v1/outputs/nope/retract", headers=participant).status_code == 404


def test_every_output_route_takes_the_same_ids_a_partners_38_character_one_included(client, participant):
    partner_output = "p-" + "0" * 36  # what the federation service makes of a partner's client output id
    assert client.get(f"/v1/outputs/{partner_output}", headers=participant).status_code == 404  # not 422
    assert client.post(f"/v1/outputs/{partner_output}/retract", headers=participant).status_code == 404
    too_long = client.get(f"/v1/outputs/{'x' * 101}", headers=participant)
    assert too_long.status_code == 422 and too_long.json()["error"]["violations"][0]["rule"] == "string_too_long"


# --- reflections and the learning report ------------------------------------------------------------------------


def test_a_member_records_their_own_reflection_and_gets_201(client, sessions, participant):
    body = {"session_id": "s2", "kind": "perspective", "text": "Ik zie bewoners nu als mede-onderzoekers."}
    response = client.post("/v1/reflections", headers=participant, json=body)
    assert (response.status_code, response.json()["member_id"]) == (201, "pia")
    assert (sessions.calls[-1], sessions.callers[-1]["member_id"]) == (("record_reflection", body), "pia")


def test_the_operator_may_not_record_a_reflection_because_reflections_are_personal(client, sessions):
    response = client.post("/v1/reflections", headers=OPERATOR,
                           json={"session_id": "s2", "kind": "behaviour", "text": "on someone's behalf"})
    assert response.status_code == 403
    assert sessions.writes() == []


@pytest.mark.parametrize("who", ["participant", "outsider"])
def test_a_reflection_on_a_session_of_another_network_is_403_like_a_registration(client, sessions, members,
                                                                                 request, who):
    body = {"session_id": "s3", "kind": "perspective", "text": "Ik was er niet bij."}  # s3 is twente's
    stranger = members.token_for("sam", member_of=["overvecht"]) if who == "participant" else None
    headers = stranger or members.token_for("otto", administers=["werkplaats-utrecht"])
    response = client.post("/v1/reflections", headers=headers, json=body)
    registering = client.post("/v1/sessions/s3/registrations", headers=headers, json={})
    assert error(response) == error(registering) == (403, "permission_denied", set())
    assert sessions.writes() == []


def test_a_reflection_on_an_unknown_session_is_404(client, sessions, participant):
    response = client.post("/v1/reflections", headers=participant,
                           json={"session_id": "nope", "kind": "perspective", "text": "x"})
    assert response.status_code == 404
    assert sessions.writes() == []


def test_a_reflection_of_an_unknown_kind_is_422(client, participant):
    response = client.post("/v1/reflections", headers=participant, json={"session_id": "s2", "kind": "mood",
                                                                         "text": "x"})
    assert error(response)[0] == 422


def test_a_member_reads_their_own_reflections_with_get_and_the_call_names_no_one_else(client, sessions,
                                                                                       participant):
    client.post("/v1/reflections", headers=participant, json={"session_id": "s2", "kind": "behaviour", "text": "a"})
    response = client.get("/v1/reflections", headers=participant, params={"page_size": 10})
    assert response.status_code == 200
    assert [(r["member_id"], r["text"]) for r in response.json()["items"]] == [("pia", "a")]
    assert (sessions.calls[-1], sessions.callers[-1]["member_id"]) == (("list_reflections", {"page_size": 10}), "pia")


def test_a_coordinator_naming_someone_else_for_their_reflections_is_403(client, sessions, coordinator):
    response = client.get("/v1/reflections", headers=coordinator, params={"member_id": "pia"})
    assert error(response) == (403, "permission_denied", set())


def test_the_operator_names_the_member_whose_reflections_to_read_and_without_one_gets_422(client, sessions):
    assert client.get("/v1/reflections", headers=OPERATOR, params={"member_id": "pia"}).status_code == 200
    refused = client.get("/v1/reflections", headers=OPERATOR)
    assert error(refused) == (422, "validation_failed", {("member_id", "required")})


def test_reflections_refuse_a_page_size_outside_1_to_200_with_422(client, participant):
    assert error(client.get("/v1/reflections", headers=participant, params={"page_size": 0}))[0] == 422


@pytest.mark.parametrize("who", ["coordinator", "facilitator"])
def test_the_networks_staff_read_its_learning_report_for_a_period(client, sessions, request, who):
    response = client.get("/v1/networks/overvecht/learning-report", headers=request.getfixturevalue(who),
                          params={"period_from": "2025-01-01T00:00:00+00:00", "period_to": "2025-07-01T00:00:00Z"})
    assert (response.status_code, response.json()["network_id"]) == (200, "overvecht")
    assert sessions.calls[-1] == ("learning_report", "overvecht", {"period_from": "2025-01-01T00:00:00+00:00",
                                                                   "period_to": "2025-07-01T00:00:00+00:00",
                                                                   "language": "nl"})


def test_the_learning_report_summary_is_in_the_language_accept_language_prefers(client, sessions, coordinator):
    response = client.get("/v1/networks/overvecht/learning-report", headers=coordinator | {"Accept-Language": "en"})
    assert (response.json()["language"], response.headers["content-language"]) == ("en", "en")
    assert sessions.calls[-1] == ("learning_report", "overvecht", {"language": "en"})


@pytest.mark.parametrize("who", ["participant", "outsider"])
def test_nobody_else_reads_a_networks_learning_report(client, sessions, request, who):
    assert client.get("/v1/networks/overvecht/learning-report", headers=request.getfixturevalue(who)).status_code == 403
    assert "learning_report" not in [c[0] for c in sessions.calls]


# --- the member export and a new network's coordinator -------------------------------------------------------------


def test_the_export_holds_what_the_members_and_the_sessions_services_hold(client, members, sessions, participant):
    client.post("/v1/reflections", headers=participant, json={"session_id": "s2", "kind": "behaviour", "text": "x"})
    response = client.get("/v1/members/pia/export", headers=participant)
    assert response.status_code == 200
    export = response.json()
    assert set(export) == {"members", "sessions"}
    assert export["members"]["member"]["id"] == "pia"
    assert [r["kind"] for r in export["sessions"]["reflections"]] == ["behaviour"]


def test_exporting_an_unknown_member_is_404_without_asking_the_sessions_service(client, sessions):
    assert client.get("/v1/members/nobody/export", headers=OPERATOR).status_code == 404
    assert "export_member" not in [c[0] for c in sessions.calls]


def test_a_coordinator_who_creates_a_child_network_becomes_its_coordinator(client, members, coordinator):
    body = {"name": "Leerkring Kanaleneiland", "level": "local", "kind": "learning_circle",
            "theme": "money worries, early", "parent_id": "werkplaats-utrecht"}
    client.get("/v1/whoami", headers=coordinator)
    response = client.post("/v1/networks", headers=coordinator, json=body)
    assert response.status_code == 201
    assert members.calls[-1] == ("appoint_creator", "leerkring-kanaleneiland")  # the members service's rule
    assert members.appointed == [("coord", "leerkring-kanaleneiland")]
    client.get("/v1/whoami", headers=coordinator)  # its cached scope was forgotten, so it is asked again
    assert [c[0] for c in members.calls].count("authenticate") == 2


def test_the_operator_does_not_become_coordinator_of_a_network_it_creates(client, members):
    response = client.post("/v1/networks", headers=OPERATOR, json={"name": "Twente Noord", "level": "local",
                                                                   "kind": "learning_circle", "theme": "wonen en zorg",
                                                                   "parent_id": "twente"})
    assert response.status_code == 201
    assert "join_network" not in [c[0] for c in members.calls]


# --- OpenAPI ------------------------------------------------------------------------------------------------------

ROUTES = {
    "/v1/networks/{network_id}/sessions": {"get": "SessionPage", "post": "SessionOut"},
    "/v1/sessions/{session_id}": {"get": "SessionOut"},
    "/v1/sessions/{session_id}/reschedule": {"post": "SessionOut"},
    "/v1/sessions/{session_id}/hold": {"post": "SessionOut"},
    "/v1/sessions/{session_id}/close": {"post": "SessionOut"},
    "/v1/sessions/{session_id}/cancel": {"post": "SessionOut"},
    "/v1/sessions/{session_id}/registrations": {"get": "RegistrationList", "post": "RegistrationOut"},
    "/v1/sessions/{session_id}/registrations/{member_id}": {"get": "RegistrationOut", "delete": "RegistrationOut"},
    "/v1/sessions/{session_id}/attendance": {"get": "AttendanceOut", "put": "AttendanceOut"},
    "/v1/sessions/{session_id}/statements/{number}/conclusion": {"put": "ConclusionOut"},
    "/v1/sessions/{session_id}/outputs": {"get": "OutputPage", "post": "OutputOut"},
    "/v1/networks/{network_id}/outputs": {"get": "OutputPage"},
    "/v1/outputs/{output_id}": {"get": None},
    "/v1/outputs/{output_id}/retract": {"post": "OutputTombstone"},
    "/v1/reflections": {"get": "ReflectionPage", "post": "ReflectionOut"},
    "/v1/networks/{network_id}/learning-report": {"get": "LearningReportOut"},
    "/v1/members/{member_id}/export": {"get": "MemberDataExport"},
}


def test_every_sessions_route_is_in_the_openapi_document_with_the_services_models(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, operations in ROUTES.items():
        assert set(operations) <= set(paths.get(path, {})), path
        for method, model in operations.items():
            responses = paths[path][method]["responses"]
            success = next(code for code in responses if code.startswith("2"))
            schema = responses[success]["content"]["application/json"]["schema"]
            if model:
                assert schema["$ref"].endswith(f"/{model}"), (path, method, schema)
            assert "403" in responses and "422" in responses


def test_the_list_above_is_every_route_of_the_sessions_and_outputs_modules():
    declared = {(route.path, method.lower()) for module in (routes_sessions, routes_outputs)
                for route in module.router.routes for method in route.methods}
    listed = {(path, method) for path, operations in ROUTES.items() for method in operations}
    assert declared == listed - {("/v1/members/{member_id}/export", "get")}


def test_an_output_is_documented_as_either_an_output_or_a_tombstone(client):
    schema = client.get("/openapi.json").json()["paths"]["/v1/outputs/{output_id}"]["get"]["responses"]["200"]
    refs = {option["$ref"].rsplit("/", 1)[1] for option in schema["content"]["application/json"]["schema"]["anyOf"]}
    assert refs == {"OutputOut", "OutputTombstone"}


def test_the_schedule_body_is_the_services_command_without_the_network(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["SessionPlan"]["properties"]) == set(ScheduleSession.model_fields) - {"network_id"}


def test_query_parameters_mirror_the_services_queries(client):
    paths = client.get("/openapi.json").json()["paths"]
    listed = {p["name"] for p in paths["/v1/networks/{network_id}/sessions"]["get"]["parameters"]}
    assert listed == set(ListSessions.model_fields)
    report = {p["name"] for p in paths["/v1/networks/{network_id}/learning-report"]["get"]["parameters"]}
    # the language the query takes comes from the Accept-Language header
    assert report == set(LearningReportQuery.model_fields) - {"language"} | {"network_id", "accept-language"}
