"""Every service refuses what the gateway refuses at the edge, on its own: text with a NUL character (U+0000,
which PostgreSQL cannot store) and times at the ends of the calendar (where converting to UTC or adding a
period overflows). Called through each service's parse path, as its RPC entrypoints call it, so a request that
never passed the gateway gets a validation error naming the field and the rule, not an internal error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from services.common import schemas as common
from services.common.errors import ValidationFailed
from services.common.nameko_kit import parse_request
from services.federation.peers.schemas import ConfigurePeer, PeerEntry, ReportPeerState
from services.federation.schemas import BlockSubject, PartnerOutput, RegisterPartner, RequestLink
from services.gateway.shared import input_guard
from services.members.schemas import IssueToken, RegisterMember, SearchMembers, UpdateMember
from services.networks.schemas import CreateNetwork, ListNetworks, UpdateNetwork
from services.sessions.domain.reports import Period
from services.sessions.schemas.commands import (
    CancelSession,
    LearningReportQuery,
    ListSessions,
    PublishOutput,
    RecordReflection,
    RescheduleSession,
    ScheduleSession,
)

NUL = "\x00"
SESSION = {"network_id": "wijk-noord", "title": "Kenniscafé", "format": "knowledge_cafe", "mode": "online",
           "meeting_url": "https://meet.example.org/kc", "starts_at": "2031-03-01T18:00:00+01:00",
           "ends_at": "2031-03-01T20:00:00+01:00"}
NETWORK = {"name": "Leerkring Zuilen", "level": "neighbourhood", "kind": "learning_circle", "theme": "Eenzaamheid"}
OUTPUT = {"network_id": "wijk-noord", "client_output_id": "verslag-1", "kind": "lesson", "title": "Wat we leerden"}
PEER_COPY = {"output_id": "o-1", "origin_network_id": "x", "kind": "lesson", "title": "Les", "visibility": "linked"}
# Both ends of the calendar, with the offsets that made converting them to UTC overflow.
EXTREMES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0999-12-31T23:59:59+00:00",
            "9000-01-01T00:00:00+00:00"]


def rules_broken(model: type[BaseModel], data: Any) -> set[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as raised:
        parse_request(model, data)
    return {(v["field"], v["rule"]) for v in raised.value.violations}


@pytest.mark.parametrize(("model", "data", "field"), [
    (RegisterMember, {"name": f"Anna{NUL}", "email": "anna@example.org", "perspectives": ["resident"]}, "name"),
    (UpdateMember, {"organisation": f"Buurtteam{NUL}"}, "organisation"),
    (SearchMembers, {"page_token": NUL}, "page_token"),
    (IssueToken, {"label": f"laptop{NUL}"}, "label"),
    (CreateNetwork, {**NETWORK, "urgency": f"nu{NUL}"}, "urgency"),
    (UpdateNetwork, {"region": f"Utrecht{NUL}"}, "region"),
    (ListNetworks, {"theme": NUL}, "theme"),
    (ScheduleSession, {**SESSION, "title": f"Kennis{NUL}café"}, "title"),
    (ScheduleSession, {**SESSION, "format": "world_cafe", "statements": ["ok", NUL]}, "statements.1"),
    (ScheduleSession, {**SESSION, "contributions": [{"member_id": "m1", "topic": f"{NUL}"}]}, "contributions.0.topic"),
    (CancelSession, {"reason": f"ziek{NUL}"}, "reason"),
    (PublishOutput, {"kind": "lesson", "title": "Les", "authors": ["m1"], "body": f"a{NUL}b"}, "body"),
    (RecordReflection, {"session_id": "s1", "kind": "perspective", "text": f"Ik{NUL}"}, "text"),
    (PartnerOutput, {**OUTPUT, "authors": [f"een bewoner{NUL}"]}, "authors.0"),
    (PartnerOutput, {**OUTPUT, "url": f"https://example.org/{NUL}"}, "url"),
    (RequestLink, {"requester_network_id": "a", "target_network_id": "b",
                   "policy": {"visibilities": ["linked"], "themes": [f"zorg{NUL}"]}}, "policy.themes.0"),
    (BlockSubject, {"reason": NUL}, "reason"),
    (RegisterPartner, {"name": f"Movisie{NUL}", "network_ids": ["a"]}, "name"),
    (ConfigurePeer, {"instance_id": "kring-a", "name": f"A{NUL}", "address": "a.example.org:50051",
                     "api_key": "kpk_0123456789"}, "name"),
    (ReportPeerState, {"status": "backing_off", "connected": False, "consecutive_failures": 1,
                       "last_error": f"peer said {NUL}"}, "last_error"),
    (PeerEntry, {"cursor": 1, "network_id": "y", "kind": "shared",
                 "output": {**PEER_COPY, "authors": [{"shown_as": NUL, "named": False}]}}, "output.authors.0.shown_as"),
])
def test_text_with_a_nul_character_is_refused_by_the_service_naming_the_field_and_rule(model, data, field):
    assert rules_broken(model, data) == {(field, "no_nul_character")}


@pytest.mark.parametrize("at", EXTREMES)
@pytest.mark.parametrize(("model", "data", "field"), [
    (ScheduleSession, SESSION, "starts_at"),
    (RescheduleSession, {"starts_at": "2031-03-01T18:00:00Z", "ends_at": "2031-03-01T20:00:00Z"}, "ends_at"),
    (ListSessions, {}, "starts_from"),
    (LearningReportQuery, {}, "period_from"),
    (LearningReportQuery, {}, "period_to"),
    (ReportPeerState, {"status": "following", "connected": True, "consecutive_failures": 0}, "last_success_at"),
])
def test_a_time_at_the_ends_of_the_calendar_is_refused_by_the_service_not_overflowing(model, data, field, at):
    assert (field, "time_in_range") in rules_broken(model, {**data, field: at})


def test_a_date_at_the_ends_of_the_calendar_is_refused_by_the_networks_service():
    assert rules_broken(CreateNetwork, {**NETWORK, "start_date": "0001-01-01"}) == {("start_date", "time_in_range")}
    assert rules_broken(UpdateNetwork, {"start_date": "9999-12-31"}) == {("start_date", "time_in_range")}
    assert parse_request(UpdateNetwork, {"start_date": "2024-09-01"}).start_date.year == 2024


def test_times_within_range_are_kept_and_converted_to_utc():
    cmd = parse_request(ScheduleSession, {**SESSION, "starts_at": "1000-01-01T05:00:00+05:00",
                                          "ends_at": "1000-01-01T06:00:00+05:00"})
    assert cmd.starts_at == datetime(1000, 1, 1, tzinfo=UTC) and cmd.starts_at.tzinfo is UTC
    report = parse_request(LearningReportQuery, {"period_to": "8999-12-31T23:59:59+00:00"})
    assert report.period_to.year == 8999


def test_a_report_period_whose_default_end_or_start_falls_off_the_calendar_names_the_field_not_an_overflow():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as late:
        Period.of(datetime(9999, 6, 1, tzinfo=UTC), None, now=now)
    with pytest.raises(ValidationFailed) as early:
        Period.of(None, datetime(1, 3, 1, tzinfo=UTC), now=now)
    assert late.value.violations[0]["field"] == "period_from" and early.value.violations[0]["field"] == "period_to"
    assert {late.value.violations[0]["rule"], early.value.violations[0]["rule"]} == {"time_in_range"}
    assert Period.of(datetime(8999, 6, 1, tzinfo=UTC), None, now=now).end.year == 9000


def test_the_gateway_and_the_services_refuse_with_the_same_rules_and_range():
    for name in ("NUL", "NUL_RULE", "NUL_MESSAGE", "EARLIEST", "LATEST", "TIME_RULE", "TIME_MESSAGE"):
        assert getattr(input_guard, name) is getattr(common, name)
