"""A knowledge café's statements, what the tables concluded, and the harvest as outputs, through the admin API
with the stack running as separate processes."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx


def made(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def test_a_knowledge_cafe_harvest_becomes_an_output_that_names_its_statement(stack):
    starts = datetime.now(UTC) - timedelta(hours=3)
    with stack.client() as operator:
        network = made(operator.post("/v1/networks", json={"name": f"Kring {uuid.uuid4().hex[:8]}", "level": "local",
                                                           "kind": "learning_circle", "theme": "eenzaamheid"}))["id"]
        author = made(operator.post("/v1/members", json={"name": "Fenna Begeleider", "perspectives": ["practitioner"],
                                                         "email": f"fenna.{uuid.uuid4().hex[:8]}@example.org"}))
        made(operator.put(f"/v1/networks/{network}/members/{author['id']}", json={"role": "facilitator"}), 200)
        cafe = made(operator.post(f"/v1/networks/{network}/sessions", json={
            "title": "Kenniscafé", "format": "knowledge_cafe", "mode": "in_person", "location": "Bieb",
            "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "statements": ["Eenzaamheid is een taboe", "De wijk zorgt voor elkaar"]}))
        early = operator.put(f"/v1/sessions/{cafe['id']}/statements/1/conclusion", json={"conclusion": "Te vroeg"})
        assert early.status_code == 409
        made(operator.post(f"/v1/sessions/{cafe['id']}/hold"), 200)

        concluded = made(operator.put(f"/v1/sessions/{cafe['id']}/statements/2/conclusion",
                                      json={"conclusion": "Buren zien meer dan we denken."}), 200)
        assert concluded["statement_text"] == "De wijk zorgt voor elkaar"
        missing = operator.put(f"/v1/sessions/{cafe['id']}/statements/3/conclusion", json={"conclusion": "?"})
        assert missing.status_code == 404
        assert {(v["field"], v["rule"]) for v in missing.json()["error"]["violations"]} == {
            ("statement", "statement_exists")}
        empty = operator.put(f"/v1/sessions/{cafe['id']}/statements/2/conclusion", json={"conclusion": ""})
        assert empty.status_code == 422
        assert [v["field"] for v in empty.json()["error"]["violations"]] == ["conclusion"]
        shown = made(operator.get(f"/v1/sessions/{cafe['id']}"), 200)
        assert [(c["statement"], c["conclusion"]) for c in shown["conclusions"]] == [
            (2, "Buren zien meer dan we denken.")]

        # The sessions service learns that the author is a member from an event: retry until it has.
        deadline = time.monotonic() + 30
        while True:
            response = operator.post(f"/v1/sessions/{cafe['id']}/outputs", json={
                "kind": "conclusion", "title": "Buren zien meer", "body": concluded["conclusion"],
                "authors": [author["id"]], "statement": 2})
            if response.status_code == 201 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        output = made(response)
        assert output["statement"] == 2
