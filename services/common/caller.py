"""Who is asking: the caller the gateway authenticated, sent with every call whose answer depends on who asks.

The gateway only says who the caller is (a token's member and the networks they belong to, administer and
facilitate; the operator; a partner and its networks). What the caller may do is each service's own rule, in its
``domain/access.py``, checked where the service loads what the call is about: one call, no lookup first.

Three kinds of caller:

- the operator (the operator token): may do everything;
- a member (a member token): acts on their own record, and on the networks they coordinate (``administers``) or
  facilitate; ``member_of`` lists every network they belong to in any role;
- a partner organisation or another Kring instance (an API key): acts for the networks registered to it;
- a service asking another on its own behalf (the sessions service reading a member): the operator's authority.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from services.common.errors import PermissionDenied

CallerKind = Literal["operator", "member", "partner", "service"]


class Caller(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: CallerKind
    member_id: str | None = None
    administers: frozenset[str] = frozenset()
    facilitates: frozenset[str] = frozenset()
    member_of: frozenset[str] = frozenset()  # every network the member belongs to, in any role
    partner_id: str | None = None
    partner_networks: frozenset[str] = frozenset()
    service: str | None = None

    @classmethod
    def the_operator(cls) -> Caller:
        return cls(kind="operator")

    @classmethod
    def member(cls, member_id: str, *, administers: Iterable[str] = (), facilitates: Iterable[str] = (),
               member_of: Iterable[str] = ()) -> Caller:
        return cls(kind="member", member_id=member_id, administers=frozenset(administers),
                   facilitates=frozenset(facilitates), member_of=frozenset(member_of))

    @classmethod
    def partner(cls, partner_id: str, network_ids: Iterable[str]) -> Caller:
        return cls(kind="partner", partner_id=partner_id, partner_networks=frozenset(network_ids))

    @classmethod
    def internal(cls, service: str) -> Caller:
        return cls(kind="service", service=service)

    @classmethod
    def of(cls, data: Mapping[str, Any] | Caller) -> Caller:
        """The caller a call carries (its JSON form); a malformed one is the gateway's bug, never the client's."""
        return data if isinstance(data, Caller) else cls.model_validate(data)

    def wire(self) -> dict[str, Any]:
        """The JSON form sent with a call (sets as sorted lists, so equal callers send equal requests)."""
        data = self.model_dump(exclude_defaults=True)
        return {key: sorted(value) if isinstance(value, frozenset) else value for key, value in data.items()}

    # --- facts every service's rules use -------------------------------------------------------------------

    @property
    def operator(self) -> bool:
        """The operator's authority: the operator, or a service asking on its own behalf."""
        return self.kind in ("operator", "service")

    @property
    def is_member(self) -> bool:
        return self.kind == "member" and self.member_id is not None

    @property
    def is_coordinator(self) -> bool:
        return bool(self.administers)

    @property
    def networks(self) -> frozenset[str]:
        """Every network the caller is inside of: belongs to, administers or facilitates."""
        return self.member_of | self.administers | self.facilitates

    @property
    def scope(self) -> str:
        """Who is asking, as the key of what is theirs alone (idempotency keys). A person signed in with the
        operator's authority keeps their own: two operators' keys never meet."""
        if self.kind == "partner":
            return f"partner:{self.partner_id}"
        if self.kind == "service":
            return f"service:{self.service}"
        if self.kind == "operator" and self.member_id is None:
            return "operator"
        return f"member:{self.member_id}"

    def is_self(self, member_id: str) -> bool:
        return self.member_id is not None and self.member_id == member_id

    def coordinates(self, network_id: str) -> bool:
        """The operator, or a coordinator of the network (not of the networks below it: each has its own)."""
        return self.operator or network_id in self.administers

    def coordinates_any(self, network_ids: Iterable[str]) -> bool:
        return not self.administers.isdisjoint(network_ids)

    def staffs(self, network_id: str) -> bool:
        """The operator, or a coordinator or facilitator of the network: who runs its sessions."""
        return self.operator or network_id in self.administers or network_id in self.facilitates

    def inside(self, network_id: str) -> bool:
        """The operator, or someone inside the network in any role."""
        return self.operator or network_id in self.networks

    def speaks_for(self, network_id: str) -> bool:
        """A partner acting for one of its networks."""
        return self.kind == "partner" and network_id in self.partner_networks


def require(allowed: bool, message: str = "outside the scope of your token",
            violations: list[dict[str, Any]] | None = None) -> None:
    if not allowed:
        raise PermissionDenied(message, violations)
