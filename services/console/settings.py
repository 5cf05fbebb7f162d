"""The console's settings (``KRING_CONSOLE_*``, and the sign-in broker token it shares with the gateway)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KRING_", extra="ignore")

    console_port: int = Field(8090, description="port of the console (the web application)")
    console_bind_host: str = Field("127.0.0.1", description="interface the console listens on")
    console_api_url: str = Field("http://127.0.0.1:8080", description="the admin API the console is a client of")
    console_public_url: str = Field(
        "http://127.0.0.1:8090", description="the console's address as browsers reach it (the OpenID provider "
        "redirects back to it; an https address makes the session cookie Secure)",
    )
    console_session_key: SecretStr | None = Field(
        None, description="Fernet key the session cookie is encrypted with (`kring federation-keys new` makes one); "
        "several, comma-separated, to rotate: the first encrypts. Unset: a new key at every start (sessions end "
        "with the process)",
    )
    console_session_hours: float = Field(
        8.0, gt=0, le=12, description="how long a sign-in lasts; the member's API token expires with it",
    )
    console_dev_sign_in: bool = Field(
        False, description="development sign-in: anyone may sign in as any member by e-mail, without a provider. "
        "For `make run` only; never in production",
    )
    console_oidc_issuer: str | None = Field(None, description="OpenID Connect issuer URL (Entra ID, Keycloak, ...)")
    console_oidc_client_id: str | None = Field(None, description="OpenID Connect client id of the console")
    console_oidc_client_secret: SecretStr | None = Field(None, description="OpenID Connect client secret")
    sign_in_broker_token: SecretStr | None = Field(
        None, description="the credential the console exchanges a verified sign-in with for a member's short-lived "
        "token (POST /v1/sign-in/tokens); the gateway has the same value",
    )
    console_api_timeout: float = Field(15.0, gt=0, description="seconds before a call to the admin API gives up")

    @model_validator(mode="after")
    def _oidc_complete(self) -> ConsoleSettings:
        oidc = (self.console_oidc_issuer, self.console_oidc_client_id, self.console_oidc_client_secret)
        if any(value is not None for value in oidc) and any(value is None for value in oidc):
            raise ValueError("KRING_CONSOLE_OIDC_ISSUER, KRING_CONSOLE_OIDC_CLIENT_ID and "
                             "KRING_CONSOLE_OIDC_CLIENT_SECRET are set together or not at all")
        return self

    @property
    def oidc_enabled(self) -> bool:
        return self.console_oidc_issuer is not None

    @property
    def secure_cookies(self) -> bool:
        return self.console_public_url.startswith("https://")


@lru_cache(maxsize=1)
def get_console_settings() -> ConsoleSettings:
    return ConsoleSettings()
