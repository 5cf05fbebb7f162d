"""The copy of an output that leaves its network: what recipients see, and how erasure reaches it.

The copy never carries member ids; authors appear as the sessions service attributed them (a name only
with consent, otherwise a role). The ids stay beside the copy, internal, so that an erasure can find it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from services.common.catalogue import Attribution, OutputPublished
from services.common.vocabulary import FORMER_MEMBER, author_role

PUBLIC_FEED = "public"  # the feed of outputs shared with everyone


class PublicAuthor(TypedDict):
    shown_as: str
    named: bool


class Copy(TypedDict):
    """What recipients see of an output (``kring.v1.Output``): JSON, stored and sent as it is."""

    output_id: str
    origin_network_id: str
    session_id: str | None
    kind: str  # OutputKind
    title: str
    body: str
    url: str | None
    resource_type: str | None  # ResourceType
    themes: list[str]
    visibility: str  # Visibility
    licence: str
    authors: list[PublicAuthor]
    published_at: str  # ISO 8601


class Tombstone(TypedDict):
    """What replaces a retracted output's copy in the feeds and the log."""

    output_id: str
    origin_network_id: str
    retracted: bool  # always True
    retracted_at: str | None  # ISO 8601


def copy_of(event: OutputPublished) -> Copy:
    return {
        "output_id": event.output_id,
        "origin_network_id": event.network_id,
        "session_id": event.session_id,
        "kind": event.kind.value,
        "title": event.title,
        "body": event.body,
        "url": event.url,
        "resource_type": event.resource_type.value if event.resource_type else None,
        "themes": list(event.themes),
        "visibility": event.visibility.value,
        "licence": event.licence,
        "authors": [public_author(a) for a in event.authors],
        "published_at": event.published_at.isoformat(),
    }


def public_author(author: Attribution) -> PublicAuthor:
    return {"shown_as": author.shown_as, "named": author.named}


def with_author_roles(shown: dict[str, Any]) -> dict[str, Any]:
    """A copy as a reader gets it: each author with ``role``, the code of the role an unnamed author is shown as
    (None for a name), so that a client says it in its own language. Added when read, never stored: the stored
    copy, the events and the partner API keep the shape they have."""
    authors = shown.get("authors")
    if not isinstance(authors, list):  # a tombstone
        return shown
    return {**shown, "authors": [{**a, "role": author_role(a["shown_as"], bool(a["named"]))} for a in authors]}


def with_authors(copy: Copy, authors: list[Attribution]) -> Copy:
    return {**copy, "authors": [public_author(a) for a in authors]}


def without_author(copy: Copy, author_ids: list[str], erased: str) -> tuple[Copy, list[str]]:
    """The copy and author ids after ``erased`` is erased: their place shows "a former member"."""
    authors: list[PublicAuthor] = [
        {"shown_as": FORMER_MEMBER, "named": False} if member_id == erased else author
        for member_id, author in zip(author_ids, copy["authors"], strict=False)
    ]
    return {**copy, "authors": authors}, ["" if member_id == erased else member_id for member_id in author_ids]


def tombstone(output_id: str, origin_network_id: str, retracted_at: datetime | None) -> Tombstone:
    return {"output_id": output_id, "origin_network_id": origin_network_id, "retracted": True,
            "retracted_at": retracted_at.isoformat() if retracted_at else None}
