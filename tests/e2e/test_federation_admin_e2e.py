"""Federation through the admin API alone, with the whole stack running as separate processes: coordinators
request, accept, scope and revoke links; an output shared over a link reaches the other network's feed and its
delivery log, and its retraction leaves a tombstone; the operator blocks networks and manages partners.

The partner gRPC side is in test_partner_e2e.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_partner_e2e import coordinator_of, create_network
from tests.support.http import ok
from tests.support.naming import fresh_tag
from tests.support.waiting import eventually


@pytest.fixture
def operator(stack):
    with stack.client() as client:
        yield client


@pytest.fixture
def two_networks(stack, operator):
    """Two top-level networks (no hierarchy link between them), each with its own coordinator."""
    tag = fresh_tag()
    asking = create_network(operator, f"Werkplaats Noord {tag}", f"admin e2e {tag}")
    asked = create_network(operator, f"Werkplaats Zuid {tag}", f"admin e2e {tag}")
    with coordinator_of(operator, stack, asking) as asking_coordinator, \
            coordinator_of(operator, stack, asked) as asked_coordinator:
        yield asking, asked, asking_coordinator, asked_coordinator


def test_coordinators_request_accept_scope_and_revoke_a_link(stack, operator, two_networks):
    asking, asked, noord, zuid = two_networks
    body = {"requester_network_id": asking, "target_network_id": asked, "policy": {"visibilities": ["linked"]}}
    link = ok(noord.post("/v1/links", json=body), 201)
    assert (link["status"], link["kind"], link["requester_policy"]["visibilities"]) == ("requested", "peer", ["linked"])
    assert ok(noord.post("/v1/links", json=body), 200)["link_id"] == link["link_id"]  # 200: the open link
    reverse = {"requester_network_id": asked, "target_network_id": asking}
    assert ok(zuid.post("/v1/links", json=reverse), 200)["link_id"] == link["link_id"]  # either side asking

    path = f"/v1/links/{link['link_id']}"
    with coordinator_of(operator, stack, create_network(operator, f"Elders {fresh_tag()}", "elsewhere")) as other:
        assert other.get(path).status_code == 403
        assert other.post(f"{path}/revoke").status_code == 403
    assert noord.post(f"{path}/accept").status_code == 403  # the asking side does not answer itself
    accepted = ok(zuid.post(f"{path}/accept", json={"policy": {"visibilities": ["federation", "public"]}}), 200)
    assert (accepted["status"], accepted["target_policy"]["visibilities"]) == ("active", ["federation", "public"])
    assert [i["link_id"] for i in ok(noord.get(f"/v1/networks/{asking}/links", params={"status": "active"}), 200)[
        "items"]] == [link["link_id"]]

    policy = {"visibilities": ["linked", "federation"], "themes": ["Armoede"]}
    assert zuid.put(f"{path}/policy", json={"network_id": asking, "policy": policy}).status_code == 403
    changed = ok(noord.put(f"{path}/policy", json={"network_id": asking, "policy": policy}), 200)
    assert changed["requester_policy"] == {"visibilities": ["linked", "federation"], "themes": ["armoede"]}

    assert ok(zuid.post(f"{path}/revoke"), 200)["status"] == "revoked"
    refused = zuid.post(f"{path}/accept")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "illegal_transition")


def test_a_shared_output_reaches_the_linked_feed_and_its_delivery_log_and_a_retraction_tombstones_it(
        operator, two_networks):
    asking, asked, noord, zuid = two_networks
    link = ok(noord.post("/v1/links", json={"requester_network_id": asking, "target_network_id": asked}), 201)
    ok(zuid.post(f"/v1/links/{link['link_id']}/accept"), 200)
    now = datetime.now(UTC)
    session = ok(noord.post(f"/v1/networks/{asking}/sessions", json={
        "title": "Leersessie", "format": "learning_session", "mode": "in_person", "location": "Buurthuis",
        "starts_at": (now - timedelta(hours=3)).isoformat(), "ends_at": (now - timedelta(hours=1)).isoformat()}), 201)
    ok(noord.post(f"/v1/sessions/{session['id']}/hold"), 200)
    author = ok(noord.get("/v1/whoami"), 200)["member_id"]  # the coordinator, a member of the network
    output = ok(noord.post(f"/v1/sessions/{session['id']}/outputs", json={
        "kind": "conclusion", "title": "Samen met bewoners werkt beter", "authors": [author],
        "visibility": "linked"}), 201)

    feed = eventually(lambda: ok(zuid.get(f"/v1/networks/{asked}/feed"), 200)["items"],
                      "the output in the linked network's feed",
                      accept=lambda items: len(items) == 1)
    assert (feed[0]["output"]["output_id"], feed[0]["output"]["origin_network_id"], feed[0]["backfill"]) == (
        output["id"], asking, False)
    deliveries = ok(noord.get(f"/v1/outputs/{output['id']}/deliveries"), 200)
    assert [(d["network_id"], d["tombstoned_at"]) for d in deliveries["items"]] == [(asked, None)]
    assert zuid.get(f"/v1/outputs/{output['id']}/deliveries").status_code == 403  # a receiver, not the origin

    ok(operator.post(f"/v1/outputs/{output['id']}/retract", json={"reason": "dubbel"}), 200)
    tombstone = eventually(lambda: ok(zuid.get(f"/v1/networks/{asked}/feed"), 200)["items"][0]["output"],
                           "the tombstone in the linked network's feed",
                           accept=lambda shown: shown.get("retracted"))
    assert "title" not in tombstone
    assert ok(operator.get(f"/v1/outputs/{output['id']}/deliveries"), 200)["items"][0]["tombstoned_at"]


def test_the_operator_blocks_a_network_ending_its_links_and_refusing_new_ones(operator, two_networks):
    asking, asked, noord, _ = two_networks
    link = ok(noord.post("/v1/links", json={"requester_network_id": asking, "target_network_id": asked}), 201)
    assert noord.post(f"/v1/networks/{asked}/block").status_code == 403
    blocked = ok(operator.post(f"/v1/networks/{asked}/block", json={"reason": "misbruik"}), 200)
    assert [(i["link_id"], i["status"]) for i in blocked["ended_links"]] == [(link["link_id"], "blocked")]
    again = noord.post("/v1/links", json={"requester_network_id": asking, "target_network_id": asked})
    assert again.status_code == 403


def test_partners_are_registered_and_listed_by_the_operator_alone(operator, two_networks):
    asking, _, noord, _ = two_networks
    assert noord.post("/v1/partners", json={"name": "Noord", "network_ids": [asking]}).status_code == 403
    registered = ok(operator.post("/v1/partners", json={"name": "Werkplaats Noord", "network_ids": [asking]}), 201)
    assert registered["api_key"] and registered["network_ids"] == [asking]
    listed = ok(operator.get("/v1/partners"), 200)["items"]
    assert registered["partner_id"] in [p["partner_id"] for p in listed]
    assert all("api_key" not in p for p in listed)
    assert ok(operator.get(f"/v1/partners/{registered['partner_id']}"), 200)["status"] == "active"
    taken = operator.post("/v1/partners", json={"name": "Ander", "network_ids": [asking]})
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "conflict")
    assert noord.get("/v1/partners").status_code == 403
