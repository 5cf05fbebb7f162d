"""The admin API's expertise search against the fake of the members service: the route passes who asks and the
query, the members service's scope rule decides, and an expert is shown without an email address."""

import warnings

import pytest

from services.common.config import Settings
from services.gateway.admin.app import create_app
from tests.unit.gateway_fakes import FakeMembers, FakeReadiness, FakeServices

with warnings.catch_warnings():  # starlette prefers httpx2 for its test client; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient


@pytest.fixture
def members():
    fake = FakeMembers()
    fake.add("ann", ["noord"])
    fake.members["ann"].update(expertise=["wijkaanpak"], findable_by_expertise=True)
    fake.add("bob", ["zuid"])
    fake.members["bob"].update(expertise=["wijkaanpak"], findable_by_expertise=True)
    return fake


@pytest.fixture
def client(members):
    app = create_app(Settings(operator_token="operator-secret"), FakeServices(members=members),
                     readiness=FakeReadiness({"rabbitmq": "ok", "members": "ok"}))
    return TestClient(app)


def test_a_members_expertise_search_carries_the_caller_and_the_query_to_the_members_service(client, members):
    response = client.get("/v1/expertise?tag=Wijkaanpak&page_size=10",
                          headers=members.token_for("mo", member_of=["noord"]))
    assert response.status_code == 200, response.text
    assert members.calls[-1] == ("find_experts", {"page_size": 10, "tag": "wijkaanpak"})
    assert members.callers[-1] == {"kind": "member", "member_id": "mo", "member_of": ["noord"]}
    assert [e["member_id"] for e in response.json()["items"]] == ["ann"]
    assert "email" not in response.json()["items"][0]


def test_naming_a_network_one_is_not_in_is_403_and_a_bad_tag_is_422_on_tag(client, members):
    headers = members.token_for("mo", member_of=["noord"])
    assert client.get("/v1/expertise?network_id=zuid", headers=headers).status_code == 403
    response = client.get("/v1/expertise?tag=%3Cscript%3E", headers=headers)
    assert response.status_code == 422
    assert [v["field"] for v in response.json()["error"]["violations"]] == ["tag"]


def test_no_token_is_401(client):
    assert client.get("/v1/expertise").status_code == 401


def test_asking_passes_the_caller_and_only_the_fields_sent_and_the_operator_is_refused(client, members):
    headers = members.token_for("mo", member_of=["noord"])
    response = client.post("/v1/questions", headers=headers,
                           json={"expert_id": "ann", "network_id": "noord", "question": "  Hoe begin je?  "})
    assert response.status_code == 201, response.text
    assert members.calls[-1] == ("ask_question", {"expert_id": "ann", "network_id": "noord",
                                                  "question": "Hoe begin je?"})
    assert members.callers[-1]["member_id"] == "mo"
    operator = {"Authorization": "Bearer operator-secret"}
    assert client.post("/v1/questions", headers=operator, json={"expert_id": "ann", "network_id": "noord",
                                                                "question": "?"}).status_code == 403
    assert client.get("/v1/questions?role=asked", headers=operator).status_code == 403


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/questions", {"network_id": "noord", "question": "?"}, "expert_id"),
    ("/v1/questions", {"expert_id": "ann", "network_id": "noord", "question": ""}, "question"),
    ("/v1/questions", {"expert_id": "ann", "network_id": "noord", "question": "?", "tag": "<b>"}, "tag"),
    ("/v1/questions/q1/answer", {"answer": "x" * 4001}, "answer"),
    ("/v1/questions/q1/answer", {"answer": "Ja", "contact_note": ""}, "contact_note"),
    ("/v1/questions/q1/decline", {"reason": "x" * 501}, "reason"),
], ids=["no-expert", "empty-question", "bad-tag", "long-answer", "empty-contact-note", "long-reason"])
def test_bad_question_input_is_422_naming_the_field_before_any_service_is_asked(client, members, path, body, field):
    headers = members.token_for("mo", member_of=["noord"])
    response = client.post(path, headers=headers, json=body)
    assert response.status_code == 422, response.text
    assert field in [v["field"] for v in response.json()["error"]["violations"]]
    assert not any(call[0].endswith("question") for call in members.calls)


def test_listing_questions_needs_a_role_asked_or_received(client, members):
    headers = members.token_for("mo", member_of=["noord"])
    assert client.get("/v1/questions?role=asked", headers=headers).status_code == 200
    for query in ("", "?role=everything"):
        response = client.get(f"/v1/questions{query}", headers=headers)
        assert response.status_code == 422 and [v["field"] for v in response.json()["error"]["violations"]] == [
            "role"]
