"""Every command applied exactly once: clients make members, networks, sessions, outputs and links through the admin
API, each request with an ``Idempotency-Key``, retrying with the same key (on the other gateway, when there are two)
while each service in turn, and the gateway, is killed with SIGKILL in the middle of handling them, then started
again. Run twice: with one process of each kind, and with two replicas of every service and of the gateway, as
production runs them (a request whose service was killed is then delivered again to the other replica).

Then, per command, what the services hold under its name: at most once always, exactly once and as answered where
the client was told it succeeded, and a retry answered as the first attempt was.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy

from tests.faults import commands as ledger
from tests.faults.commands import Command, CommandLoad, CommandWorld
from tests.faults.harness import OPERATOR_TOKEN, Harness, kind_of, replica_names
from tests.faults.infra import PrivatePostgres, PrivateRabbit
from tests.faults.world import SETTLE, in_parallel
from tests.support.http import ok
from tests.support.waiting import eventually

DOWN = 0.5  # seconds a killed process stays down
EVERY = 1.5  # seconds between two kills
# In this order, each replica in turn: the sessions service, which handles most of the commands, again and again.
KILLED = ("sessions", "members", "sessions", "networks", "sessions", "federation", "gateway", "sessions")
CLIENTS = 10
LINKABLE = 24  # networks made for the link commands


@dataclass
class CommandsRun:
    harness: Harness
    commands: list[Command]
    found: dict[tuple[str, str], list[str]]
    replayed: int  # answers the services gave from the record of an earlier attempt (their logs say so)
    seconds: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="module", params=[1, 2], ids=["one process of each kind", "two replicas of each"])
def replicated(request, tmp_path_factory, rabbit: PrivateRabbit, postgres: PrivatePostgres) -> Iterator[Harness]:
    replicas = request.param
    harness = Harness(tmp_path_factory.mktemp(f"commands-{replicas}"), rabbit.vhost(f"commands-{replicas}"),
                      postgres.create_database(f"commands_{replicas}"), rabbit.management_url,
                      replica_names(replicas, relay=False))
    with harness.running():
        yield harness


@pytest.fixture(scope="module")
def run(replicated: Harness, postgres: PrivatePostgres) -> Iterator[CommandsRun]:
    engine = sqlalchemy.create_engine(replicated.env["KRING_DATABASE_URL"], pool_pre_ping=True)
    started = time.monotonic()
    try:
        world = _world(replicated, engine)
        seconds = {"world": round(time.monotonic() - started, 1)}
        load = CommandLoad(replicated.https, world, threads=CLIENTS)
        load.start()
        try:
            time.sleep(2)  # the clients get going first
            _kill_in_turn(replicated, load)
            load.phase = "after the faults"
            time.sleep(2)
        finally:
            load.stop()
        assert not load.errors, load.errors
        seconds["load"] = round(time.monotonic() - started - seconds["world"], 1)
        found = ledger.made(engine)
    finally:
        engine.dispose()
    replayed = sum(len(re.findall("was applied before; answering from its record", path.read_text(errors="replace")))
                   for path in replicated.logs.glob("*.log"))
    attempts = Counter(len(c.attempts) for c in load.commands)
    print(f"\n{len(replicated.names)} processes; {len(load.commands)} commands, attempts per command "
          f"{dict(sorted(attempts.items()))}; answered from a record: {replayed}; seconds {seconds}")
    yield CommandsRun(replicated, load.commands, found, replayed, seconds)


def _kill_in_turn(harness: Harness, load: CommandLoad) -> None:
    """Every ``EVERY`` seconds the next process of ``KILLED`` (each replica of it in turn) is killed and started
    again at once; the others go on handling the load meanwhile."""
    order = [name for kind in KILLED for name in harness.names if kind_of(name) == kind]
    restarted: list[str] = []
    for name in order:
        harness.wait_ready(name)  # it came back from an earlier kill
        load.phase = f"kill -9 {name}"
        harness.kill9(name)
        time.sleep(DOWN)
        harness.start(name)
        restarted.append(name)
        time.sleep(EVERY - DOWN)
    harness.wait_ready(*restarted)


def _world(harness: Harness, engine: sqlalchemy.Engine) -> CommandWorld:
    with httpx.Client(base_url=harness.http, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
                      timeout=60) as api:
        root = ok(api.post("/v1/networks", json={"name": "Cmd wortel", "level": "national",
                                                 "kind": "community_of_practice", "theme": "zorg"}), 201)["id"]
        author = ok(api.post("/v1/members", json={"name": "Auteur Cmd", "email": "auteur.cmd@example.org",
                                                  "perspectives": ["practitioner"]}), 201)["id"]
        ok(api.put(f"/v1/networks/{root}/members/{author}", json={"role": "participant"}))
        starts = datetime.now(UTC) - timedelta(hours=3)
        session = ok(api.post(f"/v1/networks/{root}/sessions", json={
            "title": "Sessie voor de commando's", "format": "learning_session", "mode": "online",
            "meeting_url": "https://meet.example.org/cmd", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat()}), 201)["id"]
        ok(api.post(f"/v1/sessions/{session}/hold"))
        linkable = in_parallel(lambda n: ok(api.post("/v1/networks", json={
            "name": f"Cmd koppelbaar {n}", "level": "regional", "kind": "werkplaats", "theme": "wonen",
            "parent_id": root}), 201)["id"], list(range(LINKABLE)))
        eventually(lambda: api.post(f"/v1/sessions/{session}/outputs", json={
            "kind": "lesson", "title": "Eerste les", "authors": [author], "visibility": "network"}).status_code == 201,
            "the author's membership reaching the sessions service", SETTLE, interval=0.2)

    def linked() -> bool:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.text(
                "SELECT count(*) FROM federation.links WHERE status = 'active'")).scalar_one() == LINKABLE

    eventually(linked, "the federation service linking every new network with its parent", SETTLE, interval=0.2)
    return CommandWorld(root, session, author, linkable)


# --- the ledger -------------------------------------------------------------------------------------------------


def test_the_faults_met_commands_in_flight(run: CommandsRun):
    assert len(run.commands) > 100
    retried = [c for c in run.commands if len(c.attempts) > 1]
    assert len(retried) >= 5, "the kills made hardly any command try again: the faults missed the load"
    assert {c.kind for c in run.commands} == {"member", "network", "session", "output", "link"}


def test_no_command_was_applied_twice_whatever_process_was_killed(run: CommandsRun):
    problems = ledger.applied_more_than_once(run.commands, run.found)
    assert not problems, "\n".join(problems[:30])


def test_a_command_a_client_was_told_succeeded_was_applied_exactly_once_and_is_what_the_answer_named(run: CommandsRun):
    problems = ledger.confirmed_but_not_applied_once(run.commands, run.found)
    assert not problems, "\n".join(problems[:30])


def test_a_retry_with_the_same_key_gets_the_first_answer_never_a_refusal_nor_another_id(run: CommandsRun):
    problems = ledger.retries_not_answered_as_the_first(run.commands)
    assert not problems, "\n".join(problems[:30])


def test_every_command_succeeded_in_the_end_the_faults_cost_retries_only(run: CommandsRun):
    problems = ledger.unanswered(run.commands)
    assert not problems, "\n".join(problems[:30])


def test_an_attempt_a_fault_made_fail_was_told_to_try_again_not_an_internal_error(run: CommandsRun):
    problems = ledger.internal_errors(run.commands)
    assert not problems, "\n".join(problems[:30])


def test_every_attempt_ended_within_its_deadline(run: CommandsRun):
    problems = ledger.slow_attempts(run.commands)
    assert not problems, "\n".join(problems[:30])
