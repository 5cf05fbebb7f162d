"""The console's frame: sign-in and out, the session cookie, CSRF, security headers, errors and languages."""

from __future__ import annotations

import re

from cryptography.fernet import Fernet

from services.console.session import COOKIE
from tests.unit.console.fake_api import BROKER, TOKEN, a_member_api, api_error, console, csrf_of, signed_in


def test_a_page_without_a_session_sends_the_visitor_to_sign_in_and_back():
    client = console(a_member_api())
    answer = client.get("/?tab=members")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/%3Ftab%3Dmembers"


def test_dev_sign_in_exchanges_the_email_with_the_broker_token_and_acts_with_the_members_token():
    api = a_member_api(member_of=("n-1",))
    api.on("GET", "/v1/networks/n-1", (200, {"id": "n-1", "name": "BeterOud", "level": "national"}))
    client = signed_in(console(api))
    exchange = api.called("POST", "/v1/sign-in/tokens")[0]
    assert exchange.token == BROKER
    assert exchange.body == {"email": "anouk.devries@movisie.example", "ttl_seconds": 8 * 3600}
    home = client.get("/")
    assert home.status_code == 200
    assert "BeterOud" in home.text and "Anouk de Vries" in home.text
    assert {call.token for call in api.calls if call.path != "/v1/sign-in/tokens"} == {TOKEN}


def test_an_unknown_email_gets_a_clear_page_and_no_session():
    api = a_member_api()
    api.on("POST", "/v1/sign-in/tokens", api_error(404, "not_found", "no active member has this e-mail"))
    client = console(api)
    page = client.get("/sign-in")
    answer = client.post("/sign-in/dev", data={"csrf": csrf_of(page.text), "email": "nobody@example.org"})
    assert answer.status_code == 403
    assert "nobody@example.org" in answer.text and "niet bekend in Kring" in answer.text
    assert client.get("/").status_code == 303  # still not signed in


def test_the_dev_sign_in_is_refused_when_not_enabled():
    api = a_member_api()
    client = console(api, console_dev_sign_in=False)
    page = client.get("/sign-in")
    assert "Ontwikkel-inlog" not in page.text
    answer = client.post("/sign-in/dev", data={"csrf": csrf_of(page.text), "email": "a@example.org"})
    assert answer.status_code == 404
    assert not api.called("POST", "/v1/sign-in/tokens")


def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing():
    api = a_member_api()
    client = console(api)
    client.get("/sign-in")
    answer = client.post("/sign-in/dev", data={"csrf": "forged", "email": "anouk.devries@movisie.example"})
    assert answer.status_code == 403
    assert not api.called("POST", "/v1/sign-in/tokens")


def test_sign_out_revokes_the_token_at_the_api_and_ends_the_session():
    api = a_member_api()
    client = signed_in(console(api))
    home = client.get("/")
    answer = client.post("/sign-out", data={"csrf": csrf_of(home.text)})
    assert answer.status_code == 303
    revoked = api.called("DELETE", "/v1/tokens/tok-1")
    assert len(revoked) == 1 and revoked[0].token == TOKEN
    assert client.get("/").status_code == 303


def test_a_token_the_api_no_longer_accepts_ends_the_session():
    api = a_member_api()
    client = signed_in(console(api))
    api.on("GET", "/v1/whoami", api_error(401, "unauthenticated", "token revoked"))
    answer = client.get("/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    assert client.get("/").status_code == 303


def test_the_session_cookie_is_encrypted_http_only_and_same_site():
    client = signed_in(console(a_member_api()))
    cookie = client.cookies.get(COOKIE)
    assert cookie and TOKEN not in cookie and "Anouk" not in cookie
    page = console(a_member_api())
    answer = page.get("/sign-in")
    set_cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie and "Secure" not in set_cookie


def test_the_session_cookie_is_secure_when_the_console_is_served_over_https():
    client = console(a_member_api(), console_public_url="https://console.example.org")
    assert "Secure" in client.get("/sign-in").headers["set-cookie"]


def test_a_cookie_sealed_with_another_key_is_no_session():
    client = console(a_member_api())
    client.cookies.set(COOKIE, Fernet(Fernet.generate_key()).encrypt(b'{"person": {"member_id": "x"}}').decode())
    assert client.get("/").status_code == 303


def test_every_page_sends_a_content_security_policy_without_inline_scripts_and_is_not_cached():
    client = console(a_member_api())
    answer = client.get("/sign-in")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert answer.headers["cache-control"] == "no-store"
    assert "<script>" not in answer.text and " on" not in answer.text.split("<body")[1].split(">")[0]


def test_the_api_refusing_an_action_shows_a_clear_refusal_page():
    api = a_member_api()
    client = signed_in(console(api))
    api.on("GET", "/v1/whoami", api_error(403, "permission_denied", "only a coordinator of this network"))
    answer = client.get("/")
    assert answer.status_code == 403
    assert "Geen toegang" in answer.text and "only a coordinator of this network" in answer.text


def test_a_refusal_or_a_missing_page_keeps_the_signed_in_persons_menu_to_go_on_from():
    api = a_member_api()
    client = signed_in(console(api))
    api.on("GET", "/v1/networks/n-9", api_error(404, "not_found", "no such network"))
    for path in ("/networks/n-9", "/no/such/page"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "Ingelogd als Anouk de Vries" in answer.text and 'href="/me"' in answer.text, path


def test_an_unreachable_api_is_a_503_page_not_a_stack_trace():
    import httpx

    def down(request: httpx.Request) -> tuple[int, object]:
        raise httpx.ConnectError("refused")

    api = a_member_api()
    client = signed_in(console(api))
    api.on("GET", "/v1/whoami", down)
    answer = client.get("/")
    assert answer.status_code == 503 and "niet bereikbaar" in answer.text


def test_dutch_by_default_english_by_choice_or_by_the_browser():
    client = console(a_member_api())
    assert 'lang="nl"' in client.get("/sign-in").text
    assert 'lang="en"' in client.get("/sign-in", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    page = client.get("/sign-in")
    client.post("/language", data={"csrf": csrf_of(page.text), "lang": "en", "next": "/sign-in"})
    assert "Development sign-in" in client.get("/sign-in").text


def test_after_sign_in_the_visitor_returns_only_to_a_local_page():
    api = a_member_api()
    client = console(api)
    page = client.get("/sign-in")
    answer = client.post("/sign-in/dev", data={"csrf": csrf_of(page.text), "email": "a@example.org",
                                               "next": "//evil.example/steal"})
    assert answer.headers["location"] == "/"


def test_choosing_a_language_loads_the_whole_page_so_its_lang_attribute_changes_too():
    # htmx's boosted swap replaces the body only: the page stayed lang="nl" in English (found by tests/browser)
    page = console(a_member_api()).get("/sign-in")
    assert re.search(r'<form method="post" action="/language"[^>]* hx-boost="false">', page.text)


def test_a_refused_field_says_the_rule_in_dutch_on_a_dutch_page_and_the_apis_words_on_an_english_one():
    from services.console.api import ApiError

    violations = [{"field": "title", "rule": "string_too_short", "message": "String should have at least 3 characters"},
                  {"field": "kind", "rule": "some_rule_only_the_api_knows", "message": "kind: not for this session"}]
    dutch = ApiError(422, "invalid_argument", "invalid", violations, language="nl").field_errors
    english = ApiError(422, "invalid_argument", "invalid", violations, language="en").field_errors
    assert dutch == {"title": "Deze tekst is te kort.", "kind": "kind: not for this session"}
    assert english == {"title": "String should have at least 3 characters", "kind": "kind: not for this session"}
