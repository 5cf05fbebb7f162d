"""Each ledger check, shown failing when the guarantee it checks is broken on purpose.

A ledger that cannot fail proves nothing. A small federation (a parent with two children, one of them linked
on to a peer by a policy that admits only ``linked``) and a correct state are built here by hand; each test
breaks that state in one way (a copy twice, a copy missing, a retracted output still shared, a private output
in a foreign feed, an unpublished outbox row, a dead-letter queue without the poison, a call past its
deadline...) and requires the check concerned to say so, while the correct state passes every check.
"""

from __future__ import annotations

import copy
from collections import defaultdict

import pytest

from tests.faults import ledger
from tests.faults.bus import POISON_OUTPUT_ID
from tests.faults.load import Call
from tests.faults.world import Policy

HOPS = [("p", "a", Policy()), ("a", "p", Policy()), ("p", "b", Policy()), ("b", "p", Policy()),
        ("b", "x", Policy(frozenset({"linked"}))), ("x", "b", Policy())]
FEDERATION = ledger.Expected("o-fed", "a", "federation", ("zorg",), False)
PRIVATE = ledger.Expected("o-private", "a", "network", ("zorg",), False)
PUBLIC = ledger.Expected("o-public", "b", "public", ("wonen",), False)
RETRACTED = ledger.Expected("o-gone", "p", "", (), True)
EXPECTED = [FEDERATION, PRIVATE, PUBLIC, RETRACTED]


def correct() -> ledger.Observed:
    seen = ledger.Observed(deliveries=defaultdict(dict))
    for output_id, networks, tombstoned in (("o-fed", ("p", "b"), False), ("o-public", ("p", "a", "public"), False),
                                            ("o-gone", ("a", "b"), True)):
        for network in networks:
            seen.deliveries[output_id][network] = tombstoned
            seen.shared[output_id, network] = 1
            if tombstoned:
                seen.retracted_log.add((output_id, network))
    seen.known = {o.output_id: {"retracted": o.retracted, "has_copy": not o.retracted, "source": "sessions",
                                "title": o.output_id} for o in EXPECTED}
    seen.active_links = [("p", "a"), ("p", "b"), ("b", "x")]
    return seen


def dead(reason_headers: dict, output_id: str = POISON_OUTPUT_ID, event: str = "output.published") -> tuple:
    return reason_headers, {"type": event, "payload": {"output_id": output_id}}


def every_check(observed: ledger.Observed) -> list[str]:
    return (ledger.audience_problems(EXPECTED, observed, HOPS, set()) + ledger.private_problems(EXPECTED, observed)
            + ledger.retraction_problems(EXPECTED, observed) + ledger.link_problems(HOPS, observed)
            + ledger.lost_problems(EXPECTED, ["o-fed"], observed))


def test_the_correct_state_passes_every_check():
    assert every_check(correct()) == []
    assert ledger.outbox_problems({"sessions": 0, "federation": 0}) == []
    assert ledger.dead_letter_problems([dead({"x-death": [{"reason": "delivery_limit", "queue": "q1"}]}),
                                        dead({"x-kring-reason": "r", "x-kring-queue": "q2"})],
                                       POISON_OUTPUT_ID, {"q1", "q2"}) == []
    assert ledger.deadline_problems([Call("POST output", "kill -9 gateway", 0.0, 7.0, ended=6.5, outcome="503")]) == []


def test_the_oracle_follows_policies_and_blocks():
    # x only hears linked outputs of b; federation ones stop at b; a blocked b passes nothing on.
    assert ledger.audience("a", "federation", ("zorg",), HOPS, set()) == {"p", "b"}
    assert ledger.audience("b", "linked", (), HOPS, set()) == {"p", "x"}
    assert ledger.audience("a", "public", (), HOPS, {"p"}) == {"public"}
    assert ledger.audience("a", "network", (), HOPS, set()) == set()
    assert ledger.audience("b", "public", (), HOPS, {"b"}) == set()


def broken(change) -> ledger.Observed:
    seen = correct()
    change(seen)
    return seen


@pytest.mark.parametrize("what, change, says", [
    ("a copy twice in one feed", lambda s: s.shared.update({("o-fed", "p"): 1}), "shared 2 times into the feed of p"),
    ("a copy missing", lambda s: s.deliveries["o-fed"].pop("b"), "missing from 1 feeds"),
    ("a copy outside the audience", lambda s: s.deliveries["o-fed"].update({"x": False}), "outside its audience"),
    ("a public output not in the public feed", lambda s: s.deliveries["o-public"].pop("public"), "missing"),
    ("a standing output tombstoned", lambda s: s.deliveries["o-fed"].update({"p": True}), "missing"),
])
def test_the_audience_check_finds(what, change, says):
    problems = ledger.audience_problems(EXPECTED, broken(change), HOPS, set())
    assert any(says in p for p in problems), (what, problems)


def test_the_private_output_check_finds_a_private_output_in_a_foreign_feed():
    problems = ledger.private_problems(EXPECTED, broken(lambda s: s.deliveries["o-private"].update({"p": False})))
    assert problems and "private output o-private" in problems[0]


@pytest.mark.parametrize("what, change, says", [
    ("a copy still shared", lambda s: s.deliveries["o-gone"].update({"b": False}), "still shared with b"),
    ("a recipient never told", lambda s: s.retracted_log.discard(("o-gone", "a")), "never told"),
    ("the copy kept", lambda s: s.known["o-gone"].update({"has_copy": True}), "still has its copy"),
    ("not retracted at all", lambda s: s.known["o-gone"].update({"retracted": False}), "is not retracted"),
])
def test_the_retraction_check_finds(what, change, says):
    problems = ledger.retraction_problems(EXPECTED, broken(change))
    assert any(says in p for p in problems), (what, problems)


def test_the_lost_output_check_finds_an_output_the_federation_never_heard_of_and_a_confirmed_one_that_is_gone():
    observed = broken(lambda s: s.known.pop("o-fed"))
    problems = ledger.lost_problems(EXPECTED, ["o-fed", "o-confirmed-then-lost"], observed)
    assert any("never heard of output o-fed" in p for p in problems), problems
    assert any("o-confirmed-then-lost was confirmed" in p for p in problems), problems


@pytest.mark.parametrize("what, change, says", [
    ("a link twice", lambda s: s.active_links.append(("a", "p")), "2 active links"),
    ("a link missing", lambda s: s.active_links.remove(("b", "x")), "is not active"),
    ("a link too many", lambda s: s.active_links.append(("a", "x")), "unplanned"),
])
def test_the_link_check_finds(what, change, says):
    problems = ledger.link_problems(HOPS, broken(change))
    assert any(says in p for p in problems), (what, problems)


def test_the_outbox_check_finds_an_unpublished_row():
    assert ledger.outbox_problems({"sessions": 0, "federation": 1}) == ["federation: 1 unpublished outbox rows"]


@pytest.mark.parametrize("what, letters, says", [
    ("no poison", [], "from [], not once"),
    ("the poison twice from one queue", [dead({"x-kring-reason": "r", "x-kring-queue": "q1"}),
                                         dead({"x-kring-reason": "r", "x-kring-queue": "q1"})], "not once"),
    ("no reason", [dead({"x-kring-queue": "q1"})], "without a reason"),
    ("a real event too", [dead({"x-kring-reason": "r", "x-kring-queue": "q1"}),
                          dead({"x-kring-reason": "boom", "x-kring-queue": "q1"}, "o-real")],
     "event was dead-lettered from q1 and never applied"),
])
def test_the_dead_letter_check_finds(what, letters, says):
    problems = ledger.dead_letter_problems(copy.deepcopy(letters), POISON_OUTPUT_ID, {"q1"})
    assert any(says in p for p in problems), (what, problems)


def test_the_deadline_check_finds_a_call_past_its_deadline_and_one_that_never_ended():
    calls = [Call("POST output", "RabbitMQ restart", 0.0, 7.0, ended=31.0, outcome="503"),
             Call("gRPC PublishOutput", "kill -9 gateway", 0.0, 15.0)]
    problems = ledger.deadline_problems(calls)
    assert len(problems) == 2 and "took 31.0 s" in problems[0] and "never ended" in problems[1], problems


def test_the_internal_failure_check_finds_a_500_and_an_internal_but_not_a_503():
    calls = [Call("POST output", "PostgreSQL restart", 0.0, 7.0, ended=1.0, outcome="500"),
             Call("gRPC PublishOutput", "PostgreSQL restart", 0.0, 7.0, ended=1.0, outcome="INTERNAL"),
             Call("POST output", "kill -9 gateway", 0.0, 7.0, ended=1.0, outcome="503"),
             Call("gRPC PublishOutput", "RabbitMQ restart", 0.0, 7.0, ended=1.0, outcome="UNAVAILABLE")]
    problems = ledger.internal_failure_problems(calls)
    assert len(problems) == 2 and "500" in problems[0] and "INTERNAL" in problems[1], problems


def test_the_reason_is_read_from_kring_or_from_the_broker():
    assert ledger.reason_of({"x-kring-reason": "unprocessable_event: bad"}) == "unprocessable_event: bad"
    assert "delivery_limit" in ledger.reason_of({"x-death": [{"reason": "delivery_limit", "queue": "q"}]})
    assert ledger.reason_of({}) == ""


# --- the commands' ledger (tests/faults/commands.py) -----------------------------------------------------------


def _commands() -> tuple[list, dict]:
    from tests.faults.commands import Attempt, Command

    def attempt(status: str, made_id: str | None = None) -> Attempt:
        return Attempt("http://gw", 0.0, 1.0, status, made_id)

    sent = [
        Command("output", "Les 1", "POST", "/p", {}, attempts=[attempt("503"), attempt("201", "o-1")]),
        Command("member", "a@example.org", "POST", "/p", {}, attempts=[attempt("ConnectError"),
                                                                      attempt("201", "m-1")]),
        Command("network", "Net", "POST", "/p", {}, attempts=[attempt("201", "n-1")]),
    ]
    found = {("output", "Les 1"): ["o-1"], ("member", "a@example.org"): ["m-1"], ("network", "Net"): ["n-1"]}
    return sent, found


def every_command_check(sent: list, found: dict) -> list[str]:
    from tests.faults import commands

    return (commands.applied_more_than_once(sent, found) + commands.confirmed_but_not_applied_once(sent, found)
            + commands.retries_not_answered_as_the_first(sent) + commands.unanswered(sent)
            + commands.internal_errors(sent) + commands.slow_attempts(sent))


def test_the_correct_commands_pass_every_command_check():
    assert every_command_check(*_commands()) == []


def test_a_command_applied_twice_is_reported():
    from tests.faults import commands

    sent, found = _commands()
    found[("output", "Les 1")] = ["o-1", "o-1-twin"]
    assert commands.applied_more_than_once(sent, found) == [
        "output command 'Les 1' (2 attempts) applied 2 times: ['o-1', 'o-1-twin']"]
    assert commands.confirmed_but_not_applied_once(sent, found)


def test_a_confirmed_command_that_is_missing_or_is_another_thing_is_reported():
    from tests.faults import commands

    sent, found = _commands()
    del found[("member", "a@example.org")]
    found[("network", "Net")] = ["n-other"]
    assert len(commands.confirmed_but_not_applied_once(sent, found)) == 2


def test_a_retry_refused_or_answered_with_another_id_is_reported():
    from tests.faults import commands
    from tests.faults.commands import Attempt

    sent, _ = _commands()
    sent[0].attempts.append(Attempt("http://gw", 0.0, 1.0, "201", "o-other"))
    sent[1].attempts.append(Attempt("http://gw", 0.0, 1.0, "409"))
    assert len(commands.retries_not_answered_as_the_first(sent)) == 2


def test_a_command_never_answered_an_internal_error_and_a_slow_attempt_are_reported():
    from tests.faults import commands
    from tests.faults.commands import Attempt

    sent, _ = _commands()
    sent[2].attempts = [Attempt("http://gw", 0.0, 40.0, "500")]
    assert commands.unanswered(sent) and commands.internal_errors(sent) and commands.slow_attempts(sent)
