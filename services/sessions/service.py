"""nameko entrypoints of the sessions service: parse, call the handler, return JSON. Nothing else.

Event handler method names are queue names (``evt-<source>-<event>--sessions.<method>``): keep them.
"""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy

from services.common.caller import Caller
from services.common.catalogue import (
    MemberErased,
    MembershipJoined,
    MembershipLeft,
    MemberSnapshot,
    NetworkSnapshot,
)
from services.common.domain_gauges import DomainGauges
from services.common.events import Envelope
from services.common.nameko_kit import (
    Observability,
    ServiceDatabase,
    batch_event_handler,
    command,
    parse_request,
    query,
)
from services.common.schemas import answer
from services.sessions import gauges, handlers
from services.sessions.adapters import RpcDirectory, RpcFeeds
from services.sessions.ports import SessionsUoW
from services.sessions.schemas.commands import (
    BringQuestion,
    CancelSession,
    ChangeMandate,
    CloseLoop,
    ConcludeStatement,
    FollowUpExperiment,
    LearningReportQuery,
    ListLearningQuestions,
    ListOutputs,
    ListReflections,
    ListSessions,
    OpenLearningQuestion,
    PublishOutput,
    RecordAttendance,
    RecordReflection,
    RegisterForSession,
    RescheduleSession,
    RetractOutput,
    ScheduleSession,
    StartExperiment,
)
from services.sessions.unit_of_work import SessionsUnitOfWork

Json = dict[str, Any]


class SessionsService:
    name = "sessions"

    uow = ServiceDatabase(SessionsUnitOfWork)
    observability = Observability()
    domain_gauges = DomainGauges(gauges.QUERY)
    members = RpcProxy("members")
    networks = RpcProxy("networks")
    federation = RpcProxy("federation")

    def _directory(self) -> RpcDirectory:
        return RpcDirectory(self.members, self.networks)

    # --- sessions ------------------------------------------------------------------------------------------

    @command
    def schedule_session(self, caller: Json, request: Json) -> Json:
        cmd = parse_request(ScheduleSession, request)
        return answer(handlers.schedule_session(Caller.of(caller), cmd, self.uow(), self._directory()))

    @command
    def reschedule_session(self, caller: Json, session_id: str, request: Json) -> Json:
        cmd = parse_request(RescheduleSession, request)
        return answer(handlers.reschedule_session(Caller.of(caller), session_id, cmd, self.uow()))

    @command
    def hold_session(self, caller: Json, session_id: str) -> Json:
        return answer(handlers.hold_session(Caller.of(caller), session_id, self.uow()))

    @command
    def close_session(self, caller: Json, session_id: str) -> Json:
        return answer(handlers.close_session(Caller.of(caller), session_id, self.uow()))

    @command
    def cancel_session(self, caller: Json, session_id: str, request: Json | None = None) -> Json:
        cmd = parse_request(CancelSession, request or {})
        return answer(handlers.cancel_session(Caller.of(caller), session_id, cmd, self.uow()))

    @command
    def conclude_statement(self, caller: Json, session_id: str, number: int, request: Json) -> Json:
        cmd = parse_request(ConcludeStatement, request)
        return answer(handlers.conclude_statement(Caller.of(caller), session_id, number, cmd, self.uow()))

    @query
    def get_session(self, caller: Json, session_id: str) -> Json:
        return answer(handlers.get_session_view(Caller.of(caller), session_id, self.uow()))

    @query
    def list_sessions(self, caller: Json, query: Json) -> Json:
        return answer(handlers.list_sessions(Caller.of(caller), parse_request(ListSessions, query), self.uow()))

    # --- registrations and attendance ------------------------------------------------------------------------

    @command
    def register_for_session(self, caller: Json, session_id: str, member_id: str | None,
                             request: Json | None = None) -> Json:
        """``member_id``: whom to register; None registers the caller."""
        cmd = parse_request(RegisterForSession, request or {})
        return answer(handlers.register_for_session(Caller.of(caller), session_id, member_id, cmd, self.uow(),
                                                     self._directory()))

    @command
    def cancel_registration(self, caller: Json, session_id: str, member_id: str) -> Json:
        return answer(handlers.cancel_registration(Caller.of(caller), session_id, member_id, self.uow()))

    @query
    def get_registration(self, caller: Json, session_id: str, member_id: str) -> Json:
        return answer(handlers.get_registration(Caller.of(caller), session_id, member_id, self.uow()))

    @query
    def list_registrations(self, caller: Json, session_id: str) -> Json:
        return answer(handlers.list_registrations(Caller.of(caller), session_id, self.uow()))

    @command
    def record_attendance(self, caller: Json, session_id: str, request: Json) -> Json:
        cmd = parse_request(RecordAttendance, request)
        return answer(handlers.record_attendance(Caller.of(caller), session_id, cmd, self.uow(), self._directory()))

    @query
    def get_attendance(self, caller: Json, session_id: str) -> Json:
        return answer(handlers.get_attendance(Caller.of(caller), session_id, self.uow()))

    # --- outputs and reflections -----------------------------------------------------------------------------

    @command
    def publish_output(self, caller: Json, session_id: str, request: Json) -> Json:
        cmd = parse_request(PublishOutput, request)
        return answer(handlers.publish_output(Caller.of(caller), session_id, cmd, self.uow(), self._directory()))

    @command
    def retract_output(self, caller: Json, output_id: str, request: Json | None = None) -> Json:
        cmd = parse_request(RetractOutput, request or {})
        return answer(handlers.retract_output(Caller.of(caller), output_id, cmd, self.uow()))

    @query
    def get_output(self, caller: Json, output_id: str) -> Json:
        return answer(handlers.get_output(Caller.of(caller), output_id, self.uow(), RpcFeeds(self.federation)))

    @query
    def list_outputs(self, caller: Json, query: Json) -> Json:
        return answer(handlers.list_outputs(Caller.of(caller), parse_request(ListOutputs, query), self.uow()))

    @command
    def record_reflection(self, caller: Json, request: Json) -> Json:
        cmd = parse_request(RecordReflection, request)
        return answer(handlers.record_reflection(Caller.of(caller), cmd, self.uow(), self._directory()))

    @query
    def list_reflections(self, caller: Json, query: Json) -> Json:
        cmd = parse_request(ListReflections, query)
        return answer(handlers.list_reflections(Caller.of(caller), cmd, self.uow()))

    @query
    def learning_report(self, caller: Json, network_id: str, query: Json | None = None) -> Json:
        cmd = parse_request(LearningReportQuery, query or {})
        return answer(handlers.get_learning_report(Caller.of(caller), network_id, cmd, self.uow(),
                                                    self._directory()))

    # --- the action-learning loop ------------------------------------------------------------------------------

    @command
    def open_learning_question(self, caller: Json, request: Json) -> Json:
        cmd = parse_request(OpenLearningQuestion, request)
        return answer(handlers.open_question(Caller.of(caller), cmd, self.uow(), self._directory()))

    @command
    def bring_learning_question(self, caller: Json, loop_id: str, request: Json) -> Json:
        cmd = parse_request(BringQuestion, request)
        return answer(handlers.bring_question(Caller.of(caller), loop_id, cmd, self.uow()))

    @command
    def start_experiment(self, caller: Json, loop_id: str, request: Json) -> Json:
        cmd = parse_request(StartExperiment, request)
        return answer(handlers.start_experiment(Caller.of(caller), loop_id, cmd, self.uow()))

    @command
    def change_mandate(self, caller: Json, loop_id: str, request: Json) -> Json:
        cmd = parse_request(ChangeMandate, request)
        return answer(handlers.change_mandate(Caller.of(caller), loop_id, cmd, self.uow()))

    @command
    def follow_up_experiment(self, caller: Json, loop_id: str, request: Json) -> Json:
        cmd = parse_request(FollowUpExperiment, request)
        return answer(handlers.follow_up_experiment(Caller.of(caller), loop_id, cmd, self.uow()))

    @command
    def close_learning_loop(self, caller: Json, loop_id: str, request: Json | None = None) -> Json:
        cmd = parse_request(CloseLoop, request or {})
        return answer(handlers.close_loop(Caller.of(caller), loop_id, cmd, self.uow()))

    @query
    def get_learning_question(self, caller: Json, loop_id: str) -> Json:
        return answer(handlers.get_loop(Caller.of(caller), loop_id, self.uow()))

    @query
    def list_learning_questions(self, caller: Json, query: Json) -> Json:
        cmd = parse_request(ListLearningQuestions, query)
        return answer(handlers.list_loops(Caller.of(caller), cmd, self.uow()))

    # --- privacy and operations ------------------------------------------------------------------------------

    @query
    def export_member(self, caller: Json, member_id: str) -> Json:
        return answer(handlers.export_member(Caller.of(caller), member_id, self.uow()))

    @query
    def health(self) -> Json:
        return answer(handlers.health(self.uow()))

    # --- read models ---------------------------------------------------------------------------------------

    @batch_event_handler("networks", "network.created")
    def on_network_created(self, envelope: Envelope, payload: NetworkSnapshot, uow: SessionsUoW) -> None:
        handlers.network_changed(payload, uow)

    @batch_event_handler("networks", "network.updated")
    def on_network_updated(self, envelope: Envelope, payload: NetworkSnapshot, uow: SessionsUoW) -> None:
        handlers.network_changed(payload, uow)

    @batch_event_handler("networks", "network.archived")
    def on_network_archived(self, envelope: Envelope, payload: NetworkSnapshot, uow: SessionsUoW) -> None:
        handlers.network_changed(payload, uow)

    @batch_event_handler("members", "member.registered")
    def on_member_registered(self, envelope: Envelope, payload: MemberSnapshot, uow: SessionsUoW) -> None:
        handlers.member_changed(payload, uow)

    @batch_event_handler("members", "member.updated")
    def on_member_updated(self, envelope: Envelope, payload: MemberSnapshot, uow: SessionsUoW) -> None:
        handlers.member_changed(payload, uow)

    @batch_event_handler("members", "member.erased")
    def on_member_erased(self, envelope: Envelope, payload: MemberErased, uow: SessionsUoW) -> None:
        handlers.member_erased(payload, uow)

    @batch_event_handler("members", "membership.joined")
    def on_membership_joined(self, envelope: Envelope, payload: MembershipJoined, uow: SessionsUoW) -> None:
        handlers.membership_joined(payload, uow)

    @batch_event_handler("members", "membership.left")
    def on_membership_left(self, envelope: Envelope, payload: MembershipLeft, uow: SessionsUoW) -> None:
        handlers.membership_left(payload, uow)


SERVICE = SessionsService
