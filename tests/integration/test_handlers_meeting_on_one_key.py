"""Handlers that meet on the same new row, on real PostgreSQL: an output's publication and its retraction handled
at the same moment by the federation service, and the same output announced twice to the networks service's read
model by two workers. Each waits for the other and then finds its row; neither fails on the key (a failure would
be retried by redelivery and logged as an error with a traceback, so errors in the logs would mean nothing)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import eventlet
import pytest
from sqlalchemy import Engine, select

from services.common.catalogue import NetworkSnapshot, OutputPublished, OutputRetracted
from services.common.db import create_service_engine
from services.common.migrations import upgrade
from services.common.uow import apply_once
from services.federation.handlers import links, sharing
from services.federation.models import deliveries
from services.federation.unit_of_work import FederationUnitOfWork
from services.networks.models import output_facts
from services.networks.unit_of_work import NetworksUnitOfWork

PUBLISHED = OutputPublished(output_id="o-1", session_id="s-1", network_id="wijk", kind="lesson", title="Wat werkt",
                            body="", url=None, resource_type=None, themes=["eenzaamheid"], visibility="linked",
                            licence="CC-BY-4.0", authors=[], published_at=datetime.now(UTC))
RETRACTED = OutputRetracted(output_id="o-1", network_id="wijk", retracted_at=datetime.now(UTC), reason=None)


def engine_of(pg_url: str, service: str) -> Iterator[Engine]:
    upgrade(service, pg_url)
    engine = create_service_engine(pg_url, service)
    yield engine
    engine.dispose()


@pytest.fixture
def federation_engine(pg_url) -> Iterator[Engine]:
    yield from engine_of(pg_url, "federation")


@pytest.fixture
def networks_engine(pg_url) -> Iterator[Engine]:
    yield from engine_of(pg_url, "networks")


class Meeting:
    """Starts the second worker at the moment the first holds its new row (inserted, not committed), and waits a
    moment so the second reaches the same key before the first commits."""

    def __init__(self, second: Callable[[], object]) -> None:
        self.second = second
        self.threads: list[eventlet.greenthread.GreenThread] = []

    def now(self) -> None:
        if not self.threads:
            self.threads.append(eventlet.spawn(self.second))
            eventlet.sleep(0.3)

    def second_result(self) -> object:
        return self.threads[0].wait()  # re-raises what the second worker raised


def hierarchy(engine: Engine) -> None:
    uow = FederationUnitOfWork(engine, producer="federation")
    for network_id, parent in (("region", None), ("wijk", "region")):
        snapshot = NetworkSnapshot(
            network_id=network_id, revision=1, name=network_id, level="regional", kind="werkplaats",
            theme="eenzaamheid", urgency=None, host_organisation=None, parent_id=parent, region=None,
            cadence_weeks=None, start_date=None, requires_preparation=False, unprepared_policy="flag", status="active")
        apply_once(uow, uuid.uuid4(), "federation.on_network_created",
                   lambda u, s=snapshot: links.on_network_changed(s, u))


def test_a_publication_and_its_retraction_handled_at_once_both_succeed_and_the_tombstone_wins(federation_engine):
    hierarchy(federation_engine)
    retraction = Meeting(lambda: apply_once(FederationUnitOfWork(federation_engine, producer="federation"),
                                            uuid.uuid4(), "federation.on_output_retracted",
                                            lambda u: sharing.on_output_retracted(RETRACTED, u)))

    def publish(uow: FederationUnitOfWork) -> None:
        deliver_many = uow.feeds.deliver_many

        def deliver_after_the_retraction_came(*args: object, **kwargs: object) -> object:
            retraction.now()  # the output's row is written, not committed: the retraction arrives now
            return deliver_many(*args, **kwargs)

        uow.feeds.deliver_many = deliver_after_the_retraction_came  # type: ignore[method-assign]
        sharing.on_output_published(PUBLISHED, uow)

    apply_once(FederationUnitOfWork(federation_engine, producer="federation"), uuid.uuid4(),
               "federation.on_output_published", publish)
    assert retraction.second_result() is True  # applied, not failed on the key

    with FederationUnitOfWork(federation_engine, producer="federation") as uow:
        known = uow.outputs.get("o-1")
    with federation_engine.connect() as conn:
        held = {r.network_id: r.tombstoned_at for r in conn.execute(select(deliveries))}
    assert known is not None and known.is_retracted and known.copy is None
    assert list(held) == ["region"] and held["region"] is not None  # received, then replaced by its tombstone


def test_the_same_output_announced_twice_at_once_is_known_once_in_the_networks_read_model(networks_engine):
    def apply(event: OutputPublished | OutputRetracted, pause: Meeting | None = None) -> None:
        with NetworksUnitOfWork(networks_engine, producer="networks") as uow:
            if isinstance(event, OutputPublished):
                uow.read_models.output_published(event)
            else:
                uow.read_models.output_retracted(event)
            if pause is not None:
                pause.now()
            uow.commit()

    twice = Meeting(lambda: apply(PUBLISHED))  # the same publication on two workers
    apply(PUBLISHED, twice)
    twice.second_result()

    second = PUBLISHED.model_copy(update={"output_id": "o-2"})
    publication = Meeting(lambda: apply(second))  # its retraction first, the publication meanwhile
    apply(RETRACTED.model_copy(update={"output_id": "o-2"}), publication)
    publication.second_result()

    with networks_engine.connect() as conn:
        rows = {r.output_id: r.retracted for r in conn.execute(select(output_facts))}
    assert rows == {"o-1": False, "o-2": True}
