"""The audit log through the admin API, with the whole stack running as separate processes: tokens issued, a member
exported and erased, a link accepted by a coordinator and a network blocked are read back from ``/v1/audit`` and
``/v1/audit/export`` (NDJSON) with the correlation id of the request that did them; an erased member's entries stay
but show no id (in the members service at once, in the federation service once it has the erasure event); a
member's token is refused."""

from __future__ import annotations

import json

from tests.e2e.test_partner_e2e import coordinator_of, create_network
from tests.support.http import ok
from tests.support.naming import fresh_tag
from tests.support.waiting import eventually

ERASED = {"kind": "member", "id": None, "erased": True}


def entries(operator, **params) -> list[dict]:
    return ok(operator.get("/v1/audit", params=params), 200)["items"]


def by_correlation(operator, correlation: str, **params) -> list[dict]:
    return [e for e in entries(operator, page_size=200, **params) if e["correlation_id"] == correlation]


def test_audited_actions_are_read_back_and_an_erased_member_is_no_longer_named(stack):
    tag = fresh_tag()
    with stack.client() as operator:
        anna = ok(operator.post("/v1/members", json={"name": "Anna de Vries", "perspectives": ["resident"],
                                                     "email": f"anna.{tag}@example.org"}), 201)
        issued = ok(operator.post(f"/v1/members/{anna['id']}/tokens", json={"label": "e2e"},
                                  headers={"X-Correlation-ID": f"issue-{tag}"}), 201)
        ok(operator.get(f"/v1/members/{anna['id']}/export", headers={"X-Correlation-ID": f"export-{tag}"}), 200)

        [token_entry] = by_correlation(operator, f"issue-{tag}", action="token.issued")
        assert (token_entry["actor"]["kind"], token_entry["target"], token_entry["detail"]) == (
            "operator", {"kind": "member", "id": anna["id"], "erased": False},
            {"token_id": issued["token_id"], "via": "operator"})
        assert issued["token"] not in json.dumps(token_entry)
        assert {e["action"] for e in entries(operator, target_id=anna["id"])} >= {"token.issued", "member.exported"}

        with stack.client(issued["token"]) as anna_client:  # a member's token is not the operator's
            assert anna_client.get("/v1/audit").status_code == 403
            assert anna_client.get("/v1/audit/export").status_code == 403

        ok(operator.delete(f"/v1/members/{anna['id']}", headers={"X-Correlation-ID": f"erase-{tag}"}), 200)
        [erased] = by_correlation(operator, f"erase-{tag}", action="member.erased")
        assert erased["target"] == ERASED and erased["service"] == "members"
        for correlation in (f"issue-{tag}", f"export-{tag}"):
            [kept] = by_correlation(operator, correlation)  # the entries stay, leading nowhere
            assert kept["target"] == ERASED
        assert entries(operator, target_id=anna["id"]) == []
        assert anna["id"] not in json.dumps(entries(operator, page_size=200))

        exported = operator.get("/v1/audit/export", params={"action": "member.erased"})
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in exported.text.splitlines()]
        assert any(e["correlation_id"] == f"erase-{tag}" and e["target"] == ERASED for e in lines)
        assert all(e["action"] == "member.erased" for e in lines)


def test_trust_changes_are_recorded_with_who_acted_for_which_network(stack):
    tag = fresh_tag()
    with stack.client() as operator:
        asking = create_network(operator, f"Werkplaats Noord {tag}", f"audit e2e {tag}")
        asked = create_network(operator, f"Werkplaats Zuid {tag}", f"audit e2e {tag}")
        with coordinator_of(operator, stack, asked) as zuid:
            coordinator_id = ok(zuid.get("/v1/whoami"), 200)["member_id"]
            link = ok(operator.post("/v1/links", json={"requester_network_id": asking,
                                                       "target_network_id": asked}), 201)
            ok(zuid.post(f"/v1/links/{link['link_id']}/accept", headers={"X-Correlation-ID": f"accept-{tag}"}), 200)
        ok(operator.post(f"/v1/networks/{asking}/block", json={"reason": "proef"},
                         headers={"X-Correlation-ID": f"block-{tag}"}), 200)

        [accepted] = by_correlation(operator, f"accept-{tag}", action="link.accepted")
        assert (accepted["actor"], accepted["on_behalf_of"], accepted["target"], accepted["service"]) == (
            {"kind": "member", "id": coordinator_id, "erased": False},
            {"kind": "network", "id": asked, "erased": False},
            {"kind": "link", "id": link["link_id"], "erased": False}, "federation")
        [blocked] = by_correlation(operator, f"block-{tag}", action="network.blocked")
        assert blocked["target"]["id"] == asking and "proef" not in json.dumps(blocked)
        assert [e["action"] for e in entries(operator, target_id=link["link_id"])] == ["link.accepted"]

        ok(operator.delete(f"/v1/members/{coordinator_id}"), 200)

        eventually(lambda: by_correlation(operator, f"accept-{tag}", action="link.accepted")[0]["actor"],
                   "the federation's entry no longer naming the erased coordinator", timeout=30,
                   accept=lambda actor: actor == ERASED)
