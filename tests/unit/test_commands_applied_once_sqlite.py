"""A command applied once per request id, on a real (SQLite) unit of work: the members service's register and
update handlers run through :func:`services.common.commands.run_command` as the kit runs them for RPC."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.common.commands import CommandRequest, run_command
from services.common.errors import Conflict, NotFound
from services.common.vocabulary import Perspective
from services.members import handlers
from services.members.domain import Member
from services.members.models import members, outbox, processed_commands
from services.members.schemas import IssueToken, RegisterMember, UpdateMember
from services.members.unit_of_work import MembersUnitOfWork
from tests.support.callers import OPERATOR
from tests.support.databases import count_rows


@pytest.fixture
def engine(migrated_engine: Callable[[str], Engine]) -> Engine:
    return migrated_engine("members")


def registration(email: str = "ans@example.org", name: str = "Ans") -> RegisterMember:
    return RegisterMember(name=name, email=email, perspectives=[Perspective.RESIDENT])


def request(request_id: str = "req-1", *args: Any) -> CommandRequest:
    return CommandRequest.of(request_id, "register_member", args or ("ans@example.org",), {})


class Calls:
    """Counts how often the entrypoint really ran, as opposed to being answered from the record."""

    def __init__(self) -> None:
        self.count = 0

    def register(self, uow: MembersUnitOfWork, cmd: RegisterMember) -> Callable[[], Any]:
        def apply() -> Any:
            self.count += 1
            return handlers.register_member(OPERATOR, cmd, uow).model_dump(mode="json")
        return apply


def uow_of(engine: Engine, woken: list[bool] | None = None) -> MembersUnitOfWork:
    return MembersUnitOfWork(engine, producer="members",
                             on_commit=(lambda: woken.append(True)) if woken is not None else None)


def test_a_repeated_request_is_answered_from_its_record_without_acting_again(engine: Engine) -> None:
    calls = Calls()
    uow = uow_of(engine)
    first = run_command(uow, request(), calls.register(uow, registration()))
    uow = uow_of(engine)
    again = run_command(uow, request(), calls.register(uow, registration()))

    assert again == first and calls.count == 1
    assert count_rows(engine, members) == 1
    assert count_rows(engine, outbox) == 1  # one member.registered event, not two


def test_the_record_commits_with_the_effect_and_its_events_in_one_transaction(engine: Engine) -> None:
    woken: list[bool] = []
    uow = uow_of(engine, woken)
    result = run_command(uow, request(), lambda: handlers.register_member(OPERATOR, registration(),
                                                                          uow).model_dump(mode="json"))

    with engine.connect() as conn:
        record = conn.execute(select(processed_commands)).one()
    assert (record.request_id, record.command) == ("req-1", "register_member")
    assert record.outcome == {"result": result}
    assert count_rows(engine, members) == 1 and count_rows(engine, outbox) == 1
    assert woken == [True]  # the outbox relay is woken once, after the one commit


def test_a_request_id_reused_for_another_request_is_refused_naming_the_key(engine: Engine) -> None:
    uow = uow_of(engine)
    run_command(uow, request("req-1", "ans@example.org"),
                lambda: handlers.register_member(OPERATOR, registration(), uow).model_dump(mode="json"))
    other = uow_of(engine)

    with pytest.raises(Conflict) as refused:
        run_command(other, request("req-1", "bert@example.org"),
                    lambda: handlers.register_member(OPERATOR, registration("bert@example.org"), other))

    assert refused.value.violations[0]["field"] == "Idempotency-Key"
    assert refused.value.violations[0]["rule"] == "same_request_for_same_key"
    assert count_rows(engine, members) == 1


def test_a_command_that_failed_before_committing_leaves_no_record_and_can_be_tried_again(engine: Engine) -> None:
    uow = uow_of(engine)
    with pytest.raises(NotFound):
        run_command(uow, request("req-2"),
                    lambda: handlers.update_member(OPERATOR, "no-such-member", UpdateMember(name="Bert"), uow))
    assert count_rows(engine, processed_commands) == 0

    calls = Calls()
    uow = uow_of(engine)
    run_command(uow, request("req-2"), calls.register(uow, registration()))
    assert calls.count == 1 and count_rows(engine, members) == 1


def test_a_command_that_changed_nothing_is_not_recorded(engine: Engine) -> None:
    uow = uow_of(engine)
    assert run_command(uow, request("req-3"), lambda: "read only") == "read only"
    assert count_rows(engine, processed_commands) == 0


def test_a_block_left_without_commit_is_undone_while_an_earlier_committed_block_stays(engine: Engine) -> None:
    uow = uow_of(engine)

    def apply() -> str:
        handlers.register_member(OPERATOR, registration("first@example.org"), uow)  # commits its block
        with uow:  # a second block that is left without committing
            uow.members.add(Member.register("left-out", now=datetime.now(UTC), name="Left", email="left@example.org",
                                            organisation=None, perspectives=[Perspective.RESIDENT], expertise=[],
                                            findable_by_expertise=False, named_in_shared_outputs=False))
        return "done"

    run_command(uow, request("req-4"), apply)

    with engine.connect() as conn:
        emails = list(conn.execute(select(members.c.email)).scalars())
    assert emails == ["first@example.org"]
    assert count_rows(engine, processed_commands) == 1


def test_a_refusal_after_committed_work_is_recorded_and_replayed_with_its_type_and_fields(engine: Engine) -> None:
    uow = uow_of(engine)

    def apply() -> None:
        handlers.register_member(OPERATOR, registration(), uow)
        handlers.register_member(OPERATOR, registration(), uow)  # the same address again: a Conflict after a commit

    with pytest.raises(Conflict) as first:
        run_command(uow, request("req-5"), apply)
    again_uow = uow_of(engine)
    with pytest.raises(Conflict) as again:
        run_command(again_uow, request("req-5"), lambda: pytest.fail("a recorded command ran again"))

    assert again.value.args == first.value.args
    assert count_rows(engine, members) == 1


def test_without_a_commit_from_the_handler_nothing_of_the_command_is_kept(engine: Engine) -> None:
    uow = uow_of(engine)

    def apply() -> None:
        handlers.register_member(OPERATOR, registration(), uow)
        raise RuntimeError("a bug after the handler committed")

    with pytest.raises(RuntimeError):
        run_command(uow, request("req-6"), apply)

    # Not a refusal: the whole command is rolled back (no half-applied request), and a retry applies it.
    assert [count_rows(engine, table) for table in (members, processed_commands, outbox)] == [0, 0, 0]


def test_a_secret_in_the_answer_is_never_kept_and_a_repeat_is_refused_naming_what_was_made(engine: Engine) -> None:
    uow = uow_of(engine)
    member = run_command(uow, request("req-7"),
                         lambda: handlers.register_member(OPERATOR, registration(), uow).model_dump(mode="json"))
    issue = CommandRequest.of("req-8", "issue_token", (member["id"],), {}, shown_once=("token",))
    uow = uow_of(engine)
    issued = run_command(uow, issue, lambda: handlers.issue_token(OPERATOR, member["id"], IssueToken(label="app"), uow)
                         .model_dump(mode="json"))

    with engine.connect() as conn:
        kept = conn.execute(select(processed_commands.c.outcome)
                            .where(processed_commands.c.request_id == "req-8")).scalar_one()
    assert issued["token"].startswith("krm_") and issued["token"] not in json.dumps(kept)
    uow = uow_of(engine)
    with pytest.raises(Conflict) as refused:
        run_command(uow, issue, lambda: pytest.fail("a recorded command ran again"))
    assert refused.value.violations[0]["rule"] == "shown_once"
    assert issued["token_id"] in refused.value.message  # the client can revoke what the first attempt made


def test_erasing_a_member_forgets_the_kept_answers_that_mention_them(engine: Engine) -> None:
    uow = uow_of(engine)
    ans = run_command(uow, request("req-9"),
                      lambda: handlers.register_member(OPERATOR, registration(), uow).model_dump(mode="json"))
    uow = uow_of(engine)
    run_command(uow, CommandRequest.of("req-10", "register_member", ("bert",),
                                       {}),
                lambda: handlers.register_member(OPERATOR, registration("bert@example.org", "Bert"),
                                                 uow).model_dump(mode="json"))
    uow = uow_of(engine)
    run_command(uow, CommandRequest.of("req-11", "erase_member", (ans["id"],), {}),
                lambda: handlers.erase_member(OPERATOR, ans["id"], uow).model_dump(mode="json"))

    with engine.connect() as conn:
        kept = {row.request_id: row.outcome for row in conn.execute(select(processed_commands))}
    assert "req-9" not in kept  # Ans's registration, with her name and address: gone
    assert "req-10" in kept  # Bert's stays
    assert not any("ans@example.org" in json.dumps(outcome) for outcome in kept.values())
