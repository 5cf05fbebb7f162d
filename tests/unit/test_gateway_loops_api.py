"""The action-learning loop in the admin API: each route reaches the sessions service with the caller and the
request as the service takes it, refusals are 403 and never reach it, and the service's errors keep their status
and field (tests/unit/gateway_fakes.py holds the service's access rules)."""

import warnings

import pytest

from services.common.config import Settings
from services.gateway.admin.app import create_app
from tests.unit.gateway_fakes import FakeMembers, FakeNetworks, FakeReadiness, FakeServices, FakeSessions
from tests.unit.test_gateway_sessions_api import OPERATOR, OPERATOR_TOKEN, error

with warnings.catch_warnings():  # starlette prefers httpx2 for its test client; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture
def members():
    networks = FakeNetworks()
    networks.add("werkplaats-utrecht", "regional")
    networks.add("overvecht", "neighbourhood", "werkplaats-utrecht")
    networks.add("twente", "regional")
    return FakeMembers(networks)


@pytest.fixture
def sessions():
    fake = FakeSessions()
    fake.add_session("overvecht")  # s1, planned
    fake.add_session("overvecht", status="held")  # s2
    return fake


@pytest.fixture
def client(members, sessions):
    services = FakeServices(members=members, networks=members.networks, sessions=sessions)
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


QUESTION = {"network_id": "overvecht", "question": "Hoe bereik ik bewoners die nooit komen?",
            "urgency": "De eenzaamste bewoners haken af", "shared_with_network": False}


def opened(client, headers) -> str:
    response = client.post("/v1/learning-questions", headers=headers, json=QUESTION)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_member_opens_a_learning_question_and_gets_201_with_the_request_passed_as_is(client, sessions,
                                                                                      participant):
    response = client.post("/v1/learning-questions", headers=participant, json=QUESTION)
    assert (response.status_code, response.json()["owner_id"], response.json()["status"]) == (201, "pia", "open")
    assert (sessions.calls[-1], sessions.callers[-1]["member_id"]) == (("open_learning_question", QUESTION), "pia")


@pytest.mark.parametrize("who", ["outsider", "operator"])
def test_a_question_in_a_network_you_do_not_belong_to_or_by_the_operator_is_403(client, sessions, request, who):
    headers = OPERATOR if who == "operator" else request.getfixturevalue(who)
    assert error(client.post("/v1/learning-questions", headers=headers, json=QUESTION))[0] == 403
    assert sessions.writes() == []


@pytest.mark.parametrize(("body", "field"), [
    ({"network_id": "overvecht", "question": ""}, "question"),
    ({"network_id": "overvecht"}, "question"),
    ({"network_id": "overvecht", "question": "x", "shared_with_network": "perhaps"}, "shared_with_network"),
    ({"network_id": "overvecht", "question": "x", "owner_id": "someone-else"}, "owner_id"),
])
def test_a_malformed_question_is_422_naming_the_field(client, sessions, participant, body, field):
    status, code, violations = error(client.post("/v1/learning-questions", headers=participant, json=body))
    assert (status, code) == (422, "validation_failed")
    assert field in {f.split(".")[-1] for f, _ in violations}
    assert sessions.writes() == []


def test_the_loop_goes_round_through_the_api_with_each_step_passed_to_the_service(client, sessions, participant,
                                                                                  facilitator):
    loop_id = opened(client, participant)
    steps = [
        ("post", "bring", {"session_id": "s1"}, "bring_learning_question", "brought"),
        ("post", "experiment", {"session_id": "s2", "experiment": "Thuis opzoeken", "mandate": "asked"},
         "start_experiment", "experimenting"),
        ("put", "mandate", {"mandate": "yes"}, "change_mandate", "experimenting"),
        ("post", "follow-up", {"session_id": "s2", "what_happened": "Twee kwamen"}, "follow_up_experiment",
         "followed_up"),
        ("post", "close", {"lesson": "Thuis opzoeken werkt"}, "close_learning_loop", "closed"),
    ]
    for verb, path, body, method, status in steps:
        response = getattr(client, verb)(f"/v1/learning-questions/{loop_id}/{path}", headers=facilitator, json=body)
        assert (response.status_code, response.json()["status"]) == (200, status), response.text
        assert sessions.calls[-1] == (method, loop_id, body)
    assert client.get(f"/v1/learning-questions/{loop_id}", headers=participant).json()["mandate"] == "yes"


def test_closing_without_a_body_sends_an_empty_request(client, sessions, participant):
    loop_id = opened(client, participant)
    sessions.loops[loop_id]["status"] = "followed_up"
    assert client.post(f"/v1/learning-questions/{loop_id}/close", headers=participant).status_code == 200
    assert sessions.calls[-1] == ("close_learning_loop", loop_id, {})


def test_a_step_out_of_order_is_409_and_an_unknown_session_422_on_session_id(client, sessions, participant):
    loop_id = opened(client, participant)
    too_early = client.post(f"/v1/learning-questions/{loop_id}/experiment", headers=participant,
                            json={"session_id": "s2", "experiment": "x", "mandate": "yes"})
    assert error(too_early) == (409, "illegal_transition", {("status", "illegal_transition")})
    unknown = client.post(f"/v1/learning-questions/{loop_id}/bring", headers=participant, json={"session_id": "zz"})
    assert error(unknown) == (422, "validation_failed", {("session_id", "known_session")})


def test_an_unknown_mandate_is_422_naming_the_field(client, sessions, participant):
    loop_id = opened(client, participant)
    response = client.put(f"/v1/learning-questions/{loop_id}/mandate", headers=participant,
                          json={"mandate": "maybe"})
    assert error(response)[0:2] == (422, "validation_failed")
    assert "mandate" in {f.split(".")[-1] for f, _ in error(response)[2]}


def test_another_networks_coordinator_neither_reads_nor_moves_a_question_and_an_unknown_one_is_404(
        client, sessions, participant, outsider):
    loop_id = opened(client, participant)
    assert error(client.get(f"/v1/learning-questions/{loop_id}", headers=outsider))[0] == 403
    assert error(client.post(f"/v1/learning-questions/{loop_id}/bring", headers=outsider,
                             json={"session_id": "s1"}))[0] == 403
    assert error(client.get("/v1/networks/overvecht/learning-questions", headers=outsider))[0] == 403
    assert client.get("/v1/learning-questions/nope", headers=participant).status_code == 404
    assert sessions.writes() == ["open_learning_question"]


def test_the_network_list_passes_the_filter_and_paging_to_the_service(client, sessions, participant, coordinator):
    opened(client, participant)
    response = client.get("/v1/networks/overvecht/learning-questions?status=open&page_size=10",
                          headers=coordinator)
    assert (response.status_code, len(response.json()["items"])) == (200, 1)
    assert sessions.calls[-1] == ("list_learning_questions",
                                  {"network_id": "overvecht", "status": "open", "page_size": 10})
    assert error(client.get("/v1/networks/overvecht/learning-questions?status=done", headers=coordinator))[0] == 422


@pytest.mark.parametrize("loop_id", ["a%00b", "x" * 37])
def test_a_malformed_question_id_is_422_and_never_reaches_the_service(client, sessions, participant, loop_id):
    response = client.get(f"/v1/learning-questions/{loop_id}", headers=participant)
    assert error(response)[0:2] == (422, "validation_failed")
    assert not [c for c in sessions.calls if c[0] == "get_learning_question"]
