"""Hand-written fakes of the services' RPC contracts, as the gateway's admin API sees them.

Each fake holds just enough behaviour for the gateway's routes: the right shapes, and the typed errors
(NotFound, ValidationFailed, Conflict) the real service raises, so the tests see the HTTP status the
gateway maps them to. The rules themselves are tested against the services' domain code, not here.
A gateway test builds the app with :class:`FakeServices` routing each call to its service's fake.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from services.common.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    Unauthenticated,
    ValidationFailed,
    violation,
)
from services.common.logs import correlation_id
from services.gateway.auth import token_hash
from services.gateway.readiness import ReadinessReport

NOW = datetime(2025, 1, 1, tzinfo=UTC).isoformat()
LEVELS = ("national", "regional", "local", "neighbourhood")


class FakeServices:
    """The gateway's RPC caller: routes ``call(service, method, ...)`` to that service's fake."""

    def __init__(self, **services):
        self.services = services

    def call(self, service, method, *args, timeout=None):
        return self.services[service].call(service, method, *args, timeout=timeout)


class FakeMembers:
    """The members RPC contract in memory. Given ``networks``, joining asks it whether the network exists and
    is active, as the real members service asks the networks service."""

    def __init__(self, networks: FakeNetworks | None = None):
        self.networks = networks
        self.members: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}  # token hash -> principal
        self.calls: list[tuple] = []
        self.correlation_ids: list[str | None] = []

    def call(self, service, method, *args, timeout=None):
        assert service == "members"
        self.calls.append((method, *args))
        self.correlation_ids.append(correlation_id.get())
        return getattr(self, method)(*args)

    # -- the contract --
    def add(self, member_id, networks=(), role="participant"):
        self.members[member_id] = {
            "id": member_id, "name": member_id.title(), "email": f"{member_id}@example.org", "organisation": None,
            "perspectives": ["resident"], "expertise": [], "findable_by_expertise": False,
            "named_in_shared_outputs": False, "created_at": NOW, "updated_at": NOW, "revision": 1,
            "memberships": [{"network_id": n, "role": role, "joined_at": NOW} for n in networks],
        }
        return self.members[member_id]

    def token_for(self, member_id, administers=(), facilitates=()):
        token = f"token-{member_id}"
        self.tokens[token_hash(token)] = {"member_id": member_id, "administers": list(administers),
                                          "facilitates": list(facilitates)}
        return {"Authorization": f"Bearer {token}"}

    def authenticate(self, digest):
        if digest not in self.tokens:
            raise Unauthenticated("unknown token")
        return self.tokens[digest]

    def get_member(self, member_id):
        if member_id not in self.members:
            raise NotFound(f"no member {member_id}")
        return self.members[member_id]

    def register_member(self, request):
        return self.add("new") | {"name": request["name"]}

    def update_member(self, member_id, request):
        return self.get_member(member_id) | request

    def search_members(self, query):
        return {"items": list(self.members.values()), "next_page_token": None}

    def join_network(self, member_id, network_id, request):
        self.get_member(member_id)
        if self.networks is not None:
            network = self.networks.networks.get(network_id)
            if network is None:
                raise NotFound(f"network {network_id} not found",
                               [violation("network_id", "exists", "no such network")])
            if network["status"] != "active":
                raise Conflict(f"network {network_id} is archived", [violation("network_id", "active", "archived")])
        return {"network_id": network_id, "role": request["role"], "joined_at": NOW}

    def leave_network(self, member_id, network_id):
        return None

    def export_member(self, member_id):
        return {"exported_at": NOW, "member": self.get_member(member_id), "tokens": [], "events": []}

    def erase_member(self, member_id):
        return {"member_id": member_id, "erased_at": NOW}

    def issue_token(self, member_id, request):
        return {"token_id": "t1", "token": "plain", "member_id": member_id, "label": request["label"],
                "created_at": NOW}

    def revoke_token(self, token_id):
        return None


class FakeNetworks:
    """The networks RPC contract in memory: ids are given by the test (``add``) or derived from the name."""

    def __init__(self):
        self.networks: dict[str, dict] = {}
        self.calls: list[tuple] = []

    def call(self, service, method, *args, timeout=None):
        assert service == "networks"
        self.calls.append((method, *args))
        return copy.deepcopy(getattr(self, method)(*copy.deepcopy(args)))

    def add(self, network_id, level="local", parent_id=None, **fields):
        self.networks[network_id] = {
            "id": network_id, "name": network_id.replace("-", " ").title(), "level": level,
            "kind": "learning_circle", "theme": "loneliness among older residents", "urgency": None,
            "host_organisation": None, "parent_id": parent_id, "region": None, "cadence_weeks": None,
            "start_date": None, "requires_preparation": False, "unprepared_policy": "refuse", "status": "active",
            "coordinators": [], "facilitators": [], "member_count": 0, "created_at": NOW, "updated_at": NOW,
            "revision": 1, **fields,
        }
        return self.networks[network_id]

    # -- the contract --
    def create_network(self, request):
        self._check_parent(request.get("parent_id"), request["level"])
        fields = {k: v for k, v in request.items() if k not in ("level", "parent_id")}
        return self.add(request["name"].lower().replace(" ", "-"), request["level"], request.get("parent_id"),
                        **fields)

    def update_network(self, network_id, request):
        network = self.get_network(network_id)
        if network["status"] != "active":
            raise IllegalTransition("cannot update an archived network",
                           [violation("status", "illegal_transition", "archived")])
        if "parent_id" in request:
            self._check_parent(request["parent_id"], request.get("level", network["level"]))
        network.update(request, revision=network["revision"] + 1)
        return network

    def archive_network(self, network_id):
        network = self.get_network(network_id)
        if self._children(network_id, only_active=True):
            raise Conflict(f"network {network_id} still has active child networks",
                           [violation("status", "no_active_children", "archive the child networks first")])
        network["status"] = "archived"
        return network

    def get_network(self, network_id):
        if network_id not in self.networks:
            raise NotFound(f"network {network_id} not found")
        return self.networks[network_id]

    def list_networks(self, query):
        found = [n for n in self.networks.values()
                 if all(n[key] == query[key] for key in ("level", "kind", "parent_id", "region", "status")
                        if key in query)
                 and query.get("theme", "").lower() in n["theme"].lower()]
        return {"items": sorted(found, key=lambda n: (n["name"], n["id"]))[: query.get("page_size", 50)],
                "next_page_token": None}

    def network_tree(self, network_id):
        network = self.get_network(network_id)
        return {**{k: network[k] for k in ("id", "name", "level", "kind", "status")},
                "children": [self.network_tree(child["id"]) for child in self._children(network_id)]}

    def ancestry(self, network_id):
        chain = [network_id]
        while (parent := self.get_network(chain[-1])["parent_id"]) is not None:
            chain.append(parent)
        return chain

    def health_report(self, network_id):
        network = self.get_network(network_id)
        steps = [{"step": n, "key": f"step_{n}", "title": f"Step {n}",
                  "status": "not_measurable" if n == 4 else "not_shown", "evidence": "none yet", "missing": None}
                 for n in range(1, 10)]
        return {"network_id": network_id, "network_name": network["name"], "generated_at": NOW, "steps": steps}

    def _children(self, network_id, only_active=False):
        return sorted((n for n in self.networks.values() if n["parent_id"] == network_id
                       and (n["status"] == "active" or not only_active)), key=lambda n: n["name"])

    def _check_parent(self, parent_id, level):
        if parent_id is None:
            return
        parent = self.networks.get(parent_id)
        if parent is None:
            raise ValidationFailed.single("parent_id", "exists", f"no network {parent_id}")
        if LEVELS.index(parent["level"]) >= LEVELS.index(level):
            raise ValidationFailed.single("parent_id", "level_below_parent", "the child's level must be lower")


class FakeReadiness:
    def __init__(self, checks):
        self.checks = checks

    def check(self):
        return ReadinessReport(self.checks)
