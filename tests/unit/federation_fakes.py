"""Hand-written fakes for the gateway's federation side: the federation service's RPC contract, its feed log,
the members service's ``find_expertise``, and a gRPC servicer context.

Like tests/unit/gateway_fakes.py, each fake keeps the shapes (services/federation/schemas.py) and the typed
errors of the real service, not its rules: those are tested against the federation's own domain code. The
log behaves as the real one: positions ascend, ``log_after`` passes over shares of outputs retracted since,
and ``next_cursor`` moves past every row read.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from services.common.caller import Caller, require
from services.common.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
    violation,
)
from services.federation.domain import access as rules
from tests.unit.gateway_fakes import applied

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC).isoformat()
DEFAULT_POLICY = {"visibilities": ["linked", "federation", "public"], "themes": None}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def a_copy(output_id: str, origin: str, **fields) -> dict:
    return {"output_id": output_id, "origin_network_id": origin, "session_id": None, "kind": "lesson",
            "title": f"Lesson {output_id}", "body": "", "url": None, "resource_type": None, "themes": [],
            "visibility": "federation", "licence": "CC-BY-4.0",
            "authors": [{"shown_as": "a participant with lived experience", "named": False}],
            "published_at": NOW, **fields}


class FakeLog:
    """The federation's append-only feed log and its ``log_after``. ``on_read`` hooks run before a read
    answers: tests use them to make the log (or the hub) move at an awkward moment."""

    def __init__(self):
        self.rows: list[dict] = []
        self.copies: dict[str, dict | None] = {}  # output id -> current copy; None once retracted
        self.reads: list[tuple[int, list[str] | None, int]] = []
        self.on_read: list[Callable[[int, list[str] | None], None]] = []
        self.lock = threading.Lock()

    def append(self, network_id: str, output_id: str | None = None, kind: str = "shared", *,
               backfill: bool = False) -> int:
        with self.lock:
            position = len(self.rows) + 1
            output_id = output_id or f"o{position}"
            if kind == "shared" and output_id not in self.copies:
                self.copies[output_id] = a_copy(output_id, "elsewhere")
            if kind == "retracted":
                self.copies[output_id] = None
            self.rows.append({"position": position, "network_id": network_id, "output_id": output_id,
                              "kind": kind, "backfill": backfill, "at": NOW})
            return position

    @property
    def head(self) -> int:
        return len(self.rows)

    def carried(self, first: int, last: int) -> dict:
        """What a ``feed.appended`` event carries for the entries ``first`` to ``last``, with the entries as
        :meth:`read` returns them (the hub's ``ready_carried`` is then ``lambda c: c["entries"]``)."""
        with self.lock:
            rows = [r for r in self.rows if first <= r["position"] <= last]
            entries = [{"cursor": r["position"], "network_id": r["network_id"], "kind": r["kind"],
                        "backfill": r["backfill"], "at": r["at"], "output": self._shown(r["output_id"])}
                       for r in rows]
        return {"after": first - 1, "next_cursor": last, "entries": entries, "outputs": {}}

    def read(self, cursor: int, network_ids: list[str] | None, limit: int) -> dict:
        self.reads.append((cursor, network_ids, limit))
        for hook in list(self.on_read):
            hook(cursor, network_ids)
        with self.lock:
            rows = [r for r in self.rows if r["position"] > cursor
                    and (network_ids is None or r["network_id"] in network_ids)][:limit]
            entries = [{"cursor": r["position"], "network_id": r["network_id"], "kind": r["kind"],
                        "backfill": r["backfill"], "at": r["at"], "output": self._shown(r["output_id"])}
                       for r in rows if not (r["kind"] != "retracted" and self.copies[r["output_id"]] is None)]
            return {"entries": entries, "next_cursor": rows[-1]["position"] if rows else cursor}

    def _shown(self, output_id: str) -> dict:
        copy_ = self.copies[output_id]
        if copy_ is None:
            return {"output_id": output_id, "origin_network_id": "elsewhere", "retracted": True,
                    "retracted_at": NOW}
        return copy.deepcopy(copy_)


class FakeFederation:
    """The federation RPC contract in memory. ``add_partner`` and ``share`` set the scene."""

    READS = frozenset({"authenticate_partner", "get_link", "list_links", "list_partners", "get_partner", "feed",
                       "feed_scope", "log_after", "log_head", "delivery_log"})

    def __init__(self, networks=None):
        self.networks = networks  # a FakeNetworks, asked whether a network exists
        self.log = FakeLog()
        self.partners: dict[str, dict] = {}
        self.links: dict[str, dict] = {}
        self.blocked: set[str] = set()
        self.origins: dict[str, str] = {}  # output id -> origin network
        self.calls: list[tuple] = []
        self.timeouts: list[float | None] = []
        self.down = False

    def call(self, service, method, *args, timeout=None):
        assert service == "federation"
        self.timeouts.append(timeout)
        if self.down:
            raise Unavailable("the federation service is not running")
        return applied(self, method, args, lambda: copy.deepcopy(getattr(self, method)(*copy.deepcopy(args))))

    def writes(self) -> list[str]:
        return [c[0] for c in self.calls if c[0] not in self.READS]

    # -- the scene --
    def add_partner(self, partner_id: str, network_ids, *, status: str = "active") -> str:
        key = f"kpk_{partner_id}"
        self.partners[partner_id] = {"partner_id": partner_id, "name": partner_id.title(), "status": status,
                                     "network_ids": sorted(network_ids), "created_at": NOW, "key_hash": sha256(key)}
        return key

    def add_link(self, requester: str, target: str, status: str = "requested", kind: str = "peer") -> dict:
        link_id = f"l{len(self.links) + 1}"
        self.links[link_id] = {"link_id": link_id, "kind": kind, "requester_network_id": requester,
                               "target_network_id": target, "status": status,
                               "requester_policy": dict(DEFAULT_POLICY), "target_policy": dict(DEFAULT_POLICY),
                               "requested_at": NOW, "updated_at": NOW, "revision": 1}
        return self.links[link_id]

    def share(self, output_id: str, origin: str, to, **fields) -> None:
        self.origins[output_id] = origin
        self.log.copies[output_id] = a_copy(output_id, origin, **fields)
        for network_id in to:
            self.log.append(network_id, output_id)

    def retract(self, output_id: str) -> None:
        receivers = [r["network_id"] for r in self.log.rows if r["output_id"] == output_id and r["kind"] == "shared"]
        self.log.copies[output_id] = None
        for network_id in receivers:
            self.log.append(network_id, output_id, "retracted")

    # -- partners --
    def authenticate_partner(self, key_hash):
        partner = next((p for p in self.partners.values() if p["key_hash"] == key_hash), None)
        if partner is None or partner["status"] == "revoked":
            raise Unauthenticated("unknown or revoked partner key")
        if partner["status"] == "blocked":
            raise PermissionDenied("this partner is blocked")
        return self._partner_view(partner)

    def register_partner(self, caller, request):
        rules.require_operator(Caller.of(caller))
        for network_id in request["network_ids"]:
            if self.networks is not None:
                self.networks.get_network(network_id)
            if any(network_id in p["network_ids"] for p in self.partners.values()):
                raise Conflict(f"network {network_id} already belongs to a partner",
                               [violation("network_ids", "unowned", "each network has one partner at most")])
        partner_id = f"p{len(self.partners) + 1}"
        key = self.add_partner(partner_id, request["network_ids"])
        self.partners[partner_id]["name"] = request["name"]
        return {**self._partner_view(self.partners[partner_id]), "api_key": key}

    def revoke_partner(self, caller, partner_id):
        rules.require_operator(Caller.of(caller))
        self._get_partner(partner_id)["status"] = "revoked"
        return self._partner_view(self._get_partner(partner_id))

    def rotate_partner_key(self, caller, partner_id):
        rules.require_operator(Caller.of(caller))
        partner = self._get_partner(partner_id)
        if partner["status"] == "blocked":
            raise PermissionDenied("a blocked partner gets no new key")
        key = f"kpk_{partner_id}_{len(self.calls)}"
        partner.update(key_hash=sha256(key), status="active")
        return {**self._partner_view(partner), "api_key": key}

    def block_partner(self, caller, partner_id, request=None):
        rules.require_operator(Caller.of(caller))
        self._get_partner(partner_id)["status"] = "blocked"
        return self._partner_view(self._get_partner(partner_id))

    def list_partners(self, caller):
        rules.require_operator(Caller.of(caller))
        return [self._partner_view(p) for p in sorted(self.partners.values(), key=lambda p: p["name"])]

    def get_partner(self, caller, partner_id):
        rules.require_operator(Caller.of(caller))
        return self._partner_view(self._get_partner(partner_id))

    def publish_partner_output(self, caller, request):
        caller = Caller.of(caller)
        self._ensure_owner(caller, request["network_id"], "network_id")
        output_id = f"p-{caller.partner_id}-{request['client_output_id']}"
        if output_id not in self.origins:
            receivers = [] if request["visibility"] == "network" else [
                link["target_network_id"] if link["requester_network_id"] == request["network_id"]
                else link["requester_network_id"]
                for link in self.links.values() if link["status"] == "active"
                and request["network_id"] in (link["requester_network_id"], link["target_network_id"])]
            fields = {k: request[k] for k in ("kind", "title", "body", "url", "resource_type", "themes",
                                               "visibility", "licence")}
            self.share(output_id, request["network_id"], receivers, session_id=request.get("session_ref"),
                       authors=[{"shown_as": a, "named": True} for a in request["authors"]], **fields)
        recipients = {r["network_id"] for r in self.log.rows if r["output_id"] == output_id}
        return {"output_id": output_id, "recipients": len(recipients),
                "retracted": self.log.copies.get(output_id) is None}

    def retract_partner_output(self, caller, output_id):
        if output_id not in self.origins:
            raise NotFound(f"output {output_id} not found")
        self._ensure_owner(Caller.of(caller), self.origins[output_id], "network_id")
        if self.log.copies.get(output_id) is not None:
            self.retract(output_id)
        return {"output_id": output_id, "retracted": True}

    def published_outputs(self, caller, query):
        """The partner's own outputs, in publication order, unpaged (the service's paging is tested there)."""
        caller = Caller.of(caller)
        if caller.kind != "partner":
            raise PermissionDenied("only a partner lists partner outputs")
        if query.get("network_id"):
            self._ensure_owner(caller, query["network_id"], "network_id")
        mine = [o for o, network in self.origins.items() if o.startswith(f"p-{caller.partner_id}-")
                and query.get("network_id") in (None, network)]
        return {"items": [{"output": self.log._shown(o),
                           "recipients": len({r["network_id"] for r in self.log.rows if r["output_id"] == o})}
                          for o in mine], "next_page_token": None}

    # -- feeds --
    def feed(self, caller, query):
        self._readable(Caller.of(caller), query["network_id"], "network_id")
        after = int(query["page_token"]) if query.get("page_token") else 0
        size = query.get("page_size", 50)
        shared = [r for r in self.log.rows if r["network_id"] == query["network_id"] and r["kind"] == "shared"
                  and r["position"] > after]
        items = [{"position": r["position"], "network_id": r["network_id"], "delivered_at": r["at"],
                  "backfill": r["backfill"], "output": self.log._shown(r["output_id"])} for r in shared[:size]]
        more = len(shared) > size
        if not items and not after and self.networks is not None:
            self.networks.get_network(query["network_id"])  # an unknown network is a 404, not an empty feed
        return {"items": items, "next_page_token": str(items[-1]["position"]) if more else None}

    def feed_scope(self, caller, network_ids):
        caller = Caller.of(caller)
        if not network_ids and caller.kind == "partner":
            return sorted(caller.partner_networks)
        for index, network_id in enumerate(network_ids):
            self._readable(caller, network_id, f"network_ids.{index}")
        return sorted(set(network_ids))

    def log_after(self, caller, query):
        network_ids = query.get("network_ids")
        if network_ids is not None:
            network_ids = self.feed_scope(caller, network_ids)
        page = self.log.read(query.get("cursor", 0), network_ids, query.get("limit", 500))
        if query.get("outputs_once"):  # each output once, in the page's outputs, as the real service answers
            outputs = {e["output"]["output_id"]: e["output"] for e in page["entries"]}
            page["entries"] = [{**{k: v for k, v in e.items() if k != "output"}, "output_id": e["output"]["output_id"]}
                               for e in page["entries"]]
            page["outputs"] = outputs
        return page

    def log_head(self, caller, query):
        scope = self.feed_scope(caller, query["network_ids"])
        cursor = query.get("cursor", 0)
        rows = [r for r in self.log.rows if r["network_id"] in scope]
        return {"head_cursor": max((r["position"] for r in rows), default=0),
                "pending": sum(1 for r in rows if r["position"] > cursor)}

    def delivery_log(self, caller, output_id):
        if output_id not in self.origins:
            raise NotFound(f"output {output_id} not found")
        origin = self.origins[output_id]
        require(rules.can_read_deliveries(Caller.of(caller), origin), f"you do not coordinate network {origin}")
        items = [{"network_id": r["network_id"], "delivered_at": r["at"], "backfill": r["backfill"],
                  "tombstoned_at": NOW if self.log.copies.get(output_id) is None else None}
                 for r in self.log.rows if r["output_id"] == output_id and r["kind"] == "shared"]
        return {"output_id": output_id, "origin_network_id": origin, "items": items}

    # -- links --
    def request_link(self, caller, request):
        caller, requester = Caller.of(caller), request["requester_network_id"]
        if caller.kind == "partner" and not rules.acts_for(caller, requester, self._owner(requester)) \
                and self.networks is not None:
            self.networks.get_network(requester)  # a partner is told an unknown network is unknown
        rules.require_acts_for(caller, requester, self._owner(requester), "requester_network_id")
        for field in ("requester_network_id", "target_network_id"):
            network_id = request[field]
            if network_id in self.blocked:
                raise PermissionDenied(f"network {network_id} is blocked")
            if self.networks is not None and network_id not in self.networks.networks:
                raise NotFound(f"network {network_id} not found", [violation(field, "exists", "no such network")])
        pair = {request["requester_network_id"], request["target_network_id"]}
        for link in self.links.values():
            if {link["requester_network_id"], link["target_network_id"]} == pair \
                    and link["status"] in ("requested", "active"):
                return {"link": link, "created": False}
        link = self.add_link(request["requester_network_id"], request["target_network_id"])
        if request.get("policy"):
            link["requester_policy"] = self._policy(request["policy"])
        return {"link": link, "created": True}

    def _link(self, link_id):
        if link_id not in self.links:
            raise NotFound(f"link {link_id} not found")
        return self.links[link_id]

    def _sides(self, link):
        return [(n, self._owner(n)) for n in (link["requester_network_id"], link["target_network_id"])]

    def get_link(self, caller, link_id):
        caller, link = Caller.of(caller), self._link(link_id)
        require(rules.can_read_link(caller, self._sides(link)),
                "this link does not involve any of your networks" if caller.kind == "partner"
                else "you coordinate neither side of this link")
        return link

    def list_links(self, caller, network_id, status=None):
        require(rules.can_list_links(Caller.of(caller), network_id), f"you do not coordinate network {network_id}")
        return self._links_of(network_id, status)

    def _links_of(self, network_id, status=None):
        return [link for link in self.links.values()
                if network_id in (link["requester_network_id"], link["target_network_id"])
                and (status is None or link["status"] == status)]

    def accept_link(self, caller, link_id, request=None):
        require(rules.can_answer_link(Caller.of(caller), self._link(link_id)["target_network_id"]),
                "only the asked network's coordinators accept")
        link = self._move(link_id, "accept", ("requested",), "active")
        if (request or {}).get("policy"):
            link["target_policy"] = self._policy(request["policy"])
        return link

    def reject_link(self, caller, link_id):
        require(rules.can_answer_link(Caller.of(caller), self._link(link_id)["target_network_id"]),
                "only the asked network's coordinators reject")
        return self._move(link_id, "reject", ("requested",), "rejected")

    def revoke_link(self, caller, link_id):
        require(rules.can_read_link(Caller.of(caller), self._sides(self._link(link_id))),
                "you coordinate neither side of this link")
        return self._move(link_id, "revoke", ("requested", "active"), "revoked")

    def set_link_policy(self, caller, link_id, request):
        caller, link = Caller.of(caller), self._link(link_id)
        require(rules.can_read_link(caller, self._sides(link)), "you coordinate neither side of this link")
        if request["network_id"] not in (link["requester_network_id"], link["target_network_id"]):
            raise ValidationFailed.single("network_id", "side_of_link", "the network is not a side of this link")
        require(rules.can_set_link_policy(caller, request["network_id"]),
                f"you do not coordinate network {request['network_id']}")
        side = "requester_policy" if request["network_id"] == link["requester_network_id"] else "target_policy"
        link[side] = self._policy(request["policy"])
        return link

    def block_network(self, caller, network_id, request=None):
        rules.require_operator(Caller.of(caller))
        if self.networks is not None:
            self.networks.get_network(network_id)  # a typo is a 404, not a block of nothing
        self.blocked.add(network_id)
        ended = [link for link in self._links_of(network_id) if link["status"] in ("requested", "active")]
        for link in ended:
            link["status"] = "blocked"
        return ended

    # -- helpers --
    def _move(self, link_id, verb, allowed, to):
        link = self._link(link_id)
        if link["status"] not in allowed:
            raise IllegalTransition(f"cannot {verb} a {link['status']} link",
                                    [violation("status", "illegal_transition", f"cannot {verb}")])
        link.update(status=to, revision=link["revision"] + 1)
        return link

    @staticmethod
    def _policy(policy):
        if "network" in policy["visibilities"]:
            raise ValidationFailed.single("policy.visibilities", "shareable_only",
                                          "a link cannot carry network-only outputs")
        if policy.get("themes") and not policy["visibilities"]:
            raise ValidationFailed.single("policy.visibilities", "required_with_themes",
                                          "a theme filter needs the visibilities it filters")
        return {"visibilities": policy["visibilities"], "themes": policy.get("themes")}

    def _owner(self, network_id):
        return next((p["partner_id"] for p in self.partners.values() if network_id in p["network_ids"]), None)

    def _ensure_owner(self, caller, network_id, field):
        owner = self._owner(network_id)
        if owner != caller.partner_id and self.networks is not None:
            self.networks.get_network(network_id)  # NOT_FOUND for a network that does not exist at all
        rules.require_acts_for(caller, network_id, owner, field)

    def _readable(self, caller, network_id, field):
        owner = self._owner(network_id)
        if rules.can_read_feed(caller, network_id, owner):
            return
        if caller.kind == "partner":
            if self.networks is not None:
                self.networks.get_network(network_id)
            rules.require_acts_for(caller, network_id, owner, field)
        raise PermissionDenied(f"you are not inside network {network_id}")

    def _get_partner(self, partner_id):
        if partner_id not in self.partners:
            raise NotFound(f"partner {partner_id} not found")
        return self.partners[partner_id]

    @staticmethod
    def _partner_view(partner):
        return {k: partner[k] for k in ("partner_id", "name", "status", "network_ids", "created_at")}


class FakeExperts:
    """The members service's ``find_expertise``: consenting members only, never an email address."""

    def __init__(self, experts: list[dict] | None = None):
        self.experts = experts or []
        self.calls: list[tuple] = []

    def call(self, service, method, *args, timeout=None):
        assert (service, method) == ("members", "find_expertise")
        self.calls.append((method, *args))
        tag = args[0]["tag"]
        return {"items": [e for e in self.experts if tag in e["expertise"]], "next_page_token": None}


class Aborted(Exception):
    pass


class FakeContext:
    """The parts of grpc.aio's ServicerContext the gateway uses."""

    def __init__(self, key: str | None = None, *, metadata=(), time_remaining: float | None = None):
        self.metadata = tuple(metadata) + ((("authorization", f"Bearer {key}"),) if key else ())
        self.remaining = time_remaining
        self.active = True
        self.status = None
        self.initial_metadata = None
        self._code = None

    def invocation_metadata(self):
        return self.metadata

    def time_remaining(self):
        return self.remaining

    def abort_with_status(self, status):
        self.status = status
        self._code = status.code
        raise Aborted

    def code(self):
        return self._code

    async def send_initial_metadata(self, metadata):
        self.initial_metadata = metadata

    def cancelled(self):
        return not self.active

    def done(self):
        return not self.active
