"""The partner examples (examples/node/partner.js with @grpc/grpc-js, examples/python/partner.py with grpcio) run
against the whole stack as a new partner would run them, and print what the partner API answered: the instance,
its network, an output published (and again, idempotently), listed among its own outputs with its theme
lower-cased, retracted, and two refusals read from their ErrorInfo, RequestInfo and BadRequest details.

The Node.js packages come from examples/node/package-lock.json (scripts/ensure-node-examples.sh, which `make test`
runs first; this test runs it too, so the layer runs on its own).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass

import grpc
import httpx
import pytest

from services.api.kring.v1 import federation_pb2 as pb
from services.api.kring.v1 import federation_pb2_grpc
from tests.e2e.conftest import ROOT

EXAMPLES = {
    "node": ["node", str(ROOT / "examples" / "node" / "partner.js")],
    "python": [sys.executable, str(ROOT / "examples" / "python" / "partner.py")],
}


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


@dataclass(frozen=True)
class Partnership:
    key: str
    network_id: str
    linked_network_id: str


@pytest.fixture(scope="module")
def partnership(stack) -> Partnership:
    """A partner owning network `a`, which is linked with `b`: what the partner publishes as linked reaches `b`."""
    tag = uuid.uuid4().hex[:8]
    with stack.client() as operator:
        a, b = (ok(operator.post("/v1/networks", json={
            "name": f"Werkplaats {name} {tag}", "level": "regional", "kind": "werkplaats",
            "theme": f"examples {tag}"}), 201)["id"] for name in ("Noord", "Zuid"))
        link = ok(operator.post("/v1/links", json={"requester_network_id": b, "target_network_id": a}), 201)
        ok(operator.post(f"/v1/links/{link['link_id']}/accept"))
        key = ok(operator.post("/v1/partners", json={"name": f"Voorbeeld {tag}", "network_ids": [a]}), 201)["api_key"]
    return Partnership(key, a, b)


@pytest.fixture(scope="module")
def node_packages() -> None:
    installed = subprocess.run([str(ROOT / "scripts" / "ensure-node-examples.sh")], capture_output=True, text=True,
                               timeout=300)
    assert installed.returncode == 0, installed.stderr


@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
@pytest.mark.parametrize("language", list(EXAMPLES))
def test_the_partner_example_runs_against_a_gateway_and_prints_what_the_api_answered(
        stack, partnership, node_packages, language):
    client_output_id = f"example-{language}-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "KRING_GRPC_TARGET": stack.grpc, "KRING_PARTNER_KEY": partnership.key,
           "KRING_NETWORK_ID": partnership.network_id, "KRING_CLIENT_OUTPUT_ID": client_output_id}
    ran = subprocess.run(EXAMPLES[language], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ran.returncode == 0, ran.stderr + ran.stdout
    lines = dict(line.split(" ", 1) for line in ran.stdout.strip().splitlines())
    output_id = lines["published"].split(" ")[0]
    assert output_id.startswith("p-")
    assert lines == {
        "instance": "kring-e2e kring.v1",
        "network": f"{partnership.network_id} NETWORK_LEVEL_REGIONAL",
        "published": f"{output_id} recipients=1",  # the linked network
        "again": output_id,
        "listed": f"{output_id} output themes=eenzaamheid",
        "retracted": f"{output_id} tombstone",
        "unknown": f"NOT_FOUND reason=NOT_FOUND domain=kring.v1 request_id=example-{language}-{client_output_id} "
                   "violations=",
        "invalid": f"INVALID_ARGUMENT reason=VALIDATION_FAILED domain=kring.v1 "
                   f"request_id=example-{language}-{client_output_id} violations=title:required",
    }


def member_of(stack, operator: httpx.Client, network_id: str | None) -> httpx.Client:
    """A member's client: inside ``network_id``, or (None) inside no network at all."""
    member = ok(operator.post("/v1/members", json={"name": "Ria Rijnders", "perspectives": ["resident"],
                                                   "email": f"ria.{uuid.uuid4().hex[:8]}@example.org"}), 201)
    if network_id is not None:
        ok(operator.put(f"/v1/networks/{network_id}/members/{member['id']}", json={"role": "participant"}))
    return stack.client(ok(operator.post(f"/v1/members/{member['id']}/tokens", json={"label": "e2e"}), 201)["token"])


@pytest.mark.parametrize("stack", ["postgresql"], indirect=True)
def test_a_member_whose_feed_holds_a_copy_opens_its_output_and_nobody_else_does(stack, partnership):
    """GET /v1/outputs/{id} from a feed item: the sessions service asks the federation service for the copy the
    reader's feed holds (here a partner's output, which the sessions service does not hold at all)."""
    with grpc.insecure_channel(stack.grpc) as channel:
        published = federation_pb2_grpc.FederationStub(channel).PublishOutput(pb.PublishOutputRequest(
            network_id=partnership.network_id, client_output_id=f"feed-{uuid.uuid4().hex[:8]}",
            kind=pb.OUTPUT_KIND_LESSON, title="Een les uit de feed", visibility=pb.VISIBILITY_LINKED,
            authors=["een ervaringsdeskundige"]), metadata=(("authorization", f"Bearer {partnership.key}"),),
            timeout=10)
    with stack.client() as operator, member_of(stack, operator, partnership.linked_network_id) as inside, \
            member_of(stack, operator, None) as elsewhere:
        item = ok(inside.get(f"/v1/networks/{partnership.linked_network_id}/feed"))["items"][-1]
        assert item["output"]["output_id"] == published.output_id
        opened = ok(inside.get(f"/v1/outputs/{published.output_id}"))
        assert (opened["id"], opened["network_id"], opened["title"], opened["authors"]) == (
            published.output_id, partnership.network_id, "Een les uit de feed",
            [{"member_id": None, "shown_as": "een ervaringsdeskundige", "named": True, "role": None}])
        assert elsewhere.get(f"/v1/outputs/{published.output_id}").status_code == 404  # no feed of theirs holds it
