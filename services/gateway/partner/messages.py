"""The services' JSON answers as ``kring.v1`` messages (enums through :mod:`services.api.enums`).

Only public fields are copied: a message type has no field for a meeting link, an email address or a member id,
so none can leak by accident.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from google.protobuf import timestamp_pb2

from services.api.enums import enum_number
from services.api.kring.v1 import federation_pb2 as pb

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: str | datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # What Timestamp.FromDatetime computes, in integers and without its calendar round trip (a feed page
    # converts two times per item).
    since = moment - EPOCH
    return timestamp_pb2.Timestamp(seconds=since.days * 86_400 + since.seconds, nanos=since.microseconds * 1000)


def network(data: dict[str, Any]) -> pb.Network:
    return pb.Network(
        id=data["id"], name=data["name"], level=enum_number(pb.NetworkLevel, data["level"]),
        kind=enum_number(pb.NetworkKind, data["kind"]), theme=data["theme"], region=data.get("region"),
        host_organisation=data.get("host_organisation"), parent_id=data.get("parent_id"),
        status=enum_number(pb.NetworkStatus, data["status"]),
    )


def session(data: dict[str, Any]) -> pb.Session:
    return pb.Session(
        id=data["id"], network_id=data["network_id"], title=data["title"],
        format=enum_number(pb.SessionFormat, data["format"]), mode=enum_number(pb.SessionMode, data["mode"]),
        location=data.get("location"), starts_at=timestamp(data["starts_at"]), ends_at=timestamp(data["ends_at"]),
        status=enum_number(pb.SessionStatus, data["status"]), capacity=data.get("capacity"),
    )


def output(copy: dict[str, Any]) -> pb.Output:
    return pb.Output(
        output_id=copy["output_id"], origin_network_id=copy["origin_network_id"],
        session_id=copy.get("session_id") or "", kind=enum_number(pb.OutputKind, copy["kind"]),
        title=copy["title"], body=copy.get("body") or "", url=copy.get("url") or "",
        resource_type=enum_number(pb.ResourceType, copy.get("resource_type")), themes=copy.get("themes") or [],
        visibility=enum_number(pb.Visibility, copy["visibility"]), licence=copy.get("licence") or "",
        authors=[pb.Author(shown_as=a["shown_as"], named=bool(a["named"])) for a in copy.get("authors") or []],
        published_at=timestamp(copy.get("published_at")),
    )


def tombstone(data: dict[str, Any]) -> pb.Tombstone:
    return pb.Tombstone(output_id=data["output_id"], origin_network_id=data.get("origin_network_id") or "",
                        retracted_at=timestamp(data.get("retracted_at")))


def is_tombstone(shown: dict[str, Any]) -> bool:
    return bool(shown.get("retracted"))


def published_output(item: dict[str, Any]) -> pb.PublishedOutput:
    """An item of the federation's ``published_outputs`` page."""
    shown = item["output"]
    content = {"tombstone": tombstone(shown)} if is_tombstone(shown) else {"output": output(shown)}
    return pb.PublishedOutput(recipients=item["recipients"], **content)


def feed_item(*, cursor: int, network_id: str, kind: str, backfill: bool, at: str | datetime | None,
              shown: dict[str, Any]) -> pb.FeedItem:
    content = {"tombstone": tombstone(shown)} if is_tombstone(shown) else {"output": output(shown)}
    return pb.FeedItem(cursor=str(cursor), network_id=network_id, kind=enum_number(pb.FeedItemKind, kind),
                       backfill=backfill, at=timestamp(at), **content)


def feed_page_item(item: dict[str, Any]) -> pb.FeedItem:
    """An item of the federation's ``feed`` page: the output in its current state."""
    kind = "retracted" if is_tombstone(item["output"]) else "shared"
    return feed_item(cursor=item["position"], network_id=item["network_id"], kind=kind,
                     backfill=item["backfill"], at=item["delivered_at"], shown=item["output"])


def log_entry(entry: dict[str, Any]) -> pb.FeedItem:
    """An entry of the federation's ``log_after``: what happened at that position."""
    return feed_item(cursor=entry["cursor"], network_id=entry["network_id"], kind=entry["kind"],
                     backfill=entry["backfill"], at=entry["at"], shown=entry["output"])


def encoded_log_entries(entries: Iterable[dict[str, Any]]) -> list[bytes]:
    """Each entry of ``log_after`` as the bytes of :func:`log_entry`'s message, the output's part encoded once for
    the entries that show the same output dict (a page with ``outputs_once``: one output, hundreds of networks).

    A message's encoding is the concatenation of its fields', in any order, so an item is its own fields (cursor,
    network, kind, time) followed by the output's (or tombstone's) field, encoded once. Streams then send these
    bytes as they are: an item is encoded once per gateway, not once per stream.
    """
    contents: dict[int, bytes] = {}  # id() of a shown dict -> its field; the dicts outlive this call's loop
    times: dict[Any, timestamp_pb2.Timestamp | None] = {}  # the entries of one share have one time
    encoded = []
    for entry in entries:
        shown = entry["output"]
        content = contents.get(id(shown))
        if content is None:
            part = pb.FeedItem(tombstone=tombstone(shown)) if is_tombstone(shown) else pb.FeedItem(output=output(shown))
            content = contents[id(shown)] = part.SerializeToString()
        at = entry["at"]
        if at not in times:
            times[at] = timestamp(at)
        head = pb.FeedItem(cursor=str(entry["cursor"]), network_id=entry["network_id"],
                           kind=enum_number(pb.FeedItemKind, entry["kind"]), backfill=entry["backfill"], at=times[at])
        encoded.append(head.SerializeToString() + content)
    return encoded


def sharing_policy(data: dict[str, Any]) -> pb.SharingPolicy:
    return pb.SharingPolicy(visibilities=[enum_number(pb.Visibility, v) for v in data["visibilities"]],
                            themes=data.get("themes") or [])


def link(data: dict[str, Any]) -> pb.Link:
    return pb.Link(
        link_id=data["link_id"], kind=enum_number(pb.LinkKind, data["kind"]),
        requester_network_id=data["requester_network_id"], target_network_id=data["target_network_id"],
        status=enum_number(pb.LinkStatus, data["status"]),
        requester_policy=sharing_policy(data["requester_policy"]), target_policy=sharing_policy(data["target_policy"]),
        requested_at=timestamp(data["requested_at"]), updated_at=timestamp(data["updated_at"]),
    )


def expert(data: dict[str, Any]) -> pb.Expert:
    return pb.Expert(name=data["name"], organisation=data.get("organisation"), expertise=data["expertise"],
                     perspectives=[enum_number(pb.Perspective, p) for p in data["perspectives"]])
