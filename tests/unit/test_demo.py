"""The demo data set tells a believable story, every request it makes is one the admin API accepts, and loading
it through the admin API is idempotent."""

from __future__ import annotations

import itertools
import json
import re
import statistics
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from email_validator import validate_email

from services.common.vocabulary import (
    MembershipRole,
    NetworkLevel,
    OutputKind,
    Perspective,
    ReflectionKind,
    SessionFormat,
    SessionStatus,
    Visibility,
)
from services.demo import (
    DEMO_MEMBERS,
    DEMO_MEMBERSHIPS,
    DEMO_NETWORKS,
    EXAMPLE_TOKEN_HOLDER,
    NETWORK_KEYS,
    DemoDataError,
    demo_member,
    load_demo_data,
    members_of,
)
from services.demo.plan import LOOP_STATES, plan_loops, plan_reflections, plan_sessions
from services.gateway.admin.routes.sessions import SessionPlan
from services.networks.schemas import CreateNetwork
from services.sessions.domain.outputs import check_content
from services.sessions.domain.planning import check_plan
from services.sessions.schemas.commands import (
    BringQuestion,
    CloseLoop,
    FollowUpExperiment,
    OpenLearningQuestion,
    PublishOutput,
    RecordAttendance,
    RecordReflection,
    StartExperiment,
)

OPERATOR = "operator-secret"
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
R, S = MembershipRole, SessionStatus


def plans() -> dict[str, list]:
    return {n.key: plan_sessions(n, n.start_date(NOW.date()), NOW) for n in DEMO_NETWORKS}


def all_specs():
    return [spec for specs in plans().values() for spec in specs]


# --- who is who --------------------------------------------------------------------------------------------------


def test_demo_members_are_about_forty_with_valid_perspectives_and_unique_valid_emails():
    assert 35 <= len(DEMO_MEMBERS) <= 45
    for member in DEMO_MEMBERS:
        body = member.registration()
        assert body["perspectives"], member.key
        assert all(Perspective(p) for p in body["perspectives"])
        validate_email(member.email, check_deliverability=False)
    emails = [m.email.lower() for m in DEMO_MEMBERS]
    assert len(emails) == len(set(emails))
    assert len({m.key for m in DEMO_MEMBERS}) == len(DEMO_MEMBERS)


def test_demo_members_cover_every_perspective_and_mixed_consent():
    assert {p for m in DEMO_MEMBERS for p in m.perspectives} == set(Perspective)
    assert any(m.findable_by_expertise and m.named_in_shared_outputs for m in DEMO_MEMBERS)
    assert any(not m.findable_by_expertise for m in DEMO_MEMBERS)
    assert any(not m.named_in_shared_outputs for m in DEMO_MEMBERS)


def test_demo_networks_are_valid_creations_with_parents_first_and_levels_below_their_parents():
    levels = list(NetworkLevel)
    seen: dict[str, NetworkLevel] = {}
    for network in DEMO_NETWORKS:
        CreateNetwork.model_validate(network.creation(parent_id="some-parent" if network.parent else None))
        if network.parent:
            assert network.parent in seen, f"{network.key}: create its parent first"
            assert levels.index(seen[network.parent]) < levels.index(network.level)
        seen[network.key] = network.level
    assert len({n.name for n in DEMO_NETWORKS}) == len(DEMO_NETWORKS), "names find networks on a re-run"


def test_the_federation_is_a_national_network_with_regional_werkplaatsen_and_local_networks_under_them():
    levels = Counter(n.level for n in DEMO_NETWORKS)
    assert levels[NetworkLevel.NATIONAL] == 1 and 3 <= levels[NetworkLevel.REGIONAL] <= 4
    assert levels[NetworkLevel.LOCAL] + levels[NetworkLevel.NEIGHBOURHOOD] >= 4
    assert 8 <= len(DEMO_NETWORKS) <= 12
    assert {n.cadence_weeks for n in DEMO_NETWORKS} == {2, 4, 6}
    assert [n.key for n in DEMO_NETWORKS if n.requires_preparation] == ["actieleren-enschede"]
    assert any(n.urgency is None for n in DEMO_NETWORKS), "one network's health report misses the urgency"


def test_the_national_network_started_long_enough_ago_to_show_eighteen_months_of_sessions():
    national = next(n for n in DEMO_NETWORKS if n.level == NetworkLevel.NATIONAL)
    assert national.months_of_history >= 19 and national.cadence_weeks == 6


@pytest.mark.parametrize("network_id", sorted(NETWORK_KEYS - {"werkplaats-nhn"}))
def test_each_demo_network_has_one_coordinator_and_two_facilitators_from_different_perspectives(network_id):
    assert len(members_of(network_id, R.COORDINATOR)) == 1
    facilitators = members_of(network_id, R.FACILITATOR)
    assert len(facilitators) == 2
    first, second = (demo_member(key).perspectives[0] for key in facilitators)
    assert first != second
    assert members_of(network_id, R.PARTICIPANT)


def test_one_network_has_a_single_facilitator_and_two_perspectives_so_its_health_report_shows_gaps():
    assert len(members_of("werkplaats-nhn", R.FACILITATOR)) == 1
    assert len({p for key in members_of("werkplaats-nhn") for p in demo_member(key).perspectives}) == 2


def test_demo_memberships_name_known_networks_and_members_once_each():
    keys = {m.key for m in DEMO_MEMBERS}
    pairs = Counter((net, key) for net, key, _ in DEMO_MEMBERSHIPS)
    assert all(net in NETWORK_KEYS and key in keys for net, key in pairs)
    assert max(pairs.values()) == 1
    assert keys == {key for _, key, _ in DEMO_MEMBERSHIPS}, "every demo member belongs to a network"


def test_example_token_holder_coordinates_a_network():
    assert (EXAMPLE_TOKEN_HOLDER, R.COORDINATOR) in {(k, r) for _, k, r in DEMO_MEMBERSHIPS}


# --- the session plan ----------------------------------------------------------------------------------------------


def test_the_plan_is_deterministic_for_a_start_date():
    assert plans() == plans()


def test_a_later_day_only_adds_sessions_after_the_ones_planned_before():
    network = DEMO_NETWORKS[0]
    start = network.start_date(NOW.date())
    before = plan_sessions(network, start, NOW)
    later = plan_sessions(network, start, NOW + timedelta(weeks=7))
    assert [s.title for s in later[: len(before)]] == [s.title for s in before]


@pytest.mark.parametrize("network_id", sorted(NETWORK_KEYS))
def test_each_network_has_a_history_of_held_sessions_the_latest_still_open_and_two_planned_ahead(network_id):
    specs = plans()[network_id]
    fates = [s.fate for s in specs]
    assert fates.count(S.CLOSED) >= 5 and fates.count(S.HELD) == 1 and fates.count(S.PLANNED) == 2
    assert fates[-2:] == [S.PLANNED, S.PLANNED] and fates[-3] == S.HELD
    assert all(s.starts_at < NOW for s in specs if s.fate != S.PLANNED)
    assert all(s.starts_at > NOW for s in specs if s.fate == S.PLANNED)
    assert len({s.title for s in specs}) == len(specs), "titles find sessions on a re-run"


def test_the_national_networks_held_sessions_span_eighteen_months_about_every_six_weeks():
    held = sorted(s.starts_at for s in plans()["beteroud"] if s.fate in (S.HELD, S.CLOSED))
    assert (held[-1] - held[0]).days / 30.44 >= 18
    assert statistics.median((b - a).days / 7 for a, b in itertools.pairwise(held)) <= 6.5


def test_every_session_is_one_the_admin_api_and_the_sessions_rules_accept():
    ids = {m.key: f"id-{m.key}" for m in DEMO_MEMBERS}
    for spec in all_specs():
        plan = SessionPlan.model_validate(spec.scheduling(ids))
        check_plan(format=plan.format, mode=plan.mode, location=plan.location, meeting_url=plan.meeting_url,
                   starts_at=plan.starts_at, ends_at=plan.ends_at, statements=plan.statements)
        RecordAttendance.model_validate({"member_ids": [ids[m] for m in spec.attendees]})


def test_sessions_involve_only_members_of_their_network():
    for spec in all_specs():
        members = set(members_of(spec.network))
        involved = {m for m, _ in spec.contributions} | set(spec.attendees) | {m for m, _ in spec.registrations}
        involved |= {a for o in spec.outputs for a in o.authors}
        assert involved <= members, spec.title
        assert {a for o in spec.outputs for a in o.authors} <= set(spec.attendees), "authors were there"


def test_the_plan_has_world_cafes_with_statements_cancellations_and_one_rescheduled_session():
    specs = all_specs()
    cafes = [s for s in specs if s.format == SessionFormat.WORLD_CAFE]
    assert cafes and all(len(s.statements) == 3 for s in cafes)
    assert all(not s.statements for s in specs if s.format != SessionFormat.WORLD_CAFE)
    cancelled = [s for s in specs if s.fate == S.CANCELLED]
    assert len(cancelled) >= 3 and all(s.cancel_reason and not s.attendees for s in cancelled)
    moved = [s for s in specs if s.moved_from]
    assert len(moved) == 1 and moved[0].fate in (S.CLOSED, S.HELD)


def test_one_planned_session_is_at_capacity_with_a_waitlist():
    full = [s for s in all_specs() if s.capacity]
    assert len(full) == 1 and full[0].fate == S.PLANNED
    assert len(full[0].registrations) == full[0].capacity + 2


def test_the_action_learning_network_registers_prepared_participants_and_one_unprepared():
    planned = [s for s in plans()["actieleren-enschede"] if s.fate == S.PLANNED]
    prepared = [p for s in planned for _, p in s.registrations]
    assert prepared.count(False) == len(planned) and prepared.count(True) >= 2
    others = [p for key, specs in plans().items() if key != "actieleren-enschede" for s in specs
              for _, p in s.registrations]
    assert set(others) == {None}


def test_outputs_of_every_kind_and_visibility_each_one_the_admin_api_accepts_and_one_retracted():
    outputs = [o for s in all_specs() for o in s.outputs]
    assert {o.kind for o in outputs} == set(OutputKind)
    assert {o.visibility for o in outputs} == set(Visibility)
    assert sum(o.retract for o in outputs) == 1
    ids = {m.key: f"id-{m.key}" for m in DEMO_MEMBERS}
    for output in outputs:
        body = PublishOutput.model_validate(output.publication(ids))
        check_content(body.kind, str(body.url) if body.url else None, body.resource_type)
    assert all(not s.outputs for s in all_specs() if s.fate in (S.PLANNED, S.CANCELLED))


def test_one_network_keeps_its_outputs_within_it_and_the_others_share_some():
    shared = {key: {o.visibility for s in specs for o in s.outputs} for key, specs in plans().items()}
    assert shared.pop("buurtkring-hillesluis") == {Visibility.NETWORK}
    assert all(v - {Visibility.NETWORK} for v in shared.values())


def test_participants_present_in_a_third_of_the_sessions_except_in_twente():
    for network in DEMO_NETWORKS:
        held = [s for s in plans()[network.key] if s.fate in (S.HELD, S.CLOSED)]
        participants = set(members_of(network.key, R.PARTICIPANT))
        share = sum(1 for s in held if participants & {m for m, _ in s.contributions}) / len(held)
        assert (share >= 1 / 3) == (network.key != "werkplaats-twente"), network.key


def test_reflections_of_all_four_kinds_by_members_on_sessions_they_attended():
    reflections = []
    for network in DEMO_NETWORKS:
        specs = {s.number: s for s in plans()[network.key]}
        for reflection in plan_reflections(network, specs.values()):
            assert reflection.member in specs[reflection.session_number].attendees
            assert specs[reflection.session_number].fate in (S.HELD, S.CLOSED)
            RecordReflection.model_validate({"session_id": "s", "kind": str(reflection.kind), "text": reflection.text})
            reflections.append(reflection)
    assert {r.kind for r in reflections} == set(ReflectionKind)
    with_reflections = {r.network for r in reflections}
    assert with_reflections == NETWORK_KEYS - {"mantelzorg-utrecht-west"}, "one network records none"
    assert len({(r.member, r.network, r.session_number, r.kind) for r in reflections}) == len(reflections)


def test_every_reflecting_network_shows_learning_loops_in_every_state_owned_by_its_participants():
    for network in DEMO_NETWORKS:
        specs = plans()[network.key]
        loops = plan_loops(network, specs)
        if network.key == "mantelzorg-utrecht-west":
            assert loops == []
            continue
        assert [lo.state for lo in loops] == list(LOOP_STATES)
        assert {lo.mandate for lo in loops} == {None, "yes", "asked", "no"}
        participants = {m for n, m, role in DEMO_MEMBERSHIPS if n == network.key and role == R.PARTICIPANT}
        assert {lo.member for lo in loops} <= participants
        held = {s.number for s in specs if s.fate in (S.HELD, S.CLOSED)}
        assert all(lo.brought_to in held and lo.follow_up_at in (None, *held) for lo in loops if lo.brought_to)
        assert all(lo.follow_up_at > lo.brought_to for lo in loops if lo.follow_up_at and lo.brought_to)


# --- loading through the admin API ---------------------------------------------------------------------------------


class FakeAdminApi:
    """The admin API as the demo loader uses it, in memory. Bodies are validated with the API's own models and the
    sessions' rules, and the session life cycle is enforced, so a request the real API refuses fails here too."""

    SESSION_ROUTES = {"/v1/networks/{network_id}/sessions": {"get": {}, "post": {}}}

    def __init__(self, *, with_network_routes: bool = True, with_session_routes: bool = True) -> None:
        self.with_network_routes = with_network_routes
        self.with_session_routes = with_session_routes
        self.lock = threading.Lock()  # the loader calls from several threads; the real API is one process too
        self.networks: dict[str, dict] = {}
        self.members: dict[str, dict] = {}
        self.memberships: dict[tuple[str, str], str] = {}
        self.tokens: dict[str, dict] = {}  # token -> {"token_id", "member_id", "revoked"}
        self.sessions: dict[str, dict] = {}
        self.outputs: dict[str, dict] = {}
        self.reflections: list[dict] = []
        self.loops: dict[str, dict] = {}
        self.requests: Counter[str] = Counter()
        self.fail_registration_with: int | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            return self._answer(request)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "").removeprefix("Bearer ")
        member = self.tokens.get(auth)
        if auth != OPERATOR and (member is None or member["revoked"]):
            return httpx.Response(401, json={"code": "unauthenticated"})
        path, method = request.url.path, request.method
        body = json.loads(request.content) if request.content else {}
        self.requests[f"{method} {re.sub(r'/[0-9a-f]{32}', '/{id}', path)}"] += 1
        personal = {("GET", "/v1/whoami"), ("POST", "/v1/reflections"), ("POST", "/v1/learning-questions")}
        if member is not None and (method, path) not in personal:
            return httpx.Response(403, json={"code": "permission_denied"})
        for pattern, handler in self.routes():
            match = re.fullmatch(pattern, f"{method} {path}")
            if match:
                return handler(*match.groups(), body=body, params=request.url.params, member=member)
        return httpx.Response(404, json={"code": "not_found"})

    def routes(self):
        return [
            (r"GET /openapi.json", self.openapi),
            (r"GET /v1/whoami", lambda **_: httpx.Response(200, json={"operator": False})),
            (r"(POST|GET) /v1/networks", self.network_collection),
            (r"PUT /v1/networks/(\w+)/members/(\w+)", self.set_membership),
            (r"POST /v1/members", self.register),
            (r"GET /v1/members", self.list_members),
            (r"POST /v1/members/(\w+)/tokens", self.issue_token),
            (r"DELETE /v1/tokens/(\w+)", self.revoke_token),
            (r"GET /v1/members/(\w+)/export", self.export),
            (r"POST /v1/networks/(\w+)/sessions", self.schedule),
            (r"GET /v1/networks/(\w+)/sessions", self.list_sessions),
            (r"POST /v1/sessions/(\w+)/(hold|close|cancel|reschedule)", self.move),
            (r"POST /v1/sessions/(\w+)/registrations", self.register_for_session),
            (r"PUT /v1/sessions/(\w+)/attendance", self.attendance),
            (r"POST /v1/sessions/(\w+)/outputs", self.publish),
            (r"GET /v1/sessions/(\w+)/outputs", self.list_outputs),
            (r"POST /v1/outputs/(\w+)/retract", self.retract),
            (r"POST /v1/reflections", self.reflect),
            (r"POST /v1/learning-questions", self.open_question),
            (r"POST /v1/learning-questions/(\w+)/(bring|experiment|follow-up|close)", self.move_loop),
        ]

    # -- networks, members, tokens --
    def openapi(self, **_):
        routes = {"/v1/members": {"get": {}, "post": {}}}
        if self.with_network_routes:
            routes["/v1/networks"] = {"get": {}, "post": {}}
        if self.with_session_routes:
            routes |= self.SESSION_ROUTES
        return httpx.Response(200, json={"paths": routes})

    def network_collection(self, method, body, params, **_):
        if not self.with_network_routes:
            return httpx.Response(405, json={"code": "method_not_allowed"})
        if method == "GET":
            return self.page(list(self.networks.values()), params)
        CreateNetwork.model_validate(body)
        if body.get("parent_id") and body["parent_id"] not in self.networks:
            return httpx.Response(404, json={"code": "not_found"})
        network = {**body, "id": uuid.uuid4().hex}
        self.networks[network["id"]] = network
        return httpx.Response(201, json=network)

    def set_membership(self, network_id, member_id, body, **_):
        if member_id not in {m["id"] for m in self.members.values()} or network_id not in self.networks:
            return httpx.Response(404, json={"code": "not_found"})
        self.memberships[(network_id, member_id)] = body["role"]
        return httpx.Response(200, json={"role": body["role"]})

    def register(self, body, **_):
        if self.fail_registration_with:
            return httpx.Response(self.fail_registration_with, text="boom")
        if body["email"] in self.members:
            return httpx.Response(409, json={"code": "conflict"})
        self.members[body["email"]] = {**body, "id": uuid.uuid4().hex}
        return httpx.Response(201, json=self.members[body["email"]])

    def list_members(self, params, **_):
        return self.page([m for m in self.members.values() if m["organisation"] == params.get("organisation")],
                         params)

    def issue_token(self, member_id, body, **_):
        token, token_id = uuid.uuid4().hex, uuid.uuid4().hex
        self.tokens[token] = {"token_id": token_id, "member_id": member_id, "label": body["label"], "revoked": False}
        return httpx.Response(201, json={"token": token, "token_id": token_id, "label": body["label"]})

    def revoke_token(self, token_id, **_):
        for token in self.tokens.values():
            if token["token_id"] == token_id:
                token["revoked"] = True
        return httpx.Response(204)

    def export(self, member_id, **_):
        mine = [r for r in self.reflections if r["member_id"] == member_id]
        loops = [lo for lo in self.loops.values() if lo["owner_id"] == member_id]
        return httpx.Response(200, json={"members": {}, "sessions": {"reflections": mine, "learning_loops": loops}})

    # -- sessions --
    def schedule(self, network_id, body, **_):
        plan = SessionPlan.model_validate(body)
        check_plan(format=plan.format, mode=plan.mode, location=plan.location, meeting_url=plan.meeting_url,
                   starts_at=plan.starts_at, ends_at=plan.ends_at, statements=plan.statements)
        session = {**body, "id": uuid.uuid4().hex, "network_id": network_id, "status": "planned", "reschedules": [],
                   "registered": [], "attendee_count": None, "starts_at": plan.starts_at,
                   "first_starts_at": plan.starts_at}
        self.sessions[session["id"]] = session
        return self.session_response(session, 201)

    def list_sessions(self, network_id, params, **_):
        mine = [self.view(s) for s in self.sessions.values() if s["network_id"] == network_id]
        return self.page(mine, params)

    MOVES = {"hold": ("planned", "held"), "close": ("held", "closed"), "cancel": ("planned", "cancelled"),
             "reschedule": ("planned", "planned")}

    def move(self, session_id, action, body, **_):
        session = self.sessions[session_id]
        before, after = self.MOVES[action]
        if session["status"] != before or (action == "hold" and session["starts_at"] > NOW):
            return httpx.Response(409, json={"code": "illegal_transition", "action": action})
        if action == "reschedule":
            session["reschedules"].append(body)
            session["starts_at"] = datetime.fromisoformat(body["starts_at"])
        session["status"] = after
        return self.session_response(session)

    def register_for_session(self, session_id, body, **_):
        session = self.sessions[session_id]
        assert session["status"] == "planned" and set(body) <= {"member_id", "prepared"}
        session["registered"].append(body)
        return httpx.Response(201, json=body)

    def attendance(self, session_id, body, **_):
        session = self.sessions[session_id]
        assert session["status"] == "held", session["status"]
        session["attendee_count"] = len(RecordAttendance.model_validate(body).member_ids)
        return httpx.Response(200, json={"attendee_count": session["attendee_count"]})

    def publish(self, session_id, body, **_):
        assert self.sessions[session_id]["status"] in ("held", "closed")
        output = PublishOutput.model_validate(body)
        check_content(output.kind, str(output.url) if output.url else None, output.resource_type)
        made = {**body, "id": uuid.uuid4().hex, "session_id": session_id, "retracted": False}
        self.outputs[made["id"]] = made
        return httpx.Response(201, json=made)

    def list_outputs(self, session_id, params, **_):
        mine = [{"id": o["id"], "retracted_at": "then"} if o["retracted"] else o for o in self.outputs.values()
                if o["session_id"] == session_id]
        return self.page(mine, params)

    def retract(self, output_id, **_):
        self.outputs[output_id]["retracted"] = True
        return httpx.Response(200, json={"id": output_id, "retracted_at": "now"})

    def reflect(self, body, member, **_):
        if member is None:
            return httpx.Response(403, json={"code": "permission_denied", "message": "reflections are personal"})
        RecordReflection.model_validate(body)
        assert self.sessions[body["session_id"]]["status"] in ("held", "closed")
        self.reflections.append({**body, "member_id": member["member_id"]})
        return httpx.Response(201, json=self.reflections[-1])

    LOOP_STEPS = {"bring": ("open", "brought"), "experiment": ("brought", "experimenting"),
                  "follow-up": ("experimenting", "followed_up"), "close": ("followed_up", "closed")}
    LOOP_COMMANDS = {"bring": BringQuestion, "experiment": StartExperiment, "follow-up": FollowUpExperiment,
                     "close": CloseLoop}

    def open_question(self, body, member, **_):
        if member is None:
            return httpx.Response(403, json={"code": "permission_denied", "message": "questions are personal"})
        cmd = OpenLearningQuestion.model_validate(body)
        assert (cmd.network_id, member["member_id"]) in self.memberships
        loop = {**body, "id": uuid.uuid4().hex, "owner_id": member["member_id"], "status": "open"}
        self.loops[loop["id"]] = loop
        return httpx.Response(201, json=loop)

    def move_loop(self, loop_id, step, body, **_):
        loop, (before, after) = self.loops[loop_id], self.LOOP_STEPS[step]
        self.LOOP_COMMANDS[step].model_validate(body)
        if loop["status"] != before:
            return httpx.Response(409, json={"code": "illegal_transition"})
        if "session_id" in body:
            session = self.sessions[body["session_id"]]
            assert session["network_id"] == loop["network_id"] and session["status"] in ("held", "closed")
        if "output_id" in body:
            assert not self.outputs[body["output_id"]]["retracted"]
        loop.update(body, status=after)
        return httpx.Response(200, json=loop)

    def view(self, session):
        shown = {k: v for k, v in session.items() if k not in ("registered", "starts_at", "first_starts_at")}
        return {**shown, "registered_count": len(session["registered"]), "waitlisted_count": 0}

    def session_response(self, session, status=200):
        return httpx.Response(status, json=self.view(session))

    def page(self, matching: list[dict], params: httpx.QueryParams) -> httpx.Response:
        start, size = int(params.get("page_token") or 0), int(params["page_size"])
        end = start + min(size, 5)  # small pages, so the loader must follow next_page_token
        return httpx.Response(200, json={"items": matching[start:end],
                                         "next_page_token": str(end) if end < len(matching) else None})

    def writes(self) -> Counter[str]:
        return Counter({k: v for k, v in self.requests.items() if not k.startswith(("GET", "PUT /v1/networks"))})


@pytest.fixture
def api() -> FakeAdminApi:
    return FakeAdminApi()


def client_for(api: FakeAdminApi) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(api), base_url="http://kring.test",
                        headers={"Authorization": f"Bearer {OPERATOR}"})


def load(api: FakeAdminApi, known_token: str | None = None):
    return load_demo_data(client_for(api), known_token, now=lambda: NOW)


def test_loading_demo_data_creates_everything_in_the_plan_and_issues_a_token(api):
    result = load(api)

    assert result.networks_created == len(api.networks) == len(DEMO_NETWORKS)
    assert result.created == len(DEMO_MEMBERS) and result.existing == 0
    assert len(api.memberships) == len(DEMO_MEMBERSHIPS) == result.memberships
    specs = all_specs()
    assert result.sessions.sessions == result.sessions.sessions_new == len(api.sessions) == len(specs)
    statuses = Counter(s["status"] for s in api.sessions.values())
    assert statuses == Counter(str(s.fate) for s in specs)
    assert result.sessions.outputs == len(api.outputs) == sum(len(s.outputs) for s in specs)
    assert result.sessions.retracted == sum(o["retracted"] for o in api.outputs.values()) == 1
    assert result.sessions.registrations == sum(len(s.registrations) for s in specs)
    assert result.sessions.reflections == len(api.reflections) > 0
    assert result.token in api.tokens and not result.token_reused
    assert result.token_holder == "Anouk de Vries, coordinator of BeterOud"
    assert "sessions" in result.summary() and "loaded in" in result.summary()


def test_the_rescheduled_session_was_scheduled_at_its_first_time_then_moved_a_week_later(api):
    load(api)
    (moved,) = [s for s in api.sessions.values() if s["reschedules"]]
    assert moved["starts_at"] - moved["first_starts_at"] == timedelta(weeks=1)
    assert moved["reschedules"][0]["reason"]


def test_reflections_are_recorded_with_the_members_own_short_lived_tokens(api):
    result = load(api)

    reflection_tokens = [t for t in api.tokens.values() if t["label"] == "demo: reflections"]
    assert reflection_tokens and all(t["revoked"] for t in reflection_tokens)
    assert {r["member_id"] for r in api.reflections} <= set(result.member_ids.values())
    assert {r["kind"] for r in api.reflections} == {str(k) for k in ReflectionKind}


def test_loading_demo_data_twice_changes_nothing_and_keeps_a_working_token(api):
    first = load(api)
    writes = api.writes()
    second = load(api, known_token=first.token)

    assert api.writes() - writes == Counter({"POST /v1/members": len(DEMO_MEMBERS)}), "only the 409s"
    assert second.created == 0 and second.existing == len(DEMO_MEMBERS)
    assert second.networks_created == 0 and second.network_ids == first.network_ids
    assert second.member_ids == first.member_ids
    assert second.sessions.sessions == first.sessions.sessions and second.sessions.sessions_new == 0
    assert (second.sessions.outputs, second.sessions.registrations, second.sessions.reflections) == (0, 0, 0)
    assert second.token == first.token and second.token_reused


def test_a_load_cut_short_is_completed_by_the_next(api):
    load(api)
    session = next(s for s in api.sessions.values() if s["status"] == "closed")
    session["status"], session["attendee_count"] = "planned", None  # as if it stopped right after scheduling
    for output_id in [o["id"] for o in api.outputs.values() if o["session_id"] == session["id"]]:
        del api.outputs[output_id]
    api.reflections.pop()

    result = load(api)

    assert session["status"] == "closed" and session["attendee_count"]
    assert result.sessions.outputs >= 1 and result.sessions.reflections == 1
    assert result.sessions.sessions_new == 0


def test_without_network_routes_the_members_still_load_and_the_memberships_wait(api):
    api.with_network_routes = False

    result = load(api)

    assert result.created == len(DEMO_MEMBERS) and result.memberships == 0 and not api.memberships
    assert "cannot create networks" in result.notes[0]
    assert result.token in api.tokens and not api.sessions


def test_without_session_routes_networks_and_members_load_and_sessions_wait(api):
    api.with_session_routes = False

    result = load(api)

    assert len(api.networks) == len(DEMO_NETWORKS) and not api.sessions
    assert "no sessions routes" in result.notes[0]


def test_a_stale_example_token_is_replaced(api):
    result = load(api, known_token="revoked-long-ago")

    assert result.token != "revoked-long-ago" and not result.token_reused


def test_an_unexpected_answer_stops_loading_with_the_status_and_route(api):
    api.fail_registration_with = 500

    with pytest.raises(DemoDataError, match=r"POST /v1/members answered 500"):
        load(api)


# --- the loader's requests: a key each, retried with it ---------------------------------------------------------


def test_the_loader_sends_each_change_with_a_key_of_its_own_and_retries_it_with_the_same_key():
    import httpx

    from services.demo.http import RetryingTransport, admin_client

    seen: list[tuple[str, str | None]] = []
    answers = iter([503, 201, 201, 200])

    def stack(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.headers.get("Idempotency-Key")))
        return httpx.Response(next(answers), json={})

    pauses: list[float] = []
    assert isinstance(admin_client("http://kring.test", "t")._transport, RetryingTransport)
    with httpx.Client(base_url="http://kring.test",
                      transport=RetryingTransport(httpx.MockTransport(stack), pause=pauses.append)) as client:
        assert client.post("/v1/members", json={"name": "A"}).status_code == 201  # after one 503
        assert client.post("/v1/members", json={"name": "B"}).status_code == 201
        assert client.get("/v1/members").status_code == 200

    (first, retry, other, read) = seen
    assert first[1] is not None and retry == first  # the retry is the same request
    assert other[1] not in (None, first[1])  # another request, another key
    assert read == ("GET", None)  # reads need none
    assert pauses == [0.5]


def test_loading_opens_each_question_with_its_owners_own_token_and_brings_every_loop_to_its_state(api):
    result = load(api)
    expected = [lo for n in DEMO_NETWORKS for lo in plan_loops(n, plans()[n.key])]
    assert result.sessions.loops == len(api.loops) == len(expected)
    per_network = len(expected) // len(LOOP_STATES)
    assert Counter(lo["status"] for lo in api.loops.values()) == Counter(
        {"open": per_network, "brought": per_network, "experimenting": 3 * per_network,
         "followed_up": per_network, "closed": per_network})
    states = {"open": "open", "brought": "brought", "followed_up": "followed_up", "closed": "closed"}
    for spec in expected:
        loop = next(lo for lo in api.loops.values() if lo["question"] == spec.question
                    and lo["network_id"] == result.network_ids[spec.network])
        assert loop["status"] == states.get(spec.state, "experimenting")
        assert loop.get("mandate") == spec.mandate
    closed = [lo for lo in api.loops.values() if lo["status"] == "closed"]
    assert closed and all(lo.get("output_id") for lo in closed)
    loop_tokens = [t for t in api.tokens.values() if t["label"] == "demo: learning questions"]
    assert loop_tokens and all(t["revoked"] for t in loop_tokens)
    again = load(api)
    assert again.sessions.loops == 0 and len(api.loops) == len(expected)
