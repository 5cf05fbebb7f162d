"""Entries the relay brings from a peer instance's feed: applied here with this instance's own links and
audience rules, deduplicated by output id, and stored with the peer's cursor in the same transaction.

- ``shared``: the peer delivered the output (whose origin is one of the peer's networks) into the feed of one
  of our networks there; it reaches that network here if we hold an active link into it from the peer's side
  that admits it, and travels on through this instance's own networks as its visibility allows
  (:func:`services.federation.domain.crossing.arrival_audience`). The same output in another of our feeds
  there reaches that network (and on) too; nothing is delivered twice.
- ``retracted``: every copy here becomes a tombstone; one that comes first keeps the output out for good.
- ``updated``: the copy's authors are rewritten (an erasure or a consent change on the peer).

Each entry passes the origin check (:mod:`services.federation.domain.crossing`) first; a refused entry is
recorded in the peer's state and counted, and the cursor moves past it (refusing it again would change nothing).
Entries at or before the stored cursor are passed over: a batch the relay sends twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import ValidationError

from services.common import metrics
from services.common.errors import NotFound, PermissionDenied
from services.common.vocabulary import Visibility
from services.federation.domain.audience import Hop, Shareable
from services.federation.domain.copies import PUBLIC_FEED, Copy, PublicAuthor
from services.federation.domain.crossing import Verdict, arrival_audience, judge
from services.federation.domain.outputs import SharedOutput
from services.federation.handlers.sharing import retract
from services.federation.partners.ports import PartnerRow
from services.federation.peers.schemas import IngestEntries, IngestResult, PeerCopy, PeerEntry, SkippedEntry
from services.federation.ports import FederationUoW

log = logging.getLogger(__name__)


def now() -> datetime:
    return datetime.now(UTC)


def ingest_from_peer(instance_id: str, cmd: IngestEntries, uow: FederationUoW) -> IngestResult:
    with uow:
        peer = uow.peers.get(instance_id)
        if peer is None:
            raise NotFound(f"peer {instance_id} is not configured here")
        peer_networks = frozenset(_partner_of(uow, instance_id)["network_ids"])
        cursor, applied, duplicates, refused = peer["cursor"], 0, 0, []
        held: list[_Graph] = []

        def graph() -> _Graph:
            if not held:
                held.append(_Graph.read(uow))
            return held[0]

        for raw in sorted(cmd.entries, key=_position):
            if _position(raw) <= cursor:
                duplicates += 1  # applied with an earlier batch
                continue
            try:
                entry = PeerEntry.model_validate(raw)
            except ValidationError as exc:
                refused.append(_invalid(raw, exc))
                cursor = _position(raw)
                continue
            reason = _apply(uow, instance_id, entry, peer_networks, graph)
            if reason is None:
                applied += 1
            elif reason == Verdict.DUPLICATE:
                duplicates += 1
            else:
                refused.append(_skipped(entry, reason))
            cursor = entry.cursor
        uow.peers.advance(instance_id, cursor, now(), [s.model_dump(mode="json") for s in refused])
        uow.commit()
    for skipped in refused:
        log.warning("refused an entry from peer %s: output %s (origin %s, in our network %s at cursor %s): %s",
                    instance_id, skipped.output_id, skipped.origin_network_id, skipped.network_id, skipped.cursor,
                    skipped.reason)
    return IngestResult(cursor=cursor, applied=applied, duplicates=duplicates, refused=refused)


def _partner_of(uow: FederationUoW, instance_id: str) -> PartnerRow:
    """The peer's partner here: its networks are the origins the peer may speak for."""
    partner = uow.partners.of_instance(instance_id)
    if partner is None:
        raise PermissionDenied(f"no partner of kind instance is registered here for {instance_id}: register it "
                               "(POST /v1/partners with kind instance and its networks) before following it")
    if partner["status"] == "blocked" or uow.blocks.is_blocked("partner", partner["id"]):
        raise PermissionDenied(f"instance {instance_id} is blocked here: nothing from it is applied")
    return partner


def _apply(uow: FederationUoW, instance_id: str, entry: PeerEntry, peer_networks: frozenset[str],
           graph: Callable[[], _Graph]) -> str | None:
    """None when applied; Verdict.DUPLICATE when it changed nothing; otherwise why it was refused."""
    shown = entry.output if entry.kind != "retracted" else entry.tombstone
    if shown is None:
        return f"a {entry.kind} entry without its {'tombstone' if entry.kind == 'retracted' else 'output'}"
    known = uow.outputs.get(shown.output_id, for_update=True)
    judgement = judge(instance_id, shown.origin_network_id, peer_networks=peer_networks,
                      known_origin=known.origin_network_id if known is not None else None)
    if judgement.verdict == Verdict.REFUSE:
        return judgement.reason
    if judgement.verdict == Verdict.DUPLICATE:  # held here under an origin the peer does not host
        assert known is not None
        return Verdict.DUPLICATE if _changes_nothing(entry, known) else \
            f"{instance_id} may not change output {shown.output_id} of network {shown.origin_network_id}"
    source = f"peer:{instance_id}"
    if entry.kind == "retracted":
        retracted_at = (entry.tombstone.retracted_at if entry.tombstone else None) or now()
        changed = retract(uow, SharedOutput.retracted(shown.output_id, shown.origin_network_id, retracted_at, source))
        return None if changed else Verdict.DUPLICATE
    assert isinstance(shown, PeerCopy)
    if shown.visibility == Visibility.NETWORK:
        return "a network-only output never leaves its network"
    if entry.kind == "updated" and known is not None and known.is_shared:
        if not known.show_authors(_authors(shown)):
            return Verdict.DUPLICATE
        uow.outputs.save(known)
        uow.feeds.announce_change(shown.output_id, now())
        return None
    # shared (or an update of an output not seen yet: it carries the whole copy)
    if known is None:  # new here, unless another handler added it meanwhile
        known = uow.outputs.lock_or_add(SharedOutput.published(
            shown.output_id, shown.origin_network_id, _copy(shown), [], shown.visibility,
            shown.published_at or now(), source))
    if known is not None and not known.is_shared:
        return Verdict.DUPLICATE  # retracted before it arrived (or since): the tombstone wins
    delivered = _deliver(uow, shown, entry.network_id, peer_networks, graph())
    return None if known is None or delivered else Verdict.DUPLICATE


@dataclass
class _Graph:
    """What an arrival's audience depends on, read once per batch (a batch changes no link or block)."""

    hops: list[Hop]
    blocked: set[str]
    closed: set[str]
    remote: set[str]

    @classmethod
    def read(cls, uow: FederationUoW) -> _Graph:
        return cls(uow.links.active_hops(), uow.blocks.networks(), uow.read_models.closed_networks(),
                   uow.remote_networks.ids())


def _deliver(uow: FederationUoW, output: PeerCopy, entry_network: str, peer_networks: frozenset[str],
             graph: _Graph) -> int:
    """Deliver an arrival to its audience here (each network once, whichever of our feeds there it came by)."""
    shareable = Shareable(output.origin_network_id, output.visibility, tuple(output.themes))
    reached = arrival_audience(shareable, entry_network, peer_networks=peer_networks, hops=graph.hops,
                               blocked=graph.blocked, closed=graph.closed, remote=graph.remote)
    at = now()
    recipients = sorted(reached) + ([PUBLIC_FEED] if reached and output.visibility == Visibility.PUBLIC else [])
    delivered = len(uow.feeds.deliver_many(recipients, output.output_id, at))
    if delivered and output.published_at is not None:
        metrics.FEDERATION_DELIVERY_LAG.observe(max(0.0, (at - output.published_at).total_seconds()))
    return delivered


def _changes_nothing(entry: PeerEntry, known: SharedOutput) -> bool:
    """Whether an entry about an output held here would change nothing: our own output coming back through the
    peer's graph does not; a retraction or another attribution of it would."""
    if entry.kind == "retracted":
        return known.is_retracted
    if entry.kind == "updated" and known.copy is not None and entry.output is not None:
        return known.copy.get("authors") == _authors(entry.output)
    return True


def _copy(output: PeerCopy) -> Copy:
    """The same shape as a copy made here (:func:`services.federation.domain.copies.copy_of`)."""
    data = cast(Copy, output.model_dump(mode="json"))  # a PeerCopy's fields are a copy's, dumped as JSON
    data["published_at"] = (output.published_at or now()).isoformat()
    return data


def _authors(output: PeerCopy) -> list[PublicAuthor]:
    """The authors as the peer shows them (its copy's ``authors``)."""
    return [PublicAuthor(shown_as=author.shown_as, named=author.named) for author in output.authors]


def _position(raw: dict[str, Any]) -> int:
    cursor = raw.get("cursor")
    return cursor if isinstance(cursor, int) and not isinstance(cursor, bool) and cursor > 0 else 0


def _invalid(raw: dict[str, Any], exc: ValidationError) -> SkippedEntry:
    shown = raw.get("output") or raw.get("tombstone") or {}
    shown = shown if isinstance(shown, dict) else {}
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return SkippedEntry(cursor=_position(raw), output_id=_storable(shown.get("output_id", ""), 100),
                        origin_network_id=_storable(shown.get("origin_network_id", ""), 100),
                        network_id=_storable(raw.get("network_id", ""), 100),
                        reason=_storable(f"invalid entry: {where}: {first['msg']}", 500), at=now())


def _storable(value: Any, length: int) -> str:
    """What a refused entry said, as text the database can keep: the very NUL it was refused for cannot be."""
    return str(value).replace("\x00", "\N{REPLACEMENT CHARACTER}")[:length]


def _skipped(entry: PeerEntry, reason: str) -> SkippedEntry:
    shown = entry.output or entry.tombstone
    return SkippedEntry(cursor=entry.cursor, output_id=shown.output_id if shown else "",
                        origin_network_id=shown.origin_network_id if shown else "", network_id=entry.network_id,
                        reason=reason, at=now())
