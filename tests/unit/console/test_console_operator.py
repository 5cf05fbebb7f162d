"""The operator's pages: partners and their keys, peer instances and their directories, the audit log; and
anyone else getting the API's refusal."""

from __future__ import annotations

import logging
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from services.console.session import COOKIE
from tests.unit.console.fake_api import TOKEN, FakeAdminApi, a_member_api, api_error, console, csrf_of, signed_in
from tests.unit.console.test_console_me import form_key_of, recording

NEW_KEY = "kring_pk_9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def operator_api() -> FakeAdminApi:
    api = a_member_api("m-op", "Olga Beheer")
    api.on("POST", "/v1/sign-in/tokens", (201, {"token": TOKEN, "token_id": "tok-1", "member_id": "m-op",
                                                 "expires_at": "2999-01-01T00:00:00Z", "operator": True}))
    api.on("GET", "/v1/whoami", (200, {"operator": True, "member_id": "m-op", "administers": [], "facilitates": [],
                                       "member_of": []}))
    return api


def a_partner(status: str = "active", **extra: Any) -> dict[str, Any]:
    return {"partner_id": "p-1", "name": "Zorgnet West", "status": status, "network_ids": ["n-3"],
            "created_at": "2026-06-01T08:00:00Z", "kind": "organisation", "instance_id": None, **extra}


def partners_api() -> FakeAdminApi:
    api = operator_api()
    api.on("GET", "/v1/partners", (200, {"items": [a_partner()]}))
    api.on("GET", "/v1/partners/p-1", (200, a_partner()))
    return api


# --- who may --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/operator/partners", "/operator/peers", "/operator/audit"])
def test_a_participant_opening_an_operator_page_gets_the_apis_refusal(path: str):
    api = a_member_api()
    refusal = api_error(403, "permission_denied", "operator only")
    for route in ("/v1/partners", "/v1/peers", "/v1/audit"):
        api.on("GET", route, refusal)
    answer = signed_in(console(api)).get(path)
    assert answer.status_code == 403
    assert "Geen toegang" in answer.text and "operator only" in answer.text


def test_the_operator_sees_the_operator_entries_in_the_menu():
    page = signed_in(console(partners_api())).get("/operator/partners")
    assert page.status_code == 200
    for path in ("/operator/partners", "/operator/peers", "/operator/audit"):
        assert f'href="{path}"' in page.text
    assert "Zorgnet West" in page.text and "actief" in page.text


# --- partners --------------------------------------------------------------------------------------------------


def test_registering_a_partner_shows_its_key_once_and_the_console_keeps_no_copy(caplog: pytest.LogCaptureFixture):
    api = partners_api()
    api.on("POST", "/v1/partners", (201, {**a_partner(partner_id="p-2", name="Buurtwerk Oost", network_ids=["n-4",
                                                                                                         "n-5"]),
                                          "api_key": NEW_KEY}))
    client = signed_in(console(api))
    page = client.get("/operator/partners")
    key = form_key_of(page.text, "/operator/partners")
    caplog.set_level(logging.DEBUG)
    answer = client.post("/operator/partners", data={"csrf": csrf_of(page.text), "form_key": key,
                                                     "name": "Buurtwerk Oost", "kind": "organisation",
                                                     "network_ids": "n-4, n-5"})
    assert answer.status_code == 201
    assert NEW_KEY in answer.text and "maar één keer" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    (posted,) = api.called("POST", "/v1/partners")
    assert posted.body == {"name": "Buurtwerk Oost", "kind": "organisation", "network_ids": ["n-4", "n-5"]}
    assert posted.token == TOKEN and posted.headers["idempotency-key"] == key
    assert NEW_KEY not in caplog.text
    assert NEW_KEY not in str(answer.headers) and NEW_KEY not in (client.cookies.get(COOKIE) or "")
    assert NEW_KEY not in client.get("/operator/partners").text  # shown once: not on the next page


def test_the_key_page_is_kept_out_of_the_browsers_page_history_and_reached_without_htmx():
    api = partners_api()
    api.on("POST", "/v1/partners", (201, {**a_partner(), "api_key": NEW_KEY}))
    client = signed_in(console(api))
    page = client.get("/operator/partners")
    assert 'action="/operator/partners" hx-boost="false"' in page.text
    assert 'hx-boost="false"' in client.get("/operator/partners/p-1").text.split("rotate-key", 1)[1].split(">")[0]
    answer = client.post("/operator/partners", data={"csrf": csrf_of(page.text), "name": "X", "network_ids": "n-3"})
    kept_out = answer.text.split('hx-history="false">', 1)
    assert len(kept_out) == 2 and NEW_KEY in kept_out[1].split("</div>\n</div>")[0]


def test_registering_another_instance_sends_its_instance_id_and_no_networks():
    api = partners_api()
    api.on("POST", "/v1/partners", (201, {**a_partner(kind="instance", instance_id="kring-zuid", network_ids=[]),
                                          "api_key": NEW_KEY}))
    client = signed_in(console(api))
    page = client.get("/operator/partners")
    client.post("/operator/partners", data={"csrf": csrf_of(page.text), "name": "Kring Zuid", "kind": "instance",
                                            "instance_id": "kring-zuid", "network_ids": "ignored"})
    assert api.called("POST", "/v1/partners")[0].body == {"name": "Kring Zuid", "kind": "instance",
                                                          "instance_id": "kring-zuid"}


def test_a_network_that_has_a_partner_already_is_drawn_next_to_the_networks_field():
    api = partners_api()
    api.on("POST", "/v1/partners", api_error(409, "conflict", "network already taken", [
        {"field": "network_ids.1", "rule": "unowned", "message": "n-3 belongs to another partner"}]))
    client = signed_in(console(api))
    page = client.get("/operator/partners")
    answer = client.post("/operator/partners", data={"csrf": csrf_of(page.text), "name": "Dubbel",
                                                     "kind": "organisation", "network_ids": "n-9 n-3"})
    assert answer.status_code == 409
    assert '<p class="error" id="e-network_ids">n-3 belongs to another partner</p>' in answer.text
    assert 'value="n-9 n-3"' in answer.text and 'value="Dubbel"' in answer.text


def test_rotating_a_key_shows_the_new_key_once():
    api = partners_api()
    api.on("POST", "/v1/partners/p-1/rotate-key", (201, {**a_partner(), "api_key": NEW_KEY}))
    client = signed_in(console(api))
    page = client.get("/operator/partners/p-1")
    key = form_key_of(page.text, "/operator/partners/p-1/rotate-key")
    answer = client.post("/operator/partners/p-1/rotate-key", data={"csrf": csrf_of(page.text), "form_key": key})
    assert answer.status_code == 201 and NEW_KEY in answer.text and "De oude werkt niet meer" in answer.text
    assert api.called("POST", "/v1/partners/p-1/rotate-key")[0].headers["idempotency-key"] == key


def test_revoking_and_blocking_a_partner_call_the_api_and_return_to_the_partner():
    api = partners_api()
    api.on("POST", "/v1/partners/p-1/revoke", (200, a_partner("revoked")))
    api.on("POST", "/v1/partners/p-1/block", (200, a_partner("blocked")))
    client = signed_in(console(api))
    page = client.get("/operator/partners/p-1")
    revoked = client.post("/operator/partners/p-1/revoke", data={"csrf": csrf_of(page.text)})
    blocked = client.post("/operator/partners/p-1/block", data={"csrf": csrf_of(page.text), "reason": "misbruik"})
    assert revoked.status_code == blocked.status_code == 303
    assert revoked.headers["location"] == "/operator/partners/p-1"
    assert api.called("POST", "/v1/partners/p-1/block")[0].body == {"reason": "misbruik"}


def test_a_blocked_partner_offers_no_more_actions():
    api = partners_api()
    api.on("GET", "/v1/partners/p-1", (200, a_partner("blocked")))
    page = signed_in(console(api)).get("/operator/partners/p-1")
    assert "rotate-key" not in page.text and "/block" not in page.text and "geblokkeerd" in page.text


# --- peers -----------------------------------------------------------------------------------------------------


def a_peer() -> dict[str, Any]:
    return {"instance_id": "kring-zuid", "name": "Kring Zuid", "address": "kring-zuid.example:50051",
            "transport": {"mode": "tls", "ca_bundle": None, "server_name": None, "client_certificate": False},
            "local_network_ids": None, "cursor": 41, "last_ingest_at": "2026-12-04T09:00:00Z", "refused_entries": 2,
            "skipped": [{"cursor": 40, "output_id": "o-x", "origin_network_id": "n-zz", "network_id": "n-1",
                         "reason": "origin not owned by the peer", "at": "2026-12-03T09:00:00Z"}],
            "state": {"status": "backing_off", "connected": False, "consecutive_failures": 3,
                      "last_success_at": "2026-12-04T08:59:00Z", "last_error": "UNAVAILABLE: connection refused",
                      "last_error_at": "2026-12-04T09:10:00Z", "head_cursor": 45, "cursor_lag": 4,
                      "remote_instance": "kring-zuid", "directory_synced_at": None, "directory_error": None,
                      "updated_at": "2026-12-04T09:10:00Z"},
            "created_at": "2026-11-01T00:00:00Z", "changed_at": "2026-11-01T00:00:00Z"}


def a_directory_network(network_id: str, status: str) -> dict[str, Any]:
    return {"instance_id": "kring-zuid", "network_id": network_id, "name": f"Netwerk {network_id}", "theme": "zorg",
            "level": "regional", "kind": None, "status": status, "withdrawn_reason": None,
            "first_seen_at": "2026-11-01T00:00:00Z", "last_seen_at": "2026-12-04T00:00:00Z",
            "changed_at": "2026-11-01T00:00:00Z", "approved_at": None, "partner_id": "p-9"}


def peers_api() -> FakeAdminApi:
    api = operator_api()
    api.on("GET", "/v1/peers", (200, {"items": [a_peer()]}))
    api.on("GET", "/v1/peers/kring-zuid", (200, a_peer()))
    api.on("GET", "/v1/peers/kring-zuid/networks", (200, {"items": [a_directory_network("z-1", "offered"),
                                                                    a_directory_network("z-2", "approved")]}))
    return api


def test_the_peers_page_shows_each_peers_state_as_the_relay_reported_it():
    page = signed_in(console(peers_api())).get("/operator/peers")
    assert page.status_code == 200
    assert "Kring Zuid" in page.text and "wacht na een fout" in page.text
    assert "UNAVAILABLE: connection refused" in page.text and "4 nog niet binnen" in page.text


def test_following_a_peer_sends_its_configuration_with_the_transport_nested():
    api = peers_api()
    api.on("POST", "/v1/peers", (201, a_peer()))
    client = signed_in(console(api))
    page = client.get("/operator/peers")
    key = form_key_of(page.text, "/operator/peers")
    answer = client.post("/operator/peers", data={
        "csrf": csrf_of(page.text), "form_key": key, "instance_id": "kring-zuid", "name": "Kring Zuid",
        "address": "kring-zuid.example:50051", "api_key": NEW_KEY, "local_network_ids": "n-1,n-2",
        "transport.mode": "tls", "transport.server_name": "kring.zuid.example", "transport.client_certificate": "on"})
    assert answer.status_code == 303 and answer.headers["location"] == "/operator/peers/kring-zuid"
    (posted,) = api.called("POST", "/v1/peers")
    assert posted.body == {"instance_id": "kring-zuid", "name": "Kring Zuid", "address": "kring-zuid.example:50051",
                           "api_key": NEW_KEY, "local_network_ids": ["n-1", "n-2"],
                           "transport": {"mode": "tls", "server_name": "kring.zuid.example",
                                         "client_certificate": True}}
    assert posted.headers["idempotency-key"] == key


def test_a_refused_peer_is_drawn_again_with_the_error_next_to_its_field_and_never_the_key():
    api = peers_api()
    api.on("POST", "/v1/peers", api_error(422, "invalid", "invalid input", [
        {"field": "transport.server_name", "rule": "string_pattern_mismatch", "message": "a DNS name"}]))
    client = signed_in(console(api))
    page = client.get("/operator/peers")
    answer = client.post("/operator/peers", data={
        "csrf": csrf_of(page.text), "instance_id": "kring-zuid", "name": "Kring Zuid",
        "address": "kring-zuid.example:50051", "api_key": NEW_KEY, "transport.mode": "tls",
        "transport.server_name": "-bad-"})
    assert answer.status_code == 422
    assert '<p class="error" id="e-transport.server_name">a DNS name</p>' in answer.text
    assert 'value="-bad-"' in answer.text
    assert NEW_KEY not in answer.text


def test_a_peers_directory_offers_approval_and_withdrawal_per_network():
    api = peers_api()
    api.on("POST", "/v1/peers/kring-zuid/networks/z-1/approve", (200, a_directory_network("z-1", "approved")))
    client = signed_in(console(api))
    page = client.get("/operator/peers/kring-zuid")
    assert page.status_code == 200
    assert 'action="/operator/peers/kring-zuid/networks/z-1/approve"' in page.text
    assert 'action="/operator/peers/kring-zuid/networks/z-2/withdraw-approval"' in page.text
    assert "origin not owned by the peer" in page.text
    key = form_key_of(page.text, "/operator/peers/kring-zuid/networks/z-1/approve")
    answer = client.post("/operator/peers/kring-zuid/networks/z-1/approve",
                         data={"csrf": csrf_of(page.text), "form_key": key})
    assert answer.status_code == 303
    assert api.called("POST", "/v1/peers/kring-zuid/networks/z-1/approve")[0].headers["idempotency-key"] == key
    api.on("POST", "/v1/peers/kring-zuid/networks/z-2/withdraw-approval", (200, a_directory_network("z-2", "offered")))
    withdrawn = client.post("/operator/peers/kring-zuid/networks/z-2/withdraw-approval",
                            data={"csrf": csrf_of(page.text)})
    assert withdrawn.status_code == 303
    assert "De goedkeuring is ingetrokken." in client.get("/operator/peers/kring-zuid").text


def test_approving_before_the_instance_is_a_partner_shows_the_apis_conflict_on_the_page():
    api = peers_api()
    api.on("POST", "/v1/peers/kring-zuid/networks/z-1/approve", api_error(409, "conflict", "not a partner", [
        {"field": "instance_id", "rule": "registered_partner", "message": "register kring-zuid as a partner first"}]))
    client = signed_in(console(api))
    page = client.get("/operator/peers/kring-zuid")
    answer = client.post("/operator/peers/kring-zuid/networks/z-1/approve", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 409 and "register kring-zuid as a partner first" in answer.text


def test_an_unknown_directory_action_is_not_found_and_calls_nothing():
    api = peers_api()
    client = signed_in(console(api))
    page = client.get("/operator/peers/kring-zuid")
    answer = client.post("/operator/peers/kring-zuid/networks/z-1/delete", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 404
    assert not [call for call in api.calls if call.method == "POST" and "/networks/z-1/" in call.path]


def test_removing_a_peer_deletes_it_at_the_api():
    api = peers_api()
    api.on("DELETE", "/v1/peers/kring-zuid", (204, None))
    client = signed_in(console(api))
    page = client.get("/operator/peers/kring-zuid")
    answer = client.post("/operator/peers/kring-zuid/remove", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 303 and answer.headers["location"] == "/operator/peers"
    assert len(api.called("DELETE", "/v1/peers/kring-zuid")) == 1


# --- audit log -------------------------------------------------------------------------------------------------


def an_entry(entry_id: str, action: str, at: str) -> dict[str, Any]:
    return {"id": entry_id, "at": at, "action": action, "actor": {"kind": "operator", "id": None, "erased": False},
            "on_behalf_of": None, "target": {"kind": "member", "id": None, "erased": True}, "correlation_id": "c",
            "request_id": None, "detail": {"token_id": "t-1", "network_ids": ["n-1", "n-2"]}, "service": "members"}


def test_the_audit_log_sends_the_filters_as_whole_local_days_and_pages_on():
    api = operator_api()
    asked: list[dict[str, str]] = []
    api.on("GET", "/v1/audit", recording((200, {"items": [an_entry("a-1", "member.erased", "2026-12-03T10:00:00Z")],
                                                "next_page_token": "tok-next"}), asked))
    page = signed_in(console(api)).get("/operator/audit?action=member.erased&since=2026-12-01&until=2026-12-03"
                                       "&target_id=m-5")
    assert page.status_code == 200
    assert asked[0] == {"action": "member.erased", "since": "2026-12-01T00:00:00+01:00",
                        "until": "2026-12-04T00:00:00+01:00", "target_id": "m-5"}
    assert "lid (gewist)" in page.text and "network_ids: n-1, n-2" in page.text
    assert re.search(r'href="/operator/audit\?[^"]*page_token=tok-next', page.text)
    assert "<form" in page.text and 'method="post"' not in page.text.split("<main")[1].split("</main>")[0]


def an_entry_by_a_signed_in_operator(person_id: str | None) -> dict[str, Any]:
    person = {"kind": "member", "id": person_id, "erased": person_id is None}
    return {**an_entry("a-3", "link.revoked", "2026-12-03T11:00:00Z"),
            "actor": {"kind": "operator", "id": None, "erased": False, "person": person}}


@pytest.mark.parametrize(("person_id", "shown"), [("m-olga", "beheerder (lid m-olga)"),
                                                  (None, "beheerder (lid (gewist))")])
def test_an_action_by_a_person_signed_in_as_operator_shows_the_operator_and_the_person(person_id, shown):
    api = operator_api()
    api.on("GET", "/v1/audit", (200, {"items": [an_entry_by_a_signed_in_operator(person_id)],
                                      "next_page_token": None}))
    page = signed_in(console(api)).get("/operator/audit")
    assert page.status_code == 200 and shown in page.text


def test_a_bad_audit_filter_is_drawn_with_the_apis_error_next_to_its_field():
    api = operator_api()
    api.on("GET", "/v1/audit", api_error(422, "invalid", "invalid input", [
        {"field": "until", "rule": "after_since", "message": "until must come after since"}]))
    page = signed_in(console(api)).get("/operator/audit?since=2026-12-05&until=2026-12-01")
    assert page.status_code == 422
    assert '<p class="error" id="e-until">until must come after since</p>' in page.text


# --- the shape of every page here ------------------------------------------------------------------------------


class Outline(HTMLParser):
    """The headings, ids and unlabelled inputs of a page (what axe-core would flag first)."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.ids: list[str] = []
        self.inputs: list[str] = []
        self.labels: set[str] = set()
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if tag == "label" and found.get("for"):
            self.labels.add(str(found["for"]))
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.inputs.append(str(found.get("id")))
        if "style" in found or any(name.startswith("on") for name in found):
            self.inline.append(tag)


def pages_to_check() -> list[tuple[FakeAdminApi, str]]:
    from tests.unit.console.test_console_me import experts_api, reflections_api

    me = reflections_api()
    experts, _ = experts_api()
    audit = operator_api()
    audit.on("GET", "/v1/audit", (200, {"items": [an_entry("a-1", "token.issued", "2026-12-03T10:00:00Z")]}))
    return [(me, "/"), (me, "/me"), (me, "/me/export"), (me, "/me/reflections"), (experts, "/experts"),
            (experts, "/experts/m-7/ask"), (partners_api(), "/operator/partners"),
            (partners_api(), "/operator/partners/p-1"), (peers_api(), "/operator/peers"),
            (peers_api(), "/operator/peers/kring-zuid"), (audit, "/operator/audit")]


@pytest.mark.parametrize("index", range(11))
def test_each_page_has_one_h1_headings_in_order_unique_ids_a_label_for_every_input_and_no_inline_code(index: int):
    api, path = pages_to_check()[index]
    page = signed_in(console(api)).get(path)
    assert page.status_code == 200, path
    outline = Outline()
    outline.feed(page.text)
    assert outline.headings.count(1) == 1 and outline.headings[0] == 1, path
    assert all(b - a <= 1 for a, b in zip(outline.headings, outline.headings[1:])), (path, outline.headings)
    assert len(outline.ids) == len(set(outline.ids)), (path, sorted(outline.ids))
    assert set(outline.inputs) <= outline.labels, (path, set(outline.inputs) - outline.labels)
    assert outline.inline == [] and "<script>" not in page.text, path


@pytest.mark.parametrize("api_of, path", [(peers_api, "/operator/peers/kring-zuid"),
                                          (partners_api, "/operator/partners/p-1")])
def test_every_form_on_a_page_with_several_has_its_own_idempotency_key(api_of: Any, path: str):
    # One key for two requests is a 409 at the API: approving two networks from one page must both apply.
    page = signed_in(console(api_of())).get(path)
    keys = re.findall(r'name="form_key" value="([^"]+)"', page.text)
    assert len(keys) >= 3 and len(set(keys)) == len(keys)


def test_an_audit_action_the_console_has_no_text_for_yet_shows_as_its_code():
    api = operator_api()
    entry = {**an_entry("a-2", "member.renamed", "2026-12-03T10:00:00Z"), "actor": {"kind": "robot", "id": "r-1"}}
    api.on("GET", "/v1/audit", (200, {"items": [entry], "next_page_token": None}))
    page = signed_in(console(api)).get("/operator/audit")
    assert page.status_code == 200 and "member.renamed" in page.text and "robot r-1" in page.text


def test_the_peers_api_key_field_asks_the_browser_not_to_fill_it_in():
    # an attribute written into the page escaped ("&quot;off&quot;") is no attribute: axe-core found it in tests/browser
    page = signed_in(console(peers_api())).get("/operator/peers")
    assert re.search(r'<input id="f-api_key" name="api_key" type="password"[^>]* autocomplete="off">', page.text)


def test_the_operator_finds_experts_although_the_api_keeps_no_questions_for_the_operator():
    api = operator_api()
    api.on("GET", "/v1/networks", (200, {"items": []}))
    api.on("GET", "/v1/expertise", (200, {"items": []}))
    api.on("GET", "/v1/questions", api_error(403, "forbidden", "questions are a member's"))
    page = signed_in(console(api)).get("/experts")
    assert page.status_code == 200, page.text[:500]
