"""The RPC adapter of the directory port: answers become facts, "no such member" becomes None, and a service
that is down or slow becomes Unavailable instead of a hang or an internal error."""

from __future__ import annotations

from typing import Any

import eventlet
import pytest
from nameko.exceptions import UnknownService

from services.common.errors import NotFound, Unavailable
from services.sessions.adapters import RpcDirectory

MEMBER = {"id": "m-1", "revision": 3, "name": "Anna", "perspectives": ["resident"], "named_in_shared_outputs": False,
          "memberships": [{"network_id": "net-1", "role": "participant", "joined_at": "2026-01-01T00:00:00Z"}]}
NETWORK = {"id": "net-1", "revision": 2, "name": "N", "status": "active", "requires_preparation": False,
           "unprepared_policy": "refuse"}


class FakeProxy:
    def __init__(self, behaviour: Any) -> None:
        self.behaviour = behaviour

    def get_member(self, caller: dict[str, Any], member_id: str) -> dict[str, Any]:
        assert caller == {"kind": "service", "service": "sessions"}  # the sessions service asks on its own behalf
        return self.behaviour()

    def get_network(self, network_id: str) -> dict[str, Any]:
        return self.behaviour()


def directory(behaviour: Any) -> RpcDirectory:
    return RpcDirectory(FakeProxy(behaviour), FakeProxy(behaviour), timeout=0.05)


def raises(exc: Exception) -> Any:
    def behaviour() -> None:
        raise exc

    return behaviour


def test_answers_are_read_into_facts() -> None:
    assert directory(lambda: MEMBER).member("m-1").networks == {"net-1": "participant"}
    assert directory(lambda: NETWORK).network("net-1").revision == 2


def test_no_such_member_or_network_is_none() -> None:
    assert directory(raises(NotFound("gone"))).member("m-1") is None
    assert directory(raises(NotFound("gone"))).network("net-1") is None


def test_a_service_that_is_not_running_is_unavailable() -> None:
    with pytest.raises(Unavailable, match="members service is not running"):
        directory(raises(UnknownService("members"))).member("m-1")


def test_a_service_that_does_not_answer_in_time_is_unavailable() -> None:
    def slow() -> dict[str, Any]:
        eventlet.sleep(1)
        return MEMBER

    with pytest.raises(Unavailable, match="did not answer in time"):
        directory(slow).member("m-1")
