"""OpenID Connect sign-in for the console: any provider (Entra ID, Keycloak, Google Workspace, ...) configured by
its issuer, a client id and a client secret.

The authorization code flow with state, nonce and PKCE (S256). The provider's endpoints come from its discovery
document, whose ``issuer`` must be the configured one exactly. The ID token from the token endpoint is verified
here, never trusted as received: its signature against the provider's JWKS (fetched again once when a key id is
unknown, as after a key rotation), an asymmetric algorithm only, ``iss``, ``aud`` (and ``azp`` when there are
several audiences), ``exp``, ``iat`` and the ``nonce`` of this very sign-in. The person is who the provider says
only when it says the e-mail address is verified (``email_verified`` true). What to do with that address (match
it to a member, get their token from the API) is the caller's.

Nothing here logs a code, a token or a secret.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

# Asymmetric signatures only: "none" and the HMAC family (keyed with the client secret) are never accepted.
ID_TOKEN_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
PENDING_MAX_AGE = 600.0  # seconds a person may spend at the provider before the sign-in must start again
CLOCK_LEEWAY = 60  # seconds of clock difference allowed with the provider (exp, iat)
METADATA_MAX_AGE = 3600.0  # seconds the discovery document and keys are kept before being fetched again
SCOPES = "openid email profile"


class SignInFailed(Exception):
    """A sign-in that cannot go on. ``reason`` is one of REASONS (the page shows its own text for each); the
    message is for the log and never holds a token, a code or a secret."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


REASONS = (
    "provider_unreachable",  # discovery, keys or token endpoint did not answer as they should
    "denied",  # the provider answered the redirect with an error (the person declined, ...)
    "state",  # no sign-in in progress in this browser, or not this one: a forged or replayed redirect
    "expired",  # the sign-in took longer than PENDING_MAX_AGE
    "id_token",  # the ID token failed verification
    "email_unverified",  # the provider does not say the e-mail address is verified
)


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None


@dataclass(frozen=True)
class PendingSignIn:
    """What the console keeps (in its encrypted session cookie) between sending the person to the provider and
    their return: the values the return must match, and where to go afterwards."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    started_at: float
    next_path: str = "/"

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "nonce": self.nonce, "code_verifier": self.code_verifier,
                "redirect_uri": self.redirect_uri, "started_at": self.started_at, "next_path": self.next_path}

    @classmethod
    def from_dict(cls, data: object) -> PendingSignIn | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(str(data["state"]), str(data["nonce"]), str(data["code_verifier"]), str(data["redirect_uri"]),
                       float(data["started_at"]), str(data.get("next_path") or "/"))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who the provider vouches for: its subject, and the e-mail address it says is verified."""

    subject: str
    email: str
    name: str | None


def code_challenge(verifier: str) -> str:
    """PKCE's S256 challenge of a code verifier (RFC 7636, section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    """One configured provider. ``http`` is the client the console reaches the provider with (tests give theirs)."""

    def __init__(self, issuer: str, client_id: str, client_secret: str, http: httpx.Client,
                 now: Any = time.time) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._http = http
        self._now = now
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    # --- the provider's configuration --------------------------------------------------------------------------

    def metadata(self) -> ProviderMetadata:
        if self._metadata is None or self._now() - self._metadata_at > METADATA_MAX_AGE:
            document = self._get_json(f"{self.issuer}/.well-known/openid-configuration", "discovery")
            if document.get("issuer") != self.issuer:
                raise SignInFailed("provider_unreachable", f"the discovery document names issuer "
                                   f"{document.get('issuer')!r}, not the configured {self.issuer!r}")
            try:
                self._metadata = ProviderMetadata(
                    self.issuer, str(document["authorization_endpoint"]), str(document["token_endpoint"]),
                    str(document["jwks_uri"]), document.get("end_session_endpoint"))
            except KeyError as missing:
                raise SignInFailed("provider_unreachable", f"the discovery document lacks {missing}") from None
            self._metadata_at = self._now()
            self._keys = None
        return self._metadata

    def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            metadata = self.metadata()
            document = self._get_json(metadata.jwks_uri, "JWKS")
            try:
                self._keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
            except (JoseError, KeyError, TypeError, ValueError) as exc:
                raise SignInFailed("provider_unreachable", f"the provider's JWKS cannot be read ({exc})") from None
        return self._keys

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise SignInFailed("provider_unreachable", f"{what} at {url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise SignInFailed("provider_unreachable", f"{what} at {url} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise SignInFailed("provider_unreachable", f"{what} at {url} is not JSON") from None
        if not isinstance(body, dict):
            raise SignInFailed("provider_unreachable", f"{what} at {url} is not a JSON object")
        return body

    # --- the flow ----------------------------------------------------------------------------------------------

    def begin(self, redirect_uri: str, next_path: str = "/") -> tuple[str, PendingSignIn]:
        """The provider's authorization URL to send the person to, and what to keep until they return."""
        metadata = self.metadata()
        pending = PendingSignIn(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                                code_verifier=secrets.token_urlsafe(64), redirect_uri=redirect_uri,
                                started_at=self._now(), next_path=next_path)
        query = urlencode({
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": code_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        })
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return f"{metadata.authorization_endpoint}{separator}{query}", pending

    def finish(self, pending: PendingSignIn | None, params: dict[str, str]) -> VerifiedIdentity:
        """The person back from the provider with ``params`` (the redirect's query): check the state, redeem the
        code, verify the ID token, and return who it vouches for."""
        if pending is None or not params.get("state") or not secrets.compare_digest(params["state"], pending.state):
            raise SignInFailed("state", "the state does not match a sign-in started in this browser")
        if self._now() - pending.started_at > PENDING_MAX_AGE:
            raise SignInFailed("expired", f"the sign-in started more than {PENDING_MAX_AGE:.0f} s ago")
        if params.get("error"):
            raise SignInFailed("denied", f"the provider answered {params['error']!r}")
        code = params.get("code")
        if not code:
            raise SignInFailed("denied", "the provider sent neither a code nor an error")
        id_token = self._redeem(code, pending)
        claims = self._verify(id_token, pending.nonce)
        if claims.get("email_verified") is not True:
            raise SignInFailed("email_unverified", "the provider does not say the e-mail address is verified")
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise SignInFailed("email_unverified", "the provider gave no e-mail address")
        name = claims.get("name")
        return VerifiedIdentity(str(claims["sub"]), email.strip().lower(), name if isinstance(name, str) else None)

    def _redeem(self, code: str, pending: PendingSignIn) -> str:
        metadata = self.metadata()
        try:
            response = self._http.post(
                metadata.token_endpoint,
                data={"grant_type": "authorization_code", "code": code, "redirect_uri": pending.redirect_uri,
                      "code_verifier": pending.code_verifier},
                # client_secret_basic, every provider's default; RFC 6749 2.3.1 form-encodes both before Basic
                auth=(quote_plus(self.client_id), quote_plus(self._client_secret)),
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise SignInFailed("provider_unreachable", f"token endpoint: {type(exc).__name__}") from None
        if response.status_code != 200:
            error = _json_field(response, "error")
            raise SignInFailed("provider_unreachable", f"the token endpoint answered {response.status_code} {error}")
        id_token = _json_field(response, "id_token")
        if not id_token:
            raise SignInFailed("id_token", "the token endpoint gave no ID token")
        return id_token

    def _verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        keys = self._key_set()
        try:
            try:
                token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
            except InvalidKeyIdError:  # the provider rotated its keys since they were fetched
                token = jwt.decode(id_token, self._key_set(refresh=True), algorithms=ID_TOKEN_ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                now=lambda: int(self._now()), leeway=CLOCK_LEEWAY,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(token.claims)
        except ExpiredTokenError:
            raise SignInFailed("id_token", "the ID token has expired") from None
        except (JoseError, ValueError) as exc:
            raise SignInFailed("id_token", f"the ID token failed verification ({type(exc).__name__}: {exc})") from None
        claims = token.claims
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise SignInFailed("id_token", "the ID token has several audiences and another authorized party")
        return claims


def _json_field(response: httpx.Response, field: str) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    value = body.get(field) if isinstance(body, dict) else None
    return value if isinstance(value, str) else ""
