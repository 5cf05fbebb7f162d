"""The directory over nameko RPC: the adapter of :class:`services.sessions.ports.Directory`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import eventlet
from nameko.exceptions import UnknownService

from services.common.caller import Caller
from services.common.errors import NotFound, Unavailable
from services.sessions.domain.read_models import KnownNetwork, MemberFacts
from services.sessions.ports import facts_from_member, network_from_answer

# nameko 2's RpcProxy waits for ever; a command that needs this answer should fail fast instead.
DEFAULT_TIMEOUT = 5.0
AS_THIS_SERVICE = Caller.internal("sessions").wire()
T = TypeVar("T")


class RpcDirectory:
    def __init__(self, members: Any, networks: Any, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.members = members  # nameko ServiceProxy objects (nameko ships no types)
        self.networks = networks
        self.timeout = timeout

    def member(self, member_id: str) -> MemberFacts | None:
        return self._ask("members", lambda: self.members.get_member(AS_THIS_SERVICE, member_id), facts_from_member)

    def network(self, network_id: str) -> KnownNetwork | None:
        return self._ask("networks", lambda: self.networks.get_network(network_id), network_from_answer)

    def _ask(self, service: str, call: Callable[[], Any], read: Callable[[dict[str, Any]], T]) -> T | None:
        """``call`` is an RPC through a proxy, its answer untyped JSON; ``read`` turns that into what we know."""
        answer: dict[str, Any] | None = None
        try:
            with eventlet.Timeout(self.timeout, False):
                answer = call()
        except NotFound:
            return None
        except UnknownService as exc:  # no instance of it is running: a 503, not a 500
            raise Unavailable(f"the {service} service is not running; try again later") from exc
        if answer is None:
            raise Unavailable(f"the {service} service did not answer in time; try again")
        return read(answer)


class RpcFeeds:
    """:class:`services.sessions.ports.Feeds` over nameko RPC, asking for the reader (the caller travels)."""

    def __init__(self, federation: Any, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.federation = federation
        self.timeout = timeout

    def held_copy(self, caller: Caller, output_id: str) -> dict[str, Any] | None:
        answer: dict[str, Any] | None = None
        try:
            with eventlet.Timeout(self.timeout, False):
                answer = self.federation.held_copy(caller.wire(), output_id)
        except UnknownService as exc:
            raise Unavailable("the federation service is not running; try again later") from exc
        if answer is None:
            raise Unavailable("the federation service did not answer in time; try again")
        copy: dict[str, Any] | None = answer["output"]
        return copy
