"""Delivery limit and dead-lettering as RabbitMQ policies, on the real broker: `kring declare` sets them, a
changed limit reaches queues that exist, a queue declared by Kring 0.1.0 with those settings as arguments keeps
working (RabbitMQ refuses to declare it again with other arguments) and is moved onto the policy with its
messages, and a policy that would take the queues from Kring's is reported."""

from __future__ import annotations

import kombu
import pytest

from services.common.nameko_kit import DEAD_LETTER_EXCHANGE, event_queue
from services.common.topology import (
    EVENT_POLICY,
    HOLDING_SUFFIX,
    Management,
    QueueInUse,
    all_handler_queues,
    declare_all,
    migrate_queue,
)
from tests.integration.helpers import applied_rows, dead_letters, ledger_config
from tests.integration.ledger_service import LedgerService
from tests.integration.test_messaging import publish_raw, registered_event
from tests.support.infra import RABBIT_MANAGEMENT, queue_info, rabbit_vhost
from tests.support.waiting import eventually


@pytest.fixture
def bare_vhost():
    """A virtual host without Kring's policies: what an installation looks like before `kring declare`."""
    with rabbit_vhost("kring-policies") as uri:
        yield uri, Management.for_broker(uri, RABBIT_MANAGEMENT)


def legacy(queue: kombu.Queue, limit: int = 5) -> kombu.Queue:
    """The queue as Kring 0.1.0 declared it: delivery limit and dead-letter exchange as arguments."""
    return kombu.Queue(queue.name, exchange=queue.exchange, routing_key=queue.routing_key, durable=True,
                       queue_arguments={"x-queue-type": "quorum", "x-delivery-limit": limit,
                                        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE})


def declare(uri: str, *queues: kombu.Queue) -> None:
    with kombu.Connection(uri) as connection:
        for queue in queues:
            queue(connection.default_channel).declare()


def depth(uri: str, name: str) -> tuple[int, int]:
    """(messages, consumers) of a queue right now."""
    with kombu.Connection(uri) as connection:
        ok = connection.default_channel.queue_declare(name, passive=True)
        return ok.message_count, ok.consumer_count


def policy_in_force(uri: str, queue: kombu.Queue, limit: int) -> None:
    """Wait until the broker applies the policy to the queue: setting a policy returns before it reaches the
    queue, and on a busy broker a message published at once may still meet the old limit."""
    eventually(lambda: (queue_info(uri, queue.name).get("effective_policy_definition") or {}).get("delivery-limit")
               == limit, what=f"delivery limit {limit} in force on {queue.name}")


def deliveries_until_dead_lettered(uri: str, queue: kombu.Queue) -> int:
    """Publish one message to the queue's exchange and give it back after each delivery, until the broker
    dead-letters it; return how many times it was delivered."""
    with kombu.Connection(uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish({"probe": True}, exchange=queue.exchange, routing_key=queue.routing_key,
                                      serializer="json", delivery_mode=2)
    delivered = 0
    with kombu.Connection(uri) as connection:
        bound = kombu.Queue(queue.name, no_declare=True)(connection.default_channel)
        while delivered < 20:
            message = eventually(bound.get, timeout=5, what=f"delivery {delivered + 1}")
            delivered += 1
            message.requeue()
            where = eventually(lambda: ("queue" if depth(uri, queue.name)[0] else None)
                               or ("dead-letter queue" if depth(uri, "kring.dead-letter")[0] else None),
                               what="the message back in its queue or dead-lettered")
            if where == "dead-letter queue":
                break
    return delivered


def test_kring_declare_sets_the_policy_and_declares_queues_with_the_queue_type_only(bare_vhost):
    uri, management = bare_vhost
    declared = declare_all(uri, 4, management)
    assert declared.problems == [] and declared.kept == []
    policy = next(p for p in management.policies() if p["name"] == EVENT_POLICY)
    assert policy["definition"] == {"delivery-limit": 4, "dead-letter-exchange": DEAD_LETTER_EXCHANGE}
    assert policy["pattern"] == "^evt-" and policy["apply-to"] == "queues"
    names = {q.name for q in all_handler_queues()}
    assert names <= set(declared.queues) and "kring.dead-letter" in declared.queues
    for name in sorted(names)[:3]:
        assert queue_info(uri, name)["arguments"] == {"x-queue-type": "quorum"}


def test_the_policys_delivery_limit_applies_and_a_changed_limit_reaches_an_existing_queue(bare_vhost):
    uri, management = bare_vhost
    queue = all_handler_queues()[0]
    declare_all(uri, 3, management)
    policy_in_force(uri, queue, 3)
    assert deliveries_until_dead_lettered(uri, queue) == 4  # the first delivery and three more
    declare_all(uri, 1, management)  # the same queue, a new limit: no redeclaration needed
    policy_in_force(uri, queue, 1)
    assert deliveries_until_dead_lettered(uri, queue) == 2
    parked = dead_letters(uri)
    assert [m.headers["x-death"][0]["reason"] for m in parked] == ["delivery_limit", "delivery_limit"]


def test_declaring_a_queue_of_kring_0_1_0_again_with_arguments_is_refused_by_rabbitmq(bare_vhost):
    """Why the upgrade needs care: the broker keeps a queue's arguments for good."""
    uri, _ = bare_vhost
    queue = all_handler_queues()[0]
    declare(uri, legacy(queue))
    with kombu.Connection(uri) as connection, pytest.raises(Exception, match="PRECONDITION_FAILED"):
        queue(connection.default_channel).declare()


def test_a_queue_of_kring_0_1_0_keeps_working_under_the_new_code(members_config, container_factory):
    uri = members_config["AMQP_URI"]
    ledger = event_queue("members", "member.registered", "ledger", "on_member_registered")
    declare(uri, legacy(ledger))
    publish_raw(uri, registered_event("Waiting Since 0.1.0"))
    container_factory(LedgerService, ledger_config(members_config)).start()  # declares its queue: not refused
    rows = eventually(lambda: applied_rows(members_config["DATABASE_URL"]), what="the waiting event")
    assert [r.name for r in rows] == ["Waiting Since 0.1.0"]
    assert queue_info(uri, ledger.name)["arguments"]["x-delivery-limit"] == 5  # untouched until migrated


def test_declare_reports_old_queues_and_migrating_keeps_their_messages_and_puts_them_under_the_policy(bare_vhost):
    uri, management = bare_vhost
    old, other = all_handler_queues()[:2]
    declare(uri, legacy(old))
    for _ in range(3):
        with kombu.Connection(uri, transport_options={"confirm_publish": True}) as connection:
            connection.Producer().publish({"waiting": True}, exchange=old.exchange, routing_key=old.routing_key,
                                          serializer="json", delivery_mode=2, headers={"x-kring-test": "kept"})
    declared = declare_all(uri, 2, management)
    assert declared.kept == [old.name] and declared.problems == []

    assert migrate_queue(uri, management, old) == 3
    assert queue_info(uri, old.name)["arguments"] == {"x-queue-type": "quorum"}
    assert depth(uri, old.name) == (3, 0)
    assert management.queue(old.name + HOLDING_SUFFIX) is None
    assert migrate_queue(uri, management, other) is None  # nothing to do for a queue of this version
    with kombu.Connection(uri) as connection:  # still bound: a new event reaches it
        connection.Producer().publish({"new": True}, exchange=old.exchange, routing_key=old.routing_key,
                                      serializer="json")
    eventually(lambda: depth(uri, old.name)[0] == 4, what="the new event in the migrated queue")
    with kombu.Connection(uri) as connection:
        bound = kombu.Queue(old.name, no_declare=True)(connection.default_channel)
        message = bound.get(no_ack=False)
        assert message.headers["x-kring-test"] == "kept" and message.payload == {"waiting": True}
        message.requeue()
    assert declare_all(uri, 2, management).kept == []
    assert deliveries_until_dead_lettered(uri, old) >= 3  # the policy's limit of 2 now governs it


def test_a_migration_cut_short_after_the_old_queue_was_deleted_is_finished_by_running_it_again(bare_vhost):
    uri, management = bare_vhost
    queue = all_handler_queues()[0]
    holding = kombu.Queue(queue.name + HOLDING_SUFFIX, exchange=queue.exchange, routing_key=queue.routing_key,
                          durable=True, queue_arguments={"x-queue-type": "quorum"})
    declare(uri, holding)  # the state after step 1: only the holding queue, with the messages
    with kombu.Connection(uri, transport_options={"confirm_publish": True}) as connection:
        connection.Producer().publish({"held": True}, exchange="", routing_key=holding.name, serializer="json")
    assert migrate_queue(uri, management, queue) == 0
    assert depth(uri, queue.name) == (1, 0) and management.queue(holding.name) is None


def test_migrating_a_queue_that_still_has_consumers_is_refused_and_changes_nothing(bare_vhost):
    uri, management = bare_vhost
    queue = all_handler_queues()[0]
    declare(uri, legacy(queue))
    with kombu.Connection(uri) as connection:
        consumer = kombu.Consumer(connection.default_channel, [kombu.Queue(queue.name, no_declare=True)],
                                  callbacks=[lambda body, message: None])
        consumer.consume()
        with pytest.raises(QueueInUse, match="has consumers"):
            migrate_queue(uri, management, queue)
        consumer.cancel()
    assert queue_info(uri, queue.name)["arguments"]["x-delivery-limit"] == 5
    assert management.queue(queue.name + HOLDING_SUFFIX) is None


def test_a_missing_different_or_shadowing_policy_is_reported(bare_vhost):
    uri, management = bare_vhost
    assert any("does not exist" in p for p in declare_all(uri, 5, management, apply_policies=False).problems)
    declare_all(uri, 5, management)
    assert declare_all(uri, 5, management, apply_policies=False).problems == []
    assert any("definition" in p and "'delivery-limit': 5" in p
               for p in declare_all(uri, 7, management, apply_policies=False).problems)
    management.put_policy("ha-all", {"pattern": ".*", "apply-to": "all", "priority": 20,
                                      "definition": {"max-length": 1000000}})
    problems = declare_all(uri, 5, management).problems
    assert any(p.startswith("policy ha-all (priority 20) matches evt-") for p in problems), problems
