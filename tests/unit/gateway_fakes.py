"""Hand-written fakes of the services' RPC contracts, as the gateway's admin API sees them.

Each fake holds just enough behaviour for the gateway's routes: the right shapes, and the typed errors
(NotFound, ValidationFailed, Conflict, PermissionDenied) the real service raises, so the tests see the HTTP status
the gateway maps them to. A call that depends on who asks takes the caller first, and the fake asks the service's
own access rules (``services/<service>/domain/access.py``), as the service does where it loads the thing asked
about. The rules themselves are tested against the services' domain code; here, that the gateway passes the
caller it authenticated. A gateway test builds the app with :class:`FakeServices` routing each call to its
service's fake.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from services.common.caller import Caller, require
from services.common.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationFailed,
    violation,
)
from services.common.logs import correlation_id
from services.common.vocabulary import Visibility
from services.gateway.admin.auth import token_hash
from services.gateway.shared.readiness import ReadinessReport
from services.members.domain import access as members_access
from services.members.handlers.tokens import not_a_member
from services.networks.domain import access as networks_access
from services.sessions.domain import access as sessions_access

NOW = datetime(2025, 1, 1, tzinfo=UTC).isoformat()
LEVELS = ("national", "regional", "local", "neighbourhood")
NOT_STAFF = sessions_access.NOT_STAFF


class FakeServices:
    """The gateway's RPC caller: routes ``call(service, method, ...)`` to that service's fake. A sessions service
    not given is an empty :class:`FakeSessions` (the member export asks it)."""

    def __init__(self, **services):
        self.services = {"sessions": FakeSessions(), **services}

    def call(self, service, method, *args, timeout=None):
        return self.services[service].call(service, method, *args, timeout=timeout)


CALLER_KINDS = frozenset({"operator", "member", "partner", "service"})


def applied(fake, method, args, run):
    """Run a call on a fake; record it in ``fake.calls`` (``(method, *args)``, the caller apart in ``fake.callers``)
    only when the fake answered, so a refused call shows up as a change never made. ``fake.attempts`` counts
    every call, refused ones too."""
    fake.attempts = [*getattr(fake, "attempts", []), (method, *args)]
    result = run()
    if args and isinstance(args[0], dict) and args[0].get("kind") in CALLER_KINDS:
        fake.callers = [*getattr(fake, "callers", []), args[0]]
        args = args[1:]
    elif len(args) > 1 and isinstance(args[-1], dict) and args[-1].get("kind") in CALLER_KINDS:
        fake.callers = [*getattr(fake, "callers", []), args[-1]]  # the directory's reads: the caller comes last
        args = args[:-1]
    fake.calls.append((method, *args))
    return result


class FakeMembers:
    """The members RPC contract in memory. Given ``networks``, joining asks it whether the network exists and
    is active, as the real members service asks the networks service."""

    def __init__(self, networks: FakeNetworks | None = None):
        self.networks = networks
        self.members: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}  # token hash -> principal
        self.holders: dict[str, str] = {}  # token id -> member id
        self.calls: list[tuple] = []
        self.correlation_ids: list[str | None] = []

    def call(self, service, method, *args, timeout=None):
        assert service == "members"
        self.correlation_ids.append(correlation_id.get())
        return applied(self, method, args, lambda: getattr(self, method)(*args))

    # -- the contract --
    def add(self, member_id, networks=(), role="participant"):
        self.members[member_id] = {
            "id": member_id, "name": member_id.title(), "email": f"{member_id}@example.org", "organisation": None,
            "perspectives": ["resident"], "expertise": [], "findable_by_expertise": False,
            "named_in_shared_outputs": False, "created_at": NOW, "updated_at": NOW, "revision": 1,
            "memberships": [{"network_id": n, "role": role, "joined_at": NOW} for n in networks],
        }
        return self.members[member_id]

    def token_for(self, member_id, administers=(), facilitates=(), member_of=(), *, expires_at=None,
                  token_id=None, operator=False):
        """A token for ``member_id`` (registered here if new); ``member_of`` adds plain memberships to the
        networks they administer and facilitate, as the real ``authenticate`` lists every network. The token's id
        is ``t-<member_id>`` unless given; ``expires_at`` (ISO text) as the real answer gives it."""
        token = f"token-{member_id}" if token_id is None else f"token-{token_id}"
        if member_id not in self.members:
            self.add(member_id)
        networks = sorted({*administers, *facilitates, *member_of})
        token_id = token_id or f"t-{member_id}"
        self.tokens[token_hash(token)] = {"member_id": member_id, "administers": list(administers),
                                          "facilitates": list(facilitates), "member_of": networks,
                                          "token_id": token_id, "expires_at": expires_at, "operator": operator}
        self.holders[token_id] = member_id
        return {"Authorization": f"Bearer {token}"}

    def authenticate(self, digest):
        if digest not in self.tokens:
            raise Unauthenticated("unknown token")
        return self.tokens[digest]

    def _member(self, member_id):
        if member_id not in self.members:
            raise NotFound(f"no member {member_id}")
        return self.members[member_id]

    def get_member(self, caller, member_id):
        member = self._member(member_id)
        require(members_access.can_view_member(Caller.of(caller), member_id, _networks_of(member)))
        return member

    def find_experts(self, caller, query):
        within = members_access.expertise_scope(Caller.of(caller), query.get("network_id"))
        found = [m for m in self.members.values() if m["findable_by_expertise"]
                 and (within is None or set(_networks_of(m)) & set(within))
                 and ("tag" not in query or query["tag"] in m["expertise"])]
        return {"items": [{"member_id": m["id"], "name": m["name"], "organisation": m["organisation"],
                           "expertise": m["expertise"], "perspectives": m["perspectives"],
                           "network_ids": sorted(set(_networks_of(m)) & set(within or _networks_of(m)))}
                          for m in found], "next_page_token": None}

    def ask_question(self, caller, request):
        members_access.require_asking_in(Caller.of(caller), request["network_id"])
        return {"id": "q1", "role": "asked", "network_id": request["network_id"], "tag": request.get("tag"),
                "question": request["question"], "status": "open", "asked_at": NOW, "closed_at": None,
                "answer": None, "decline_reason": None, "revision": 1,
                "expert": {"member_id": request["expert_id"], "name": "Expert", "organisation": None}}

    def list_questions(self, caller, query):
        members_access.require_own_questions(Caller.of(caller))
        return {"items": [], "next_page_token": None}

    def register_member(self, caller, request):
        require(members_access.can_register_member(Caller.of(caller)), "registering members needs a coordinator")
        return self.add("new") | {"name": request["name"]}

    def update_member(self, caller, member_id, request):
        caller, member = Caller.of(caller), self._member(member_id)
        require(members_access.can_edit_profile(caller, member_id, _networks_of(member)))
        if members_access.touches_consent(request):
            require(members_access.can_change_consent(caller, member_id), "only the member may change their consent")
        return member | request

    def search_members(self, caller, query):
        within = members_access.search_scope(Caller.of(caller), query.get("network_id"))
        found = [m for m in self.members.values() if within is None or set(_networks_of(m)) & set(within)]
        return {"items": found, "next_page_token": None}

    def join_network(self, caller, member_id, network_id, request):
        require(members_access.can_set_membership(Caller.of(caller), network_id), "you do not administer it")
        self._member(member_id)
        if self.networks is not None:
            network = self.networks.networks.get(network_id)
            if network is None:
                raise NotFound(f"network {network_id} not found",
                               [violation("network_id", "exists", "no such network")])
            if network["status"] != "active":
                raise Conflict(f"network {network_id} is archived", [violation("network_id", "active", "archived")])
        return {"network_id": network_id, "role": request["role"], "joined_at": NOW}

    def appoint_creator(self, caller, network_id):
        caller = Caller.of(caller)
        if not members_access.creator_becomes_coordinator(caller):
            return None
        self.appointed = [*getattr(self, "appointed", []), (caller.member_id, network_id)]
        return {"network_id": network_id, "role": "coordinator", "joined_at": NOW}

    def leave_network(self, caller, member_id, network_id):
        require(members_access.can_remove_membership(Caller.of(caller), network_id, member_id), "not yours")
        return None

    def export_member(self, caller, member_id):
        require(members_access.owns_personal_data(Caller.of(caller), member_id), "only the member or the operator")
        return {"exported_at": NOW, "member": self._member(member_id), "tokens": [], "events": []}

    def erase_member(self, caller, member_id):
        require(members_access.owns_personal_data(Caller.of(caller), member_id), "only the member or the operator")
        return {"member_id": member_id, "erased_at": NOW}

    def issue_token(self, caller, member_id, request):
        require(members_access.can_issue_tokens(Caller.of(caller)), "only the operator issues tokens")
        self.holders["t1"] = member_id
        return {"token_id": "t1", "token": "plain", "member_id": member_id, "label": request["label"],
                "created_at": NOW}

    def sign_in(self, request):
        """As the real one: the active member with the (lower-cased) address, or EmailNotKnown."""
        found = [m for m in self.members.values() if m["email"] == request["email"]]
        if not found:
            raise not_a_member()
        member_id = found[0]["id"]
        expires_at = (datetime.now(UTC) + timedelta(seconds=request["ttl_seconds"])).isoformat()
        self.holders[f"s-{member_id}"] = member_id
        return {"token": f"krm_signed-in-{member_id}", "token_id": f"s-{member_id}", "member_id": member_id,
                "expires_at": expires_at, "operator": request["operator"]}

    def revoke_token(self, caller, token_id):
        if token_id not in self.holders:
            raise NotFound(f"token {token_id} not found")
        require(members_access.can_revoke_token(Caller.of(caller), self.holders[token_id]),
                "you may revoke only your own tokens")
        for digest, principal in list(self.tokens.items()):
            if principal["token_id"] == token_id:
                del self.tokens[digest]
        return None


class FakeNetworks:
    """The networks RPC contract in memory: ids are given by the test (``add``) or derived from the name."""

    def __init__(self):
        self.networks: dict[str, dict] = {}
        self.calls: list[tuple] = []

    def call(self, service, method, *args, timeout=None):
        assert service == "networks"
        return applied(self, method, args, lambda: copy.deepcopy(getattr(self, method)(*copy.deepcopy(args))))

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
    def create_network(self, caller, request):
        parent = request.get("parent_id")
        require(networks_access.can_create_network(Caller.of(caller), parent), networks_access.not_coordinated(parent)
                if parent else "only the operator creates top-level networks")
        self._check_parent(request.get("parent_id"), request["level"])
        fields = {k: v for k, v in request.items() if k not in ("level", "parent_id")}
        return self.add(request["name"].lower().replace(" ", "-"), request["level"], request.get("parent_id"),
                        **fields)

    def update_network(self, caller, network_id, request):
        caller = Caller.of(caller)
        require(networks_access.can_update_network(caller, network_id), "you do not administer it")
        network = self.get_network(network_id)
        parent = request.get("parent_id", network["parent_id"])
        require(networks_access.can_move_network(caller, network["parent_id"], parent),
                networks_access.not_coordinated(parent) if parent else "only the operator makes a network top-level")
        if network["status"] != "active":
            raise IllegalTransition("cannot update an archived network",
                           [violation("status", "illegal_transition", "archived")])
        if "parent_id" in request:
            self._check_parent(request["parent_id"], request.get("level", network["level"]))
        network.update(request, revision=network["revision"] + 1)
        return network

    def archive_network(self, caller, network_id):
        require(networks_access.can_archive_network(Caller.of(caller), network_id), "you do not administer it")
        network = self.get_network(network_id)
        if self._children(network_id, only_active=True):
            raise Conflict(f"network {network_id} still has active child networks",
                           [violation("status", "no_active_children", "archive the child networks first")])
        network["status"] = "archived"
        return network

    def get_network(self, network_id, caller=None):
        if network_id not in self.networks:
            raise NotFound(f"network {network_id} not found")
        return self.networks[network_id]

    def list_networks(self, query, caller=None):
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

    def health_report(self, caller, network_id, query=None):
        require(networks_access.can_read_health_report(Caller.of(caller), network_id), "not its staff")
        network = self.get_network(network_id)
        language = (query or {}).get("language", "nl")
        steps = [{"step": n, "key": f"step_{n}", "title": f"{'Stap' if language == 'nl' else 'Step'} {n}",
                  "status": "not_shown", "evidence": "none yet", "missing": None, "little_data": n == 4,
                  "little_data_note": "only 0 experiments" if n == 4 else None}
                 for n in range(1, 10)]
        return {"network_id": network_id, "network_name": network["name"], "generated_at": NOW, "language": language,
                "steps": steps}

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


class FakeSessions:
    """The sessions RPC contract in memory: the shapes of services/sessions/views.py and the typed errors of
    the life cycle. ``add_session`` and ``add_output`` set the scene; ids are ``s1``, ``s2``... and ``o1``...

    Authors of outputs are ``(member_id, name, consents_to_be_named)``: outside the output's network a
    non-consenting author is shown as "a participant with lived experience", as the real service does.
    """

    READS = frozenset({"get_session", "list_sessions", "get_registration", "list_registrations", "get_attendance",
                       "get_output",
                       "list_outputs", "learning_report", "export_member", "get_learning_question",
                       "list_learning_questions"})
    MOVES = {"hold": ("planned", "held"), "close": ("held", "closed"), "cancel": ("planned", "cancelled"),
             "reschedule": ("planned", "planned")}

    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.registrations: dict[str, list[dict]] = {}
        self.outputs: dict[str, dict] = {}
        self.reflections: list[dict] = []
        self.loops: dict[str, dict] = {}
        self.calls: list[tuple] = []

    def call(self, service, method, *args, timeout=None):
        assert service == "sessions"
        return applied(self, method, args, lambda: copy.deepcopy(getattr(self, method)(*copy.deepcopy(args))))

    def writes(self) -> list[str]:
        return [c[0] for c in self.calls if c[0] not in self.READS]

    # -- the scene --
    def add_session(self, network_id, status="planned", **fields):
        session_id = f"s{len(self.sessions) + 1}"
        self.sessions[session_id] = {
            "id": session_id, "network_id": network_id, "title": "Kenniscafé", "format": "knowledge_cafe",
            "mode": "online", "location": None, "meeting_url": "https://meet.example.org/kring",
            "starts_at": NOW, "ends_at": NOW, "capacity": None, "agenda": "", "contributions": [], "statements": [],
            "status": status, "revision": 1, "cancel_reason": None, "reschedules": [], "registered_count": 0,
            "waitlisted_count": 0, "attendee_count": None, "created_at": NOW, "updated_at": NOW, **fields,
        }
        self.registrations[session_id] = []
        return self.sessions[session_id]

    def add_output(self, session_id, visibility="federation", authors=(("ann", "Ann", False),), **fields):
        output_id = f"o{len(self.outputs) + 1}"
        self.outputs[output_id] = {
            "id": output_id, "session_id": session_id, "network_id": self.sessions[session_id]["network_id"],
            "kind": "lesson", "title": "What we learned", "body": "", "url": None, "resource_type": None,
            "themes": [], "visibility": visibility, "licence": "CC-BY-4.0", "authors": list(authors),
            "published_at": NOW, "retracted_at": None, **fields,
        }
        return self.outputs[output_id]

    # -- sessions --
    def schedule_session(self, caller, request):
        require(sessions_access.staffs(Caller.of(caller), request["network_id"]), NOT_STAFF)
        if request.get("statements") and request["format"] not in ("world_cafe", "knowledge_cafe"):
            raise ValidationFailed.single("statements", "cafe_only", "only a world café or a knowledge café has "
                                                                     "statements")
        return self.add_session(**request)

    def _session(self, session_id):
        if session_id not in self.sessions:
            raise NotFound(f"session {session_id} not found")
        return self.sessions[session_id]

    @staticmethod
    def _shown(caller, session):
        if sessions_access.sees_meeting_url(Caller.of(caller), session["network_id"]):
            return session
        return {**session, "meeting_url": None}

    def get_session(self, caller, session_id):
        return self._shown(caller, self._session(session_id))

    def list_sessions(self, caller, query):
        found = [s for s in self.sessions.values() if s["network_id"] == query.get("network_id")
                 and query.get("status", s["status"]) == s["status"]]
        return {"items": [self._shown(caller, s) for s in found[: query.get("page_size", 50)]],
                "next_page_token": None}

    def _staffed(self, caller, session_id):
        session = self._session(session_id)
        require(sessions_access.staffs(Caller.of(caller), session["network_id"]), NOT_STAFF)
        return session

    def _move(self, caller, session_id, action, **changes):
        session = self._staffed(caller, session_id)
        before, after = self.MOVES[action]
        if session["status"] != before:
            message = f"cannot {action} a {session['status']} session"
            raise IllegalTransition(message, [violation("status", "illegal_transition", message)])
        session.update(status=after, revision=session["revision"] + 1, **changes)
        return session

    def reschedule_session(self, caller, session_id, request):
        return self._move(caller, session_id, "reschedule", starts_at=request["starts_at"], ends_at=request["ends_at"])

    def hold_session(self, caller, session_id):
        return self._move(caller, session_id, "hold")

    def close_session(self, caller, session_id):
        return self._move(caller, session_id, "close")

    def cancel_session(self, caller, session_id, request=None):
        return self._move(caller, session_id, "cancel", cancel_reason=(request or {}).get("reason"))

    # -- registrations and attendance --
    def register_for_session(self, caller, session_id, member_id, request=None):
        caller = Caller.of(caller)
        member_id = member_id or caller.member_id
        if member_id is None:
            raise ValidationFailed.single("member_id", "required", "the operator names the member to register")
        session = self._session(session_id)
        require(sessions_access.can_register_for_session(caller, session["network_id"], member_id), "own only")
        taken = sum(1 for r in self.registrations[session_id] if r["status"] == "registered")
        seat = session["capacity"] is None or taken < session["capacity"]
        registration = {"session_id": session_id, "member_id": member_id,
                        "status": "registered" if seat else "waitlisted", "prepared": (request or {}).get("prepared"),
                        "unprepared": False, "waitlist_position": None if seat else 1, "registered_at": NOW,
                        "cancelled_at": None}
        self.registrations[session_id].append(registration)
        return registration

    def cancel_registration(self, caller, session_id, member_id):
        session = self._session(session_id)
        require(sessions_access.can_cancel_registration(Caller.of(caller), session["network_id"], member_id),
                "you cancel your own registrations only")
        for registration in self.registrations[session_id]:
            if registration["member_id"] == member_id:
                registration.update(status="cancelled", cancelled_at=NOW)
                return registration
        raise NotFound(f"member {member_id} is not registered for session {session_id}")

    def get_registration(self, caller, session_id, member_id):
        session = self._session(session_id)
        require(sessions_access.can_read_registration(Caller.of(caller), session["network_id"], member_id),
                "you read your own registrations only")
        for registration in self.registrations[session_id]:
            if registration["member_id"] == member_id:
                return registration
        raise NotFound(f"member {member_id} is not registered for session {session_id}")

    def list_registrations(self, caller, session_id):
        session = self._staffed(caller, session_id)
        return {"session_id": session_id, "capacity": session["capacity"], "items": self.registrations[session_id]}

    def record_attendance(self, caller, session_id, request):
        self._staffed(caller, session_id)["attendee_count"] = len(request["member_ids"])
        return self.get_attendance(caller, session_id) | {"member_ids": request["member_ids"],
                                                          "attendee_count": len(request["member_ids"]), "revision": 1}

    def get_attendance(self, caller, session_id):
        session = self._staffed(caller, session_id)
        return {"session_id": session_id, "revision": 0, "member_ids": [],
                "attendee_count": session["attendee_count"] or 0, "perspective_counts": {}, "recorded_at": None}

    # -- outputs, reflections, reports --
    def publish_output(self, caller, session_id, request):
        if self._staffed(caller, session_id)["status"] not in ("held", "closed"):
            raise IllegalTransition("cannot publish an output of a planned session",
                                    [violation("status", "illegal_transition", "not held")])
        authors = [(a, a.title(), True) for a in request.pop("authors")]
        return self._view(self.add_output(session_id, authors=authors, **request), inside=True)

    def retract_output(self, caller, output_id, request=None):
        output = self._output(output_id)
        require(sessions_access.staffs(Caller.of(caller), output["network_id"]), NOT_STAFF)
        output["retracted_at"] = output["retracted_at"] or NOW
        return self._view(output, inside=False)

    def get_output(self, caller, output_id):
        caller, output = Caller.of(caller), self._output(output_id)
        if not sessions_access.may_read_output(caller, output["network_id"], Visibility(output["visibility"])):
            raise PermissionDenied(f"output {output_id} is not public")
        return self._view(output, inside=sessions_access.reads_as_inside(caller, output["network_id"]))

    def list_outputs(self, caller, query):
        caller = Caller.of(caller)
        found = [o for o in self.outputs.values()
                 if query.get("network_id", o["network_id"]) == o["network_id"]
                 and query.get("session_id", o["session_id"]) == o["session_id"]
                 and sessions_access.may_read_output(caller, o["network_id"], Visibility(o["visibility"]))]
        return {"items": [self._view(o, inside=sessions_access.reads_as_inside(caller, o["network_id"]))
                          for o in found], "next_page_token": None}

    def record_reflection(self, caller, request):
        caller = Caller.of(caller)
        require(sessions_access.can_record_reflection(caller), "reflections are personal")
        network_id = self._session(request["session_id"])["network_id"]
        require(sessions_access.can_reflect_on(caller, network_id), "you reflect on your own networks' sessions")
        reflection = {"id": f"r{len(self.reflections) + 1}", "network_id": network_id, "member_id": caller.member_id,
                      "recorded_at": NOW, **request}
        self.reflections.append(reflection)
        return reflection

    def list_reflections(self, caller, query):
        caller = Caller.of(caller)
        member_id = query.get("member_id") or caller.member_id
        if member_id is None:
            require(caller.operator, "reflections are personal")
            raise ValidationFailed.single("member_id", "required", "the operator names the member")
        require(sessions_access.reads_reflections_of(caller, member_id), "reflections are personal")
        self.calls.append(("list_reflections", query))
        found = [r for r in reversed(self.reflections) if r["member_id"] == member_id]
        return {"items": found[: query["page_size"]], "next_page_token": None}

    def learning_report(self, caller, network_id, query=None):
        require(sessions_access.staffs(Caller.of(caller), network_id), NOT_STAFF)
        zero = {"sessions_by_format": {}, "perspective_mix": [], "perspective_totals": {}, "outputs_by_kind": {},
                "reflections_by_kind": {},
                "loops": {"opened": 0, "closed": 0, "closed_with_output": 0, "experiments": 0,
                          "experiments_by_mandate": {}, "followed_up": 0}}
        return {"network_id": network_id, "language": (query or {}).get("language", "nl"), "summary": ["x"],
                "period_from": (query or {}).get("period_from", NOW),
                "period_to": (query or {}).get("period_to", NOW), "sessions_held": 0, "attendance_total": 0,
                "attendance_average": 0.0, "distinct_attendees": 0, **zero}

    # -- the action-learning loop: the access rules are the service's own; the steps a plain sequence --
    LOOP_STEPS = {"bring_learning_question": ("open", "brought"), "start_experiment": ("brought", "experimenting"),
                  "change_mandate": ("experimenting", "experimenting"),
                  "follow_up_experiment": ("experimenting", "followed_up"),
                  "close_learning_loop": ("followed_up", "closed")}

    def open_learning_question(self, caller, request):
        caller = Caller.of(caller)
        require(sessions_access.can_open_question(caller, request["network_id"]), "your own networks only")
        loop_id = f"l{len(self.loops) + 1}"
        self.loops[loop_id] = {
            "id": loop_id, "owner_id": caller.member_id, "owner_role": "participant", "urgency": None,
            "shared_with_network": False, "status": "open", "opened_at": NOW, "brought_to_session_id": None,
            "experiment": None, "experiment_session_id": None, "mandate": None, "follow_up": None,
            "follow_up_session_id": None, "lesson": None, "output_id": None, "closed_at": None, "revision": 1,
            **request}
        return self.loops[loop_id]

    def get_learning_question(self, caller, loop_id):
        loop = self._loop(loop_id)
        require(sessions_access.sees_loop(Caller.of(caller), loop["network_id"], loop["owner_id"],
                                          loop["shared_with_network"]), "not yours")
        return loop

    def list_learning_questions(self, caller, query):
        caller = Caller.of(caller)
        require(caller.inside(query["network_id"]), "within the network")
        return {"items": [lo for lo in self.loops.values() if lo["network_id"] == query["network_id"]
                          and sessions_access.sees_loop(caller, lo["network_id"], lo["owner_id"],
                                                        lo["shared_with_network"])],
                "next_page_token": None}

    def _step(self, method, caller, loop_id, request):
        loop = self._loop(loop_id)
        require(sessions_access.works_on_loop(Caller.of(caller), loop["network_id"], loop["owner_id"]), "not yours")
        before, after = self.LOOP_STEPS[method]
        if loop["status"] != before:
            raise IllegalTransition(f"cannot {method} a loop that is {loop['status']}",
                                    [violation("status", "illegal_transition", "not now")])
        if "session_id" in request and request["session_id"] not in self.sessions:
            raise ValidationFailed.single("session_id", "known_session", "no such session")
        loop.update(status=after, revision=loop["revision"] + 1)
        loop.update({k: v for k, v in request.items() if k in loop})
        return loop

    def bring_learning_question(self, caller, loop_id, request):
        return self._step("bring_learning_question", caller, loop_id, request)

    def start_experiment(self, caller, loop_id, request):
        return self._step("start_experiment", caller, loop_id, request)

    def change_mandate(self, caller, loop_id, request):
        return self._step("change_mandate", caller, loop_id, request)

    def follow_up_experiment(self, caller, loop_id, request):
        return self._step("follow_up_experiment", caller, loop_id, request)

    def close_learning_loop(self, caller, loop_id, request):
        return self._step("close_learning_loop", caller, loop_id, request)

    def _loop(self, loop_id):
        if loop_id not in self.loops:
            raise NotFound(f"learning question {loop_id} not found")
        return self.loops[loop_id]

    def export_member(self, caller, member_id):
        require(sessions_access.owns_personal_data(Caller.of(caller), member_id), "only the member or the operator")
        return {"member_id": member_id, "exported_at": NOW, "sessions": [], "authorship": [],
                "reflections": [r for r in self.reflections if r["member_id"] == member_id]}

    def _output(self, output_id):
        if output_id not in self.outputs:
            raise NotFound(f"output {output_id} not found")
        return self.outputs[output_id]

    @staticmethod
    def _view(output, inside):
        if output["retracted_at"]:
            return {"id": output["id"], "retracted_at": output["retracted_at"]}
        authors = [{"member_id": m, "shown_as": name if inside or consents else "a participant with lived experience",
                    "named": bool(inside or consents)} for m, name, consents in output["authors"]]
        return {k: v for k, v in output.items() if k != "retracted_at"} | {"authors": authors}


def _networks_of(member):
    return [m["network_id"] for m in member.get("memberships") or ()]


class FakeReadiness:
    def __init__(self, checks):
        self.checks = checks

    def check(self):
        return ReadinessReport(self.checks)
