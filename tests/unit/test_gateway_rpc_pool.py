"""The gateway's pool of standalone RPC proxies, with hand-written fake proxies (no broker)."""

import threading
import time

import pytest
from amqp.exceptions import ConnectionForced
from nameko.exceptions import MethodNotFound, RemoteError, RpcTimeout, UnknownService

from services.common.errors import InternalError, NotFound, Unavailable, ValidationFailed
from services.common.logs import correlation_id
from services.common.rpc_client import RpcPool


class FakeProxy:
    """Answers with its factory's current ``answer(service, method, args)``; records calls and closing."""

    def __init__(self, factory):
        self.factory = factory
        self.calls = []
        self.closed = False

    def call(self, service, method, args, *, correlation_id, timeout, request=None):
        self.calls.append({"service": service, "method": method, "args": args, "correlation_id": correlation_id,
                           "timeout": timeout, "request": request})
        return self.factory.answer(service, method, args)

    def close(self):
        self.closed = True


class FakeFactory:
    def __init__(self, answer=lambda service, method, args: {"ok": True}):
        self.answer = answer
        self.made: list[FakeProxy] = []
        self.fail_with: BaseException | None = None

    def __call__(self):
        if self.fail_with is not None:
            raise self.fail_with
        proxy = FakeProxy(self)
        self.made.append(proxy)
        return proxy


def raising(exc):
    def answer(service, method, args):
        raise exc
    return answer


def test_proxies_are_created_on_first_use_not_at_startup():
    factory = FakeFactory()
    pool = RpcPool(factory, size=4, timeout=1.0)
    assert factory.made == []
    assert pool.call("members", "health") == {"ok": True}
    assert len(factory.made) == 1


def test_a_healthy_proxy_is_reused():
    factory = FakeFactory()
    pool = RpcPool(factory, size=1, timeout=1.0)
    pool.call("members", "get_member", "m1")
    pool.call("members", "get_member", "m2")
    assert len(factory.made) == 1
    assert [c["args"] for c in factory.made[0].calls] == [("m1",), ("m2",)]


def test_the_callers_correlation_id_travels_with_the_call():
    factory = FakeFactory()
    pool = RpcPool(factory, size=1, timeout=1.0)
    token = correlation_id.set("cid-123")
    try:
        pool.call("members", "health")
    finally:
        correlation_id.reset(token)
    assert factory.made[0].calls[0]["correlation_id"] == "cid-123"


def test_every_call_has_a_timeout_and_a_call_may_shorten_it():
    factory = FakeFactory()
    pool = RpcPool(factory, size=1, timeout=10.0)
    pool.call("members", "health")
    pool.call("members", "health", timeout=2.0)
    assert [c["timeout"] for c in factory.made[0].calls] == [10.0, 2.0]


def test_a_proxy_that_timed_out_is_discarded_and_replaced():
    factory = FakeFactory(raising(RpcTimeout(1.0)))
    pool = RpcPool(factory, size=1, timeout=1.0)
    with pytest.raises(Unavailable, match="did not answer"):
        pool.call("members", "health")
    assert factory.made[0].closed
    factory.answer = lambda *a: {"ok": True}
    assert pool.call("members", "health") == {"ok": True}
    assert len(factory.made) == 2


def test_a_broken_connection_discards_the_proxy_and_is_unavailable():
    factory = FakeFactory(raising(ConnectionForced("broker restarted")))
    pool = RpcPool(factory, size=1, timeout=1.0)
    with pytest.raises(Unavailable, match="broker"):
        pool.call("members", "health")
    assert factory.made[0].closed


def test_an_unreachable_broker_is_unavailable_and_the_next_call_tries_again():
    factory = FakeFactory()
    factory.fail_with = ConnectionRefusedError(111, "Connection refused")
    pool = RpcPool(factory, size=1, timeout=1.0)
    with pytest.raises(Unavailable):
        pool.call("members", "health")
    factory.fail_with = None
    assert pool.call("members", "health") == {"ok": True}


def test_typed_errors_from_the_service_pass_through_and_keep_the_proxy():
    error = ValidationFailed.single("email", "value_error", "not an email")
    factory = FakeFactory(raising(error))
    pool = RpcPool(factory, size=1, timeout=1.0)
    with pytest.raises(ValidationFailed) as raised:
        pool.call("members", "register_member", {})
    assert raised.value.violations == error.violations
    factory.answer = raising(NotFound("no member m9"))
    with pytest.raises(NotFound):
        pool.call("members", "get_member", "m9")
    assert len(factory.made) == 1 and not factory.made[0].closed


def test_a_service_that_is_not_running_is_unavailable():
    pool = RpcPool(FakeFactory(raising(UnknownService("members"))), size=1, timeout=1.0)
    with pytest.raises(Unavailable, match="members service is not running"):
        pool.call("members", "health")


def test_an_untyped_failure_in_the_service_is_an_internal_error_without_its_text():
    pool = RpcPool(FakeFactory(raising(RemoteError("KeyError", "'secret_column'"))), size=1, timeout=1.0)
    with pytest.raises(InternalError) as raised:
        pool.call("members", "get_member", "m1")
    assert "secret_column" not in raised.value.message


@pytest.mark.parametrize("driver_error", ["OperationalError", "InterfaceError", "DisconnectionError"])
def test_a_service_that_lost_its_database_is_unavailable_not_an_internal_error(driver_error):
    failure = RemoteError(driver_error, "(psycopg2.OperationalError) server closed the connection unexpectedly")
    pool = RpcPool(FakeFactory(raising(failure)), size=1, timeout=1.0)
    with pytest.raises(Unavailable) as raised:
        pool.call("members", "get_member", "m1")
    assert "psycopg2" not in raised.value.message


def test_a_call_the_service_does_not_understand_is_an_internal_error():
    pool = RpcPool(FakeFactory(raising(MethodNotFound("no_such_method"))), size=1, timeout=1.0)
    with pytest.raises(InternalError):
        pool.call("members", "no_such_method")


def test_no_more_calls_run_at_once_than_there_are_proxies():
    release = threading.Event()
    running, peak, lock = [0], [0], threading.Lock()

    def slow(service, method, args):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(5)
        with lock:
            running[0] -= 1
        return "done"

    factory = FakeFactory(slow)
    pool = RpcPool(factory, size=2, timeout=5.0)
    results = []
    threads = [threading.Thread(target=lambda: results.append(pool.call("s", "m"))) for _ in range(5)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == ["done"] * 5
    assert peak[0] == 2
    assert len(factory.made) == 2


def test_when_every_proxy_stays_busy_past_the_timeout_the_call_is_unavailable():
    release = threading.Event()
    pool = RpcPool(FakeFactory(lambda *a: release.wait(5)), size=1, timeout=0.2)
    busy = threading.Thread(target=lambda: pool.call("s", "m", timeout=5.0))
    busy.start()
    time.sleep(0.05)
    try:
        with pytest.raises(Unavailable, match="busy"):
            pool.call("s", "m")
    finally:
        release.set()
        busy.join(5)


def test_closing_the_pool_stops_its_proxies_and_refuses_new_calls():
    factory = FakeFactory()
    pool = RpcPool(factory, size=2, timeout=1.0)
    pool.call("members", "health")
    pool.close()
    assert factory.made[0].closed
    with pytest.raises(Unavailable, match="shutting down"):
        pool.call("members", "health")
