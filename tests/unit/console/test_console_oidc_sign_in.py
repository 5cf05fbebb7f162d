"""Signing in to the console through OpenID Connect, with a real provider (oidc-provider-mock, in this process on a
free port) and the admin API answered by the fake: the verified e-mail becomes the member's session through the
broker's exchange; every failed sign-in is a clear page and no session, and the exchange is never asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from services.console.signin import OIDC_RETURN
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.support.stack import free_port
from tests.unit.console.fake_api import BROKER, FakeAdminApi, a_member_api, api_error, console

PUBLIC = "http://127.0.0.1:8090"  # KRING_CONSOLE_PUBLIC_URL: where the provider sends the person back


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


def oidc_console(api: FakeAdminApi, provider: Provider, **settings: object) -> TestClient:
    return console(api, console_dev_sign_in=False, console_public_url=PUBLIC,
                   console_oidc_issuer=provider.issuer, console_oidc_client_id=CLIENT_ID,
                   console_oidc_client_secret=CLIENT_SECRET, **settings)


def at_provider(url: str, sub: str) -> str:
    """The person at the provider: the form, their subject, Authorize; the console URL they are sent back to."""
    with httpx.Client(timeout=10) as browser:
        assert browser.get(url).status_code == 200
        answer = browser.post(url, data={"sub": sub})
    assert answer.status_code == 302, answer.text[:300]
    return str(answer.headers["location"])


def start(client: TestClient, next_path: str = "/") -> str:
    """Press "sign in with your organisation account": the provider's authorization URL."""
    answer = client.get("/sign-in/oidc", params={"next": next_path})
    assert answer.status_code == 303, answer.text[:300]
    return str(answer.headers["location"])


def come_back(client: TestClient, location: str) -> httpx.Response:
    assert location.startswith(PUBLIC + OIDC_RETURN), location
    parts = urlsplit(location)
    return client.get(f"{parts.path}?{parts.query}")


def test_the_sign_in_page_offers_the_provider_and_not_the_development_sign_in(provider: Provider):
    page = oidc_console(a_member_api(), provider).get("/sign-in?next=/networks")
    assert 'href="/sign-in/oidc?next=/networks"' in page.text
    assert "Ontwikkel-inlog" not in page.text


def test_a_verified_email_signs_the_member_in_and_returns_them_where_they_were_going(provider: Provider):
    provider.set_user("anouk", "Anouk.deVries@movisie.example")
    api = a_member_api()
    client = oidc_console(api, provider)
    url = start(client, "/networks/n-1")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(provider.issuer) and query["redirect_uri"] == [PUBLIC + OIDC_RETURN]
    answer = come_back(client, at_provider(url, "anouk"))
    assert answer.status_code == 303 and answer.headers["location"] == "/networks/n-1"
    exchange = api.called("POST", "/v1/sign-in/tokens")
    assert [(call.token, call.body["email"]) for call in exchange] == [(BROKER, "anouk.devries@movisie.example")]
    assert client.get("/").status_code == 200, "signed in"


def test_an_unknown_email_gets_a_clear_page_and_no_session(provider: Provider):
    provider.set_user("stranger", "stranger@elsewhere.example")
    api = a_member_api()
    api.on("POST", "/v1/sign-in/tokens", api_error(404, "not_found", "no active member has this e-mail"))
    client = oidc_console(api, provider)
    answer = come_back(client, at_provider(start(client), "stranger"))
    assert answer.status_code == 403
    assert "stranger@elsewhere.example" in answer.text and "niet bekend in Kring" in answer.text
    assert client.get("/").status_code == 303, "not signed in"


def test_an_unverified_email_is_refused_before_the_api_is_asked(provider: Provider):
    provider.set_user("kees", "kees.bos@clientenraad-utrecht.example", email_verified=False)
    api = a_member_api()
    client = oidc_console(api, provider)
    answer = come_back(client, at_provider(start(client), "kees"))
    assert answer.status_code == 403 and "bevestigt uw e-mailadres niet" in answer.text
    assert not api.called("POST", "/v1/sign-in/tokens")
    assert client.get("/").status_code == 303


def test_a_return_to_another_browser_is_refused(provider: Provider):
    provider.set_user("anouk", "anouk.devries@movisie.example")
    api = a_member_api()
    started_here = oidc_console(api, provider)
    location = at_provider(start(started_here), "anouk")
    elsewhere = oidc_console(api, provider)  # a link sent to someone else: no sign-in started in their browser
    answer = come_back(elsewhere, location)
    assert answer.status_code == 400 and "niet in deze browser begonnen" in answer.text
    assert not api.called("POST", "/v1/sign-in/tokens")


def test_the_same_return_cannot_be_used_twice(provider: Provider):
    provider.set_user("anouk", "anouk.devries@movisie.example")
    api = a_member_api()
    client = oidc_console(api, provider)
    location = at_provider(start(client), "anouk")
    assert come_back(client, location).status_code == 303
    client.cookies.clear()
    assert come_back(client, location).status_code == 400
    assert len(api.called("POST", "/v1/sign-in/tokens")) == 1


def test_declining_at_the_provider_leaves_no_session(provider: Provider):
    client = oidc_console(a_member_api(), provider)
    url = start(client)
    state = parse_qs(urlsplit(url).query)["state"][0]
    answer = come_back(client, f"{PUBLIC}{OIDC_RETURN}?error=access_denied&state={state}")
    assert answer.status_code == 403 and "niet toegestaan" in answer.text
    assert client.get("/").status_code == 303


def test_an_unreachable_provider_is_a_503_page_not_a_stack_trace():
    dead = f"http://127.0.0.1:{free_port()}"
    api = a_member_api()
    client = console(api, console_dev_sign_in=False, console_oidc_issuer=dead, console_oidc_client_id=CLIENT_ID,
                     console_oidc_client_secret=CLIENT_SECRET)
    answer = client.get("/sign-in/oidc")
    assert answer.status_code == 503 and "niet bereikbaar" in answer.text


def test_without_a_provider_the_oidc_routes_do_not_exist():
    client = console(a_member_api())
    assert client.get("/sign-in/oidc").status_code == 404
    assert client.get(OIDC_RETURN + "?code=x&state=y").status_code == 404
