"""Partners: a key shown once and stored only as its hash, scoped to the partner's networks; authentication,
revocation, rotation and blocking; outputs a partner publishes for its own networks, idempotent on its own
output id."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from services.common.errors import Conflict, NotFound, PermissionDenied, Unauthenticated, ValidationFailed
from services.federation.handlers import links, queries
from services.federation.partners import handlers as partners
from services.federation.partners.handlers import hash_key, partner_output_id
from services.federation.schemas import BlockSubject, PartnerKey, PartnerOutput, PublishedQuery, RegisterPartner
from tests.support.callers import OPERATOR, partner
from tests.unit.test_federation_world import World, open_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


@pytest.fixture
def movisie(world: World) -> PartnerKey:
    """A partner owning two networks, each linked to this instance's "hub"."""
    world.networks("hub", "mov-1", "mov-2", "other")
    world.link("mov-1", "hub")
    world.link("mov-2", "hub")
    return register(world, "Movisie", "mov-1", "mov-2")


def register(world: World, name: str, *network_ids: str) -> PartnerKey:
    return partners.register_partner(OPERATOR, RegisterPartner(name=name, network_ids=list(network_ids)), world.uow,
                                     world.lookup)


def output(network_id: str = "mov-1", client_output_id: str = "c-1", **fields: Any) -> PartnerOutput:
    request = {"kind": "lesson", "title": "Wat werkt bij eenzaamheid", "visibility": "federation"} | fields
    return PartnerOutput(network_id=network_id, client_output_id=client_output_id, **request)


def test_the_key_is_shown_once_and_only_its_hash_is_stored(world: World, movisie: PartnerKey) -> None:
    assert movisie.api_key.startswith("kpk_") and len(movisie.api_key) > 40
    shown_again = partners.get_partner(OPERATOR, movisie.partner_id, world.uow)
    assert "api_key" not in shown_again.model_dump()
    assert all("api_key" not in p.model_dump() for p in partners.list_partners(OPERATOR, world.uow))
    with world.engine.connect() as conn:
        stored = json.dumps([list(map(str, r)) for r in conn.execute(text("SELECT * FROM partners"))])
    assert movisie.api_key not in stored and hash_key(movisie.api_key) in stored


def test_a_partner_is_scoped_to_the_networks_it_registered(world: World, movisie: PartnerKey) -> None:
    assert movisie.network_ids == ["mov-1", "mov-2"]
    assert partners.authenticate_partner(hash_key(movisie.api_key), world.uow).network_ids == ["mov-1", "mov-2"]


def test_registration_refuses_an_unknown_network_and_one_that_already_has_a_partner(
        world: World, movisie: PartnerKey) -> None:
    with pytest.raises(NotFound):
        register(world, "Pharos", "nowhere")
    with pytest.raises(Conflict):
        register(world, "Pharos", "other", "mov-2")
    world.lookup.networks["fresh"] = {"id": "fresh", "status": "active"}
    assert register(world, "Pharos", "fresh").network_ids == ["fresh"]


def test_an_unknown_key_is_unauthenticated(world: World, movisie: PartnerKey) -> None:
    with pytest.raises(Unauthenticated):
        partners.authenticate_partner(hash_key("kpk_guessed"), world.uow)


def test_a_revoked_key_is_unauthenticated(world: World, movisie: PartnerKey) -> None:
    assert partners.revoke_partner(OPERATOR, movisie.partner_id, world.uow).status == "revoked"
    with pytest.raises(Unauthenticated):
        partners.authenticate_partner(hash_key(movisie.api_key), world.uow)


def test_rotation_issues_a_new_key_and_the_old_one_stops_working(world: World, movisie: PartnerKey) -> None:
    rotated = partners.rotate_partner_key(OPERATOR, movisie.partner_id, world.uow)
    assert rotated.api_key != movisie.api_key and rotated.status == "active"
    with pytest.raises(Unauthenticated):
        partners.authenticate_partner(hash_key(movisie.api_key), world.uow)
    assert partners.authenticate_partner(hash_key(rotated.api_key), world.uow).partner_id == movisie.partner_id


def test_rotating_a_revoked_partners_key_lets_it_in_again_with_the_new_key(world: World, movisie: PartnerKey) -> None:
    partners.revoke_partner(OPERATOR, movisie.partner_id, world.uow)
    rotated = partners.rotate_partner_key(OPERATOR, movisie.partner_id, world.uow)
    assert partners.authenticate_partner(hash_key(rotated.api_key), world.uow).status == "active"


def test_a_blocked_partner_is_refused_and_gets_no_new_key(world: World, movisie: PartnerKey) -> None:
    assert partners.block_partner(OPERATOR, movisie.partner_id, BlockSubject(reason="misbruik"),
                                  world.uow).status == "blocked"
    with pytest.raises(PermissionDenied):
        partners.authenticate_partner(hash_key(movisie.api_key), world.uow)
    with pytest.raises(PermissionDenied):
        partners.rotate_partner_key(OPERATOR, movisie.partner_id, world.uow)


def test_a_blocked_partner_stays_blocked_when_it_is_revoked_and_then_rotated(world: World, movisie: PartnerKey) -> None:
    """Revoking a blocked partner must not open a way around the block (a rotation after a revocation would
    otherwise hand out a working key)."""
    partners.block_partner(OPERATOR, movisie.partner_id, BlockSubject(), world.uow)
    partners.revoke_partner(OPERATOR, movisie.partner_id, world.uow)
    with pytest.raises(PermissionDenied):
        partners.rotate_partner_key(OPERATOR, movisie.partner_id, world.uow)


def test_blocking_a_partner_blocks_its_networks_ends_their_links_and_stops_deliveries(
        world: World, movisie: PartnerKey) -> None:
    partners.block_partner(OPERATOR, movisie.partner_id, BlockSubject(), world.uow)
    assert {link.status for n in ("mov-1", "mov-2") for link in links.list_links(OPERATOR, n, None,
                                                                                 world.uow)} == {"blocked"}
    shared = world.publish("hub", "federation")
    assert world.recipients(shared.output_id) == []
    with pytest.raises(PermissionDenied):
        world.request("mov-1", "other")
    with pytest.raises(PermissionDenied):
        partners.publish_partner_output(partner(movisie.partner_id), output(), world.uow, world.lookup)


def test_an_unknown_partner_is_not_found(world: World) -> None:
    for call in (partners.get_partner, partners.revoke_partner, partners.rotate_partner_key):
        with pytest.raises(NotFound):
            call(OPERATOR, "p-x", world.uow)


# --- partner outputs -------------------------------------------------------------------------------------------


def test_a_partner_output_is_shared_like_any_other_with_its_authors_as_given(world: World, movisie: PartnerKey) -> None:
    answer = partners.publish_partner_output(partner(movisie.partner_id), output(authors=["Lotte (Movisie)"]),
                                             world.uow, world.lookup)
    assert answer == {"output_id": partner_output_id(movisie.partner_id, "c-1"), "recipients": 2, "retracted": False}
    assert sorted(world.recipients(answer["output_id"])) == ["hub", "mov-2"]
    [item] = world.feed("hub")
    assert (item.output["origin_network_id"], item.output["authors"]) == (
        "mov-1", [{"shown_as": "Lotte (Movisie)", "named": True, "role": None}])


def test_recipients_counts_the_networks_reached_and_not_the_public_feed_which_the_delivery_log_lists(
        world: World, movisie: PartnerKey) -> None:
    """PublishOutput's ``recipients``: networks only; the public feed is a feed, not a network, and shows in the
    delivery log as the row ``public`` (proto, README and FEDERATION.md say so)."""
    answer = partners.publish_partner_output(partner(movisie.partner_id), output(visibility="public"), world.uow,
                                             world.lookup)
    assert answer["recipients"] == 2
    logged = [d.network_id for d in queries.delivery_log(OPERATOR, answer["output_id"], world.uow).items]
    assert sorted(logged) == ["hub", "mov-2", "public"]


def test_themes_are_trimmed_and_lower_cased_in_the_shared_copy(world: World, movisie: PartnerKey) -> None:
    partners.publish_partner_output(partner(movisie.partner_id), output(themes=[" Eenzaamheid ", "MANTELZORG"]),
                                    world.uow, world.lookup)
    assert world.feed("hub")[0].output["themes"] == ["eenzaamheid", "mantelzorg"]


def test_publishing_again_with_the_same_client_output_id_shares_it_once(world: World, movisie: PartnerKey) -> None:
    first = partners.publish_partner_output(partner(movisie.partner_id), output(), world.uow, world.lookup)
    again = partners.publish_partner_output(partner(movisie.partner_id), output(title="Changed title"), world.uow,
                                            world.lookup)
    assert again == first
    assert [i.output["title"] for i in world.feed("hub")] == ["Wat werkt bij eenzaamheid"]


def test_a_client_output_id_used_for_another_of_its_networks_is_a_conflict(world: World, movisie: PartnerKey) -> None:
    partners.publish_partner_output(partner(movisie.partner_id), output("mov-1"), world.uow, world.lookup)
    with pytest.raises(Conflict) as raised:
        partners.publish_partner_output(partner(movisie.partner_id), output("mov-2"), world.uow, world.lookup)
    assert raised.value.violations[0]["field"] == "client_output_id"


def test_a_partner_cannot_publish_for_a_network_that_is_not_its_own(world: World, movisie: PartnerKey) -> None:
    pharos = register(world, "Pharos", "other")
    for network_id in ("other", "hub"):
        with pytest.raises(PermissionDenied) as raised:
            partners.publish_partner_output(partner(movisie.partner_id), output(network_id), world.uow, world.lookup)
        assert raised.value.violations[0]["field"] == "network_id"
    assert partners.publish_partner_output(partner(pharos.partner_id), output("other"), world.uow,
                                           world.lookup)["recipients"] == 0


def test_two_partners_with_the_same_client_output_id_publish_two_outputs(world: World, movisie: PartnerKey) -> None:
    pharos = register(world, "Pharos", "other")
    assert partner_output_id(movisie.partner_id, "c-1") != partner_output_id(pharos.partner_id, "c-1")


def test_a_partner_retracts_its_output_and_every_copy_becomes_a_tombstone(world: World, movisie: PartnerKey) -> None:
    shared = partners.publish_partner_output(partner(movisie.partner_id), output(), world.uow, world.lookup)
    assert partners.retract_partner_output(partner(movisie.partner_id), shared["output_id"], world.uow,
                                           world.lookup)["retracted"]
    assert world.tombstones("hub") == [shared["output_id"]] and world.live("hub") == []
    again = partners.publish_partner_output(partner(movisie.partner_id), output(), world.uow, world.lookup)
    assert again["retracted"] is True and world.live("hub") == []


def test_a_partner_cannot_retract_what_it_did_not_publish(world: World, movisie: PartnerKey) -> None:
    pharos = register(world, "Pharos", "other")
    shared = partners.publish_partner_output(partner(movisie.partner_id), output(), world.uow, world.lookup)
    with pytest.raises(PermissionDenied):
        partners.retract_partner_output(partner(pharos.partner_id), shared["output_id"], world.uow, world.lookup)
    with pytest.raises(NotFound):
        partners.retract_partner_output(partner(movisie.partner_id), "p-unknown", world.uow, world.lookup)


def test_a_partner_lists_the_outputs_it_published_oldest_first_paged_each_as_it_is_now(
        world: World, movisie: PartnerKey) -> None:
    caller = partner(movisie.partner_id)
    ids = [partners.publish_partner_output(caller, output(client_output_id=f"c-{i}",
                                                          network_id="mov-1" if i < 3 else "mov-2"),
                                           world.uow, world.lookup)["output_id"] for i in range(4)]
    other = register(world, "Ander", "other")
    partners.publish_partner_output(partner(other.partner_id), output("other", "c-0"), world.uow, world.lookup)
    partners.retract_partner_output(caller, ids[1], world.uow, world.lookup)

    seen, token = [], None
    while True:
        page = partners.published_outputs(caller, PublishedQuery(page_size=3, page_token=token), world.uow,
                                          world.lookup)
        seen += page.items
        if not (token := page.next_page_token):
            break
    assert [i.output["output_id"] for i in seen] == sorted(ids, key=ids.index)  # publication order
    assert [i.output.get("retracted", False) for i in seen] == [False, True, False, False]
    assert [i.recipients for i in seen] == [2, 2, 2, 2]
    only_two = partners.published_outputs(caller, PublishedQuery(network_id="mov-2"), world.uow, world.lookup)
    assert [i.output["output_id"] for i in only_two.items] == [ids[3]]


def test_listing_published_outputs_is_for_a_partner_and_its_own_networks(world: World, movisie: PartnerKey) -> None:
    caller = partner(movisie.partner_id)
    with pytest.raises(PermissionDenied) as raised:
        partners.published_outputs(caller, PublishedQuery(network_id="other"), world.uow, world.lookup)
    assert raised.value.violations[0]["rule"] == "own_network"
    with pytest.raises(NotFound):
        partners.published_outputs(caller, PublishedQuery(network_id="nowhere"), world.uow, world.lookup)
    with pytest.raises(PermissionDenied):
        partners.published_outputs(OPERATOR, PublishedQuery(), world.uow, world.lookup)
    with pytest.raises(ValidationFailed) as forged:
        partners.published_outputs(caller, PublishedQuery(page_token="bm9wZQ=="), world.uow, world.lookup)
    assert forged.value.violations[0]["field"] == "page_token"
