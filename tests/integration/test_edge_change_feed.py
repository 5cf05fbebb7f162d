"""The gateway's change feed against a real broker and the real services: a revocation recorded by a service
reaches the gateway's caches through the outbox, the relay and the gateway's own queue, so the next request is
refused without waiting for any cache lifetime."""

import time

import pytest

from services.common.caller import Caller
from services.common.errors import Unauthenticated
from services.common.rpc_client import NamekoProxy, RpcPool
from services.federation.domain.copies import PUBLIC_FEED
from services.gateway.admin.auth import Authenticator, token_hash
from services.gateway.partner.auth import PartnerAuthenticator, key_hash
from services.gateway.shared.changes import ChangeFeed
from services.gateway.shared.edge_cache import MISSING
from tests.support.callers import OPERATOR_WIRE


def eventually(probe, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.05)
    pytest.fail(f"not within {timeout} s: {what}")


@pytest.fixture
def gateway_side(all_services, all_services_config):
    """The two authenticators as the gateway builds them, kept fresh by a change feed on the test's vhost."""
    pool = RpcPool(lambda: NamekoProxy(all_services_config, 15.0), 2, 15.0)
    feed = ChangeFeed(all_services_config["AMQP_URI"], reconnect_seconds=0.2)
    members = Authenticator(None, pool, ttl=3600.0, max_age=3600.0, live=feed.is_live)
    partners = PartnerAuthenticator(pool.call, ttl=3600.0, max_age=3600.0, live=feed.is_live)
    feed.add(members.cache)
    feed.add(partners.cache)
    feed.start()
    assert feed.wait_live(15.0), "the change feed did not connect to RabbitMQ"
    yield all_services, members, partners, feed
    feed.stop()
    pool.close()


def test_a_revoked_member_token_is_dropped_from_the_gateway_cache_by_its_event(gateway_side):
    rpc, members, _, _ = gateway_side
    member = rpc.members.register_member(OPERATOR_WIRE, {"name": "Anna", "email": "anna@example.org",
                                                         "perspectives": ["practitioner"]})
    issued = rpc.members.issue_token(OPERATOR_WIRE, member["id"], {"label": "laptop"})
    assert members.authenticate(issued["token"]).member_id == member["id"]
    assert members.cache.get(token_hash(issued["token"])) is not MISSING  # hot: no RPC for the next request

    rpc.members.revoke_token(OPERATOR_WIRE, issued["token_id"])

    eventually(lambda: members.cache.get(token_hash(issued["token"])) is MISSING, "token.revoked reached the cache")
    with pytest.raises(Unauthenticated):
        members.authenticate(issued["token"])


def test_a_revoked_partner_key_is_dropped_from_the_gateway_cache_by_its_event(gateway_side):
    rpc, _, partners, _ = gateway_side
    network = rpc.networks.create_network(OPERATOR_WIRE, {"name": "Beter Oud", "level": "national",
                                                          "kind": "werkplaats", "theme": "ouderen",
                                                          "parent_id": None})
    registered = rpc.federation.register_partner(OPERATOR_WIRE, {"name": "Movisie", "network_ids": [network["id"]]})
    key = registered["api_key"]
    assert partners.authenticate(key).partner_id == registered["partner_id"]

    rpc.federation.revoke_partner(OPERATOR_WIRE, registered["partner_id"])

    eventually(lambda: partners.cache.get(key_hash(key)) is MISSING, "partner.revoked reached the cache")
    with pytest.raises(Unauthenticated):
        partners.authenticate(key)


def test_new_feed_entries_are_announced_with_their_networks_and_the_entries_themselves(gateway_side):
    rpc, _, _, feed = gateway_side
    announced: list[list[str]] = []
    carried: list[dict] = []
    feed.on_feed = lambda networks, entries: (announced.append(networks), carried.append(entries))
    network = rpc.networks.create_network(OPERATOR_WIRE, {"name": "Wijk Noord", "level": "local",
                                                          "kind": "werkplaats", "theme": "armoede",
                                                          "parent_id": None})
    partner = rpc.federation.register_partner(OPERATOR_WIRE, {"name": "Wijk", "network_ids": [network["id"]]})
    caller = Caller.partner(partner["partner_id"], [network["id"]]).wire()
    rpc.federation.publish_partner_output(caller, {
        "network_id": network["id"], "client_output_id": "c-1", "kind": "lesson", "title": "Wat werkte",
        "body": "Samen koken.", "themes": ["armoede"], "visibility": "public", "licence": "CC-BY-4.0",
        "authors": ["Wijkteam"]})
    # With no links yet a public output reaches the public feed only: its log grew, and the feed says so.
    eventually(lambda: any(PUBLIC_FEED in ids for ids in announced), "feed.appended reached the change feed")
    # The event carries what the log holds for it: the entry, and the output once, as log_after reads them.
    entries = carried[[PUBLIC_FEED in ids for ids in announced].index(True)]
    assert entries is not None
    (entry,) = [e for e in entries["entries"] if e["network_id"] == PUBLIC_FEED]
    assert entry["kind"] == "shared" and entries["after"] < entry["cursor"] <= entries["next_cursor"]
    assert entries["outputs"][entry["output_id"]]["title"] == "Wat werkte"
    read = {"cursor": entries["after"], "limit": entries["next_cursor"] - entries["after"], "outputs_once": True}
    page = rpc.federation.log_after(Caller.internal("gateway").wire(), read)
    assert page == {key: entries[key] for key in ("entries", "outputs", "next_cursor")}
