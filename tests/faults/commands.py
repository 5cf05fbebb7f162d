"""Commands under faults: clients that make changes through the admin API, each with an ``Idempotency-Key`` of its
own, and retry them with the same key (on another gateway replica when there are two) until they get an answer;
and the checks of what must hold afterwards.

Each command makes one thing with a name no other command uses (a member's e-mail, a network's or a session's name,
an output's title, a link between two given networks), so the ledger finds what each command made by looking it up
in the services' tables, and counts it: at most once always, exactly once where the client was told it succeeded.

The checks are plain functions from what was sent and what was found to a list of problems, so that
``test_ledger_checks_can_fail.py`` can point each at a broken state.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy

from tests.faults.harness import OPERATOR_TOKEN, RPC_TIMEOUT

CLIENT_TIMEOUT = 30.0
RETRY_PAUSE = 0.5  # seconds between a client's attempts at one command
GIVE_UP_AFTER = 45.0  # a command still unanswered after this long is left as it is (at most once, then)
SUCCESS = frozenset({200, 201})
RETRIED = frozenset({429, 502, 503, 504})  # "try again": the client does, with the same key


@dataclass
class Attempt:
    gateway: str
    started: float
    ended: float | None = None
    status: str = ""  # the HTTP status, or the transport error's name
    made_id: str | None = None  # the id in a successful answer


@dataclass
class Command:
    kind: str  # member, network, session, output, link
    name: str  # what makes it findable: an e-mail, a name, a title, "requester>target"
    method: str
    path: str
    body: dict[str, Any]
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: list[Attempt] = field(default_factory=list)
    phase: str = ""

    @property
    def succeeded(self) -> bool:
        return any(a.status in {str(s) for s in SUCCESS} for a in self.attempts)

    @property
    def made_ids(self) -> set[str]:
        return {a.made_id for a in self.attempts if a.made_id}


@dataclass
class CommandWorld:
    """What the commands need to exist first: a root network, a held session in it, a member of it."""

    root: str
    session: str
    author: str
    link_networks: list[str]


# Outputs most of all: the sessions service handles the most commands and is killed the most (their doubles were
# what was first seen), but every service's commands are there.
MIX = ("output", "session", "output", "member", "output", "network", "output", "link", "session", "output")
ID_FIELD = {"member": "id", "network": "id", "session": "id", "output": "id", "link": "link_id"}


class CommandLoad:
    """``threads`` clients sending commands of every kind in turn, each until answered (or given up)."""

    def __init__(self, gateways: list[str], world: CommandWorld, *, threads: int = 4, seed: int = 17) -> None:
        self.gateways = gateways
        self.world = world
        self.threads = threads
        self.rng = random.Random(seed)
        self.commands: list[Command] = []
        self.errors: list[str] = []
        self.phase = "warm-up"
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._serial = itertools.count(1)
        self._links = iter(zip(world.link_networks, world.link_networks[1:], strict=False))
        self._running: list[threading.Thread] = []

    # --- what the clients send ---------------------------------------------------------------------------

    def next_command(self) -> Command:
        n = next(self._serial)
        kind = MIX[n % len(MIX)]
        w = self.world
        if kind == "member":
            email = f"cmd-{n}@example.org"
            return Command(kind, email, "POST", "/v1/members",
                           {"name": f"Lid {n}", "email": email, "perspectives": ["practitioner"]})
        if kind == "network":
            name = f"Cmd netwerk {n}"
            return Command(kind, name, "POST", "/v1/networks", {"name": name, "level": "local",
                                                              "kind": "learning_circle", "theme": "zorg",
                                                              "parent_id": w.root})
        if kind == "session":
            title = f"Cmd sessie {n}"
            starts = datetime.now(UTC) + timedelta(days=7 + n % 30)
            return Command(kind, title, "POST", f"/v1/networks/{w.root}/sessions", {
                "title": title, "format": "knowledge_cafe", "mode": "online",
                "meeting_url": "https://meet.example.org/cmd", "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat()})
        if kind == "output":
            title = f"Cmd les {n}"
            return Command(kind, title, "POST", f"/v1/sessions/{w.session}/outputs", {
                "kind": "lesson", "title": title, "authors": [w.author], "visibility": "linked", "themes": ["zorg"]})
        with self._lock:
            pair = next(self._links, None)
        if pair is None:
            return self.next_command()  # every planned link has been asked for
        requester, target = pair
        return Command("link", f"{requester}>{target}", "POST", "/v1/links",
                       {"requester_network_id": requester, "target_network_id": target})

    def send(self, command: Command, pause: Callable[[float], None]) -> None:
        """Until answered: each attempt on the next gateway, with the same key; 503s and lost connections again."""
        headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Idempotency-Key": command.key}
        started = time.monotonic()
        for attempt_number in itertools.count():
            gateway = self.gateways[(attempt_number + int(command.key[:8], 16)) % len(self.gateways)]
            attempt = Attempt(gateway, time.monotonic())
            command.attempts.append(attempt)
            try:
                response = httpx.request(command.method, f"{gateway}{command.path}", json=command.body,
                                         headers=headers, timeout=CLIENT_TIMEOUT)
            except httpx.HTTPError as exc:
                attempt.status = type(exc).__name__
            else:
                attempt.status = str(response.status_code)
                if response.status_code in SUCCESS:
                    attempt.made_id = response.json().get(ID_FIELD[command.kind])
                    attempt.ended = time.monotonic()
                    return
                if response.status_code not in RETRIED:
                    attempt.ended = time.monotonic()
                    return  # refused: the ledger says whether that was right
            attempt.ended = time.monotonic()
            if time.monotonic() - started > GIVE_UP_AFTER:
                return
            pause(RETRY_PAUSE)

    # --- running ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        for i in range(self.threads):
            thread = threading.Thread(target=self._client, name=f"commands-{i}", daemon=True)
            thread.start()
            self._running.append(thread)

    def _client(self) -> None:
        try:
            while not self._stop.is_set():
                command = self.next_command()
                command.phase = self.phase
                with self._lock:
                    self.commands.append(command)
                self.send(command, time.sleep)
                self._stop.wait(self.rng.uniform(0.02, 0.1))
        except Exception as exc:  # a bug in the load itself must fail the test, not vanish with its thread
            self.errors.append(f"{type(exc).__name__}: {exc}")
            raise

    def stop(self) -> None:
        self._stop.set()
        for thread in self._running:
            thread.join(timeout=GIVE_UP_AFTER + CLIENT_TIMEOUT + 10)
        assert not any(t.is_alive() for t in self._running), "a command client did not stop: a call hangs"


# --- what the services hold ------------------------------------------------------------------------------------

LOOKUPS = {
    "member": "SELECT email, id FROM members.members WHERE email LIKE 'cmd-%'",
    "network": "SELECT name, id FROM networks.networks WHERE name LIKE 'Cmd netwerk %'",
    "session": "SELECT title, id FROM sessions.sessions WHERE title LIKE 'Cmd sessie %'",
    "output": "SELECT title, id FROM sessions.outputs WHERE title LIKE 'Cmd les %'",
    "link": "SELECT requester || '>' || target, id FROM federation.links",
}


def made(engine: sqlalchemy.Engine) -> dict[tuple[str, str], list[str]]:
    """(kind, name) -> the ids of everything the services hold under that name."""
    found: dict[tuple[str, str], list[str]] = {}
    with engine.connect() as conn:
        for kind, query in LOOKUPS.items():
            for name, made_id in conn.execute(sqlalchemy.text(query)):
                found.setdefault((kind, name), []).append(made_id)
    return found


# --- the checks ------------------------------------------------------------------------------------------------


def applied_more_than_once(commands: Iterable[Command], found: dict[tuple[str, str], list[str]]) -> list[str]:
    """No command was applied twice: each name is held at most once."""
    return [f"{c.kind} command {c.name!r} ({len(c.attempts)} attempts) applied {len(ids)} times: {ids}"
            for c in commands if len(ids := found.get((c.kind, c.name), [])) > 1]


def confirmed_but_not_applied_once(commands: Iterable[Command],
                                   found: dict[tuple[str, str], list[str]]) -> list[str]:
    """A command the client was told succeeded was applied exactly once, and is what the answer named."""
    problems = []
    for c in commands:
        if not c.succeeded:
            continue
        ids = found.get((c.kind, c.name), [])
        if len(ids) != 1:
            problems.append(f"{c.kind} command {c.name!r} succeeded but is held {len(ids)} times")
        elif c.made_ids != set(ids):
            problems.append(f"{c.kind} command {c.name!r} answered {sorted(c.made_ids)} but made {ids}")
    return problems


def retries_not_answered_as_the_first(commands: Iterable[Command]) -> list[str]:
    """A retry of a command that was applied gets the first answer: never a refusal (409 "already exists") nor
    another id."""
    problems = []
    for c in commands:
        if len(c.made_ids) > 1:
            problems.append(f"{c.kind} command {c.name!r} was answered with different ids: {sorted(c.made_ids)}")
        final = c.attempts[-1].status if c.attempts else ""
        if final.isdigit() and int(final) not in SUCCESS | RETRIED:
            problems.append(f"{c.kind} command {c.name!r} ended {final} after {len(c.attempts)} attempts "
                            f"({[a.status for a in c.attempts]})")
    return problems


def unanswered(commands: Iterable[Command]) -> list[str]:
    """Every command was answered in the end: the faults cost retries, not changes."""
    return [f"{c.kind} command {c.name!r} never succeeded: {[a.status for a in c.attempts]}"
            for c in commands if not c.succeeded]


def internal_errors(commands: Iterable[Command]) -> list[str]:
    """A fault made an attempt fail as "try again" (503), never as an internal error."""
    return [f"{c.kind} command {c.name!r} during {c.phase}: an attempt ended 500"
            for c in commands if any(a.status == "500" for a in c.attempts)]


def slow_attempts(commands: Iterable[Command], budget: float = 3 * RPC_TIMEOUT + 3.0) -> list[str]:
    """Every attempt ended within its deadline (a few service calls, each within the gateway's RPC timeout)."""
    return [f"{c.kind} command {c.name!r}: an attempt on {a.gateway} took {a.ended - a.started:.1f} s ({a.status})"
            for c in commands for a in c.attempts if a.ended is not None and a.ended - a.started > budget]
