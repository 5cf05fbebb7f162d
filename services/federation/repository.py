"""Queries of the federation service, on the unit of work's connection."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    RootTransaction,
    Row,
    RowMapping,
    String,
    Text,
    and_,
    bindparam,
    cast,
    column,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.dml import ReturningInsert

from services.common.catalogue import Attribution
from services.common.db import UTCDateTime, insert_if_absent, insert_or_lock
from services.common.uow import TrackingRepository
from services.common.vocabulary import LinkStatus, Visibility
from services.federation.domain.audience import Hop, Policy
from services.federation.domain.links import OPEN, Link, LinkKind
from services.federation.domain.outputs import SharedOutput
from services.federation.models import blocks, deliveries, feed_log, links, outputs


def policy_row(policy: Policy) -> dict[str, Any]:
    return {"visibilities": sorted(v.value for v in policy.visibilities),
            "themes": sorted(policy.themes) if policy.themes is not None else None}


def policy_of(row: Mapping[str, Any]) -> Policy:
    themes = row.get("themes")
    return Policy(frozenset(Visibility(v) for v in row["visibilities"]),
                  frozenset(themes) if themes is not None else None)


class LinkRepository(TrackingRepository):
    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection

    def get(self, link_id: str) -> Link | None:
        row = self.connection.execute(select(links).where(links.c.id == link_id)).mappings().first()
        return self._track(_link(row)) if row else None

    def open_between(self, a: str, b: str) -> Link | None:
        pair = or_(and_(links.c.requester == a, links.c.target == b), and_(links.c.requester == b, links.c.target == a))
        row = self.connection.execute(
            select(links).where(pair, links.c.status.in_([s.value for s in OPEN]))
        ).mappings().first()
        return self._track(_link(row)) if row else None

    def parent_link_of(self, child: str) -> Link | None:
        row = self.connection.execute(
            select(links).where(links.c.kind == LinkKind.PARENT_CHILD.value, links.c.target == child,
                                links.c.status.in_([s.value for s in OPEN]))
        ).mappings().first()
        return self._track(_link(row)) if row else None

    def of_network(self, network_id: str, statuses: list[LinkStatus] | None = None) -> list[Link]:
        query = select(links).where(or_(links.c.requester == network_id, links.c.target == network_id))
        if statuses:
            query = query.where(links.c.status.in_([s.value for s in statuses]))
        return [self._track(_link(row)) for row in self.connection.execute(query.order_by(links.c.requested_at))
                .mappings()]

    def active_hops(self) -> list[Hop]:
        """Both directions of every active link (as ``Link.hops``). Read on every share, so only the columns
        hops need, and each distinct policy parsed once (most links keep the default one)."""
        rows = self.connection.execute(
            select(links.c.requester, links.c.target, cast(links.c.requester_policy, Text),
                   cast(links.c.target_policy, Text)).where(links.c.status == LinkStatus.ACTIVE.value))
        parsed: dict[str, Policy] = {}

        def policy(raw: str) -> Policy:
            if raw not in parsed:
                parsed[raw] = policy_of(json.loads(raw))
            return parsed[raw]

        return [hop for requester, target, requester_policy, target_policy in rows
                for hop in (Hop(requester, target, policy(requester_policy)),
                            Hop(target, requester, policy(target_policy)))]

    def add(self, link: Link) -> None:
        self.connection.execute(insert(links).values(**_row(link)))
        self._track(link)

    def save(self, link: Link) -> None:
        self.connection.execute(update(links).where(links.c.id == link.id).values(**_row(link)))


def _link(row: RowMapping) -> Link:
    return Link(id=row["id"], kind=LinkKind(row["kind"]), requester=row["requester"], target=row["target"],
                status=LinkStatus(row["status"]), requester_policy=policy_of(row["requester_policy"]),
                target_policy=policy_of(row["target_policy"]), requested_at=row["requested_at"],
                updated_at=row["updated_at"], revision=row["revision"])


def _row(link: Link) -> dict[str, Any]:
    return {"id": link.id, "kind": link.kind.value, "requester": link.requester, "target": link.target,
            "status": link.status.value, "requester_policy": policy_row(link.requester_policy),
            "target_policy": policy_row(link.target_policy), "requested_at": link.requested_at,
            "updated_at": link.updated_at, "revision": link.revision}


class Blocks:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, kind: str, subject_id: str, reason: str | None, now: datetime) -> bool:
        """Whether this blocked it (False: blocked already)."""
        return insert_if_absent(self.connection, blocks, {"subject_kind": kind, "subject_id": subject_id,
                                                          "reason": reason, "blocked_at": now})

    def is_blocked(self, kind: str, subject_id: str) -> bool:
        return self.connection.execute(
            select(blocks.c.subject_id).where(blocks.c.subject_kind == kind, blocks.c.subject_id == subject_id)
        ).first() is not None

    def networks(self) -> set[str]:
        return set(self.connection.execute(select(blocks.c.subject_id).where(blocks.c.subject_kind == "network"))
                   .scalars())


class Outputs:
    """Shared outputs (:class:`~services.federation.domain.outputs.SharedOutput`), loaded and saved whole."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, output_id: str, *, for_update: bool = False) -> SharedOutput | None:
        """``for_update``: lock the row until the transaction ends, so that a concurrent handler changing the
        same output waits and then reads what this one wrote, instead of overwriting it."""
        query = select(outputs).where(outputs.c.output_id == output_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return None if row is None else _output(row)

    def lock_or_add(self, new: SharedOutput) -> SharedOutput | None:
        """The output held under ``new``'s id, locked until the transaction ends; or None when there was none and
        ``new`` was added. A publication, its retraction and an attribution change handled at the same moment
        meet here: the first adds its row, the others wait for it and then find it."""
        row = insert_or_lock(self.connection, outputs, _output_row(new))
        return None if row is None else _output(row)

    def save(self, output: SharedOutput) -> None:
        values = _output_row(output)
        del values["output_id"]
        self.connection.execute(update(outputs).where(outputs.c.output_id == output.output_id).values(**values))

    def authored_by(self, member_id: str) -> list[SharedOutput]:
        """The shared outputs ``member_id`` authored, locked (in id order) until the transaction ends."""
        # Few outputs carry author ids at all; filter in Python to stay portable across JSON dialects.
        rows = self.connection.execute(select(outputs.c.output_id, outputs.c.author_ids)
                                       .where(outputs.c.copy.is_not(None))).mappings()
        candidates = [row["output_id"] for row in rows if member_id in (row["author_ids"] or [])]
        if not candidates:
            return []
        locked = self.connection.execute(select(outputs).where(outputs.c.output_id.in_(candidates))
                                         .order_by(outputs.c.output_id).with_for_update())
        return [output for output in map(_output, locked) if output.is_shared and member_id in output.author_ids]

    def published_by(self, source: str, origin: str | None, after: tuple[datetime, str] | None,
                     limit: int) -> list[SharedOutput]:
        query = select(outputs).where(outputs.c.source == source, outputs.c.published_at.is_not(None))
        if origin is not None:
            query = query.where(outputs.c.origin_network_id == origin)
        if after is not None:
            at, output_id = after
            query = query.where(or_(outputs.c.published_at > at,
                                    and_(outputs.c.published_at == at, outputs.c.output_id > output_id)))
        rows = self.connection.execute(query.order_by(outputs.c.published_at, outputs.c.output_id).limit(limit))
        return [_output(row) for row in rows]

    def latest_from(self, origin: str, visibilities: list[str]) -> Iterator[SharedOutput]:
        """Shared, not retracted outputs of ``origin`` with one of ``visibilities``, newest first; read lazily,
        so the caller stops when it has enough."""
        return map(_output, self.connection.execute(
            select(outputs).where(outputs.c.origin_network_id == origin, outputs.c.copy.is_not(None),
                                  outputs.c.retracted_at.is_(None), outputs.c.visibility.in_(visibilities))
            .order_by(outputs.c.published_at.desc(), outputs.c.output_id.desc())
        ))


def _output(row: Row[*tuple[Any, ...]]) -> SharedOutput:
    return SharedOutput(
        output_id=row.output_id, origin_network_id=row.origin_network_id, source=row.source, copy=row.copy,
        author_ids=list(row.author_ids or []), visibility=Visibility(row.visibility) if row.visibility else None,
        published_at=row.published_at, retracted_at=row.retracted_at, attributed_at=row.attributed_at,
        pending_authors=None if row.pending_authors is None
        else [Attribution.model_validate(a) for a in row.pending_authors],
    )


def _output_row(output: SharedOutput) -> dict[str, Any]:
    return {
        "output_id": output.output_id, "origin_network_id": output.origin_network_id, "source": output.source,
        "copy": output.copy, "author_ids": output.author_ids,
        "visibility": output.visibility.value if output.visibility else None, "published_at": output.published_at,
        "retracted_at": output.retracted_at, "attributed_at": output.attributed_at,
        "pending_authors": None if output.pending_authors is None
        else [a.model_dump() for a in output.pending_authors],
    }


# Any number that no other advisory lock in Kring uses.
FEED_LOG_LOCK = 0x4B52494E47  # "KRING"


def _deliver_to_all() -> ReturningInsert[Any]:
    """On PostgreSQL, delivering an output to many networks is one statement the server expands, so each
    network costs a row written, not parameters sent and parsed (and the log lock is held that much shorter):
    the networks come as an array; those not holding the output yet get a log entry, in the order given (the
    positions are drawn in that order), and a delivery record with that entry's position. Returns the networks
    delivered to."""
    given = (func.unnest(bindparam("network_ids", type_=ARRAY(String)))
             .table_valued(column("network_id", String), with_ordinality="ordinal").render_derived())
    output_id, at = bindparam("output_id", type_=String), bindparam("at", type_=UTCDateTime())
    backfill = bindparam("backfill", type_=Boolean)
    held = select(deliveries.c.network_id).where(deliveries.c.output_id == output_id,
                                                 deliveries.c.network_id == given.c.network_id).exists()
    logged = (insert(feed_log)
              .from_select(["network_id", "output_id", "kind", "backfill", "at"],
                           select(given.c.network_id, output_id, literal("shared", String), backfill, at)
                           .where(~held).order_by(given.c.ordinal))
              .returning(feed_log.c.position, feed_log.c.network_id)
              .cte("logged"))
    return (insert(deliveries)
            .from_select(["output_id", "network_id", "position", "delivered_at", "backfill"],
                         select(output_id, logged.c.network_id, logged.c.position, at, backfill))
            .returning(deliveries.c.network_id, deliveries.c.position))


DELIVER_TO_ALL = _deliver_to_all()
# The log's rows with what their outputs show now (a copy, or what a tombstone needs).
_LOG_ROWS = (select(feed_log, outputs.c.copy, outputs.c.origin_network_id, outputs.c.retracted_at)
             .join(outputs, outputs.c.output_id == feed_log.c.output_id))


@dataclass(frozen=True)
class AppendedToLog:
    network_ids: list[str]
    positions: list[int]  # ascending; one transaction's are consecutive (see ``_keep_positions_in_commit_order``)


class Feeds:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._ordered_in: RootTransaction | None = None  # the transaction that holds the log lock
        # networks whose log grew, and the positions appended, since the unit of work last took them (it records
        # ``feed.appended``)
        self.appended: set[str] = set()
        self.positions: list[int] = []

    def take_appended(self) -> AppendedToLog:
        """The networks whose log grew since the last call, sorted, and the positions appended meanwhile."""
        taken = AppendedToLog(sorted(self.appended), sorted(self.positions))
        self.forget_appended()
        return taken

    def forget_appended(self) -> None:
        """What was undone was not appended."""
        self.appended, self.positions = set(), []

    def log_between(self, first: int, last: int) -> Sequence[RowMapping]:
        """The log's entries from ``first`` to ``last`` with what their outputs show, as :meth:`log_after` reads
        them (in the open transaction: its own entries too)."""
        return self.connection.execute(
            _LOG_ROWS.where(feed_log.c.position.between(first, last)).order_by(feed_log.c.position)
        ).mappings().all()

    def deliver(self, network_id: str, output_id: str, now: datetime, *, backfill: bool = False) -> bool:
        """Put an output in a network's feed once; False if it was already there."""
        return bool(self.deliver_many([network_id], output_id, now, backfill=backfill))

    def deliver_many(self, network_ids: Sequence[str], output_id: str, now: datetime, *,
                     backfill: bool = False) -> list[str]:
        """Put an output in each of these networks' feeds once, positions in the order given; return the
        networks that did not hold it yet. Statements per step, not per network: sharing with 1,000 networks is
        one statement on PostgreSQL (``DELIVER_TO_ALL``), three elsewhere (which hold it, the log entries, the
        delivery records), not 3,000."""
        wanted = list(dict.fromkeys(network_ids))
        if not wanted:
            return []
        if self.connection.dialect.name == "postgresql":
            return self._deliver_in_one_statement(wanted, output_id, now, backfill)
        held = set(self.connection.execute(
            select(deliveries.c.network_id).where(deliveries.c.output_id == output_id,
                                                  deliveries.c.network_id.in_(wanted))
        ).scalars())
        fresh = [network_id for network_id in wanted if network_id not in held]
        if not fresh:
            return []
        positions = self._log_many(fresh, output_id, "shared", now, backfill=backfill)
        self.connection.execute(insert(deliveries), [
            {"output_id": output_id, "network_id": network_id, "position": position, "delivered_at": now,
             "backfill": backfill} for network_id, position in zip(fresh, positions, strict=True)])
        return fresh

    def _deliver_in_one_statement(self, wanted: list[str], output_id: str, now: datetime,
                                  backfill: bool) -> list[str]:
        """PostgreSQL: the same as the portable path in one statement (``DELIVER_TO_ALL``)."""
        self._keep_positions_in_commit_order()
        delivered = self.connection.execute(DELIVER_TO_ALL, {"network_ids": wanted, "output_id": output_id,
                                                             "at": now, "backfill": backfill}).all()
        fresh = {row.network_id for row in delivered}
        self.appended |= fresh
        self.positions.extend(int(row.position) for row in delivered)
        return [network_id for network_id in wanted if network_id in fresh]

    def recipients(self, output_id: str) -> list[str]:
        return list(self.connection.execute(
            select(deliveries.c.network_id).where(deliveries.c.output_id == output_id).order_by(deliveries.c.position)
        ).scalars())

    def tombstone(self, output_id: str, now: datetime) -> None:
        self._log_many(self.recipients(output_id), output_id, "retracted", now)
        self.connection.execute(update(deliveries).where(deliveries.c.output_id == output_id,
                                                         deliveries.c.tombstoned_at.is_(None))
                                .values(tombstoned_at=now))

    def announce_change(self, output_id: str, now: datetime) -> None:
        self._log_many(self.recipients(output_id), output_id, "updated", now)

    def deliveries_of(self, output_id: str) -> Sequence[RowMapping]:
        return self.connection.execute(
            select(deliveries).where(deliveries.c.output_id == output_id).order_by(deliveries.c.position)
        ).mappings().all()

    def page(self, network_id: str, after: int, size: int) -> Sequence[RowMapping]:
        return self.connection.execute(
            select(deliveries, outputs.c.copy, outputs.c.origin_network_id, outputs.c.retracted_at)
            .join(outputs, outputs.c.output_id == deliveries.c.output_id)
            .where(deliveries.c.network_id == network_id, deliveries.c.position > after)
            .order_by(deliveries.c.position).limit(size)
        ).mappings().all()

    def log_after(self, cursor: int, network_ids: list[str] | None, limit: int) -> Sequence[RowMapping]:
        query = _LOG_ROWS.where(feed_log.c.position > cursor)
        if network_ids is not None:
            query = query.where(feed_log.c.network_id.in_(network_ids))
        return self.connection.execute(query.order_by(feed_log.c.position).limit(limit)).mappings().all()

    def _log_many(self, network_ids: list[str], output_id: str, kind: str, now: datetime, *,
                  backfill: bool = False) -> list[int]:
        """Append one entry per network, positions in the order given (one multi-row INSERT on PostgreSQL:
        SQLAlchemy's insertmanyvalues draws the positions in parameter order and returns them in that order)."""
        if not network_ids:
            return []
        self._keep_positions_in_commit_order()
        appended = self.connection.execute(
            insert(feed_log).returning(feed_log.c.position, sort_by_parameter_order=True),
            [{"network_id": network_id, "output_id": output_id, "kind": kind, "backfill": backfill, "at": now}
             for network_id in network_ids])
        positions = [int(position) for position in appended.scalars()]
        self.appended.update(network_ids)
        self.positions.extend(positions)
        return positions

    def _keep_positions_in_commit_order(self) -> None:
        """Readers resume from the last position they saw, so a lower position must never become visible
        after a higher one. Writers of the log take turns (until their transaction ends); SQLite's engine
        lock already makes them."""
        transaction = self.connection.get_transaction()
        if self._ordered_in is not transaction and self.connection.dialect.name == "postgresql":
            self.connection.execute(select(func.pg_advisory_xact_lock(FEED_LOG_LOCK)))
        self._ordered_in = transaction
