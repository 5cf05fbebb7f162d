"""Schemathesis against the admin API's OpenAPI document on a running stack: every operation, as the operator.

For each operation a bounded, repeatable set of generated requests (see :mod:`tests.security.fuzzing`), valid
and invalid, with unknown ids and with real ones (a network, member, session, output, link, partner, token and
peer made for this test alone, since the operator may erase and block them). Every answer: no 5xx, a status
the document lists, a body matching the document. ``KRING_SCHEMATHESIS_EXAMPLES=200`` runs longer, with a new
seed each time.

The operations are those of the app the gateway builds (``create_app``), so each is its own test; the running
gateway must serve the same document.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

from services.common.config import Settings
from services.gateway.admin.app import create_app
from tests.security import edge
from tests.security.fuzzing import examples_per_operation, fuzz
from tests.security.world import World
from tests.support.http import ok
from tests.support.waiting import eventually

DOCUMENT = create_app(Settings(), None).openapi()
OPERATIONS = [f"{method.upper()} {path}" for path, methods in DOCUMENT["paths"].items() for method in methods]
EXAMPLES, DERANDOMIZE = examples_per_operation()
LOOPBACK_PEER = "127.0.0.1:9"  # nothing listens there


@pytest.fixture(scope="module")
def admin_schema(stack) -> Any:
    return schemathesis.openapi.from_url(f"{stack.http}/openapi.json")


@pytest.fixture(scope="module")
def fuzz_ids(world: World) -> dict[str, str]:
    """Real ids for the path parameters, of objects made for fuzzing alone."""
    network = world.network()
    member = world.member(network)
    session = world.session(network, held=True)
    output = eventually(lambda: _created(world.operator.post(f"/v1/sessions/{session}/outputs", json={
        "kind": "lesson", "title": "Fuzz", "authors": [member], "visibility": "linked"})), "an output to fuzz")["id"]
    link = ok(world.operator.post("/v1/links", json={"requester_network_id": world.network(),
                                                     "target_network_id": network}), 201)["link_id"]
    return {"network_id": network, "member_id": member, "session_id": session, "output_id": output,
            "link_id": link, "partner_id": world.partner()["partner_id"],
            "token_id": world.token_for(member)["token_id"], "instance_id": world.new_peer(), "loop_id": world.loop()}


@pytest.fixture(scope="module")
def baseline(stack):
    return edge.answers(stack)


def keep_peers_on_loopback(case: Any) -> None:
    """A peer's address is where the relay and the gateway connect to: only ever this machine's loopback."""
    if isinstance(case.body, dict) and "address" in case.body:
        case.body["address"] = LOOPBACK_PEER


def test_the_running_gateway_serves_the_document_the_tests_enumerate(admin_schema, stack):
    served = {f"{method.upper()} {path}" for path, methods in admin_schema.raw_schema["paths"].items()
              for method in methods}
    assert served == set(OPERATIONS)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_generated_requests_get_documented_answers_and_never_a_5xx(admin_schema, fuzz_ids, world, baseline, operation):
    method, path = operation.split(" ", 1)
    failures, sent = fuzz(admin_schema[path][method], examples=EXAMPLES, derandomize=DERANDOMIZE,
                          headers={"Authorization": f"Bearer {world.stack.token}"}, ids=fuzz_ids,
                          adjust=keep_peers_on_loopback)
    assert sent > 0
    assert failures == [], "\n".join(failures)


def test_the_gateway_counted_no_5xx_while_fuzzed(world, baseline):
    assert edge.broken_since(baseline, world.stack) == {}


def _created(response: Any) -> Any:
    return response.json() if response.status_code == 201 else None

