"""Secrets a service must be able to read back (a peer's API key, which the relay presents there), encrypted at
rest with keys from ``KRING_FEDERATION_KEYS`` (``cryptography``'s Fernet: AES-128-CBC with an HMAC-SHA256).

The setting is a comma-separated list of Fernet keys: the first encrypts, every one decrypts, so a key is
rotated by putting a new one first, re-encrypting (``kring federation-keys reencrypt``), then dropping the old
one. A stored value carries the prefix ``fernet:``; a value without it was written before encryption (the
migration or ``reencrypt`` seals it) and reads as it is. Secrets that are only ever compared (the operator's
token, member tokens, partner keys) are hashed instead, never stored here.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from services.common.errors import Unavailable

PREFIX = "fernet:"
SETTING = "KRING_FEDERATION_KEYS"
# No key to encrypt with, or a stored value no configured key opens, is the operator's configuration: 503
# (Unavailable, a type the gateway rebuilds from an RPC), saying which setting and what to do.


def parse_keys(value: str | None) -> list[str]:
    """The keys of the setting, in order; ValueError naming the bad one (never showing it)."""
    keys = [part.strip() for part in (value or "").split(",") if part.strip()]
    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError(f"{SETTING}: key {index} of {len(keys)} is not a Fernet key (32 url-safe "
                             "base64-encoded bytes; `kring federation-keys new` makes one)") from None
    return keys


class KeysAtRest:
    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = list(keys)
        self._fernet = MultiFernet([Fernet(k) for k in self._keys]) if self._keys else None

    @classmethod
    def from_setting(cls, value: str | None) -> KeysAtRest:
        return cls(parse_keys(value))

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def __repr__(self) -> str:  # never the keys
        return f"KeysAtRest({len(self._keys)} key(s))"

    @property
    def configured(self) -> bool:
        return self._fernet is not None

    @staticmethod
    def is_sealed(stored: str) -> bool:
        return stored.startswith(PREFIX)

    def seal(self, secret: str) -> str:
        """The secret encrypted under the first key, as stored."""
        return PREFIX + self._need().encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, stored: str) -> str:
        """The secret a stored value holds (a value written before encryption reads as it is)."""
        if not self.is_sealed(stored):
            return stored
        try:
            return self._need().decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise Unavailable(f"a stored secret opens with none of the keys in {SETTING}: the key it was "
                                "encrypted with was removed before re-encrypting (put it back, run "
                                "`kring federation-keys reencrypt`, then drop it)") from None

    def reseal(self, stored: str) -> str | None:
        """The value re-encrypted under the first key; None when it already is (nothing to write)."""
        if self.is_sealed(stored) and self._encrypted_with_first(stored):
            return None
        return self.seal(self.open(stored))

    def _encrypted_with_first(self, stored: str) -> bool:
        try:
            Fernet(self._keys[0]).decrypt(stored[len(PREFIX):].encode("ascii"))
        except InvalidToken:
            return False
        return True

    def _need(self) -> MultiFernet:
        if self._fernet is None:
            raise Unavailable(f"peer API keys are stored encrypted and {SETTING} is not set: set it to a key "
                                "made by `kring federation-keys new` (README, Operations: keys at rest)")
        return self._fernet


_CONFIGURED: dict[str, KeysAtRest] = {}


def configured_keys(setting: SecretStr | None) -> KeysAtRest:
    """The keys of ``KRING_FEDERATION_KEYS`` as the settings hold it (read once per distinct value); the caller
    passes the setting, so this module needs nothing of the settings' module (which uses :func:`parse_keys`)."""
    value = setting.get_secret_value() if setting is not None else ""
    if value not in _CONFIGURED:
        _CONFIGURED.clear()
        _CONFIGURED[value] = KeysAtRest.from_setting(value)
    return _CONFIGURED[value]
