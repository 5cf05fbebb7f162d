"""The console's OpenID Connect client against a real provider (oidc-provider-mock, Authlib's server, running in
this process on a free port): the code flow with state, nonce and PKCE, and every check on the ID token.

Tokens with one thing wrong are signed here with a key of our own, put in the client's key set in place of the
provider's, so each check is shown refusing exactly what it must.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from services.console.oidc import (
    PENDING_MAX_AGE,
    OidcClient,
    PendingSignIn,
    SignInFailed,
    VerifiedIdentity,
    code_challenge,
)
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, Provider, running_provider

REDIRECT = "http://127.0.0.1:9/sign-in/return"  # never followed: the test reads the provider's redirect itself


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


def with_client(provider: Provider, work: Any, *, client_id: str = CLIENT_ID, now: Any = time.time) -> Any:
    with httpx.Client(timeout=10) as http:
        return work(OidcClient(provider.issuer, client_id, CLIENT_SECRET, http, now=now))


def authorize(url: str, sub: str) -> dict[str, str]:
    """What a person does at the provider: open the authorization URL, type their subject, press Authorize; the
    query the provider redirects back with."""
    with httpx.Client(timeout=10) as browser:
        form = browser.get(url)
        assert form.status_code == 200, form.text[:300]
        answer = browser.post(url, data={"sub": sub})
    assert answer.status_code == 302, answer.text[:300]
    location = answer.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sign_in(provider: Provider, sub: str, *, tamper: Any = None, now: Any = time.time) -> VerifiedIdentity:
    def flow(client: OidcClient) -> VerifiedIdentity:
        url, pending = client.begin(REDIRECT)
        params = authorize(url, sub)
        if tamper:
            pending, params = tamper(pending, params)
        return client.finish(pending, params)

    result: VerifiedIdentity = with_client(provider, flow, now=now)
    return result


def failure(call: Any) -> str:
    with pytest.raises(SignInFailed) as failed:
        call()
    return failed.value.reason


# --- the flow ----------------------------------------------------------------------------------------------------


def test_a_verified_email_signs_in_through_the_code_flow(provider: Provider):
    provider.set_user("fatima", "Fatima.ElAmrani@Utrecht.example", name="Fatima El Amrani")
    identity = sign_in(provider, "fatima")
    assert identity == VerifiedIdentity("fatima", "fatima.elamrani@utrecht.example", "Fatima El Amrani")


def test_the_authorization_request_carries_state_nonce_and_an_s256_pkce_challenge(provider: Provider):
    def begin_twice(client: OidcClient) -> list[tuple[str, PendingSignIn]]:
        return [client.begin(REDIRECT, "/networks"), client.begin(REDIRECT)]

    (url, pending), (_, other) = with_client(provider, begin_twice)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{provider.issuer}/oauth2/authorize?")
    assert query == {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
                     "scope": "openid email profile", "state": pending.state, "nonce": pending.nonce,
                     "code_challenge": code_challenge(pending.code_verifier), "code_challenge_method": "S256"}
    assert pending.next_path == "/networks"
    assert len({pending.state, pending.nonce, pending.code_verifier, other.state, other.nonce}) == 5
    assert len(pending.code_verifier) >= 43, "RFC 7636: a verifier of at least 43 characters"


def test_the_pkce_challenge_is_rfc_7636s_s256_of_the_verifier():
    verifier, challenge = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert code_challenge(verifier) == challenge  # RFC 7636, appendix B


def test_the_pending_sign_in_survives_the_session_cookie_and_garbage_does_not():
    pending = PendingSignIn("s", "n", "v", REDIRECT, 12.5, "/sessions")
    assert PendingSignIn.from_dict(pending.as_dict()) == pending
    assert PendingSignIn.from_dict({"state": "s"}) is None
    assert PendingSignIn.from_dict("not a dict") is None


# --- what the return must match ------------------------------------------------------------------------------


def test_a_return_with_another_state_is_refused(provider: Provider):
    provider.set_user("bart", "bart.nijhuis@enschede.example")
    assert failure(lambda: sign_in(provider, "bart", tamper=lambda p, q: (p, {**q, "state": "forged"}))) == "state"


def test_a_return_without_a_sign_in_started_in_this_browser_is_refused(provider: Provider):
    provider.set_user("bart", "bart.nijhuis@enschede.example")
    assert failure(lambda: sign_in(provider, "bart", tamper=lambda p, q: (None, q))) == "state"


def test_a_return_after_too_long_is_refused(provider: Provider):
    provider.set_user("bart", "bart.nijhuis@enschede.example")
    late = PENDING_MAX_AGE + 1

    def tamper(pending: PendingSignIn, query: dict[str, str]) -> tuple[PendingSignIn, dict[str, str]]:
        return PendingSignIn(pending.state, pending.nonce, pending.code_verifier, pending.redirect_uri,
                             pending.started_at - late), query

    assert failure(lambda: sign_in(provider, "bart", tamper=tamper)) == "expired"


def test_a_person_who_declines_at_the_provider_gets_no_session(provider: Provider):
    def flow(client: OidcClient) -> None:
        _, pending = client.begin(REDIRECT)
        client.finish(pending, {"state": pending.state, "error": "access_denied"})

    assert failure(lambda: with_client(provider, flow)) == "denied"


def test_an_id_token_for_another_sign_in_is_refused_by_its_nonce(provider: Provider):
    provider.set_user("naima", "naima.bouzid@rotterdam.example")

    def other_nonce(pending: PendingSignIn, query: dict[str, str]) -> tuple[PendingSignIn, dict[str, str]]:
        return PendingSignIn(pending.state, "another-sign-in", pending.code_verifier, pending.redirect_uri,
                             pending.started_at), query

    assert failure(lambda: sign_in(provider, "naima", tamper=other_nonce)) == "id_token"


def test_an_unverified_email_is_refused(provider: Provider):
    provider.set_user("kees", "kees.bos@clientenraad-utrecht.example", email_verified=False)
    assert failure(lambda: sign_in(provider, "kees")) == "email_unverified"


def test_an_email_the_provider_does_not_call_verified_is_refused(provider: Provider):
    # the provider's default user: {"email": sub}, no email_verified claim at all
    assert failure(lambda: sign_in(provider, "lotte.meijer@buurtteams-utrecht.example")) == "email_unverified"


def test_a_used_code_cannot_be_redeemed_again(provider: Provider):
    provider.set_user("ahmed", "ahmed.yilmaz@bewonersplatform-overvecht.example")

    def twice(client: OidcClient) -> None:
        url, pending = client.begin(REDIRECT)
        params = authorize(url, "ahmed")
        client.finish(pending, params)
        client.finish(pending, params)

    assert failure(lambda: with_client(provider, twice)) == "provider_unreachable"


# --- the provider's configuration ---------------------------------------------------------------------------


def test_an_issuer_without_a_discovery_document_fails_as_unreachable(provider: Provider):
    def with_issuer(issuer: str) -> None:
        with httpx.Client(timeout=10) as http:
            OidcClient(issuer, CLIENT_ID, CLIENT_SECRET, http).begin(REDIRECT)

    assert failure(lambda: with_issuer(f"{provider.issuer}/realms/none")) == "provider_unreachable"


def test_a_discovery_document_naming_another_issuer_is_refused():
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"issuer": "https://impostor.example", "authorization_endpoint": "x",
                                         "token_endpoint": "y", "jwks_uri": "z"})

    with pytest.raises(SignInFailed) as failed, httpx.Client(transport=httpx.MockTransport(answer)) as http:
        OidcClient("https://login.example", CLIENT_ID, CLIENT_SECRET, http).begin(REDIRECT)
    assert failed.value.reason == "provider_unreachable" and "impostor" in failed.value.detail


# --- every check on the ID token ------------------------------------------------------------------------------

OUR_KEY = RSAKey.generate_key(2048, parameters={"kid": "ours"})


def claims(provider: Provider, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": provider.issuer, "aud": CLIENT_ID, "sub": "anouk", "iat": now, "exp": now + 300, "nonce": "n-1",
            "email": "anouk.devries@movisie.example", "email_verified": True}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def verify(provider: Provider, token: str, keys: KeySet | None = None, nonce: str = "n-1") -> dict[str, Any]:
    def check(client: OidcClient) -> dict[str, Any]:
        client.metadata()
        client._keys = keys or KeySet([OUR_KEY])  # the key set the provider would publish
        return client._verify(token, nonce)

    result: dict[str, Any] = with_client(provider, check)
    return result


def signed(payload: dict[str, Any], key: Any = OUR_KEY, alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": "ours"}, payload, key)


def test_a_well_formed_id_token_passes_every_check(provider: Provider):
    assert verify(provider, signed(claims(provider)))["sub"] == "anouk"


@pytest.mark.parametrize(("wrong", "change"), [
    ("issuer", {"iss": "https://impostor.example"}),
    ("audience", {"aud": "another-client"}),
    ("expiry", {"exp": int(time.time()) - 3600}),
    ("missing expiry", {"exp": None}),
    ("missing issued-at", {"iat": None}),
    ("issued in the future", {"iat": int(time.time()) + 3600}),
    ("nonce", {"nonce": "n-2"}),
    ("missing nonce", {"nonce": None}),
    ("several audiences, another party", {"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}),
])
def test_an_id_token_with_a_wrong_claim_is_refused(provider: Provider, wrong: str, change: dict[str, Any]):
    assert failure(lambda: verify(provider, signed(claims(provider, **change)))) == "id_token", wrong


def test_an_id_token_signed_by_a_key_the_provider_does_not_publish_is_refused(provider: Provider):
    stranger = RSAKey.generate_key(2048, parameters={"kid": "ours"})
    assert failure(lambda: verify(provider, signed(claims(provider), key=stranger))) == "id_token"


def test_an_id_token_with_an_unknown_key_id_is_checked_against_the_fetched_keys_again(provider: Provider):
    # the provider's real keys are fetched again for the unknown kid; ours is not among them
    assert failure(lambda: verify(provider, signed(claims(provider)), keys=KeySet([
        RSAKey.generate_key(2048, parameters={"kid": "old"})]))) == "id_token"


def test_an_id_token_signed_with_the_client_secret_is_refused(provider: Provider):
    secret = OctKey.import_key(CLIENT_SECRET.encode() * 2)
    token = jwt.encode({"alg": "HS256"}, claims(provider), secret)
    assert failure(lambda: verify(provider, token, keys=KeySet([secret]))) == "id_token"


def test_an_unsigned_id_token_is_refused(provider: Provider):
    import base64
    import json

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'none'})}.{part(claims(provider))}."
    assert failure(lambda: verify(provider, token)) == "id_token"
