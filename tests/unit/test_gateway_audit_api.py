"""``/v1/audit`` at the gateway: the pages of the services that keep an audit log merged newest first with a cursor
that misses nothing, the export as NDJSON read page by page, the operator only (the services refuse anyone else:
403), and bad filters a 422 naming the field."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.common.audit import AuditEntry, AuditQuery, SubjectOut, page_token_after, read_entries
from services.common.caller import Caller
from services.common.config import Settings
from services.gateway.admin.app import create_app
from tests.unit.gateway_fakes import FakeMembers, FakeReadiness, FakeServices

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

OPERATOR = {"Authorization": "Bearer operator-secret"}
T0 = datetime(2026, 5, 1, tzinfo=UTC)


class MemoryLog:
    """One service's entries, read as the SQL log reads them (newest first, after the page token's position)."""

    def __init__(self, entries: list[AuditEntry]) -> None:
        self.items = entries

    def entries(self, query: AuditQuery) -> list[AuditEntry]:
        found = sorted(self.items, key=lambda e: (e.at, e.id), reverse=True)
        if query.action:
            found = [e for e in found if e.action == query.action]
        if query.page_token:
            at, entry_id = query.after()
            found = [e for e in found if (e.at, e.id) < (at, entry_id)]
        return found[:query.page_size]


class AuditingService:
    def __init__(self, name: str, entries: list[AuditEntry]) -> None:
        self.name, self.log, self.calls = name, MemoryLog(entries), 0

    def audit_entries(self, caller: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        page = read_entries(Caller.of(caller), AuditQuery.model_validate(query), self.log, self.name)
        return page.model_dump(mode="json")


class AuditingMembers(FakeMembers):
    audit: AuditingService

    def audit_entries(self, caller: dict[str, Any], query: dict[str, Any]) -> dict[str, Any]:
        return self.audit.audit_entries(caller, query)


class AuditingFederation(AuditingService):
    def call(self, service: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        return getattr(self, method)(*args)


def entry(entry_id: str, seconds: int, action: str = "link.revoked") -> AuditEntry:
    return AuditEntry(id=entry_id, at=T0 + timedelta(seconds=seconds), action=action,
                      actor=SubjectOut(kind="operator"), target=SubjectOut(kind="link", id=f"l-{entry_id}"))


@pytest.fixture
def members() -> AuditingMembers:
    members = AuditingMembers()
    members.audit = AuditingService("members", [entry("m1", 1, "token.issued"), entry("m2", 4, "member.erased"),
                                                entry("m3", 5, "member.exported")])
    return members


@pytest.fixture
def federation() -> AuditingFederation:
    return AuditingFederation("federation", [entry("f1", 2), entry("f2", 3), entry("f3", 6)])


@pytest.fixture
def client(members, federation) -> TestClient:
    app = create_app(Settings(operator_token="operator-secret"), FakeServices(members=members, federation=federation),
                     readiness=FakeReadiness({}))
    return TestClient(app)


def test_pages_merge_every_services_entries_newest_first_and_the_cursor_misses_none(client) -> None:
    seen, token = [], None
    while True:
        params: dict[str, Any] = {"page_size": 2} | ({"page_token": token} if token else {})
        answer = client.get("/v1/audit", params=params, headers=OPERATOR)
        assert answer.status_code == 200, answer.text
        seen += [(e["id"], e["service"]) for e in answer.json()["items"]]
        token = answer.json()["next_page_token"]
        if token is None:
            break
    assert seen == [("f3", "federation"), ("m3", "members"), ("m2", "members"), ("f2", "federation"),
                    ("f1", "federation"), ("m1", "members")]


def test_the_action_filter_reaches_every_service(client) -> None:
    answer = client.get("/v1/audit", params={"action": "member.erased"}, headers=OPERATOR)
    assert [e["id"] for e in answer.json()["items"]] == ["m2"]


def test_the_export_is_every_matching_entry_as_ndjson_read_page_by_page(client, members, monkeypatch) -> None:
    monkeypatch.setattr("services.gateway.admin.routes.audit.EXPORT_PAGE", 2)
    answer = client.get("/v1/audit/export", headers=OPERATOR)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert [e["id"] for e in lines] == ["f3", "m3", "m2", "f2", "f1", "m1"]
    assert members.audit.calls >= 3  # page by page, not all at once


def test_a_members_token_is_refused_reading_and_exporting(client, members) -> None:
    token = members.token_for("m-1", administers=["n-1"])
    assert client.get("/v1/audit", headers=token).status_code == 403
    assert client.get("/v1/audit/export", headers=token).status_code == 403


@pytest.mark.parametrize(("params", "field"), [
    ({"action": "member.renamed"}, "action"),
    ({"since": "2026-05-01T00:00:00"}, "since"),  # no UTC offset
    ({"since": "2026-05-02T00:00:00Z", "until": "2026-05-01T00:00:00Z"}, "until"),
    ({"page_token": "nonsense"}, "page_token"),
    ({"page_size": 0}, "page_size"),
])
def test_a_bad_filter_is_a_422_naming_the_field(client, params, field) -> None:
    answer = client.get("/v1/audit", params=params, headers=OPERATOR)
    assert answer.status_code == 422, answer.text
    assert field in [v["field"] for v in answer.json()["error"]["violations"]]


def test_a_page_token_carries_the_position_of_the_last_entry_shown(client) -> None:
    answer = client.get("/v1/audit", params={"page_size": 1}, headers=OPERATOR)
    assert answer.json()["next_page_token"] == page_token_after(entry("f3", 6))
