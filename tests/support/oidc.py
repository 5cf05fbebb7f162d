"""A real OpenID Connect provider on a free local port: ``oidc-provider-mock`` (a Flask app built on Authlib),
served by werkzeug in a thread of the test process.

It signs ID tokens with its own RSA key (published at its JWKS endpoint), honours state, nonce and PKCE, and
lets a test decide who signs in: :meth:`Provider.set_user` stores a subject's claims, and the person then types
that subject on the provider's authorization form. Any client id and secret are accepted (no registration).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import werkzeug.serving

# Clients are not registered with the provider: any id and secret pass, so these only have to be consistent.
CLIENT_ID = "kring-console-test"
CLIENT_SECRET = "kring-console-test-secret"


@dataclass(frozen=True)
class Provider:
    issuer: str  # http://127.0.0.1:PORT: the issuer is the URL the provider is reached at

    def set_user(self, sub: str, email: str, *, email_verified: bool = True, **claims: object) -> None:
        """The claims the provider gives ``sub`` from now on (in its ID token and at its userinfo endpoint)."""
        body = {"email": email, "email_verified": email_verified, **claims}
        response = httpx.put(f"{self.issuer}/users/{sub}", json=body, timeout=10)
        assert response.status_code == 204, f"the provider refused the user {sub}: {response.text[:300]}"


class _QuietHandler(werkzeug.serving.WSGIRequestHandler):
    """No line per request on the test run's output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def running_provider(port: int = 0) -> Iterator[Provider]:
    """The provider on 127.0.0.1 (never ``localhost``: the issuer must be one exact URL), stopped afterwards."""
    import authlib.deprecate  # first: importing it puts an "always" filter for its warnings in front

    with warnings.catch_warnings():  # the provider's imports warn about Authlib's own deprecations: not ours to fix
        warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
        import oidc_provider_mock

    # PKCE and nonce are the client's to send; requiring the nonce makes a client that forgets it fail.
    app = oidc_provider_mock.app(require_nonce=True, issue_refresh_token=False)
    server = werkzeug.serving.make_server("127.0.0.1", port, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="oidc-provider",
                              daemon=True)
    thread.start()
    try:
        yield Provider(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
