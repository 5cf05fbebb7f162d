"""Who may do what: every admin route and every partner API method, against every role, on a running stack.

The two tables below are the access model. One line per route (the admin API's OpenAPI document lists them:
a route missing here fails the test) or per gRPC method (from the proto's descriptor), with the roles that
get through. "Gets through" means the answer is not 401/403 (UNAUTHENTICATED/PERMISSION_DENIED): it may
still be a 404, a 409 or a 422 for reasons of its own. Each request is valid and about the scenario's network
``n`` (see :mod:`tests.security.world` for the roles): the record of another member of ``n``, a session of
``n``, an output kept within ``n``, a link asked to ``n``. Requests that change or end something get a fresh
object for every role.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import grpc
import pytest

from services.api.kring.v1 import federation_pb2 as pb
from tests.security.world import GRPC_ROLES, HTTP_ROLES, World
from tests.support.naming import fresh_tag

EVERYONE = "anonymous wrong-token member other-facilitator coordinator other-partner operator broker"
SIGNED_IN = "member other-facilitator coordinator operator"  # any token we issued, or the operator's
INSIDE = "member coordinator operator"  # the people of network n
STAFF = "coordinator operator"  # n's coordinators (and facilitators), and the operator
OPERATOR = "operator"
BROKER = "broker"  # the sign-in broker's token opens the sign-in exchange and nothing else

# --- the admin API: METHOD /path -> the roles that get through ---------------------------------------------------

HTTP_ACCESS: dict[str, str] = {
    "GET /healthz":                                              EVERYONE,
    "GET /readyz":                                               EVERYONE,
    "GET /v1/whoami":                                            SIGNED_IN,
    # sign-in: the broker exchanges a verified address for that member's short-lived token; no other token may
    "POST /v1/sign-in/tokens":                                   BROKER,
    # members: their own record is theirs; another member's is for the coordinators (to read, also the
    # facilitators) of their networks
    "POST /v1/members":                                          STAFF,
    "GET /v1/members":                                           STAFF,
    "GET /v1/members/{member_id}":                               STAFF,
    "PATCH /v1/members/{member_id}":                             STAFF,
    "DELETE /v1/members/{member_id}":                            OPERATOR,
    "GET /v1/members/{member_id}/export":                        OPERATOR,
    "POST /v1/members/{member_id}/tokens":                       OPERATOR,
    "DELETE /v1/tokens/{token_id}":                              OPERATOR,  # x's; one's own: tests/e2e (sign-out)
    # expertise: who knows what, within the networks one is in (only those who consented are found)
    "GET /v1/expertise":                                         INSIDE,  # naming n
    # questions to experts: between the asker (the member) and the expert (the coordinator) only; not the operator's
    "POST /v1/questions":                                        "member coordinator",  # in n, to n's expert
    "GET /v1/questions":                                         "member other-facilitator coordinator",  # own
    "GET /v1/questions/{question_id}":                           "member coordinator",
    "POST /v1/questions/{question_id}/answer":                   "coordinator",
    "POST /v1/questions/{question_id}/decline":                  "coordinator",
    # networks: the directory is open to every token; a network is administered by its coordinators
    "POST /v1/networks":                                         STAFF,  # a child of n
    "GET /v1/networks":                                          SIGNED_IN,
    "GET /v1/networks/{network_id}":                             SIGNED_IN,
    "PATCH /v1/networks/{network_id}":                           STAFF,
    "POST /v1/networks/{network_id}/archive":                    STAFF,
    "GET /v1/networks/{network_id}/tree":                        SIGNED_IN,
    "GET /v1/networks/{network_id}/health":                      STAFF,
    "PUT /v1/networks/{network_id}/members/{member_id}":         STAFF,
    "DELETE /v1/networks/{network_id}/members/{member_id}":      STAFF,
    # sessions: the directory is open; the network's staff run them; members register themselves
    "POST /v1/networks/{network_id}/sessions":                   STAFF,
    "GET /v1/networks/{network_id}/sessions":                    SIGNED_IN,
    "GET /v1/sessions/{session_id}":                             SIGNED_IN,
    "POST /v1/sessions/{session_id}/reschedule":                 STAFF,
    "POST /v1/sessions/{session_id}/hold":                       STAFF,
    "POST /v1/sessions/{session_id}/close":                      STAFF,
    "POST /v1/sessions/{session_id}/cancel":                     STAFF,
    "POST /v1/sessions/{session_id}/registrations":              INSIDE,  # yourself (the operator names someone)
    "GET /v1/sessions/{session_id}/registrations":               STAFF,
    "GET /v1/sessions/{session_id}/registrations/{member_id}":   STAFF,  # x's; one's own: tests/unit (gateway)
    "DELETE /v1/sessions/{session_id}/registrations/{member_id}": STAFF,
    "PUT /v1/sessions/{session_id}/attendance":                  STAFF,
    "GET /v1/sessions/{session_id}/attendance":                  STAFF,
    "PUT /v1/sessions/{session_id}/statements/{number}/conclusion": STAFF,  # a café's table concluded
    # outputs and reflections: an output kept within n is for the people inside n
    "POST /v1/sessions/{session_id}/outputs":                    STAFF,
    "GET /v1/sessions/{session_id}/outputs":                     SIGNED_IN,  # filtered to what you may read
    "GET /v1/networks/{network_id}/outputs":                     SIGNED_IN,  # filtered to what you may read
    "GET /v1/outputs/{output_id}":                               INSIDE,
    "POST /v1/outputs/{output_id}/retract":                      STAFF,
    # personal: the people of n, not the operator; on n's session from outside n, 403 as for registrations
    "POST /v1/reflections":                                      "member coordinator",
    "GET /v1/reflections":                                       OPERATOR,  # x's, named; one's own: tests/e2e
    "GET /v1/networks/{network_id}/learning-report":             STAFF,
    # learning questions: the owner's and their network's; another member of n sees x's question only if shared
    "POST /v1/learning-questions":                               "member coordinator",  # in n, your own
    "GET /v1/networks/{network_id}/learning-questions":          INSIDE,  # filtered to what you may see
    "GET /v1/learning-questions/{loop_id}":                      STAFF,  # x's, not shared
    "POST /v1/learning-questions/{loop_id}/bring":               STAFF,
    "POST /v1/learning-questions/{loop_id}/experiment":          STAFF,
    "PUT /v1/learning-questions/{loop_id}/mandate":              STAFF,
    "POST /v1/learning-questions/{loop_id}/follow-up":           STAFF,
    "POST /v1/learning-questions/{loop_id}/close":               STAFF,
    # federation: links are between coordinators; partners and blocks are the operator's
    "POST /v1/links":                                            STAFF,
    "GET /v1/links/{link_id}":                                   STAFF,
    "GET /v1/networks/{network_id}/links":                       STAFF,
    "POST /v1/links/{link_id}/accept":                           STAFF,
    "POST /v1/links/{link_id}/reject":                           STAFF,
    "POST /v1/links/{link_id}/revoke":                           STAFF,
    "PUT /v1/links/{link_id}/policy":                            STAFF,
    "POST /v1/networks/{network_id}/block":                      OPERATOR,
    "GET /v1/partners":                                          OPERATOR,
    "POST /v1/partners":                                         OPERATOR,
    "GET /v1/partners/{partner_id}":                             OPERATOR,
    "POST /v1/partners/{partner_id}/revoke":                     OPERATOR,
    "POST /v1/partners/{partner_id}/rotate-key":                 OPERATOR,
    "POST /v1/partners/{partner_id}/block":                      OPERATOR,
    "GET /v1/networks/{network_id}/feed":                        INSIDE,
    "GET /v1/outputs/{output_id}/deliveries":                    STAFF,
    "POST /v1/peers":                                            OPERATOR,
    "GET /v1/peers":                                             OPERATOR,
    "GET /v1/peers/{instance_id}":                               OPERATOR,
    "DELETE /v1/peers/{instance_id}":                            OPERATOR,
    # the audit log: who did what with people's data or with trust
    "GET /v1/audit":                                             OPERATOR,
    "GET /v1/audit/export":                                      OPERATOR,
    "GET /v1/peers/{instance_id}/networks":                      OPERATOR,
    "POST /v1/peers/{instance_id}/networks/{network_id}/approve": OPERATOR,
    "POST /v1/peers/{instance_id}/networks/{network_id}/withdraw-approval": OPERATOR,
}

# --- the partner API: method -> the roles that get through --------------------------------------------------------

ANY_PARTNER = "partner other-partner"
OWN_PARTNER = "partner"  # the partner of n: n is one of its networks

GRPC_ACCESS: dict[str, str] = {
    "GetInstance":   "anonymous wrong-token member other-facilitator coordinator other-partner partner operator broker",
    "ListNetworks":  ANY_PARTNER,
    "GetNetwork":    ANY_PARTNER,
    "ListSessions":  ANY_PARTNER,
    "FindExpertise": ANY_PARTNER,
    "PublishOutput": OWN_PARTNER,
    "RetractOutput": OWN_PARTNER,
    "ListOutputs":   OWN_PARTNER,
    "StreamOutputs": OWN_PARTNER,
    "GetFeedHead":   OWN_PARTNER,
    "RequestLink":   OWN_PARTNER,
    "GetLink":       OWN_PARTNER,
    "ListPublishedOutputs": OWN_PARTNER,
}

# --- the requests: valid, about network n; a fresh object where the request changes or ends something -----------

Http = tuple[str, Any]  # (path, JSON body or None)


def _http_requests() -> dict[str, Callable[[World], Http]]:
    def session_body() -> dict[str, Any]:
        return {"title": "Kenniscafé", "format": "knowledge_cafe", "mode": "online",
                "meeting_url": "https://meet.example.org/kc", "starts_at": "2031-03-01T18:00:00+01:00",
                "ends_at": "2031-03-01T20:00:00+01:00"}

    return {
        "GET /healthz": lambda w: ("/healthz", None),
        "GET /readyz": lambda w: ("/readyz", None),
        "GET /v1/whoami": lambda w: ("/v1/whoami", None),
        "POST /v1/sign-in/tokens": lambda w: ("/v1/sign-in/tokens", {"email": w.email_of(w.x), "ttl_seconds": 60}),
        "POST /v1/members": lambda w: ("/v1/members", {"name": "Nieuw Lid", "email": f"nieuw.{fresh_tag()}@example.org",
                                                       "perspectives": ["resident"]}),
        "GET /v1/members": lambda w: (f"/v1/members?network_id={w.n}", None),
        "GET /v1/members/{member_id}": lambda w: (f"/v1/members/{w.x}", None),
        "PATCH /v1/members/{member_id}": lambda w: (f"/v1/members/{w.x}", {"organisation": "Buurtteam Noord"}),
        "DELETE /v1/members/{member_id}": lambda w: (f"/v1/members/{w.member(w.n)}", None),
        "GET /v1/members/{member_id}/export": lambda w: (f"/v1/members/{w.x}/export", None),
        "POST /v1/members/{member_id}/tokens": lambda w: (f"/v1/members/{w.x}/tokens", {"label": "matrix"}),
        "DELETE /v1/tokens/{token_id}": lambda w: (f"/v1/tokens/{w.token_for(w.x)['token_id']}", None),
        "GET /v1/expertise": lambda w: (f"/v1/expertise?network_id={w.n}", None),
        "POST /v1/questions": lambda w: ("/v1/questions", {"expert_id": w.x, "network_id": w.n,
                                                           "question": "Wie weet hier meer van?"}),
        "GET /v1/questions": lambda w: ("/v1/questions?role=asked", None),
        "GET /v1/questions/{question_id}": lambda w: (f"/v1/questions/{w.question()}", None),
        "POST /v1/questions/{question_id}/answer":
            lambda w: (f"/v1/questions/{w.question()}/answer", {"answer": "Zo.", "share_email": True}),
        "POST /v1/questions/{question_id}/decline": lambda w: (f"/v1/questions/{w.question()}/decline", {}),
        "POST /v1/networks": lambda w: ("/v1/networks", {"name": f"Buurt {fresh_tag()}", "level": "local",
                                                         "kind": "learning_circle", "theme": "eenzaamheid",
                                                         "parent_id": w.n}),
        "GET /v1/networks": lambda w: ("/v1/networks", None),
        "GET /v1/networks/{network_id}": lambda w: (f"/v1/networks/{w.n}", None),
        "PATCH /v1/networks/{network_id}": lambda w: (f"/v1/networks/{w.n}", {"region": "Groningen"}),
        "POST /v1/networks/{network_id}/archive": lambda w: (f"/v1/networks/{w.coordinated_network()}/archive", None),
        "GET /v1/networks/{network_id}/tree": lambda w: (f"/v1/networks/{w.n}/tree", None),
        "GET /v1/networks/{network_id}/health": lambda w: (f"/v1/networks/{w.n}/health", None),
        "PUT /v1/networks/{network_id}/members/{member_id}":
            lambda w: (f"/v1/networks/{w.n}/members/{w.x}", {"role": "participant"}),
        "DELETE /v1/networks/{network_id}/members/{member_id}":
            lambda w: (f"/v1/networks/{w.n}/members/{w.member(w.n)}", None),
        "POST /v1/networks/{network_id}/sessions": lambda w: (f"/v1/networks/{w.n}/sessions", session_body()),
        "GET /v1/networks/{network_id}/sessions": lambda w: (f"/v1/networks/{w.n}/sessions", None),
        "GET /v1/sessions/{session_id}": lambda w: (f"/v1/sessions/{w.planned_session}", None),
        "POST /v1/sessions/{session_id}/reschedule": lambda w: (
            f"/v1/sessions/{w.session()}/reschedule",
            {"starts_at": "2031-04-01T18:00:00+02:00", "ends_at": "2031-04-01T20:00:00+02:00"}),
        "POST /v1/sessions/{session_id}/hold": lambda w: (f"/v1/sessions/{w.session(started=True)}/hold", None),
        "POST /v1/sessions/{session_id}/close": lambda w: (f"/v1/sessions/{w.session(held=True)}/close", None),
        "POST /v1/sessions/{session_id}/cancel": lambda w: (f"/v1/sessions/{w.session()}/cancel",
                                                            {"reason": "ziekte"}),
        "POST /v1/sessions/{session_id}/registrations":
            lambda w: (f"/v1/sessions/{w.planned_session}/registrations", {}),
        "GET /v1/sessions/{session_id}/registrations":
            lambda w: (f"/v1/sessions/{w.planned_session}/registrations", None),
        "GET /v1/sessions/{session_id}/registrations/{member_id}":
            lambda w: (f"/v1/sessions/{w.planned_session}/registrations/{w.x}", None),
        "DELETE /v1/sessions/{session_id}/registrations/{member_id}":
            lambda w: (f"/v1/sessions/{w.planned_session}/registrations/{w.x}", None),
        "PUT /v1/sessions/{session_id}/attendance":
            lambda w: (f"/v1/sessions/{w.held_session}/attendance", {"member_ids": [w.member_id]}),
        "GET /v1/sessions/{session_id}/attendance": lambda w: (f"/v1/sessions/{w.held_session}/attendance", None),
        "PUT /v1/sessions/{session_id}/statements/{number}/conclusion":
            lambda w: (f"/v1/sessions/{w.cafe()}/statements/2/conclusion", {"conclusion": "Buren zien meer."}),
        "POST /v1/sessions/{session_id}/outputs": lambda w: (
            f"/v1/sessions/{w.held_session}/outputs",
            {"kind": "conclusion", "title": "Samen", "authors": [w.member_id], "visibility": "network"}),
        "GET /v1/sessions/{session_id}/outputs": lambda w: (f"/v1/sessions/{w.held_session}/outputs", None),
        "GET /v1/networks/{network_id}/outputs": lambda w: (f"/v1/networks/{w.n}/outputs", None),
        "GET /v1/outputs/{output_id}": lambda w: (f"/v1/outputs/{w.output}", None),
        "POST /v1/outputs/{output_id}/retract": lambda w: (f"/v1/outputs/{w.new_output()}/retract", None),
        "POST /v1/reflections": lambda w: ("/v1/reflections", {"session_id": w.held_session, "kind": "perspective",
                                                               "text": "Ik kijk nu anders naar buren."}),
        "GET /v1/reflections": lambda w: (f"/v1/reflections?member_id={w.x}", None),
        "GET /v1/networks/{network_id}/learning-report": lambda w: (f"/v1/networks/{w.n}/learning-report", None),
        "POST /v1/learning-questions": lambda w: ("/v1/learning-questions", {"network_id": w.n, "question": "Hoe?"}),
        "GET /v1/networks/{network_id}/learning-questions": lambda w: (f"/v1/networks/{w.n}/learning-questions", None),
        "GET /v1/learning-questions/{loop_id}": lambda w: (f"/v1/learning-questions/{w.loop()}", None),
        "POST /v1/learning-questions/{loop_id}/bring":
            lambda w: (f"/v1/learning-questions/{w.loop()}/bring", {"session_id": w.planned_session}),
        "POST /v1/learning-questions/{loop_id}/experiment": lambda w: (
            f"/v1/learning-questions/{w.loop('brought')}/experiment",
            {"session_id": w.held_session, "experiment": "Doorvragen", "mandate": "yes"}),
        "PUT /v1/learning-questions/{loop_id}/mandate":
            lambda w: (f"/v1/learning-questions/{w.loop('experimenting')}/mandate", {"mandate": "yes"}),
        "POST /v1/learning-questions/{loop_id}/follow-up": lambda w: (
            f"/v1/learning-questions/{w.loop('experimenting')}/follow-up",
            {"session_id": w.session(held=True), "what_happened": "Het werkte"}),
        "POST /v1/learning-questions/{loop_id}/close":
            lambda w: (f"/v1/learning-questions/{w.loop('followed_up')}/close", {"lesson": "Doorvragen helpt"}),
        "POST /v1/links": lambda w: ("/v1/links", {"requester_network_id": w.n, "target_network_id": w.o}),
        "GET /v1/links/{link_id}": lambda w: (f"/v1/links/{w.link}", None),
        "GET /v1/networks/{network_id}/links": lambda w: (f"/v1/networks/{w.n}/links", None),
        "POST /v1/links/{link_id}/accept": lambda w: (f"/v1/links/{w.requested_link()}/accept", None),
        "POST /v1/links/{link_id}/reject": lambda w: (f"/v1/links/{w.requested_link()}/reject", None),
        "POST /v1/links/{link_id}/revoke": lambda w: (f"/v1/links/{w.requested_link()}/revoke", None),
        "PUT /v1/links/{link_id}/policy": lambda w: (f"/v1/links/{w.link}/policy", {
            "network_id": w.n, "policy": {"visibilities": ["linked", "public"]}}),
        "POST /v1/networks/{network_id}/block":
            lambda w: (f"/v1/networks/{w.coordinated_network()}/block", {"reason": "misbruik"}),
        "GET /v1/partners": lambda w: ("/v1/partners", None),
        "POST /v1/partners":
            lambda w: ("/v1/partners", {"name": f"Gemeente {fresh_tag()}", "network_ids": [w.network()]}),
        "GET /v1/partners/{partner_id}": lambda w: (f"/v1/partners/{w.partner_id}", None),
        "POST /v1/partners/{partner_id}/revoke": lambda w: (f"/v1/partners/{w.partner()['partner_id']}/revoke", None),
        "POST /v1/partners/{partner_id}/rotate-key":
            lambda w: (f"/v1/partners/{w.partner()['partner_id']}/rotate-key", None),
        "POST /v1/partners/{partner_id}/block":
            lambda w: (f"/v1/partners/{w.partner()['partner_id']}/block", {"reason": "misbruik"}),
        "GET /v1/networks/{network_id}/feed": lambda w: (f"/v1/networks/{w.n}/feed", None),
        "GET /v1/outputs/{output_id}/deliveries": lambda w: (f"/v1/outputs/{w.output}/deliveries", None),
        "POST /v1/peers": lambda w: ("/v1/peers", w.peer_configuration()),
        "GET /v1/peers": lambda w: ("/v1/peers", None),
        "GET /v1/peers/{instance_id}": lambda w: (f"/v1/peers/{w.peer}", None),
        "DELETE /v1/peers/{instance_id}": lambda w: (f"/v1/peers/{w.new_peer()}", None),
        "GET /v1/audit": lambda w: ("/v1/audit?page_size=5", None),
        "GET /v1/audit/export": lambda w: ("/v1/audit/export?action=member.erased", None),
        # the peer's directory is empty (nothing answers at its address): the operator gets a 404, others 403
        "GET /v1/peers/{instance_id}/networks": lambda w: (f"/v1/peers/{w.peer}/networks", None),
        "POST /v1/peers/{instance_id}/networks/{network_id}/approve":
            lambda w: (f"/v1/peers/{w.peer}/networks/x-1/approve", None),
        "POST /v1/peers/{instance_id}/networks/{network_id}/withdraw-approval":
            lambda w: (f"/v1/peers/{w.peer}/networks/x-1/withdraw-approval", None),
    }


HTTP_REQUESTS = _http_requests()

GRPC_REQUESTS: dict[str, Callable[[World], Any]] = {
    "GetInstance": lambda w: pb.GetInstanceRequest(),
    "ListNetworks": lambda w: pb.ListNetworksRequest(theme=w.tag),
    "GetNetwork": lambda w: pb.GetNetworkRequest(network_id=w.n),
    "ListSessions": lambda w: pb.ListSessionsRequest(network_id=w.n),
    "FindExpertise": lambda w: pb.FindExpertiseRequest(tag="eenzaamheid"),
    "PublishOutput": lambda w: pb.PublishOutputRequest(
        network_id=w.n, client_output_id=f"matrix-{fresh_tag()}", kind=pb.OUTPUT_KIND_LESSON, title="Een les",
        visibility=pb.VISIBILITY_LINKED),
    "RetractOutput": lambda w: pb.RetractOutputRequest(output_id=w.partner_published_output()),
    "ListOutputs": lambda w: pb.ListOutputsRequest(network_id=w.n),
    "StreamOutputs": lambda w: pb.StreamOutputsRequest(network_ids=[w.n]),
    "GetFeedHead": lambda w: pb.GetFeedHeadRequest(network_ids=[w.n]),
    "RequestLink": lambda w: pb.RequestLinkRequest(requester_network_id=w.n, target_network_id=w.o),
    "GetLink": lambda w: pb.GetLinkRequest(link_id=w.partner_link),
    "ListPublishedOutputs": lambda w: pb.ListPublishedOutputsRequest(network_id=w.n),
}

REFUSED_HTTP = frozenset({401, 403})
REFUSED_GRPC = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
BROKEN_GRPC = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})


def roles(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- the checks (plain functions, so tests/security/test_checks_can_fail.py can feed them a wrong table) ---------


def table_mismatches(table: Mapping[str, str], known: Mapping[str, str], what: str) -> list[str]:
    """The table must name exactly the routes (methods) there are, with roles that exist."""
    found = [f"{key}: {what} has it, the table has no line for it" for key in sorted(set(known) - set(table))]
    found += [f"{key}: the table has a line for it, {what} does not" for key in sorted(set(table) - set(known))]
    return found


def access_mismatch(key: str, expected: frozenset[str], observed: Mapping[str, Any],
                    refused: Callable[[Any], bool]) -> str | None:
    """``observed``: role -> the answer's status. None when exactly the expected roles got through."""
    through = frozenset(role for role, status in observed.items() if not refused(status))
    if through == expected:
        return None
    return (f"{key}: let through {sorted(through)}, the table says {sorted(expected)}; "
            f"answers: {dict(observed)}")


def http_answers(world: World, key: str) -> dict[str, int]:
    method, _ = key.split(" ", 1)
    answers = {}
    for role in HTTP_ROLES:
        path, body = HTTP_REQUESTS[key](world)  # for every role: a fresh object where the request consumes it
        with world.http(role) as client:
            response = client.request(method, path, json=body)
        assert response.status_code < 500, f"{key} as {role}: {response.status_code} {response.text}"
        answers[role] = response.status_code
    return answers


def grpc_answers(world: World, method: str) -> dict[str, grpc.StatusCode]:
    answers = {}
    for role in GRPC_ROLES:
        request = GRPC_REQUESTS[method](world)
        try:
            # A stream that is let through stays open: its deadline passing is the sign it was admitted.
            world.grpc(role).call(method, request, timeout=2.0 if method == "StreamOutputs" else 10.0)
            answers[role] = grpc.StatusCode.OK
        except grpc.RpcError as exc:
            answers[role] = exc.code()
        assert answers[role] not in BROKEN_GRPC, f"{method} as {role}: {answers[role]}"
    return answers


def openapi_routes(document: Mapping[str, Any]) -> dict[str, str]:
    return {f"{method.upper()} {path}": operation.get("summary", "")
            for path, operations in document["paths"].items() for method, operation in operations.items()}


def proto_methods() -> dict[str, str]:
    return {m.name: m.full_name for m in pb.DESCRIPTOR.services_by_name["Federation"].methods}


# --- the tests ----------------------------------------------------------------------------------------------------


def test_the_http_table_has_one_line_for_every_route_of_the_openapi_document(world):
    document = world.operator.get("/openapi.json").json()
    assert table_mismatches(HTTP_ACCESS, openapi_routes(document), "the OpenAPI document") == []
    assert set(HTTP_REQUESTS) == set(HTTP_ACCESS)
    assert all(roles(line) <= set(HTTP_ROLES) for line in HTTP_ACCESS.values())


def test_the_grpc_table_has_one_line_for_every_method_of_the_proto():
    assert table_mismatches(GRPC_ACCESS, proto_methods(), "kring.v1.Federation") == []
    assert set(GRPC_REQUESTS) == set(GRPC_ACCESS)
    assert all(roles(line) <= set(GRPC_ROLES) for line in GRPC_ACCESS.values())


@pytest.mark.parametrize("route", list(HTTP_ACCESS))
def test_each_admin_route_lets_through_exactly_the_roles_in_the_table(world, route):
    answers = http_answers(world, route)
    assert access_mismatch(route, roles(HTTP_ACCESS[route]), answers, lambda status: status in REFUSED_HTTP) is None


@pytest.mark.parametrize("method", list(GRPC_ACCESS))
def test_each_partner_method_lets_through_exactly_the_roles_in_the_table(world, method):
    answers = grpc_answers(world, method)
    assert access_mismatch(method, roles(GRPC_ACCESS[method]), answers, lambda code: code in REFUSED_GRPC) is None


def test_a_credential_of_one_edge_opens_nothing_on_the_other(world):
    """Partner keys are not admin tokens, and admin tokens are not partner keys: each is refused as unknown."""
    for role in ("partner", "other-partner"):
        with world.http(role) as client:
            assert client.get("/v1/whoami").status_code == 401
    for role in ("member", "coordinator", "operator", "broker"):
        with pytest.raises(grpc.RpcError) as refused:
            world.grpc(role).call("ListNetworks", pb.ListNetworksRequest())
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
