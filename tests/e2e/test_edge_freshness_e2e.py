"""Freshness on every gateway replica: a second gateway process joins the running stack, answers a partner key
and a member token from its cache, and refuses both soon after the operator revokes them through the *first*
gateway's admin API: the revocations reach it as events (token.revoked, partner.revoked), not by a cache
lifetime running out (this replica's fallback lifetime is set far beyond the test's patience)."""

from __future__ import annotations

import grpc
import httpx
import pytest

from services.api.kring.v1 import federation_pb2 as pb
from tests.e2e.gateway_process import running_gateway
from tests.e2e.test_partner_e2e import create_network, refused, register_partner
from tests.support.http import ok
from tests.support.naming import fresh_tag
from tests.support.partner_client import PartnerClient
from tests.support.waiting import eventually

LONG = "3600"  # seconds: what the second replica would trust an answer for without events


@pytest.fixture
def replica(stack, tmp_path):
    with running_gateway(tmp_path, stack.amqp_uri, startup_timeout=120.0, KRING_OPERATOR_TOKEN=stack.token,
                         KRING_EDGE_CACHE_FALLBACK_SECONDS=LONG, KRING_EDGE_CACHE_MAX_AGE_SECONDS=LONG) as gateway:
        yield gateway


def test_a_partner_key_revoked_on_one_gateway_is_refused_by_another_replica(stack, replica):
    operator = stack.client()
    tag = fresh_tag()
    network = create_network(operator, f"Replica {tag}", f"replica {tag}")
    registered = register_partner(operator, "Replica partner", network)
    partner = PartnerClient(replica.grpc_target, registered["api_key"])
    assert partner.GetNetwork(pb.GetNetworkRequest(network_id=network)).id == network  # the key is cached there

    ok(operator.post(f"/v1/partners/{registered['partner_id']}/revoke"))

    def call() -> grpc.StatusCode:
        try:
            partner.GetNetwork(pb.GetNetworkRequest(network_id=network))
        except grpc.RpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    eventually(call, "the replica refused the revoked key", accept=lambda code: code == grpc.StatusCode.UNAUTHENTICATED)
    assert refused(lambda: partner.GetNetwork(pb.GetNetworkRequest(network_id=network)))[0] == \
        grpc.StatusCode.UNAUTHENTICATED
    partner.close()


def test_a_member_token_revoked_on_one_gateway_is_refused_by_another_replica(stack, replica):
    operator = stack.client()
    member = ok(operator.post("/v1/members", json={"name": "Rens Replica", "perspectives": ["practitioner"],
                                                   "email": f"rens.{fresh_tag()}@example.org"}), 201)
    issued = ok(operator.post(f"/v1/members/{member['id']}/tokens", json={"label": "replica"}), 201)
    on_replica = httpx.Client(base_url=replica.http_url, headers={"Authorization": f"Bearer {issued['token']}"},
                              timeout=30)
    assert ok(on_replica.get("/v1/whoami"))["member_id"] == member["id"]  # the token is cached there

    assert operator.delete(f"/v1/tokens/{issued['token_id']}").status_code == 204

    eventually(lambda: on_replica.get("/v1/whoami").status_code, "the replica refused the revoked token",
               accept=lambda status: status == 401)
    on_replica.close()
