"""The wall figures each service reads from its own database, on real (SQLite) databases migrated as
`kring migrate` does, written through the services' own handlers where that is simple."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import Gauge
from sqlalchemy import insert

from services.common.db import create_service_engine
from services.common.domain_gauges import GaugeCollector, GaugeQuery
from services.common.metrics import (
    DOMAIN_GAUGES_ERRORS,
    DOMAIN_GAUGES_LAST_SUCCESS,
    MEMBERS_ACTIVE,
    NETWORKS_ACTIVE,
    OUTPUTS_SHARED_BEYOND_NETWORK,
    SESSIONS_HELD_LAST_MONTH,
)
from services.common.migrations import upgrade
from services.common.vocabulary import NetworkKind, NetworkLevel, Perspective, SessionFormat
from tests.support.callers import OPERATOR


def value(gauge: Gauge, **labels: str) -> float:
    return gauge.labels(**labels)._value.get()


def series(gauge: Gauge) -> set[tuple[str, ...]]:
    return {tuple(sample.labels.values()) for metric in gauge.collect() for sample in metric.samples}


@pytest.fixture
def database(tmp_path):
    def migrated(service: str):
        url = f"sqlite:///{tmp_path / service}.db"
        upgrade(service, url)
        return create_service_engine(url, service)

    return migrated


def test_networks_count_active_networks_by_level_and_kind_with_zeros_and_without_archived_ones(database):
    from services.networks import gauges, handlers
    from services.networks.schemas import CreateNetwork
    from services.networks.unit_of_work import NetworksUnitOfWork

    engine = database("networks")

    def create(name: str, level: str, kind: str) -> str:
        cmd = CreateNetwork(name=name, level=level, kind=kind, theme="Eenzaamheid onder ouderen")
        return handlers.create_network(OPERATOR, cmd, NetworksUnitOfWork(engine, producer="networks")).id

    create("BeterOud", "national", "community_of_practice")
    create("Leerkring Overvecht", "neighbourhood", "learning_circle")
    gone = create("Leerkring Zuilen", "neighbourhood", "learning_circle")
    handlers.archive_network(OPERATOR, gone, NetworksUnitOfWork(engine, producer="networks"))

    assert GaugeCollector(gauges.QUERY, engine, "networks").collect_once()
    assert value(NETWORKS_ACTIVE, level="national", kind="community_of_practice") == 1
    assert value(NETWORKS_ACTIVE, level="neighbourhood", kind="learning_circle") == 1
    assert value(NETWORKS_ACTIVE, level="regional", kind="werkplaats") == 0
    assert len(series(NETWORKS_ACTIVE)) == len(NetworkLevel) * len(NetworkKind)


def test_members_count_members_not_erased_once_per_perspective(database):
    from services.members import gauges, handlers
    from services.members.schemas import RegisterMember
    from services.members.unit_of_work import MembersUnitOfWork

    engine = database("members")

    def register(name: str, *perspectives: str) -> str:
        cmd = RegisterMember(name=name, email=f"{uuid.uuid4().hex[:8]}@example.org", perspectives=list(perspectives))
        return handlers.register_member(OPERATOR, cmd, MembersUnitOfWork(engine, producer="members")).id

    register("Anna", "practitioner", "lived_experience")
    register("Bram", "practitioner")
    erased = register("Cor", "resident")
    handlers.erase_member(OPERATOR, erased, MembersUnitOfWork(engine, producer="members"))

    assert GaugeCollector(gauges.QUERY, engine, "members").collect_once()
    assert value(MEMBERS_ACTIVE, perspective="practitioner") == 2
    assert value(MEMBERS_ACTIVE, perspective="lived_experience") == 1
    assert value(MEMBERS_ACTIVE, perspective="resident") == 0
    assert len(series(MEMBERS_ACTIVE)) == len(Perspective)


def test_sessions_count_held_sessions_of_the_last_30_days_and_outputs_shared_beyond_their_network(database):
    from services.sessions import gauges as sessions_gauges
    from services.sessions import models

    engine = database("sessions")
    now = datetime(2026, 6, 15, 12, tzinfo=UTC)

    def session(status: str, days_ago: float, session_format: str = "world_cafe") -> str:
        sid = str(uuid.uuid4())
        starts = now - timedelta(days=days_ago)
        with engine.begin() as conn:
            conn.execute(insert(models.sessions).values(
                id=sid, network_id="beteroud", title="Wereldcafé", format=session_format, mode="online",
                starts_at=starts, ends_at=starts + timedelta(hours=2), agenda="", statements=[], status=status,
                revision=1, attendance_revision=0, created_at=starts, updated_at=starts))
        return sid

    def output(session_id: str, visibility: str, retracted: bool = False) -> None:
        with engine.begin() as conn:
            conn.execute(insert(models.outputs).values(
                id=str(uuid.uuid4()), session_id=session_id, network_id="beteroud", kind="lesson", title="Les",
                body="...", themes=[], visibility=visibility, licence="CC-BY-4.0", published_at=now,
                retracted_at=now if retracted else None))

    held = session("held", days_ago=3)
    session("closed", days_ago=29, session_format="intervision")
    session("held", days_ago=31)  # too long ago
    session("planned", days_ago=2)  # not held
    session("cancelled", days_ago=2)
    session("held", days_ago=-1)  # recorded ahead of its start: not in the last 30 days
    for visibility in ("network", "linked", "federation", "public", "public"):
        output(held, visibility)
    output(held, "federation", retracted=True)

    query = GaugeQuery(sessions_gauges.QUERY.gauges, sessions_gauges.reader(lambda: now))
    assert GaugeCollector(query, engine, "sessions").collect_once()
    assert value(SESSIONS_HELD_LAST_MONTH, format="world_cafe") == 1
    assert value(SESSIONS_HELD_LAST_MONTH, format="intervision") == 1
    assert value(SESSIONS_HELD_LAST_MONTH, format="webinar") == 0
    assert len(series(SESSIONS_HELD_LAST_MONTH)) == len(SessionFormat)
    assert {v: value(OUTPUTS_SHARED_BEYOND_NETWORK, visibility=v) for v in ("linked", "federation", "public")} \
        == {"linked": 1, "federation": 1, "public": 2}
    assert ("network",) not in series(OUTPUTS_SHARED_BEYOND_NETWORK)


def test_a_label_set_that_disappears_from_the_query_disappears_from_the_gauge(tmp_path):
    gauge = Gauge("kring_test_things", "things", ["kind"], registry=None)
    answers = iter([[(gauge, {"kind": "a"}, 1.0), (gauge, {"kind": "b"}, 2.0)], [(gauge, {"kind": "b"}, 3.0)]])
    collector = GaugeCollector(GaugeQuery((gauge,), lambda _conn: next(answers)),
                               create_service_engine(f"sqlite:///{tmp_path}/x.db", "x"), "test-vanishing")
    assert collector.collect_once() and collector.collect_once()
    assert series(gauge) == {("b",)}
    assert value(DOMAIN_GAUGES_LAST_SUCCESS, service="test-vanishing") > 0


def test_a_failing_read_keeps_the_last_values_and_counts_an_error(tmp_path):
    gauge = Gauge("kring_test_others", "others", ["kind"], registry=None)
    answers = iter([[(gauge, {"kind": "a"}, 1.0)]])

    def read(_connection):
        return next(answers)  # StopIteration the second time: any exception is a failed read

    collector = GaugeCollector(GaugeQuery((gauge,), read), create_service_engine(f"sqlite:///{tmp_path}/y.db", "y"),
                               "test-failing")
    assert collector.collect_once()
    assert not collector.collect_once()
    assert value(gauge, kind="a") == 1
    assert DOMAIN_GAUGES_ERRORS.labels(service="test-failing")._value.get() == 1


def test_a_query_that_sets_a_gauge_it_does_not_declare_is_a_failed_read(tmp_path):
    mine = Gauge("kring_test_mine", "mine", ["kind"], registry=None)
    collector = GaugeCollector(GaugeQuery((mine,), lambda _conn: [(NETWORKS_ACTIVE, {"level": "x", "kind": "y"}, 1)]),
                               create_service_engine(f"sqlite:///{tmp_path}/z.db", "z"), "test-stray")
    assert not collector.collect_once()
    assert ("x", "y") not in series(NETWORKS_ACTIVE)
