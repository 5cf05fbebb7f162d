"""The networks directory's page tokens on PostgreSQL (the unit tests page on SQLite): the row-value keyset on
``(name, id)`` returns every network once, in name order, across pages that split a run of equal names, and a
page shows each network with its own members."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from services.common.catalogue import MembershipJoined
from services.common.db import create_service_engine
from services.common.migrations import upgrade
from services.common.vocabulary import MembershipRole, Perspective
from services.networks import handlers
from services.networks.schemas import CreateNetwork, ListNetworks, NetworkOut
from services.networks.unit_of_work import NetworksUnitOfWork
from tests.support.callers import OPERATOR


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    upgrade("networks", pg_url)
    engine = create_service_engine(pg_url, "networks")
    yield engine
    engine.dispose()


def uow(engine: Engine) -> NetworksUnitOfWork:
    return NetworksUnitOfWork(engine, producer="networks")


def create(engine: Engine, name: str) -> NetworkOut:
    request = {"name": name, "level": "local", "kind": "community_of_practice", "theme": "zorg en welzijn"}
    return handlers.create_network(OPERATOR, CreateNetwork.model_validate(request), uow(engine))


def test_paging_on_postgresql_returns_every_network_once_in_name_order_across_equal_names(engine) -> None:
    made = [create(engine, name) for name in ["Kring", "Aanpak", "Kring", "Kring", "Buurt", "Kring", "Zorg",
                                              "Kring", "Aanpak"]]
    seen: list[NetworkOut] = []
    token: str | None = None
    while True:
        page = handlers.list_networks(OPERATOR, ListNetworks(page_size=2, page_token=token), uow(engine))
        seen.extend(page.items)
        token = page.next_page_token
        if token is None:
            break
    assert [(n.name, n.id) for n in seen] == sorted((n.name, n.id) for n in made)


def test_a_page_on_postgresql_shows_each_network_with_its_own_members(engine) -> None:
    first, second = create(engine, "Aanpak"), create(engine, "Buurt")
    with uow(engine) as unit:
        unit.read_models.membership_joined(MembershipJoined(member_id="c-1", network_id=second.id,
                                                            role=MembershipRole.COORDINATOR,
                                                            perspectives=[Perspective.RESIDENT], revision=2))
        unit.commit()
    page = handlers.list_networks(OPERATOR, ListNetworks(page_size=10), uow(engine))
    assert [(n.id, n.member_count, [p.member_id for p in n.coordinators]) for n in page.items] == [
        (first.id, 0, []), (second.id, 1, ["c-1"])]
