"""Properties of the federation, on random federations and random event sequences, through the real handlers
and unit of work on a migrated SQLite file, against an oracle that shares no code with the service:

- every output reaches exactly its audience: each recipient's feed holds it once, no network outside the
  audience holds it, the origin never does, the public feed does iff it is public and its origin not blocked;
- a retraction removes every copy (every delivery tombstoned, no copy left in any feed), and a retraction
  that arrives before the publication keeps the output out;
- no non-consenting (or erased) author's name, and no member id, appears in any feed copy or log entry;
- duplicated, redelivered and reordered events change nothing;
- the log's cursors strictly increase, per network and overall;
- a link accepted later brings exactly the admitted earlier outputs of the other side, marked as backfill.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.common.catalogue import MemberErased, OutputRetracted
from services.common.db import create_service_engine
from services.common.errors import NotFound
from services.common.migrations import upgrade
from services.common.uow import apply_once
from services.common.vocabulary import Visibility
from services.federation.domain.audience import Hop, Policy, Shareable, audience
from services.federation.handlers import links, queries, sharing
from services.federation.schemas import AcceptLink, FeedItem, FeedQuery, LogEntry, LogQuery
from services.federation.unit_of_work import FederationUnitOfWork
from tests.property.federation_model import (
    PROFILE,
    PUBLIC,
    SHAREABLE,
    Event,
    Federation,
    LinkPlan,
    NoLookup,
    OutputPlan,
    PolicyPlan,
    build,
    expected_recipients,
    federations,
    policies,
    reach_by_fixpoint,
    reset,
    scripts,
    shown_authors,
    strings_in,
    table_state,
)
from tests.support.callers import OPERATOR, THE_GATEWAY

PAGE = 7  # small pages, so that paging is exercised too


def deliver(uow: Any, event: Event, event_id: uuid.UUID | None = None) -> None:
    """One event, as the federation service's entrypoint applies it."""
    event_id = event_id or event.event_id
    if event.kind == "publish":
        published = event.output.event()
        apply_once(uow, event_id, "federation.on_output_published",
                   lambda u: sharing.on_output_published(published, u))
    else:
        retracted = OutputRetracted(output_id=event.output.output_id, network_id=event.output.origin,
                                    retracted_at=published_at(event.output), reason=None)
        apply_once(uow, event_id, "federation.on_output_retracted",
                   lambda u: sharing.on_output_retracted(retracted, u))


def published_at(output: OutputPlan) -> Any:
    return output.event().published_at


def erase(uow: Any, member_id: str, event_id: uuid.UUID) -> None:
    event = MemberErased(member_id=member_id, revision=9)
    apply_once(uow, event_id, "federation.on_member_erased", lambda u: sharing.on_member_erased(event, u))


def whole_feed(uow: Any, network_id: str) -> list[FeedItem]:
    items, token = [], None
    while True:
        page = queries.feed_page(OPERATOR, FeedQuery(network_id=network_id, page_size=PAGE, page_token=token), uow,
                                 NoLookup())
        items += page.items
        if (token := page.next_page_token) is None:
            return items


def whole_log(uow: Any, network_ids: list[str] | None = None) -> list[LogEntry]:
    entries, cursor = [], 0
    while True:
        page = queries.log_after(THE_GATEWAY, LogQuery(cursor=cursor, network_ids=network_ids, limit=PAGE), uow,
                                 NoLookup())
        entries += page.entries
        assert page.next_cursor >= cursor
        if page.next_cursor == cursor:
            return entries
        cursor = page.next_cursor


def late_links(federation: Federation) -> list[LinkPlan]:
    """Pending peer links between networks that are not blocked: accepted after the outputs were shared."""
    return [link for link in federation.links
            if link.status == "requested" and not {link.requester, link.target} & federation.blocked]


def expected_backfill(federation: Federation, shared: set[str], retracted: set[str]) -> set[tuple[str, str]]:
    """(receiver, output id) pairs a late link brings: the other side's own outputs, shared and not retracted,
    that the sender's policy admits, unless either side is archived or blocked."""
    shut = federation.blocked | federation.archived
    pairs = set()
    for link in late_links(federation):
        for sender, receiver, policy in ((link.requester, link.target, link.requester_policy),
                                         (link.target, link.requester, link.target_policy)):
            if {sender, receiver} & shut:
                continue
            for output in federation.outputs:
                if (output.origin == sender and output.output_id in shared and output.output_id not in retracted
                        and (policy or PolicyPlan(frozenset(SHAREABLE), None)).admits(output.visibility,
                                                                                      output.themes)):
                    pairs.add((receiver, output.output_id))
    return pairs


def test_outputs_reach_exactly_their_audience_retractions_remove_every_copy_and_nothing_leaks(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'federation.db'}"
    upgrade("federation", url)
    engine = create_service_engine(url, "federation")
    uow = FederationUnitOfWork(engine, producer="federation")

    @PROFILE
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        federation = data.draw(federations(), label="federation")
        script = data.draw(scripts(federation), label="script")
        erased = data.draw(st.frozensets(st.sampled_from([m.member_id for m in federation.members])),
                           label="erased")
        reset(engine)
        build(uow, federation)
        for event in script:
            deliver(uow, event)
        for link in late_links(federation):
            [held] = [candidate for candidate in links.list_links(OPERATOR, link.requester, "requested", uow)
                      if candidate.target_network_id == link.target]
            links.accept_link(OPERATOR, held.link_id, AcceptLink(), uow)
        erasures = [(member_id, uuid.uuid4()) for member_id in sorted(erased)]
        for member_id, event_id in erasures:
            erase(uow, member_id, event_id)

        verify(uow, federation, script, set(erased))

        # Duplicates change nothing: every event again, under its own envelope and under a new one.
        before = table_state(engine)
        for event in script:
            deliver(uow, event)
            deliver(uow, event, uuid.uuid4())
        for member_id, event_id in erasures:
            erase(uow, member_id, event_id)
            erase(uow, member_id, uuid.uuid4())
        assert table_state(engine) == before

    try:
        check()
    finally:
        engine.dispose()


def verify(uow: Any, federation: Federation, script: list[Event], erased: set[str]) -> None:
    first: dict[str, str] = {}
    for event in script:
        first.setdefault(event.output.output_id, event.kind)
    shared = {output_id for output_id, kind in first.items() if kind == "publish"}
    retracted = {event.output.output_id for event in script if event.kind == "retract"}
    by_id = {o.output_id: o for o in federation.outputs}
    expected = {o.output_id: expected_recipients(federation, o) if o.output_id in shared else set()
                for o in federation.outputs}
    # A network that received the output when it was shared keeps that delivery; backfill adds the others.
    backfilled = {(receiver, output_id) for receiver, output_id in expected_backfill(federation, shared, retracted)
                  if receiver not in expected[output_id]}
    for receiver, output_id in backfilled:
        expected[output_id].add(receiver)
    forbidden = ({m.name for m in federation.members if not m.consents or m.member_id in erased}
                 | {m.member_id for m in federation.members})

    def leaks(value: Any) -> list[str]:
        return [f for s in strings_in(value) for f in forbidden if f in s]

    # The delivery record: exactly the audience, never the origin; tombstoned iff retracted.
    for output in federation.outputs:
        record = delivered_to(output.output_id, uow)
        received = [d.network_id for d in record]
        assert sorted(received) == sorted(expected[output.output_id]), output
        assert output.origin not in received
        assert all((d.tombstoned_at is not None) == (output.output_id in retracted) for d in record)
        assert all(d.backfill == ((d.network_id, output.output_id) in backfilled) for d in record)

    # Every feed: each output at most once, in increasing positions; copies exactly where expected.
    for network_id in (*federation.networks, PUBLIC):
        items = whole_feed(uow, network_id)
        positions = [item.position for item in items]
        assert positions == sorted(set(positions))
        ids = [item.output["output_id"] for item in items]
        assert len(ids) == len(set(ids))
        live = {item.output["output_id"] for item in items if not item.output.get("retracted")}
        dead = set(ids) - live
        holders = {o for o, recipients in expected.items() if network_id in recipients}
        assert live == holders - retracted, network_id
        assert dead == holders & retracted, network_id
        for item in items:
            assert not leaks(item.output), (network_id, item.output)
            if item.output["output_id"] in live:
                output = by_id[item.output["output_id"]]
                assert item.output["origin_network_id"] == output.origin != network_id
                assert item.output["authors"] == shown_authors(output, erased)

    # The log: strictly increasing cursors; one shared entry per copy, one retracted entry per tombstone, one
    # updated entry per erased author of a copy; nothing for anyone else; no names that must not be there.
    entries = whole_log(uow)
    cursors = [e.cursor for e in entries]
    assert cursors == sorted(set(cursors))
    kinds = Counter((e.kind, e.network_id, e.output["output_id"]) for e in entries)
    wanted: Counter[tuple[str, str, str]] = Counter()
    for output_id, recipients in expected.items():
        for network_id in recipients:
            if output_id in retracted:
                wanted["retracted", network_id, output_id] += 1
            else:
                wanted["shared", network_id, output_id] += 1
                authors = {m.member_id for m in by_id[output_id].authors}
                wanted["updated", network_id, output_id] += len(authors & erased)
    assert kinds == +wanted
    assert not [e for e in entries if leaks(e.output)]
    for network_id in sorted({e.network_id for e in entries})[:5]:
        assert whole_log(uow, [network_id]) == [e for e in entries if e.network_id == network_id]


# --- the audience function itself, on many more federations (no database) ------------------------------------------


@PROFILE
@given(data=st.data())
def test_the_audience_function_agrees_with_the_fixpoint_oracle(data: st.DataObject) -> None:
    names = [f"n{i}" for i in range(data.draw(st.integers(1, 15)))]
    edges = data.draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names), policies())
                               .filter(lambda e: e[0] != e[1]), max_size=40))
    plans = [(source, target, policy or PolicyPlan(frozenset(SHAREABLE), None)) for source, target, policy in edges]
    hops = [Hop(source, target, Policy(frozenset(Visibility(v) for v in policy.visibilities),
                                       frozenset(t.strip().lower() for t in policy.themes)
                                       if policy.themes is not None else None))
            for source, target, policy in plans]
    origin = data.draw(st.sampled_from(names))
    visibility = data.draw(st.sampled_from([v.value for v in Visibility]))
    themes = tuple(data.draw(st.lists(st.sampled_from(("wonen", "zorg", "Armoede", "jeugd")), max_size=3)))
    blocked = data.draw(st.sets(st.sampled_from(names), max_size=3))
    closed = data.draw(st.sets(st.sampled_from(names), max_size=3))
    assert audience(Shareable(origin, Visibility(visibility), themes), hops, blocked=blocked, closed=closed) == (
        reach_by_fixpoint(origin, visibility, themes, plans, blocked=blocked, closed=closed))


def delivered_to(output_id: str, uow: Any) -> list[Any]:
    """The output's delivery record; none for an output the federation service never heard of."""
    try:
        return queries.delivery_log(OPERATOR, output_id, uow).items
    except NotFound:
        return []
