"""Linking two running instances through their admin APIs, as their operators would (``kring run-federation``).

Idempotent, like the rest of the demo loader: what is there already is left alone.

1. Each instance registers the other as a partner of kind instance (no networks typed in: they come from the
   other's directory), and follows the other as a peer with the key it was issued. A partner registered by an
   earlier run whose peer is missing on the other side gets a new key (the old one was shown once and is gone).
2. Each relay reads the other's directory of networks through its partner API; each operator waits for the
   other's networks to be offered (``GET /v1/peers/{id}/networks``) and approves them all (any of them may then
   send an output across, and the origin check accepts only those).
3. BeterOud (national) asks to link with the werkplaats Twente (regional); the regional operator accepts.
4. The national relay sees the acceptance and the backfill starts; BeterOud's shared outputs then appear in
   Twente's feed on the regional instance.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.demo.catalogue import demo_network
from services.demo.http import DemoDataError, admin_client, all_pages, expect

LINK_FROM, LINK_TO = "beteroud", "werkplaats-twente"


@dataclass(frozen=True)
class Instance:
    instance_id: str
    name: str
    http_url: str
    grpc_address: str
    operator_token: str
    # how the other instance reaches this one's gRPC API (a peer's transport); plaintext: on one machine only
    transport: dict[str, Any] = field(default_factory=lambda: {"mode": "plaintext"})


def link_instances(national: Instance, regional: Instance, *, wait: float = 60.0,
                   sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Make the two instances follow each other and link BeterOud with Twente; lines saying what is there."""
    with admin_client(national.http_url, national.operator_token) as a, \
            admin_client(regional.http_url, regional.operator_token) as b:
        ours_a, ours_b = _networks(a), _networks(b)
        lines = [_handshake(issuer=b, issuer_is=regional, holder=a, holder_is=national),
                 _handshake(issuer=a, issuer_is=national, holder=b, holder_is=regional),
                 _approve(a, national, regional, ours_b, wait, sleep),
                 _approve(b, regional, national, ours_a, wait, sleep)]
        x, y = _id(ours_a, LINK_FROM), _id(ours_b, LINK_TO)
        link = _open_link(a, x, y) or expect(a.post("/v1/links", json={
            "requester_network_id": x, "target_network_id": y, "peer": regional.instance_id}),
            "ask the regional instance for a link", 200, 201)
        for asked in all_pages(b, f"/v1/networks/{y}/links", {"status": "requested"}):
            if asked["requester_network_id"] == x:
                expect(b.post(f"/v1/links/{asked['link_id']}/accept"), "accept the link", 200)
        link = _until(lambda: expect(a.get(f"/v1/links/{link['link_id']}"), "read the link", 200),
                      lambda seen: seen["status"] == "active", wait, sleep)
        arrived = _until(lambda: [i for i in expect(b.get(f"/v1/networks/{y}/feed", params={"page_size": 200}),
                                                    "read Twente's feed", 200)["items"]
                                  if i["output"].get("origin_network_id") == x],
                         bool, wait, sleep)
        lines.append(f"cross-instance link {demo_network(LINK_FROM).name} ({national.instance_id}) ↔ "
                     f"{demo_network(LINK_TO).name} ({regional.instance_id}): {link['status']}; "
                     f"{len(arrived)} outputs of {demo_network(LINK_FROM).name} in Twente's feed on "
                     f"{regional.instance_id}" + (f", e.g. \"{arrived[0]['output']['title']}\"" if arrived else ""))
        return lines


def _networks(client: httpx.Client) -> list[dict[str, Any]]:
    return list(all_pages(client, "/v1/networks", {}))


def _id(networks: list[dict[str, Any]], key: str) -> str:
    name = demo_network(key).name
    for network in networks:
        if network["name"] == name:
            found: str = network["id"]
            return found
    raise DemoDataError(f"network {name} is not there: load the demo data first")


def _handshake(*, issuer: httpx.Client, issuer_is: Instance, holder: httpx.Client, holder_is: Instance) -> str:
    """``issuer`` registers ``holder`` as a partner of kind instance; ``holder`` follows ``issuer`` with the key."""
    partner = next((p for p in expect(issuer.get("/v1/partners"), "list partners", 200)["items"]
                    if p.get("instance_id") == holder_is.instance_id), None)
    peer = holder.get(f"/v1/peers/{issuer_is.instance_id}")
    # following, and the way it is reached unchanged (else: a new key, and the peer configured anew)
    following = peer.status_code == 200 and all(peer.json().get("transport", {}).get(name) == value
                                                for name, value in issuer_is.transport.items())
    if partner is not None and following:
        return f"{holder_is.instance_id} follows {issuer_is.instance_id} (already)"
    if partner is None:
        key = expect(issuer.post("/v1/partners", json={"name": holder_is.name, "kind": "instance",
                                                       "instance_id": holder_is.instance_id}),
                     f"register {holder_is.instance_id} on {issuer_is.instance_id}", 201)["api_key"]
    else:
        key = expect(issuer.post(f"/v1/partners/{partner['partner_id']}/rotate-key"),
                     f"a new key for {holder_is.instance_id}", 201)["api_key"]
    expect(holder.post("/v1/peers", json={"instance_id": issuer_is.instance_id, "name": issuer_is.name,
                                          "address": issuer_is.grpc_address, "api_key": key,
                                          "transport": issuer_is.transport}),
           f"follow {issuer_is.instance_id} from {holder_is.instance_id}", 200, 201)
    return f"{holder_is.instance_id} follows {issuer_is.instance_id}"


def _approve(client: httpx.Client, here: Instance, peer: Instance, theirs: list[dict[str, Any]], wait: float,
             sleep: Callable[[float], None]) -> str:
    """On ``here``: wait for the relay to read ``peer``'s directory, then approve every network of it."""
    wanted = {n["id"] for n in theirs}
    path = f"/v1/peers/{peer.instance_id}/networks"
    offered = _until(lambda: expect(client.get(path), f"read {peer.instance_id}'s directory", 200)["items"],
                     lambda items: wanted <= {n["network_id"] for n in items}, wait, sleep)
    missing = wanted - {n["network_id"] for n in offered}
    if missing:
        raise DemoDataError(f"{len(missing)} networks of {peer.instance_id} did not appear in its directory on "
                            f"{here.instance_id} within {wait:.0f} s: see GET {path} and the peer's state")
    approved = 0
    for entry in offered:
        if entry["network_id"] in wanted and entry["status"] == "offered":
            expect(client.post(f"{path}/{entry['network_id']}/approve"),
                   f"approve {entry['name']} of {peer.instance_id} on {here.instance_id}", 200)
            approved += 1
    return (f"{here.instance_id}: {len(wanted)} networks of {peer.instance_id} in its directory, approved"
            + (f" ({approved} just now)" if approved else " (already)"))


def _open_link(client: httpx.Client, x: str, y: str) -> dict[str, Any] | None:
    for link in expect(client.get(f"/v1/networks/{x}/links"), "list links", 200)["items"]:
        if {link["requester_network_id"], link["target_network_id"]} == {x, y} \
                and link["status"] in ("requested", "active"):
            found: dict[str, Any] = link
            return found
    return None


def _until(probe: Callable[[], Any], done: Callable[[Any], bool], wait: float,
           sleep: Callable[[float], None]) -> Any:
    deadline = time.monotonic() + wait
    while True:
        seen = probe()
        if done(seen) or time.monotonic() > deadline:
            return seen
        sleep(0.5)
