"""Commands applied once, on real RabbitMQ and PostgreSQL: an RPC request the broker delivers again (the service
died after committing, before acknowledging) is answered from the record of the first delivery, even when both
copies are handled at the same moment, and a request id belongs to its own call only."""

from __future__ import annotations

import json
import uuid
from typing import Any

import eventlet
import kombu
from nameko.standalone.rpc import ClusterRpcProxy

from services.members import models
from services.members.service import MembersService
from tests.integration.helpers import count_rows, ledger_config
from tests.integration.ledger_service import IntakeService
from tests.support.callers import OPERATOR_WIRE

RPC_EXCHANGE = "nameko-rpc"


class RawRpcClient:
    """Publishes nameko RPC requests by hand, so a test can send the very same request twice, as the broker
    redelivers it: same correlation id, same headers, same body."""

    def __init__(self, amqp_uri: str) -> None:
        self.connection = kombu.Connection(amqp_uri)
        self.exchange = kombu.Exchange(RPC_EXCHANGE, type="topic", durable=True)
        self.reply_queue = kombu.Queue(f"rpc.reply-test-{uuid.uuid4().hex}", exchange=self.exchange,
                                       routing_key=None, exclusive=True, auto_delete=True)
        self.reply_queue.routing_key = self.reply_queue.name
        self.replies: list[dict[str, Any]] = []
        self.consumer = kombu.Consumer(self.connection, [self.reply_queue], callbacks=[self._on_reply],
                                       accept=["json"])
        self.consumer.consume()

    def _on_reply(self, body: Any, message: kombu.Message) -> None:
        self.replies.append({"correlation_id": message.properties.get("correlation_id"), **body})
        message.ack()

    def send(self, service: str, method: str, args: list[Any], *, correlation_id: str,
             headers: dict[str, Any] | None = None) -> None:
        producer = kombu.Producer(self.connection)
        producer.publish(json.dumps({"args": args, "kwargs": {}}), exchange=self.exchange,
                         routing_key=f"{service}.{method}", content_type="application/json",
                         content_encoding="utf-8", reply_to=self.reply_queue.name, correlation_id=correlation_id,
                         headers=headers or {}, declare=[self.exchange])

    def wait_for_replies(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = eventlet.hubs.get_hub().clock() + timeout
        while len(self.replies) < count:
            remaining = deadline - eventlet.hubs.get_hub().clock()
            assert remaining > 0, f"{len(self.replies)} of {count} replies within {timeout} s: {self.replies}"
            try:
                self.connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                pass
        return self.replies

    def close(self) -> None:
        self.connection.release()


def registration(email: str) -> dict[str, Any]:
    return {"name": "Ans de Vries", "email": email, "perspectives": ["resident"]}


def test_a_command_request_delivered_again_is_applied_once_and_answered_as_the_first_time(members_config,
                                                                                         container_factory):
    container_factory(MembersService, members_config).start()
    client = RawRpcClient(members_config["AMQP_URI"])
    try:
        client.send("members", "register_member", [OPERATOR_WIRE, registration("ans@example.org")],
                    correlation_id="delivery-1")
        first = client.wait_for_replies(1)[0]
        client.send("members", "register_member", [OPERATOR_WIRE, registration("ans@example.org")],
                    correlation_id="delivery-1")
        again = client.wait_for_replies(2)[1]
    finally:
        client.close()

    assert first["error"] is None and again["error"] is None, (first, again)
    assert again["result"] == first["result"]
    assert count_rows(members_config["DATABASE_URL"], "members", models.members) == 1
    assert count_rows(members_config["DATABASE_URL"], "members", models.outbox) == 1  # one member.registered


def test_two_copies_of_a_request_handled_at_once_apply_it_once(members_config, container_factory):
    container_factory(MembersService, members_config).start()
    client = RawRpcClient(members_config["AMQP_URI"])
    try:
        for _ in range(4):  # four workers take the four copies together; one applies, three wait and replay
            client.send("members", "register_member", [OPERATOR_WIRE, registration("samen@example.org")],
                        correlation_id="at-once", headers={"nameko.request_id": "key-at-once"})
        replies = client.wait_for_replies(4)
    finally:
        client.close()

    assert [r["error"] for r in replies] == [None] * 4, replies
    assert len({r["result"]["id"] for r in replies}) == 1
    assert count_rows(members_config["DATABASE_URL"], "members", models.members) == 1


def test_the_callers_request_id_decides_what_is_a_repeat(members_config, container_factory):
    """Two calls with one key are one request (a client retrying); a new key is a new request, even for the
    same body; and the same key for another body is refused, naming the key."""
    from services.common.errors import Conflict

    container_factory(MembersService, members_config).start()
    with ClusterRpcProxy(members_config, timeout=10, context_data={"request_id": "client-key-1"}) as rpc:
        a = rpc.members.register_member(OPERATOR_WIRE, registration("een@example.org"))
        b = rpc.members.register_member(OPERATOR_WIRE, registration("een@example.org"))
        try:
            rpc.members.register_member(OPERATOR_WIRE, registration("twee@example.org"))
            raise AssertionError("a key reused for another request was accepted")
        except Conflict as exc:
            assert exc.violations[0]["field"] == "Idempotency-Key"
    assert a == b
    with ClusterRpcProxy(members_config, timeout=10, context_data={"request_id": "client-key-2"}) as rpc:
        c = rpc.members.register_member(OPERATOR_WIRE, registration("twee@example.org"))
    assert c["id"] != a["id"]
    assert count_rows(members_config["DATABASE_URL"], "members", models.members) == 2


def test_a_request_id_belongs_to_its_call_and_is_not_passed_on_to_the_calls_it_makes(members_config,
                                                                                      container_factory):
    container_factory(MembersService, members_config).start()
    container_factory(IntakeService, ledger_config(members_config, service="intake")).start()
    with ClusterRpcProxy(members_config, timeout=10, context_data={"request_id": "outer-request"}) as rpc:
        ids = rpc.intake.register_pair("Paar")
    assert len(set(ids)) == 2
    assert count_rows(members_config["DATABASE_URL"], "members", models.members) == 2
