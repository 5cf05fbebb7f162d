"""The ledger: what must hold once the faults are over and the system is quiet.

Each check is a plain function from what was expected and what was observed to a list of problems (empty:
the guarantee holds), so that ``test_ledger_checks_can_fail.py`` can point each one at a broken state.

Expected audiences come from the plan of the world (:mod:`tests.faults.world`) through :func:`audience`, an
oracle written apart from the federation service's ``domain/audience.py``: it grows the reached set to a
fixpoint over the planned links instead of searching breadth first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy

from tests.faults.world import Policy

PUBLIC_FEED = "public"
Hop = tuple[str, str, Policy]


@dataclass(frozen=True)
class Expected:
    """An output as its publisher made it (and the sessions service or the partner API confirmed it)."""

    output_id: str
    origin: str
    visibility: str
    themes: tuple[str, ...]
    retracted: bool


@dataclass
class Observed:
    """The federation service's state, read from its tables."""

    known: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> retracted, has_copy, source, title
    deliveries: dict[str, dict[str, bool]] = field(default_factory=lambda: defaultdict(dict))  # id -> net -> tombstoned
    shared: Counter = field(default_factory=Counter)  # (output id, network) -> 'shared' log entries
    retracted_log: set[tuple[str, str]] = field(default_factory=set)  # (output id, network) with a 'retracted' entry
    active_links: list[tuple[str, str]] = field(default_factory=list)  # (requester, target)


def observe(engine: sqlalchemy.Engine) -> Observed:
    seen = Observed()
    with engine.connect() as conn:
        for output_id, retracted_at, has_copy, source, title in conn.execute(sqlalchemy.text(
                "SELECT output_id, retracted_at, copy IS NOT NULL AND copy::text <> 'null', source, copy->>'title' "
                "FROM federation.outputs")):
            seen.known[output_id] = {"retracted": retracted_at is not None, "has_copy": bool(has_copy),
                                     "source": source, "title": title}
        for output_id, network_id, tombstoned_at in conn.execute(sqlalchemy.text(
                "SELECT output_id, network_id, tombstoned_at FROM federation.deliveries")):
            seen.deliveries[output_id][network_id] = tombstoned_at is not None
        for output_id, network_id, kind, count in conn.execute(sqlalchemy.text(
                "SELECT output_id, network_id, kind, count(*) FROM federation.feed_log GROUP BY 1, 2, 3")):
            if kind == "shared":
                seen.shared[output_id, network_id] = count
            elif kind == "retracted":
                seen.retracted_log.add((output_id, network_id))
        seen.active_links = [tuple(row) for row in conn.execute(sqlalchemy.text(
            "SELECT requester, target FROM federation.links WHERE status = 'active'"))]
    return seen


# --- the oracle ------------------------------------------------------------------------------------------------


def audience(origin: str, visibility: str, themes: tuple[str, ...], hops: Iterable[Hop],
             blocked: set[str]) -> set[str]:
    """Who must hold an output (FEDERATION.md "Who receives an output"), the public feed included."""
    if visibility == "network" or origin in blocked:
        return set()
    admitted = [(a, b) for a, b, policy in hops if policy.admits(visibility, themes) and not {a, b} & blocked]
    if visibility == "linked":
        reached = {b for a, b in admitted if a == origin}
    else:
        reached = {origin}
        while True:
            grown = reached | {b for a, b in admitted if a in reached}
            if grown == reached:
                break
            reached = grown
    reached.discard(origin)
    if visibility == "public":
        reached.add(PUBLIC_FEED)
    return reached


# --- the checks ------------------------------------------------------------------------------------------------


def audience_problems(expected: Iterable[Expected], observed: Observed, hops: list[Hop],
                      blocked: set[str]) -> list[str]:
    """Every shared output that stands is in exactly the feeds of its audience, once."""
    problems = []
    for output in expected:
        if output.retracted:
            continue
        want = audience(output.origin, output.visibility, output.themes, hops, blocked)
        have = {n for n, tombstoned in observed.deliveries.get(output.output_id, {}).items() if not tombstoned}
        if missing := want - have:
            problems.append(f"{output.output_id} ({output.visibility} from {output.origin}) missing from "
                            f"{len(missing)} feeds, e.g. {sorted(missing)[:3]}")
        if extra := have - want:
            problems.append(f"{output.output_id} ({output.visibility} from {output.origin}) in {len(extra)} feeds "
                            f"outside its audience, e.g. {sorted(extra)[:3]}")
    for (output_id, network_id), count in observed.shared.items():
        if count > 1:
            problems.append(f"{output_id} shared {count} times into the feed of {network_id}")
    return problems


def private_problems(expected: Iterable[Expected], observed: Observed) -> list[str]:
    """An output kept within its network is in no feed at all (not another network's, not the public one)."""
    return [f"private output {o.output_id} of {o.origin} in the feeds of "
            f"{sorted(observed.deliveries[o.output_id])[:3]}"
            for o in expected if o.visibility == "network" and observed.deliveries.get(o.output_id)]


def retraction_problems(expected: Iterable[Expected], observed: Observed) -> list[str]:
    """A retracted output left no copy anywhere: each delivery a tombstone, announced to each recipient."""
    problems = []
    for output in expected:
        if not output.retracted:
            continue
        known = observed.known.get(output.output_id)
        if known is None or not known["retracted"]:
            problems.append(f"retracted output {output.output_id} is not retracted in the federation service")
        elif known["has_copy"]:
            problems.append(f"retracted output {output.output_id} still has its copy")
        for network_id, tombstoned in observed.deliveries.get(output.output_id, {}).items():
            if not tombstoned:
                problems.append(f"retracted output {output.output_id} still shared with {network_id}")
            if (output.output_id, network_id) not in observed.retracted_log:
                problems.append(f"{network_id} was never told that {output.output_id} was retracted")
    return problems


def lost_problems(expected: Iterable[Expected], confirmed: Iterable[str], observed: Observed) -> list[str]:
    """Nothing was lost: every output a call confirmed exists, and the federation service heard of each."""
    ids = {o.output_id for o in expected}
    problems = [f"output {output_id} was confirmed to its publisher but does not exist"
                for output_id in confirmed if output_id not in ids]
    problems += [f"the federation service never heard of output {o.output_id} ({o.visibility} from {o.origin})"
                 for o in expected if o.output_id not in observed.known]
    return problems


def link_problems(hops: list[Hop], observed: Observed) -> list[str]:
    """The links are the planned ones, each once: duplicated or replayed network events made none."""
    want = {frozenset((a, b)) for a, b, _ in hops}
    have = Counter(frozenset(pair) for pair in observed.active_links)
    problems = [f"{count} active links between {sorted(pair)}" for pair, count in have.items() if count > 1]
    problems += [f"planned link between {sorted(pair)} is not active" for pair in want if pair not in have]
    problems += [f"unplanned active link between {sorted(pair)}" for pair in have if pair not in want]
    return problems


def outbox_problems(backlog: dict[str, int]) -> list[str]:
    """Every event each service committed was published: no outbox row is left behind."""
    return [f"{service}: {count} unpublished outbox rows" for service, count in backlog.items() if count]


def dead_letter_problems(dead: list[tuple[dict[str, Any], Any]], poison_output_id: str,
                         consumers: set[str]) -> list[str]:
    """The poison event sits in the dead-letter queue once for each queue that consumes it, each copy with why
    it is there; no other event does."""
    problems = []
    poison = [(h, b) for h, b in dead if isinstance(b, dict) and b.get("payload", {}).get("output_id")
              == poison_output_id]
    parked = sorted(queue_of(h) for h, _ in poison)
    if parked != sorted(consumers):
        problems.append(f"the poison event was dead-lettered from {parked}, not once from each of {sorted(consumers)}")
    for headers, _ in poison:
        if not reason_of(headers):
            problems.append(f"the poison event was dead-lettered without a reason: {sorted(headers)}")
    for headers, body in dead:
        if (headers, body) not in poison:
            event = body.get("type") if isinstance(body, dict) else type(body).__name__
            problems.append(f"a {event} event was dead-lettered from {queue_of(headers)} and never applied: "
                            f"{reason_of(headers)}")
    return problems


def queue_of(headers: dict[str, Any]) -> str:
    """The queue a dead letter came from: Kring's header, or the broker's first death."""
    deaths = headers.get("x-death") or [{}]
    return str(headers.get("x-kring-queue") or deaths[0].get("queue") or "")


def reason_of(headers: dict[str, Any]) -> str:
    """Kring's own reason (a handler that refused the event), or the broker's (the delivery limit)."""
    if headers.get("x-kring-reason"):
        return str(headers["x-kring-reason"])
    deaths = headers.get("x-death") or []
    return ", ".join(f"{d.get('reason')} in {d.get('queue')}" for d in deaths if d.get("reason"))


# A fault may make a call fail, but as "try again" (503 / UNAVAILABLE), never as the gateway's or a service's
# own failure: 500 and INTERNAL mean a fault reached the caller as a bug.
INTERNAL_FAILURES = frozenset({"500", "INTERNAL", "UNKNOWN"})


def internal_failure_problems(calls: Iterable[Any]) -> list[str]:
    """Every call a fault made fail said "unavailable, try again", not "internal error"."""
    return [f"{call.what} during {call.phase} ended {call.outcome}" for call in calls
            if call.outcome in INTERNAL_FAILURES]


def deadline_problems(calls: Iterable[Any]) -> list[str]:
    """Every call ended within its deadline, with a result or an error: none hung."""
    problems = []
    for call in calls:
        if call.ended is None:
            problems.append(f"{call.what} during {call.phase} never ended")
        elif call.seconds > call.budget:
            problems.append(f"{call.what} during {call.phase} took {call.seconds:.1f} s (deadline {call.budget:g} s), "
                            f"then {call.outcome}")
    return problems
