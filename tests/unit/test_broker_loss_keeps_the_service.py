"""A broker that goes away must neither kill a service nor stretch a call past its deadline (both found by
tests/faults under a RabbitMQ restart).

- nameko acknowledges an event, or replies to an RPC call, after the worker ran; on a connection the broker has
  just closed that raised a socket error in the worker's thread, and nameko killed the whole container for it:
  the sessions and federation services kept running but answered nothing.
- The gateway's wait for a reply reconnected and waited a whole timeout again when the connection broke.
- A failed event was requeued at once: a database restart used up its deliveries within a second and real
  events ended in the dead-letter queue, never applied.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import eventlet
import nameko.rpc
import pytest
from nameko.exceptions import RpcTimeout, UnknownService

from services.common import nameko_kit
from services.common.errors import Unavailable
from services.common.nameko_kit import KringEventHandler, KringQueueConsumer, KringRpcConsumer, call_service
from services.common.rpc_client import ABANDON_POLL, CallAbandoned, DeadlineReplyConsumer


class Channel:
    connection = object()  # still looks alive: the socket error comes on write


class LostMessage:
    channel = Channel()
    properties = {"content_type": "application/json", "reply_to": "rpc.reply-x", "correlation_id": "c"}

    def ack(self) -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    def requeue(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_an_ack_or_requeue_on_a_closed_connection_is_given_up_not_raised():
    consumer = KringQueueConsumer()
    consumer.ack_message(LostMessage())
    consumer.requeue_message(LostMessage())


class RecordingQueueConsumer:
    def __init__(self) -> None:
        self.acked: list[object] = []

    def ack_message(self, message: object) -> None:
        self.acked.append(message)

    def requeue_message(self, message: object) -> None:
        raise AssertionError("requeued at once")


class Container:
    config = {"AMQP_URI": "amqp://guest:guest@127.0.0.1:1//"}
    service_name = "sessions"


@pytest.mark.parametrize("error", [ConnectionResetError(104, "reset"), BrokenPipeError(32, "broken pipe")])
def test_a_reply_that_cannot_be_sent_leaves_the_service_running(monkeypatch, error):
    def unreachable(self, result, exc_info):
        raise error

    monkeypatch.setattr(nameko.rpc.Responder, "send_response", unreachable)
    consumer = KringRpcConsumer()
    consumer.container = Container()
    consumer.queue_consumer = RecordingQueueConsumer()
    message = LostMessage()
    assert consumer.handle_result(message, {"id": "o-1"}, None) == ({"id": "o-1"}, None)
    assert consumer.queue_consumer.acked == [message]  # the request is not run again for a caller long gone


# --- the gateway's wait for a reply: one deadline, whatever the broker does ----------------------------------


class ReplyEvent:
    def __init__(self) -> None:
        self.error: BaseException | None = None

    def send_exception(self, error: BaseException) -> None:
        self.error = error


class Provider:
    def __init__(self) -> None:
        self._reply_events = {"c": ReplyEvent()}


class BrokenConnection:
    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.waits: list[float] = []

    def drain_events(self, timeout: float) -> None:
        self.waits.append(timeout)
        raise self.error


def reply_consumer(error: BaseException, deadline_in: float) -> DeadlineReplyConsumer:
    consumer = DeadlineReplyConsumer(timeout=4.0)
    consumer.provider = Provider()
    consumer.consumer = SimpleNamespace(connection=BrokenConnection(error))
    consumer.deadline = time.monotonic() + deadline_in
    return consumer


def test_a_connection_broken_while_waiting_for_a_reply_fails_the_call_at_once_instead_of_waiting_again():
    consumer = reply_consumer(ConnectionResetError(104, "reset"), 4.0)
    event = consumer.provider._reply_events["c"]
    consumer.get_message("c")  # nameko would reconnect here and wait a whole timeout again
    assert isinstance(event.error, ConnectionResetError)
    assert len(consumer.consumer.connection.waits) == 1


def test_the_wait_for_a_reply_ends_at_the_calls_deadline():
    consumer = reply_consumer(TimeoutError("read timed out"), 0.5)
    event = consumer.provider._reply_events["c"]
    consumer.get_message("c")
    assert isinstance(event.error, RpcTimeout)
    assert consumer.consumer.connection.waits[0] <= 0.5  # the time left, not a whole timeout


def test_a_call_waiting_for_its_reply_is_given_up_as_soon_as_the_process_stops():
    consumer = reply_consumer(TimeoutError("read timed out"), 10.0)
    stopping = iter([False, False, True])
    consumer.abandon = lambda: next(stopping)
    event = consumer.provider._reply_events["c"]

    consumer.get_message("c")

    assert isinstance(event.error, CallAbandoned)
    assert consumer.consumer.connection.waits == [ABANDON_POLL, ABANDON_POLL]  # short waits, not the 10 s left


# --- a failed event waits before it is retried, so that an outage does not use up its deliveries -----------------


class RetriedMessage:
    def __init__(self, deliveries: int | None) -> None:
        self.headers = {} if deliveries is None else {"x-delivery-count": deliveries}


@pytest.mark.parametrize("deliveries, pause", [(None, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)])
def test_a_failed_event_is_requeued_after_a_pause_that_doubles_with_each_delivery(monkeypatch, deliveries, pause):
    scheduled = []
    monkeypatch.setattr(nameko_kit.eventlet, "spawn_after", lambda delay, *call: scheduled.append((delay, call)))
    handler = KringEventHandler("sessions", "output.published")
    handler.queue_consumer = RecordingQueueConsumer()
    message = RetriedMessage(deliveries)
    handler._requeue_after_backoff(message)
    assert scheduled == [(pause, (handler.queue_consumer.requeue_message, message))]


class UnreachablePublisher:
    """Fails its first ``failures`` publishes as a connection the broker closed does."""

    def __init__(self, failures: int = 2) -> None:
        self.failures = failures
        self.published: list[object] = []

    def publish(self, messages) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionResetError(104, "Connection reset by peer")
        self.published += list(messages)


def test_an_event_that_cannot_be_dead_lettered_is_left_unacknowledged_for_the_broker_to_give_back():
    handler = KringEventHandler("sessions", "output.published")
    handler.container = Container()
    handler.queue_consumer = RecordingQueueConsumer()
    handler.queue = SimpleNamespace(name="evt-sessions-output.published--federation.on_output_published")
    handler.method_name = "on_output_published"
    handler._dead_letters = UnreachablePublisher()
    handler._dead_letter_lock = threading.Lock()
    message = SimpleNamespace(headers={}, body=b"{}", payload={"id": "e-1"})
    handler._dead_letter(message.payload, message, "unprocessable_event: bad")
    assert handler.queue_consumer.acked == []  # not acked: it is not lost, it comes back once the broker does


def test_a_dead_letter_whose_connection_had_dropped_is_published_on_a_fresh_one_and_the_message_settled():
    handler = KringEventHandler("sessions", "output.published")
    handler.container = Container()
    handler.queue_consumer = RecordingQueueConsumer()
    handler.queue = SimpleNamespace(name="evt-sessions-output.published--federation.on_output_published")
    handler.method_name = "on_output_published"
    handler._dead_letters = UnreachablePublisher(failures=1)
    handler._dead_letter_lock = threading.Lock()
    message = SimpleNamespace(headers={}, body=b"{}", payload={"id": "e-1"})
    handler._dead_letter(message.payload, message, "unprocessable_event: bad")
    assert len(handler._dead_letters.published) == 1
    assert handler.queue_consumer.acked == [message]


# --- a call to another service that is never answered does not hold up the caller (nor its stop) ------------------


def test_a_call_to_another_service_that_never_answers_is_unavailable_after_its_timeout():
    def never_answers() -> dict[str, str]:
        eventlet.sleep(30)  # the networks service stopped, or is stopping as this one is
        return {}

    with pytest.raises(Unavailable, match=r"networks service did not answer within 0\.05 s"):
        call_service("networks", never_answers, timeout=0.05)


def test_a_call_to_a_service_that_is_not_running_is_unavailable():
    def not_running() -> dict[str, str]:
        raise UnknownService("networks")

    with pytest.raises(Unavailable, match="networks service is not running"):
        call_service("networks", not_running)


def test_a_call_answered_in_time_gives_its_answer():
    assert call_service("networks", lambda: {"id": "n-1"}) == {"id": "n-1"}
