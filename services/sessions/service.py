"""nameko entrypoints of the sessions service: parse, call the handler, return JSON. Nothing else.

Event handler method names are queue names (``evt-<source>-<event>--sessions.<method>``): keep them.
"""

from __future__ import annotations

from typing import Any

from nameko.rpc import RpcProxy

from services.common.catalogue import (
    MemberErased,
    MembershipJoined,
    MembershipLeft,
    MemberSnapshot,
    NetworkSnapshot,
)
from services.common.domain_gauges import DomainGauges
from services.common.events import Envelope
from services.common.nameko_kit import Observability, ServiceDatabase, command, event_handler, parse_request, query
from services.sessions import gauges, handlers
from services.sessions.adapters import RpcDirectory
from services.sessions.schemas.commands import (
    CancelSession,
    LearningReportQuery,
    ListOutputs,
    ListSessions,
    PublishOutput,
    RecordAttendance,
    RecordReflection,
    RegisterForSession,
    RescheduleSession,
    RetractOutput,
    ScheduleSession,
)
from services.sessions.unit_of_work import SessionsUnitOfWork


class SessionsService:
    name = "sessions"

    uow = ServiceDatabase(SessionsUnitOfWork)
    observability = Observability()
    domain_gauges = DomainGauges(gauges.QUERY)
    members = RpcProxy("members")
    networks = RpcProxy("networks")

    def _directory(self) -> RpcDirectory:
        return RpcDirectory(self.members, self.networks)

    # --- sessions ------------------------------------------------------------------------------------------

    @command
    def schedule_session(self, request: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_request(ScheduleSession, request)
        return handlers.schedule_session(cmd, self.uow(), self._directory()).model_dump(mode="json")

    @command
    def reschedule_session(self, session_id: str, request: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_request(RescheduleSession, request)
        return handlers.reschedule_session(session_id, cmd, self.uow()).model_dump(mode="json")

    @command
    def hold_session(self, session_id: str) -> dict[str, Any]:
        return handlers.hold_session(session_id, self.uow()).model_dump(mode="json")

    @command
    def close_session(self, session_id: str) -> dict[str, Any]:
        return handlers.close_session(session_id, self.uow()).model_dump(mode="json")

    @command
    def cancel_session(self, session_id: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
        cmd = parse_request(CancelSession, request or {})
        return handlers.cancel_session(session_id, cmd, self.uow()).model_dump(mode="json")

    @query
    def get_session(self, session_id: str) -> dict[str, Any]:
        return handlers.get_session_view(session_id, self.uow()).model_dump(mode="json")

    @query
    def list_sessions(self, query: dict[str, Any]) -> dict[str, Any]:
        return handlers.list_sessions(parse_request(ListSessions, query), self.uow()).model_dump(mode="json")

    # --- registrations and attendance ------------------------------------------------------------------------

    @command
    def register_for_session(self, session_id: str, member_id: str,
                             request: dict[str, Any] | None = None) -> dict[str, Any]:
        cmd = parse_request(RegisterForSession, request or {})
        result = handlers.register_for_session(session_id, member_id, cmd, self.uow(), self._directory())
        return result.model_dump(mode="json")

    @command
    def cancel_registration(self, session_id: str, member_id: str) -> dict[str, Any]:
        return handlers.cancel_registration(session_id, member_id, self.uow()).model_dump(mode="json")

    @query
    def list_registrations(self, session_id: str) -> dict[str, Any]:
        return handlers.list_registrations(session_id, self.uow()).model_dump(mode="json")

    @command
    def record_attendance(self, session_id: str, request: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_request(RecordAttendance, request)
        return handlers.record_attendance(session_id, cmd, self.uow(), self._directory()).model_dump(mode="json")

    @query
    def get_attendance(self, session_id: str) -> dict[str, Any]:
        return handlers.get_attendance(session_id, self.uow()).model_dump(mode="json")

    # --- outputs and reflections -----------------------------------------------------------------------------

    @command
    def publish_output(self, session_id: str, request: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_request(PublishOutput, request)
        return handlers.publish_output(session_id, cmd, self.uow(), self._directory()).model_dump(mode="json")

    @command
    def retract_output(self, output_id: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
        cmd = parse_request(RetractOutput, request or {})
        return handlers.retract_output(output_id, cmd, self.uow()).model_dump(mode="json")

    @query
    def output_network(self, output_id: str) -> str:
        return handlers.output_network(output_id, self.uow())

    @query
    def get_output(self, output_id: str, viewer_network_ids: list[str] | None = None) -> dict[str, Any]:
        return handlers.get_output(output_id, list(viewer_network_ids or ()), self.uow()).model_dump(mode="json")

    @query
    def list_outputs(self, query: dict[str, Any]) -> dict[str, Any]:
        return handlers.list_outputs(parse_request(ListOutputs, query), self.uow()).model_dump(mode="json")

    @command
    def record_reflection(self, member_id: str, request: dict[str, Any]) -> dict[str, Any]:
        cmd = parse_request(RecordReflection, request)
        return handlers.record_reflection(member_id, cmd, self.uow(), self._directory()).model_dump(mode="json")

    @query
    def learning_report(self, network_id: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
        cmd = parse_request(LearningReportQuery, query or {})
        return handlers.get_learning_report(network_id, cmd, self.uow(), self._directory()).model_dump(mode="json")

    # --- privacy and operations ------------------------------------------------------------------------------

    @query
    def export_member(self, member_id: str) -> dict[str, Any]:
        return handlers.export_member(member_id, self.uow()).model_dump(mode="json")

    @query
    def health(self) -> dict[str, Any]:
        return handlers.health(self.uow()).model_dump(mode="json")

    # --- read models ---------------------------------------------------------------------------------------

    @event_handler("networks", "network.created")
    def on_network_created(self, envelope: Envelope, payload: NetworkSnapshot, uow: SessionsUnitOfWork) -> None:
        handlers.network_changed(payload, uow)

    @event_handler("networks", "network.updated")
    def on_network_updated(self, envelope: Envelope, payload: NetworkSnapshot, uow: SessionsUnitOfWork) -> None:
        handlers.network_changed(payload, uow)

    @event_handler("networks", "network.archived")
    def on_network_archived(self, envelope: Envelope, payload: NetworkSnapshot, uow: SessionsUnitOfWork) -> None:
        handlers.network_changed(payload, uow)

    @event_handler("members", "member.registered")
    def on_member_registered(self, envelope: Envelope, payload: MemberSnapshot, uow: SessionsUnitOfWork) -> None:
        handlers.member_changed(payload, uow)

    @event_handler("members", "member.updated")
    def on_member_updated(self, envelope: Envelope, payload: MemberSnapshot, uow: SessionsUnitOfWork) -> None:
        handlers.member_changed(payload, uow)

    @event_handler("members", "member.erased")
    def on_member_erased(self, envelope: Envelope, payload: MemberErased, uow: SessionsUnitOfWork) -> None:
        handlers.member_erased(payload, uow)

    @event_handler("members", "membership.joined")
    def on_membership_joined(self, envelope: Envelope, payload: MembershipJoined, uow: SessionsUnitOfWork) -> None:
        handlers.membership_joined(payload, uow)

    @event_handler("members", "membership.left")
    def on_membership_left(self, envelope: Envelope, payload: MembershipLeft, uow: SessionsUnitOfWork) -> None:
        handlers.membership_left(payload, uow)


SERVICE = SessionsService
