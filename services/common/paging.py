"""Opaque page tokens for keyset pagination: the sort key of the last item, base64-encoded JSON."""

from __future__ import annotations

import base64
import json

from services.common.errors import ValidationFailed


def encode_page_token(*key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_page_token(token: str, parts: int = 2) -> tuple[str, ...]:
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
        if isinstance(key, list) and len(key) == parts and all(isinstance(k, str) for k in key):
            return tuple(key)
    except (ValueError, TypeError):
        pass
    raise ValidationFailed.single("page_token", "valid_page_token", "not a page token this API returned")
