"""Keyset page tokens for time-ordered lists: the (time, id) of the last item, on the kit's token format."""

from __future__ import annotations

from datetime import datetime

from services.common import paging
from services.common.errors import ValidationFailed


def encode_page_token(moment: datetime, item_id: str) -> str:
    return paging.encode_page_token(moment.isoformat(), item_id)


def decode_page_token(token: str) -> tuple[datetime, str]:
    moment, item_id = paging.decode_page_token(token)
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed.single("page_token", "valid_page_token", "not a page token this API returned")
    return parsed, item_id
