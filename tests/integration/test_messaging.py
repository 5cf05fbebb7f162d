"""The messaging guarantees of the kit, on real RabbitMQ and PostgreSQL: nothing lost between commit and
publish, redelivery changes nothing, a poison message is parked with its reason and does not hold up
the others, and concurrent RPC plus event dispatch work under eventlet."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid

import kombu
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.catalogue import MemberRegistered
from services.common.events import new_envelope
from services.common.outbox import ConfirmingPublisher, OutgoingMessage
from services.members import models
from services.members.service import MembersService
from tests.integration.helpers import applied_rows, count_rows, dead_letters, ledger_config
from tests.integration.ledger_service import POISON_NAME, CallerService, LedgerService
from tests.support.callers import OPERATOR_WIRE
from tests.support.waiting import eventually


def registered_event(name: str = "Sanne Bakker") -> dict:
    payload = MemberRegistered(
        member_id=str(uuid.uuid4()), revision=1, name=name, email=f"{uuid.uuid4().hex[:8]}@example.org",
        organisation=None, perspectives=["resident"], expertise=[], findable_by_expertise=False,
        named_in_shared_outputs=False,
    )
    return new_envelope(payload, producer="members").to_wire()


def publish_raw(amqp_uri: str, *bodies: dict, routing_key: str = "member.registered") -> None:
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        publisher.publish(OutgoingMessage("members.events", routing_key, body, {}) for body in bodies)
    finally:
        publisher.close()


def test_an_event_committed_by_a_process_killed_before_publishing_is_published_after_restart(
    members_config, container_factory
):
    # A process commits a registration (state + outbox row) and is killed before any relay runs.
    script = textwrap.dedent(f"""
        import os, signal
        from sqlalchemy import create_engine
        from services.common.caller import Caller
        from services.common.db import create_service_engine
        from services.members import handlers
        from services.members.schemas import RegisterMember
        from services.members.unit_of_work import MembersUnitOfWork
        engine = create_service_engine({members_config["DATABASE_URL"]!r}, "members")
        cmd = RegisterMember(name="Killed Before Publish", email="killed@example.org", perspectives=["volunteer"])
        handlers.register_member(Caller.the_operator(), cmd, MembersUnitOfWork(engine, producer="members"))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", script], env=os.environ, capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()
    db = members_config["DATABASE_URL"]
    assert count_rows(db, "members", models.outbox, models.outbox.c.published_at.is_(None)) == 1

    ledger = container_factory(LedgerService, ledger_config(members_config))
    ledger.start()
    container_factory(MembersService, members_config).start()  # its relay finds the row on start

    rows = eventually(lambda: applied_rows(db), what="the ledger to receive member.registered")
    assert [row.name for row in rows] == ["Killed Before Publish"]
    assert count_rows(db, "members", models.outbox, models.outbox.c.published_at.is_(None)) == 0


def test_a_redelivered_or_duplicated_event_changes_nothing(members_config, container_factory):
    # One worker: the queue is processed in order, so once the sentinel is applied, the copies were seen.
    container_factory(LedgerService, ledger_config(members_config, max_workers=1)).start()
    duplicate, sentinel = registered_event("Twice Sent"), registered_event("Sentinel")
    publish_raw(members_config["AMQP_URI"], duplicate, duplicate, duplicate, sentinel)

    db = members_config["DATABASE_URL"]
    eventually(lambda: any(r.name == "Sentinel" for r in applied_rows(db)), what="the sentinel event")
    assert sorted(r.name for r in applied_rows(db)) == ["Sentinel", "Twice Sent"]


def test_an_event_published_while_its_consumer_is_down_waits_in_its_queue(members_config, container_factory):
    ledger = container_factory(LedgerService, ledger_config(members_config))
    ledger.start()
    ledger.stop()  # the queue was declared; the consumer is now gone
    publish_raw(members_config["AMQP_URI"], registered_event("Sent While Down"))

    container_factory(LedgerService, ledger_config(members_config)).start()
    rows = eventually(lambda: applied_rows(members_config["DATABASE_URL"]), what="the queued event")
    assert [r.name for r in rows] == ["Sent While Down"]


def test_an_undecodable_message_is_dead_lettered_with_its_reason_and_the_next_one_flows(
    members_config, container_factory
):
    container_factory(LedgerService, ledger_config(members_config)).start()
    with kombu.Connection(members_config["AMQP_URI"], transport_options={"confirm_publish": True}) as conn:
        producer = conn.Producer()
        producer.publish(b"{not json", exchange="members.events", routing_key="member.registered",
                         content_type="application/json", content_encoding="utf-8")
    publish_raw(members_config["AMQP_URI"], {"type": "member.registered", "hello": 1}, registered_event("After"))

    rows = eventually(lambda: applied_rows(members_config["DATABASE_URL"]), what="the valid event")
    assert [r.name for r in rows] == ["After"]
    parked = eventually(lambda: dead_letters(members_config["AMQP_URI"]), what="dead letters")
    reasons = sorted(m.headers["x-kring-reason"] for m in parked)
    assert len(reasons) == 2
    assert reasons[0].startswith("not an event envelope") and reasons[1].startswith("undecodable message")
    assert all(m.headers["x-kring-queue"].endswith("ledger.on_member_registered") for m in parked)


def test_an_event_of_unknown_version_is_dead_lettered(members_config, container_factory):
    container_factory(LedgerService, ledger_config(members_config)).start()
    future = {**registered_event("From The Future"), "version": 99}
    publish_raw(members_config["AMQP_URI"], future)
    parked = eventually(lambda: dead_letters(members_config["AMQP_URI"]), what="dead letters")
    assert parked[0].headers["x-kring-reason"] == "unknown event member.registered v99"


def test_a_handler_that_always_fails_is_dead_lettered_after_the_delivery_limit(members_config, container_factory):
    container_factory(LedgerService, ledger_config(members_config)).start()
    publish_raw(members_config["AMQP_URI"], registered_event(POISON_NAME), registered_event("Healthy"))

    rows = eventually(lambda: applied_rows(members_config["DATABASE_URL"]), what="the healthy event")
    assert [r.name for r in rows] == ["Healthy"]
    parked = eventually(lambda: dead_letters(members_config["AMQP_URI"]), what="the poison pill", timeout=30)
    assert len(parked) == 1
    assert parked[0].payload["payload"]["name"] == POISON_NAME
    deaths = parked[0].headers["x-death"]
    assert deaths[0]["reason"] == "delivery_limit"
    assert deaths[0]["queue"].endswith("ledger.on_member_registered")


def test_rpc_errors_keep_their_type_field_and_rule(members_config, container_factory):
    from services.common.errors import Conflict, NotFound, ValidationFailed

    container_factory(MembersService, members_config).start()
    with ClusterRpcProxy(members_config, timeout=10) as rpc:
        member = rpc.members.register_member(OPERATOR_WIRE, {"name": "Eva", "email": "eva@example.org",
                                                             "perspectives": ["research"]})
        try:
            rpc.members.register_member(OPERATOR_WIRE, {"name": "Eva 2", "email": "EVA@example.org",
                                                        "perspectives": ["research"]})
            raise AssertionError("duplicate email was accepted")
        except Conflict as exc:
            assert exc.violations == [{"field": "email", "rule": "unique",
                                       "message": "this email address is already registered"}]
        try:
            rpc.members.register_member(OPERATOR_WIRE, {"name": "Eva", "email": "not-an-email",
                                                        "perspectives": ["alien"]})
            raise AssertionError("bad input was accepted")
        except ValidationFailed as exc:
            assert {(v["field"], v["rule"]) for v in exc.violations} == {("email", "value_error"),
                                                                         ("perspectives.0", "enum")}
        try:
            rpc.members.get_member(OPERATOR_WIRE, str(uuid.uuid4()))
            raise AssertionError("unknown member was found")
        except NotFound:
            pass
        assert rpc.members.get_member(OPERATOR_WIRE, member["id"])["email"] == "eva@example.org"


def test_a_call_that_timed_out_waiting_for_its_service_is_not_applied_when_the_service_returns(
        members_config, container_factory):
    """The gateway told its caller 503; the service coming back later must not create the member after all."""
    import eventlet

    from services.common.errors import Unavailable
    from services.common.rpc_client import NamekoProxy, RpcPool

    stopped = container_factory(MembersService, members_config)
    stopped.start()
    stopped.stop()  # its request queue stays, with nobody taking from it
    pool = RpcPool(lambda: NamekoProxy(members_config, 1.0), size=1, timeout=1.0)
    try:
        try:
            pool.call("members", "register_member", OPERATOR_WIRE, {"name": "Te Laat", "email": "laat@example.org",
                                                     "perspectives": ["research"]})
            raise AssertionError("a call to a stopped service was answered")
        except Unavailable:
            pass
        eventlet.sleep(0.5)  # the request's time is up
        container_factory(MembersService, members_config).start()
        # Requests are taken in order: once this later one is answered, the earlier one was taken too, if it
        # was still there.
        pool.call("members", "register_member", OPERATOR_WIRE, {"name": "Op Tijd", "email": "optijd@example.org",
                                                 "perspectives": ["research"]}, timeout=10.0)
        eventlet.sleep(0.5)
    finally:
        pool.close()
    assert count_rows(members_config["DATABASE_URL"], "members", models.members) == 1


def test_concurrent_rpc_calls_and_event_dispatch_all_complete(members_config, container_factory):
    container_factory(MembersService, members_config).start()
    container_factory(CallerService, members_config).start()
    container_factory(LedgerService, ledger_config(members_config)).start()
    with ClusterRpcProxy(members_config, timeout=60) as rpc:
        ids = rpc.caller.register_many(40, "Parallel")
    assert len(set(ids)) == 40
    rows = eventually(lambda: len(applied_rows(members_config["DATABASE_URL"])) == 40 and
                      applied_rows(members_config["DATABASE_URL"]), what="40 events applied")
    assert {r.member_id for r in rows} == set(ids)



def test_the_correlation_id_of_a_call_follows_it_into_its_events_and_their_handlers(members_config, container_factory):
    container_factory(MembersService, members_config).start()
    container_factory(LedgerService, ledger_config(members_config)).start()
    with ClusterRpcProxy(members_config, timeout=10, context_data={"correlation_id": "req-4711"}) as rpc:
        rpc.members.register_member(OPERATOR_WIRE, {"name": "Traced", "email": "traced@example.org",
                                                    "perspectives": ["client"]})
    rows = eventually(lambda: applied_rows(members_config["DATABASE_URL"]), what="the traced event")
    assert (rows[0].correlation_id, rows[0].handler_correlation_id) == ("req-4711", "req-4711")
