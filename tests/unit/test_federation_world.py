"""A small world for the federation unit tests: the real handlers and unit of work on a SQLite file migrated
by the real Alembic history, fed events the way the service's entrypoints feed them (``apply_once`` per
envelope id), with helpers to read feeds, the log and the delivery records back. Holds no tests itself."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from services.common.catalogue import (
    Attribution,
    MemberErased,
    NetworkSnapshot,
    OutputAttributionChanged,
    OutputPublished,
    OutputRetracted,
    SharingPolicy,
)
from services.common.db import create_service_engine
from services.common.keys_at_rest import KeysAtRest
from services.common.uow import apply_once
from services.common.vocabulary import (
    NetworkKind,
    NetworkLevel,
    NetworkStatus,
    OutputKind,
    UnpreparedPolicy,
    Visibility,
)
from services.federation import models
from services.federation.handlers import links, queries, sharing
from services.federation.schemas import AcceptLink, FeedItem, FeedQuery, LinkOut, LogEntry, LogQuery, RequestLink
from services.federation.unit_of_work import FederationUnitOfWork
from tests.support.callers import OPERATOR, THE_GATEWAY
from tests.support.databases import migrated_database

T0 = datetime(2026, 3, 3, 19, 30, tzinfo=UTC)
WORLD_KEYS = KeysAtRest([KeysAtRest.new_key()])


class FakeLookup:
    """The networks service as ``request_link`` and ``register_partner`` ask it, for networks the read model
    has not seen yet."""

    def __init__(self) -> None:
        self.networks: dict[str, dict[str, Any]] = {}
        self.asked: list[str] = []

    def get(self, network_id: str) -> dict[str, Any] | None:
        self.asked.append(network_id)
        return self.networks.get(network_id)


def policy(*visibilities: str, themes: list[str] | None = None) -> SharingPolicy:
    return SharingPolicy(visibilities=[Visibility(v) for v in visibilities], themes=themes)


class World:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.uow = FederationUnitOfWork(engine, producer="federation")
        self.uow.peer_keys = WORLD_KEYS  # the keys peer API keys are encrypted with (KRING_FEDERATION_KEYS)
        self.lookup = FakeLookup()
        self.revisions: dict[str, int] = {}
        self.clock = T0

    # --- events, as the entrypoints apply them --------------------------------------------------------------

    def deliver(self, handler: str, effect: Any, event_id: uuid.UUID | None = None) -> bool:
        return apply_once(self.uow, event_id or uuid.uuid4(), f"federation.{handler}", effect)

    def network(self, network_id: str, parent: str | None = None, *, status: str = "active",
                revision: int | None = None, theme: str = "eenzaamheid") -> NetworkSnapshot:
        """The networks service's snapshot of a network, applied; each call is the next revision."""
        revision = revision if revision is not None else self.revisions.get(network_id, 0) + 1
        self.revisions[network_id] = max(revision, self.revisions.get(network_id, 0))
        snapshot = NetworkSnapshot(
            network_id=network_id, revision=revision, name=f"Netwerk {network_id}", level=NetworkLevel.LOCAL,
            kind=NetworkKind.WERKPLAATS, theme=theme, urgency=None, host_organisation=None, parent_id=parent,
            region=None, cadence_weeks=6, start_date=date(2026, 1, 1), requires_preparation=False,
            unprepared_policy=UnpreparedPolicy.FLAG, status=NetworkStatus(status))
        self.deliver("on_network_updated", lambda uow: links.on_network_changed(snapshot, uow))
        return snapshot

    def networks(self, *network_ids: str) -> None:
        for network_id in network_ids:
            self.network(network_id)

    def output(self, origin: str, visibility: str = "federation", *, themes: tuple[str, ...] = (),
               authors: tuple[Attribution, ...] = (), output_id: str | None = None,
               title: str = "Wat we leerden") -> OutputPublished:
        self.clock += timedelta(minutes=1)
        return OutputPublished(
            output_id=output_id or f"o-{uuid.uuid4().hex[:8]}", session_id="s-1", network_id=origin,
            kind=OutputKind.LESSON, title=title, body="...", url=None, resource_type=None, themes=list(themes),
            visibility=Visibility(visibility), licence="CC-BY-4.0", authors=list(authors), published_at=self.clock)

    def publish(self, origin: str, visibility: str = "federation", *, event_id: uuid.UUID | None = None,
                **fields: Any) -> OutputPublished:
        event = self.output(origin, visibility, **fields)
        self.publish_event(event, event_id)
        return event

    def publish_event(self, event: OutputPublished, event_id: uuid.UUID | None = None) -> bool:
        return self.deliver("on_output_published", lambda uow: sharing.on_output_published(event, uow), event_id)

    def retract(self, output_id: str, origin: str, event_id: uuid.UUID | None = None) -> bool:
        event = OutputRetracted(output_id=output_id, network_id=origin, retracted_at=self.clock, reason=None)
        return self.deliver("on_output_retracted", lambda uow: sharing.on_output_retracted(event, uow), event_id)

    def erase(self, member_id: str, event_id: uuid.UUID | None = None) -> bool:
        event = MemberErased(member_id=member_id, revision=5)
        return self.deliver("on_member_erased", lambda uow: sharing.on_member_erased(event, uow), event_id)

    def reattribute(self, output_id: str, origin: str, authors: list[Attribution],
                    changed_at: datetime | None = None) -> bool:
        event = OutputAttributionChanged(output_id=output_id, network_id=origin, authors=authors,
                                         changed_at=changed_at or datetime.now(UTC))
        return self.deliver("on_output_attribution_changed",
                            lambda uow: sharing.on_attribution_changed(event, uow))

    # --- commands ---------------------------------------------------------------------------------------------

    def request(self, requester: str, target: str, requester_policy: SharingPolicy | None = None) -> LinkOut:
        cmd = RequestLink(requester_network_id=requester, target_network_id=target, policy=requester_policy)
        return links.request_link(OPERATOR, cmd, self.uow, self.lookup).link

    def link(self, requester: str, target: str, requester_policy: SharingPolicy | None = None,
             target_policy: SharingPolicy | None = None) -> LinkOut:
        """A peer link, requested and accepted."""
        requested = self.request(requester, target, requester_policy)
        return links.accept_link(OPERATOR, requested.link_id, AcceptLink(policy=target_policy), self.uow)

    # --- reading back -----------------------------------------------------------------------------------------

    def feed(self, network_id: str, page_size: int = 50) -> list[FeedItem]:
        items: list[FeedItem] = []
        token = None
        while True:
            query = FeedQuery(network_id=network_id, page_size=page_size, page_token=token)
            page = queries.feed_page(OPERATOR, query, self.uow, self.lookup)
            items.extend(page.items)
            token = page.next_page_token
            if token is None:
                return items

    def live(self, network_id: str) -> list[str]:
        """Ids of the outputs a network's feed shows as copies (not tombstones), in feed order."""
        return [i.output["output_id"] for i in self.feed(network_id) if not i.output.get("retracted")]

    def tombstones(self, network_id: str) -> list[str]:
        return [i.output["output_id"] for i in self.feed(network_id) if i.output.get("retracted")]

    def log(self, network_ids: list[str] | None = None, cursor: int = 0, limit: int = 500) -> list[LogEntry]:
        entries: list[LogEntry] = []
        while True:
            query = LogQuery(cursor=cursor, network_ids=network_ids, limit=limit)
            page = queries.log_after(THE_GATEWAY, query, self.uow, self.lookup)
            entries.extend(page.entries)
            if page.next_cursor == cursor:
                return entries
            cursor = page.next_cursor

    def recipients(self, output_id: str) -> list[str]:
        return [d.network_id for d in queries.delivery_log(OPERATOR, output_id, self.uow).items]

    def link_events(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(models.outbox.c.event_type).order_by(models.outbox.c.position))
                        .scalars())

    def stored(self, output_id: str) -> dict[str, Any]:
        """The output as the federation service holds it, as a dict of its fields."""
        with self.uow:
            held = self.uow.outputs.get(output_id)
        assert held is not None, f"the federation service holds no output {output_id}"
        return dataclasses.asdict(held)


def open_world(directory: Path) -> Iterator[World]:
    """For a test module's ``world`` fixture: a world on a fresh database, disposed afterwards."""
    engine = create_service_engine(migrated_database("federation", directory), "federation")
    yield World(engine)
    engine.dispose()
