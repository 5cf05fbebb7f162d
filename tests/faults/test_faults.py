"""Faults, in turn, while outputs are published and shared across a federation of 255 networks; then the ledger.

The faults (each while the load keeps publishing, sharing and retracting):

1. SIGKILL and restart of the members, networks and sessions services, the gateway and the relay, one by one;
2. SIGKILL of the federation service, and while it is down a poison event on its queue, ahead of the outputs
   published meanwhile; then its restart;
3. every AMQP connection of the sessions and the federation service closed by the broker;
4. real events again on the bus: exact duplicates, the same events under new envelope ids, publications after
   their retractions, network snapshots replayed;
5. PostgreSQL restarted as after a crash (immediate stop: every backend killed, recovery from the WAL);
6. RabbitMQ stopped and started again (the queues are durable quorum queues: they must survive).

Then, once the system is quiet, each test below checks one guarantee of the ledger (:mod:`tests.faults.ledger`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy

from tests.faults import bus, ledger
from tests.faults.harness import Harness
from tests.faults.infra import PrivatePostgres, PrivateRabbit
from tests.faults.load import Load
from tests.faults.world import World, build_world
from tests.support.http import ok
from tests.support.waiting import eventually

DOWN = 2.0  # seconds a killed process stays down while the load goes on
QUIET_TIMEOUT = 90.0


@dataclass
class Run:
    world: World
    load: Load
    poison_sent: float = 0.0
    federation_back: float = 0.0
    dropped: dict[str, int] = field(default_factory=dict)
    relay_reports: list[str] = field(default_factory=list)
    expected: list[ledger.Expected] = field(default_factory=list)
    observed: ledger.Observed | None = None
    backlog: dict[str, int] = field(default_factory=dict)
    dead: list[tuple[dict[str, Any], Any]] = field(default_factory=list)
    poison_consumers: set[str] = field(default_factory=set)  # the queues the poison went to
    first_delivered: dict[str, datetime] = field(default_factory=dict)  # output id -> its first delivery
    seconds: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module")
def engine(postgres: PrivatePostgres) -> Iterator[sqlalchemy.Engine]:
    made = sqlalchemy.create_engine(postgres.url(), pool_pre_ping=True)
    yield made
    made.dispose()


@pytest.fixture(scope="module")
def run(harness: Harness, rabbit: PrivateRabbit, postgres: PrivatePostgres, engine) -> Iterator[Run]:
    started = time.monotonic()
    world = build_world(harness, engine)
    load = Load(world)
    faulted = Run(world, load)
    faulted.seconds["world"] = round(time.monotonic() - started, 1)
    faulted.seconds["started"] = time.monotonic()
    load.start()
    try:
        _faults(faulted, harness, rabbit, postgres, engine)
    except BaseException:
        load.stop()
        raise
    load.stop()
    assert not load.errors, load.errors
    _wait_until_quiet(harness, rabbit, engine)
    _collect(faulted, engine, rabbit)
    faulted.seconds.pop("started")
    faulted.seconds["total"] = round(time.monotonic() - started, 1)
    outcomes = Counter(f"{c.what} {c.outcome}" for c in load.calls)
    slowest = max(load.calls, key=lambda c: c.seconds or 0.0)
    print(f"\nfaults run (seconds from the start of the load): {faulted.seconds}\n{len(load.calls)} calls: "
          f"{dict(sorted(outcomes.items()))}; slowest {slowest.what} in {slowest.phase}: {slowest.seconds:.2f} s\n"
          f"{len(faulted.expected)} outputs ({sum(o.retracted for o in faulted.expected)} retracted); connections "
          f"dropped {faulted.dropped}; dead letters {[ledger.reason_of(h) for h, _ in faulted.dead]}")
    yield faulted


def _step(run: Run, name: str) -> None:
    run.load.phase = name
    run.seconds[name] = round(time.monotonic() - run.seconds["started"], 1)  # when the step began


def _faults(run: Run, harness: Harness, rabbit: PrivateRabbit, postgres: PrivatePostgres, engine) -> None:
    time.sleep(3)  # the load gets going first
    for name in ("members", "networks", "sessions", "gateway"):
        _step(run, f"kill -9 {name}")
        harness.kill9(name)
        time.sleep(DOWN)
        harness.start(name)
        harness.wait_ready(name)

    _step(run, "kill -9 relay")
    before = _relay_report(run.world)
    harness.kill9("relay")
    time.sleep(DOWN)
    harness.start("relay")
    harness.wait_ready("relay")
    after = eventually(lambda: (r := _relay_report(run.world)) != before and r, "the restarted relay reporting", 30,
                       interval=0.2)
    run.relay_reports = [before, after]

    _step(run, "kill -9 federation, poison")
    harness.kill9("federation")
    real = bus.outbox_envelopes(engine, "sessions", "output.published", limit=1)[0]
    bus.publish(rabbit.amqp_uri, "sessions.events", [bus.poison_of(real)])
    run.poison_sent = time.monotonic()
    time.sleep(4)  # outputs published now queue up behind the poison
    harness.start("federation")
    harness.wait_ready("federation")
    run.federation_back = time.monotonic()

    _step(run, "AMQP connections dropped")
    for name in ("sessions", "federation"):
        # The management API lists a connection once the broker has emitted its statistics (every 5 s).
        run.dropped[name] = eventually(lambda n=name: bus.drop_connections(rabbit, harness.pid(n)),
                                       f"the {name} service's AMQP connections to drop", 20, interval=0.2)
    time.sleep(1)
    harness.wait_ready()

    _step(run, "duplicates and reordering")
    _replay(rabbit, engine)

    _step(run, "PostgreSQL restart")
    postgres.restart()
    harness.wait_ready()

    _step(run, "RabbitMQ restart")
    rabbit.restart()
    harness.wait_ready(timeout=90)

    _step(run, "after the faults")
    time.sleep(5)


def _relay_report(world: World) -> str:
    with world.operator(timeout=10) as api:
        response = api.get("/v1/peers/kring-elders")
    return (response.json().get("state") or {}).get("updated_at") or "" if response.status_code == 200 else ""


def _replay(rabbit: PrivateRabbit, engine) -> None:
    """Real events again: as they were (same envelope ids), under new ids, and out of order."""
    published = bus.outbox_envelopes(engine, "sessions", "output.published")
    retracted = bus.outbox_envelopes(engine, "sessions", "output.retracted")
    retracted_ids = {e["payload"]["output_id"] for e in retracted}
    stale = [e for e in published if e["payload"]["output_id"] in retracted_ids]
    sessions_events = (
        published[-60:] + retracted  # exact duplicates: the consumer has seen these envelope ids
        + [bus.renamed(e) for e in published[-30:]]  # the same outputs under new envelope ids
        + [bus.renamed(e) for e in stale]  # publications arriving after their retraction
        + [bus.renamed(e) for e in retracted[:10]]  # a retraction again
    )
    bus.publish(rabbit.amqp_uri, "sessions.events", sessions_events)
    snapshots = bus.outbox_envelopes(engine, "networks", "network.created")
    # Replayed network snapshots (older or equal revisions) must neither add links nor revive blocked ones.
    bus.publish(rabbit.amqp_uri, "networks.events", snapshots[:40] + [bus.renamed(e) for e in snapshots[-40:]])


def _wait_until_quiet(harness: Harness, rabbit: PrivateRabbit, engine) -> None:
    deadline = time.monotonic() + QUIET_TIMEOUT
    calm = 0
    while calm < 3:
        backlog, queued = bus.outbox_backlog(engine), bus.queued_messages(rabbit)
        calm = calm + 1 if not any(backlog.values()) and not any(queued.values()) else 0
        if time.monotonic() > deadline:
            pytest.fail(f"not quiet within {QUIET_TIMEOUT:g} s: outbox {backlog}, queues "
                        f"{ {q: n for q, n in queued.items() if n} }\n{harness.tails()}", pytrace=False)
        time.sleep(0.5)


def _collect(run: Run, engine, rabbit: PrivateRabbit) -> None:
    """The truth: every output the sessions service holds (and whether retracted), and every partner output the
    federation service holds, matched with the plan; then what the federation service did with them."""
    world, load = run.world, run.load
    planned = {p.key: p for p in load.planned}
    observed = ledger.observe(engine)
    with world.operator() as api:
        for network_id, session in world.sessions.items():
            token = None
            while True:
                page = ok(api.get(f"/v1/sessions/{session}/outputs",
                                  params={"page_size": 200} | ({"page_token": token} if token else {})))
                for item in page["items"]:
                    if "title" in item:  # standing
                        plan = planned.get(item["title"])
                        assert plan is None or (plan.visibility, plan.themes) == (item["visibility"],
                                                                                  tuple(sorted(item["themes"]))), item
                        run.expected.append(ledger.Expected(item["id"], network_id, item["visibility"],
                                                            tuple(item["themes"]), False))
                    else:
                        run.expected.append(ledger.Expected(item["id"], network_id, "", (), True))
                token = page.get("next_page_token")
                if not token:
                    break
    partner_titles = {f"Partnerles {p.key}": p for p in load.planned if p.via == "partner"}
    for output_id, known in observed.known.items():
        if known["source"].startswith("partner:"):
            plan = partner_titles.get(known["title"])
            if plan is None:  # retracted: the copy (and its title) is gone; the plan knows its id
                plan = next((p for p in load.planned if p.output_id == output_id), None)
            assert plan is not None, f"a partner output nobody published: {output_id} {known}"
            # Retracted when the partner's retraction was confirmed, or when an unanswered one got through.
            retracted = plan.retracted or (plan.retract and known["retracted"])
            run.expected.append(ledger.Expected(output_id, plan.origin, plan.visibility, plan.themes, retracted))
    run.observed = observed
    run.backlog = bus.outbox_backlog(engine)
    run.dead = bus.dead_letters(rabbit.amqp_uri)
    with engine.connect() as conn:
        run.first_delivered = dict(conn.execute(sqlalchemy.text(
            "SELECT output_id, min(delivered_at) FROM federation.deliveries GROUP BY output_id")).all())
    run.poison_consumers = bus.consumers_of(rabbit, "sessions.events", "output.published")


# --- the ledger ---------------------------------------------------------------------------------------------------


def test_every_standing_output_is_in_exactly_the_feeds_of_its_audience_once(run: Run):
    assert sum(1 for o in run.expected if o.visibility in ("federation", "public") and not o.retracted) > 50
    problems = ledger.audience_problems(run.expected, run.observed, run.world.hops(), run.world.blocked)
    assert not problems, "\n".join(problems[:30])


def test_a_private_output_is_in_no_other_feed(run: Run):
    assert any(o.visibility == "network" for o in run.expected)
    problems = ledger.private_problems(run.expected, run.observed)
    assert not problems, "\n".join(problems[:30])


def test_every_retraction_removed_every_copy(run: Run):
    assert sum(1 for o in run.expected if o.retracted) > 10
    problems = ledger.retraction_problems(run.expected, run.observed)
    assert not problems, "\n".join(problems[:30])


def test_no_output_was_lost_under_the_faults(run: Run):
    confirmed = [p.output_id for p in run.load.planned if p.output_id]
    retracted = [p.output_id for p in run.load.planned if p.retracted]
    problems = ledger.lost_problems(run.expected, confirmed, run.observed)
    standing = {o.output_id for o in run.expected if not o.retracted}
    problems += [f"retraction of {output_id} was confirmed but it stands" for output_id in retracted
                 if output_id in standing]
    assert not problems, "\n".join(problems[:30])


def test_links_are_the_planned_ones_after_replayed_network_events(run: Run):
    problems = ledger.link_problems(run.world.hops(), run.observed)
    assert not problems, "\n".join(problems[:30])


def test_the_outbox_backlog_returns_to_zero(run: Run):
    assert set(run.backlog) == {"members", "networks", "sessions", "federation"}
    problems = ledger.outbox_problems(run.backlog)
    assert not problems, "\n".join(problems)


def test_the_poison_event_sits_in_the_dead_letter_queue_with_its_reason_and_nothing_else_does(run: Run):
    assert any(q.endswith("--federation.on_output_published") for q in run.poison_consumers), run.poison_consumers
    problems = ledger.dead_letter_problems(run.dead, bus.POISON_OUTPUT_ID, run.poison_consumers)
    assert not problems, "\n".join(problems[:30])


def test_the_outputs_behind_the_poison_were_not_held_up_by_it(run: Run):
    # Published while the federation service was down, so they waited in its queue behind the poison.
    behind = [p for p in run.load.confirmed_after(run.poison_sent) if p.confirmed_at < run.federation_back]
    assert behind, "no output was published while the poison waited at the head of the federation's queue"
    missing = [p.output_id for p in behind if p.output_id not in run.observed.known]
    assert not missing, f"outputs published behind the poison never reached the federation service: {missing}"
    deaths = [death for headers, body in run.dead if isinstance(body, dict)
              and body.get("payload", {}).get("output_id") == bus.POISON_OUTPUT_ID
              for death in headers.get("x-death") or [] if death["queue"].endswith("federation.on_output_published")]
    assert deaths, "the poison is not in the dead-letter queue from the federation's queue"
    parked_at = deaths[0]["time"].replace(tzinfo=UTC) if deaths[0]["time"].tzinfo is None else deaths[0]["time"]
    delivered = {p.output_id: run.first_delivered[p.output_id] for p in behind if p.output_id in run.first_delivered}
    assert delivered, "none of the outputs behind the poison was shared with anyone"
    late = {o: t for o, t in delivered.items() if t > parked_at + timedelta(seconds=1)}  # x-death has whole seconds
    assert not late, f"outputs behind the poison were shared only after it was dead-lettered at {parked_at}: {late}"


def test_every_call_during_the_faults_ended_within_its_deadline(run: Run):
    calls = run.load.calls
    assert len(calls) > 200 and any(c.outcome not in ("200", "201", "OK") for c in calls), \
        "the load met no fault at all"
    problems = ledger.deadline_problems(calls)
    assert not problems, "\n".join(problems[:30])


def test_a_call_a_fault_made_fail_was_told_unavailable_not_internal_error(run: Run):
    problems = ledger.internal_failure_problems(run.load.calls)
    assert not problems, "\n".join(problems[:30])


def test_a_killed_relay_reports_on_its_peer_again_after_restart(run: Run):
    before, after = run.relay_reports
    assert after and after > before, run.relay_reports
    assert datetime.fromisoformat(after)


def test_the_broker_closed_the_connections_of_the_sessions_and_federation_services(run: Run):
    assert run.dropped["sessions"] > 0 and run.dropped["federation"] > 0, run.dropped
