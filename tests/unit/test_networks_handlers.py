"""The networks service's command and query handlers, on the real repository and unit of work over a
migrated SQLite file: what is stored, what reaches the outbox, and what the directory queries return."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.common.catalogue import MembershipJoined
from services.common.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from services.common.events import Envelope, EventPayload, parse_event
from services.common.vocabulary import MembershipRole, NetworkLevel, NetworkStatus, Perspective
from services.networks import handlers
from services.networks.models import outbox
from services.networks.schemas import (
    CreateNetwork,
    HealthReportQuery,
    ListNetworks,
    NetworkNode,
    NetworkOut,
    UpdateNetwork,
)
from services.networks.unit_of_work import NetworksUnitOfWork
from tests.support.callers import OPERATOR, member, partner


@pytest.fixture
def engine(migrated_engine: Callable[[str], Engine]) -> Engine:
    return migrated_engine("networks")


@pytest.fixture
def uow(engine: Engine) -> NetworksUnitOfWork:
    return NetworksUnitOfWork(engine, producer="networks", correlation_id="corr-1")


def create(uow: NetworksUnitOfWork, name: str, level: str, parent: NetworkOut | None = None,
           **fields: Any) -> NetworkOut:
    request = {"name": name, "level": level, "kind": "community_of_practice", "theme": f"Het thema van {name}",
               "parent_id": parent.id if parent else None} | fields
    return handlers.create_network(OPERATOR, CreateNetwork.model_validate(request), uow)


def update(uow: NetworksUnitOfWork, network: NetworkOut, **changes: Any) -> NetworkOut:
    return handlers.update_network(OPERATOR, network.id, UpdateNetwork.model_validate(changes), uow)


def published(engine: Engine) -> list[tuple[Envelope, EventPayload]]:
    with engine.connect() as connection:
        rows = connection.execute(select(outbox.c.envelope).order_by(outbox.c.position)).scalars().all()
    return [parse_event(row) for row in rows]


def published_types(engine: Engine) -> list[str]:
    return [envelope.type for envelope, _ in published(engine)]


def rules(raised: pytest.ExceptionInfo) -> list[tuple[str, str]]:
    return [(v["field"], v["rule"]) for v in raised.value.violations]


def feed(uow: NetworksUnitOfWork, *events: MembershipJoined) -> None:
    with uow:
        for event in events:
            uow.read_models.membership_joined(event)
        uow.commit()


@pytest.fixture
def chain(uow: NetworksUnitOfWork) -> dict[str, NetworkOut]:
    """A national network with a regional werkplaats, a local network and a neighbourhood network below it."""
    national = create(uow, "BeterOud", "national")
    regional = create(uow, "Werkplaats Utrecht", "regional", national)
    local = create(uow, "Eenzaamheid Utrecht", "local", regional)
    street = create(uow, "Overvecht", "neighbourhood", local)
    return {"national": national, "regional": regional, "local": local, "street": street}


# --- create ------------------------------------------------------------------------------------------------------


def test_creating_a_network_stores_it_and_writes_network_created_to_the_outbox(uow, engine) -> None:
    created = create(uow, "BeterOud", "national", urgency="Vergrijzing", cadence_weeks=6, region=None)
    assert (created.revision, created.status, created.member_count) == (1, NetworkStatus.ACTIVE, 0)
    assert handlers.get_network(OPERATOR, created.id, uow) == created
    ((envelope, payload),) = published(engine)
    assert (envelope.type, envelope.producer, envelope.correlation_id) == ("network.created", "networks", "corr-1")
    assert (payload.network_id, payload.revision, payload.urgency, payload.cadence_weeks) == (
        created.id, 1, "Vergrijzing", 6)


def test_creating_under_a_parent_that_does_not_exist_stores_nothing(uow, engine) -> None:
    with pytest.raises(ValidationFailed) as raised:
        create(uow, "Overvecht", "neighbourhood", parent_id="no-such-network")
    assert rules(raised) == [("parent_id", "exists")]
    assert handlers.list_networks(OPERATOR, ListNetworks(), uow).items == []
    assert published(engine) == []


def test_creating_under_an_archived_parent_is_refused(uow) -> None:
    old = create(uow, "Oud landelijk netwerk", "national")
    handlers.archive_network(OPERATOR, old.id, uow)
    with pytest.raises(ValidationFailed) as raised:
        create(uow, "Werkplaats", "regional", old)
    assert rules(raised) == [("parent_id", "active")]


def test_creating_at_the_level_of_the_parent_is_refused(uow) -> None:
    regional = create(uow, "Werkplaats Utrecht", "regional")
    with pytest.raises(ValidationFailed) as raised:
        create(uow, "Werkplaats Zuid", "regional", regional)
    assert rules(raised) == [("parent_id", "level_below_parent")]


# --- update --------------------------------------------------------------------------------------------------------


def test_an_update_is_stored_and_writes_network_updated_with_the_new_revision(uow, engine) -> None:
    network = create(uow, "Eenzaamheid", "local", urgency="Veel ouderen zijn eenzaam")
    changed = update(uow, network, name="Eenzaamheid Utrecht", urgency=None, cadence_weeks=2)
    assert (changed.name, changed.urgency, changed.cadence_weeks, changed.revision) == (
        "Eenzaamheid Utrecht", None, 2, 2)
    assert changed.updated_at > network.updated_at and changed.created_at == network.created_at
    assert handlers.get_network(OPERATOR, network.id, uow) == changed
    assert published_types(engine) == ["network.created", "network.updated"]
    assert published(engine)[-1][1].revision == 2


def test_an_update_that_changes_nothing_writes_no_event_and_keeps_the_revision(uow, engine) -> None:
    network = create(uow, "Eenzaamheid", "local", region="Utrecht")
    same = update(uow, network, name="Eenzaamheid", region="Utrecht")
    assert (same.revision, same.updated_at) == (1, network.updated_at)
    assert published_types(engine) == ["network.created"]


@pytest.mark.parametrize("new_parent", ["regional", "local", "street"])
def test_a_network_cannot_move_under_itself_or_its_descendants(uow, chain, new_parent: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        update(uow, chain["regional"], parent_id=chain[new_parent].id)
    assert rules(raised) == [("parent_id", "no_cycle")]
    assert handlers.get_network(OPERATOR, chain["regional"].id, uow).parent_id == chain["national"].id


def test_a_rejected_update_stores_nothing_and_writes_no_event(uow, engine, chain) -> None:
    before = published_types(engine)
    with pytest.raises(ValidationFailed):
        update(uow, chain["regional"], name="Hernoemd", level="local")
    assert handlers.get_network(OPERATOR, chain["regional"].id, uow) == chain["regional"]
    assert published_types(engine) == before


def test_a_network_cannot_drop_to_the_level_of_an_active_child(uow, chain) -> None:
    with pytest.raises(ValidationFailed) as raised:
        update(uow, chain["local"], level="neighbourhood")
    assert rules(raised) == [("level", "above_children")]


def test_an_archived_child_does_not_hold_its_parent_level_in_place(uow, chain) -> None:
    handlers.archive_network(OPERATOR, chain["street"].id, uow)
    assert update(uow, chain["local"], level="neighbourhood").level == NetworkLevel.NEIGHBOURHOOD


def test_a_network_can_move_to_a_parent_further_up(uow, chain) -> None:
    moved = update(uow, chain["local"], parent_id=chain["national"].id)
    assert moved.parent_id == chain["national"].id
    assert handlers.ancestry(chain["street"].id, uow) == [chain["street"].id, chain["local"].id, chain["national"].id]


def test_updating_an_unknown_network_is_not_found(uow) -> None:
    with pytest.raises(NotFound):
        handlers.update_network(OPERATOR, "no-such-network", UpdateNetwork(name="X"), uow)


def test_updating_an_archived_network_is_an_illegal_transition(uow, chain) -> None:
    handlers.archive_network(OPERATOR, chain["street"].id, uow)
    with pytest.raises(IllegalTransition) as raised:
        update(uow, chain["street"], name="Overvecht-Noord")
    assert rules(raised) == [("status", "illegal_transition")]


# --- archive -------------------------------------------------------------------------------------------------------


def test_archiving_a_network_with_active_children_is_a_conflict(uow, engine, chain) -> None:
    before = published_types(engine)
    with pytest.raises(Conflict) as raised:
        handlers.archive_network(OPERATOR, chain["local"].id, uow)
    assert rules(raised) == [("status", "no_active_children")]
    assert handlers.get_network(OPERATOR, chain["local"].id, uow).status == NetworkStatus.ACTIVE
    assert published_types(engine) == before


def test_archiving_bottom_up_archives_each_network_and_writes_network_archived(uow, engine, chain) -> None:
    for key in ("street", "local"):
        archived = handlers.archive_network(OPERATOR, chain[key].id, uow)
        assert (archived.status, archived.revision) == (NetworkStatus.ARCHIVED, 2)
    assert published_types(engine)[-2:] == ["network.archived", "network.archived"]


def test_archiving_twice_is_an_illegal_transition(uow, chain) -> None:
    handlers.archive_network(OPERATOR, chain["street"].id, uow)
    with pytest.raises(IllegalTransition):
        handlers.archive_network(OPERATOR, chain["street"].id, uow)


def test_archiving_an_unknown_network_is_not_found(uow) -> None:
    with pytest.raises(NotFound):
        handlers.archive_network(OPERATOR, "no-such-network", uow)


# --- get ---------------------------------------------------------------------------------------------------------


def test_getting_an_unknown_network_is_not_found(uow) -> None:
    with pytest.raises(NotFound) as raised:
        handlers.get_network(OPERATOR, "no-such-network", uow)
    assert "no-such-network" in raised.value.message


def test_a_network_view_lists_coordinators_and_facilitators_from_the_membership_read_model(uow) -> None:
    network = create(uow, "Eenzaamheid", "local")

    def joined(member_id: str, role: MembershipRole, *perspectives: Perspective) -> MembershipJoined:
        return MembershipJoined(member_id=member_id, network_id=network.id, role=role,
                                perspectives=list(perspectives), revision=2)

    feed(uow, joined("m-2", MembershipRole.FACILITATOR, Perspective.LIVED_EXPERIENCE),
         joined("m-1", MembershipRole.FACILITATOR, Perspective.PRACTITIONER),
         joined("m-3", MembershipRole.COORDINATOR, Perspective.MUNICIPALITY_POLICY),
         joined("m-4", MembershipRole.PARTICIPANT, Perspective.RESIDENT))
    view = handlers.get_network(OPERATOR, network.id, uow)
    assert [(p.member_id, p.perspectives) for p in view.facilitators] == [
        ("m-1", [Perspective.PRACTITIONER]), ("m-2", [Perspective.LIVED_EXPERIENCE])]
    assert [p.member_id for p in view.coordinators] == ["m-3"]
    assert view.member_count == 4


def test_staff_are_listed_by_member_id_only_inside_the_network_and_by_role_and_perspective_outside(uow) -> None:
    """Decision 0012: nobody consented to be identifiable by an id outside their network by taking on a role."""
    network = create(uow, "Eenzaamheid", "local")
    feed(uow, MembershipJoined(member_id="m-9", network_id=network.id, role=MembershipRole.COORDINATOR,
                               perspectives=[Perspective.PRACTITIONER], revision=2),
         MembershipJoined(member_id="m-8", network_id=network.id, role=MembershipRole.FACILITATOR,
                          perspectives=[Perspective.LIVED_EXPERIENCE], revision=2))
    staff = [("m-9", MembershipRole.COORDINATOR, [Perspective.PRACTITIONER]),
             ("m-8", MembershipRole.FACILITATOR, [Perspective.LIVED_EXPERIENCE])]

    def shown(view: NetworkOut) -> list[tuple[str | None, MembershipRole, list[Perspective]]]:
        return [(p.member_id, p.role, p.perspectives) for p in view.coordinators + view.facilitators]

    for inside in (OPERATOR, member("m-1", member_of=[network.id]), member("m-8", facilitates=[network.id])):
        assert shown(handlers.get_network(inside, network.id, uow)) == staff
    for outside in (None, member("m-1", member_of=["elsewhere"], administers=["elsewhere"]),
                    partner("p-1", network.id)):
        views = [handlers.get_network(outside, network.id, uow),
                 *handlers.list_networks(outside, ListNetworks(), uow).items]
        for view in views:
            assert shown(view) == [(None, role, perspectives) for _, role, perspectives in staff]
            assert "m-9" not in view.model_dump_json() and "m-8" not in view.model_dump_json()


def test_a_directory_page_shows_each_network_with_its_own_members_as_its_single_view_does(uow) -> None:
    first, second, empty = (create(uow, name, "local") for name in ("Aanpak", "Buurtkring", "Zorgkring"))
    feed(uow, MembershipJoined(member_id="c-1", network_id=first.id, role=MembershipRole.COORDINATOR,
                               perspectives=[Perspective.PRACTITIONER], revision=2),
         MembershipJoined(member_id="f-1", network_id=second.id, role=MembershipRole.FACILITATOR,
                          perspectives=[Perspective.RESIDENT], revision=2),
         MembershipJoined(member_id="p-1", network_id=second.id, role=MembershipRole.PARTICIPANT,
                          perspectives=[Perspective.RESIDENT], revision=2))
    page = handlers.list_networks(OPERATOR, ListNetworks(page_size=10), uow)
    assert [n.id for n in page.items] == [first.id, second.id, empty.id]
    assert page.items == [handlers.get_network(OPERATOR, n.id, uow) for n in (first, second, empty)]
    assert [(n.member_count, [p.member_id for p in n.coordinators], [p.member_id for p in n.facilitators])
            for n in page.items] == [(1, ["c-1"], []), (2, [], ["f-1"]), (0, [], [])]


# --- list ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def directory(uow: NetworksUnitOfWork) -> dict[str, NetworkOut]:
    national = create(uow, "BeterOud", "national", kind="knowledge_network", theme="Gezond en vitaal ouder worden")
    utrecht = create(uow, "Werkplaats Utrecht", "regional", national, kind="werkplaats",
                     theme="Armoede en schulden", region="Utrecht")
    zuid = create(uow, "Werkplaats Zuid", "regional", national, kind="werkplaats", theme="Jeugd en gezin",
                  region="Limburg")
    lonely = create(uow, "Eenzaamheid Utrecht", "local", utrecht, theme="Eenzaamheid onder OUDEREN", region="Utrecht")
    street = create(uow, "Overvecht", "neighbourhood", lonely, kind="learning_circle",
                    theme="Eenzaamheid in de wijk", region="Utrecht")
    old = create(uow, "Schuldhulp", "local", utrecht, kind="learning_circle", theme="Schulden bij ouderen",
                 region="Utrecht")
    handlers.archive_network(OPERATOR, old.id, uow)
    return {n.name: n for n in (national, utrecht, zuid, lonely, street, old)}


def names(uow: NetworksUnitOfWork, **query: Any) -> list[str]:
    return [n.name for n in handlers.list_networks(OPERATOR, ListNetworks.model_validate(query), uow).items]


@pytest.mark.parametrize(("query", "expected"), [
    ({}, ["BeterOud", "Eenzaamheid Utrecht", "Overvecht", "Werkplaats Utrecht", "Werkplaats Zuid"]),
    ({"level": "regional"}, ["Werkplaats Utrecht", "Werkplaats Zuid"]),
    ({"kind": "learning_circle"}, ["Overvecht"]),
    ({"theme": "eenzaamheid"}, ["Eenzaamheid Utrecht", "Overvecht"]),
    ({"theme": "Ouderen"}, ["Eenzaamheid Utrecht"]),
    ({"theme": "OUD"}, ["BeterOud", "Eenzaamheid Utrecht"]),
    ({"region": "Utrecht"}, ["Eenzaamheid Utrecht", "Overvecht", "Werkplaats Utrecht"]),
    ({"region": "utrecht"}, []),
    ({"status": "archived"}, ["Schuldhulp"]),
    ({"status": None}, ["BeterOud", "Eenzaamheid Utrecht", "Overvecht", "Schuldhulp", "Werkplaats Utrecht",
                        "Werkplaats Zuid"]),
    ({"level": "local", "status": "archived"}, ["Schuldhulp"]),
    ({"kind": "werkplaats", "region": "Limburg"}, ["Werkplaats Zuid"]),
    ({"theme": "schulden", "status": "active"}, ["Werkplaats Utrecht"]),
], ids=lambda value: str(value) if isinstance(value, dict) else "")
def test_listing_filters_by_every_given_criterion_and_shows_active_networks_by_default(
    uow, directory, query: dict[str, str | None], expected: list[str]
) -> None:
    assert names(uow, **query) == expected


def test_listing_by_parent_gives_the_direct_children_only(uow, directory) -> None:
    assert names(uow, parent_id=directory["BeterOud"].id) == ["Werkplaats Utrecht", "Werkplaats Zuid"]
    assert names(uow, parent_id=directory["Werkplaats Utrecht"].id) == ["Eenzaamheid Utrecht"]


def test_listing_can_be_restricted_to_given_networks(uow, directory) -> None:
    wanted = [directory["Overvecht"].id, directory["BeterOud"].id, "no-such-network"]
    assert names(uow, network_ids=wanted) == ["BeterOud", "Overvecht"]
    assert names(uow, network_ids=[]) == []


def test_a_theme_filter_takes_percent_and_underscore_literally(uow) -> None:
    create(uow, "Honderd", "local", theme="100% bereik in de wijk")
    create(uow, "Anders", "local", theme="1000 bewoners bereikt")
    assert names(uow, theme="100%") == ["Honderd"]
    assert names(uow, theme="0_b") == []


def test_a_theme_filter_ignores_case_beyond_ascii_too(uow) -> None:
    create(uow, "Één wijk", "neighbourhood", theme="ÉÉN WIJK, ÉÉN AANPAK")
    assert names(uow, theme="één aanpak") == ["Één wijk"]


def test_paging_returns_every_network_once_in_name_order_even_with_equal_names(uow) -> None:
    made = [create(uow, name, "local") for name in ["Kenniskring", "Buurtkring", "Kenniskring", "Aanpak", "Kenniskring",
                                                     "Zorgkring", "Buurtkring"]]
    seen: list[NetworkOut] = []
    token: str | None = None
    pages = 0
    while True:
        page = handlers.list_networks(OPERATOR, ListNetworks(page_size=2, page_token=token), uow)
        seen.extend(page.items)
        pages += 1
        token = page.next_page_token
        if token is None:
            break
    assert pages == 4
    assert sorted(n.id for n in seen) == sorted(n.id for n in made)  # each once
    assert [(n.name, n.id) for n in seen] == sorted((n.name, n.id) for n in made)


def test_a_full_last_page_has_no_next_token(uow) -> None:
    for name in ("A", "B"):
        create(uow, name, "local")
    assert handlers.list_networks(OPERATOR, ListNetworks(page_size=2), uow).next_page_token is None


def test_a_page_token_the_api_did_not_hand_out_is_refused_on_page_token(uow) -> None:
    with pytest.raises(ValidationFailed) as raised:
        handlers.list_networks(OPERATOR, ListNetworks(page_token="not-a-token"), uow)
    assert rules(raised) == [("page_token", "valid_page_token")]


# --- tree and ancestry -------------------------------------------------------------------------------------------


def shape(node: NetworkNode) -> tuple[str, str, list[Any]]:
    return (node.name, node.status, [shape(child) for child in node.children])


def test_the_tree_nests_every_network_below_a_root_with_children_in_name_order(uow, directory) -> None:
    tree = handlers.network_tree(directory["BeterOud"].id, uow)
    assert shape(tree) == ("BeterOud", "active", [
        ("Werkplaats Utrecht", "active", [
            ("Eenzaamheid Utrecht", "active", [("Overvecht", "active", [])]),
            ("Schuldhulp", "archived", []),
        ]),
        ("Werkplaats Zuid", "active", []),
    ])
    assert (tree.level, tree.kind) == ("national", "knowledge_network")


def test_the_tree_under_a_middle_network_holds_only_what_is_below_it(uow, directory) -> None:
    assert shape(handlers.network_tree(directory["Eenzaamheid Utrecht"].id, uow)) == (
        "Eenzaamheid Utrecht", "active", [("Overvecht", "active", [])])
    assert handlers.network_tree(directory["Overvecht"].id, uow).children == []


def test_the_tree_of_an_unknown_network_is_not_found(uow) -> None:
    with pytest.raises(NotFound):
        handlers.network_tree("no-such-network", uow)


def test_ancestry_lists_the_network_and_its_ancestors_nearest_first(uow, chain) -> None:
    assert handlers.ancestry(chain["street"].id, uow) == [
        chain["street"].id, chain["local"].id, chain["regional"].id, chain["national"].id]
    assert handlers.ancestry(chain["national"].id, uow) == [chain["national"].id]


def test_ancestry_of_an_unknown_network_is_not_found(uow) -> None:
    with pytest.raises(NotFound):
        handlers.ancestry("no-such-network", uow)


# --- health report -------------------------------------------------------------------------------------------------


def test_the_health_report_names_the_network_and_reads_the_nine_steps_from_the_read_models(uow) -> None:
    network = create(uow, "Eenzaamheid Utrecht", "local", theme="Eenzaamheid onder ouderen")
    feed(uow, *(MembershipJoined(member_id=member_id, network_id=network.id, role=MembershipRole.FACILITATOR,
                                 perspectives=[perspective], revision=2)
                for member_id, perspective in (("f-1", Perspective.PRACTITIONER),
                                               ("f-2", Perspective.LIVED_EXPERIENCE))))
    report = handlers.health_report(OPERATOR, network.id, uow, HealthReportQuery(language="en"))
    assert (report.network_id, report.network_name) == (network.id, "Eenzaamheid Utrecht")
    assert report.generated_at.tzinfo is not None
    assert [s.step for s in report.steps] == list(range(1, 10))
    steps = {s.key: s for s in report.steps}
    assert steps["frame_theme"].evidence == 'theme: "Eenzaamheid onder ouderen"'
    assert (steps["two_facilitators"].status, steps["two_facilitators"].evidence) == (
        "shown", "2 facilitators: lived experience and practitioner")
    assert steps["sustained_rhythm"].status == "not_shown"
    assert (steps["mandate_to_experiment"].status, steps["mandate_to_experiment"].little_data) == ("not_shown", True)
    assert report.model_dump(mode="json")["steps"][0]["step"] == 1  # crosses RPC as plain JSON


def test_the_health_report_of_an_unknown_network_is_not_found(uow) -> None:
    with pytest.raises(NotFound):
        handlers.health_report(OPERATOR, "no-such-network", uow)


def test_the_service_health_check_pings_the_database(uow) -> None:
    assert handlers.health(uow).model_dump() == {"service": "networks", "database": "ok"}


# --- who may: each handler checks the caller where it loads the network --------------------------------------------


def test_a_coordinator_may_change_their_own_network_and_not_the_one_above(uow, engine, chain) -> None:
    coordinator = member("c-1", administers={chain["regional"].id})
    changed = handlers.update_network(coordinator, chain["regional"].id, UpdateNetwork(theme="Samen oud worden"), uow)
    assert changed.theme == "Samen oud worden"
    before = published_types(engine)
    with pytest.raises(PermissionDenied):
        handlers.update_network(coordinator, chain["national"].id, UpdateNetwork(theme="Iets anders"), uow)
    assert handlers.get_network(OPERATOR, chain["national"].id, uow).theme == "Het thema van BeterOud"
    assert published_types(engine) == before


def test_a_coordinator_creates_below_their_network_and_nowhere_else(uow, engine, chain) -> None:
    coordinator = member("c-1", administers={chain["local"].id})
    below = CreateNetwork.model_validate({"name": "Kanaleneiland", "level": "neighbourhood",
                                          "kind": "learning_circle", "theme": "Eenzaamheid",
                                          "parent_id": chain["local"].id})
    assert handlers.create_network(coordinator, below, uow).parent_id == chain["local"].id
    before = published_types(engine)
    elsewhere = below.model_copy(update={"name": "Elders", "parent_id": chain["regional"].id, "level": "local"})
    with pytest.raises(PermissionDenied):
        handlers.create_network(coordinator, elsewhere, uow)
    assert published_types(engine) == before
