"""nameko entrypoints of the networks service: RPC for the directory and reports, event handlers that
keep the read models (memberships, sessions, outputs, reflections) current."""

from __future__ import annotations

from typing import Any

from services.common.caller import Caller
from services.common.catalogue import (
    LearningLoopSnapshot,
    MemberErased,
    MembershipJoined,
    MembershipLeft,
    MemberUpdated,
    OutputPublished,
    OutputRetracted,
    ReflectionRecorded,
    SessionSnapshot,
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
from services.networks import gauges, handlers
from services.networks.ports import NetworksUoW
from services.networks.schemas import CreateNetwork, HealthReportQuery, ListNetworks, UpdateNetwork
from services.networks.unit_of_work import NetworksUnitOfWork

Json = dict[str, Any]


class NetworksService:
    name = "networks"

    uow = ServiceDatabase(NetworksUnitOfWork)
    observability = Observability()
    domain_gauges = DomainGauges(gauges.QUERY)

    @command
    def create_network(self, caller: Json, request: Json) -> Json:
        return answer(handlers.create_network(Caller.of(caller), parse_request(CreateNetwork, request), self.uow()))

    @command
    def update_network(self, caller: Json, network_id: str, request: Json) -> Json:
        cmd = parse_request(UpdateNetwork, request)
        return answer(handlers.update_network(Caller.of(caller), network_id, cmd, self.uow()))

    @command
    def archive_network(self, caller: Json, network_id: str) -> Json:
        return answer(handlers.archive_network(Caller.of(caller), network_id, self.uow()))

    # The directory is open to every caller, so the caller comes last and may be left out: a call without one is
    # answered as to a reader outside every network (the partner edge's directory, which lists no staff).
    @query
    def get_network(self, network_id: str, caller: Json | None = None) -> Json:
        return answer(handlers.get_network(_reader(caller), network_id, self.uow()))

    @query
    def list_networks(self, query: Json, caller: Json | None = None) -> Json:
        return answer(handlers.list_networks(_reader(caller), parse_request(ListNetworks, query), self.uow()))

    @query
    def network_tree(self, network_id: str) -> Json:
        return answer(handlers.network_tree(network_id, self.uow()))

    @query
    def ancestry(self, network_id: str) -> list[str]:
        return handlers.ancestry(network_id, self.uow())

    @query
    def health_report(self, caller: Json, network_id: str, query: Json | None = None) -> Json:
        cmd = parse_request(HealthReportQuery, query or {})
        return answer(handlers.health_report(Caller.of(caller), network_id, self.uow(), cmd))

    @query
    def health(self) -> Json:
        return answer(handlers.health(self.uow()))

    # --- read models, fed by other services' events --------------------------------------------------------
    # Pure projections: the kit applies the events waiting in a queue in one transaction (one commit per
    # batch), each marked processed with its effect, each settled on its own outcome (batch_event_handler).

    # from the members service

    @batch_event_handler("members", "membership.joined")
    def on_membership_joined(self, envelope: Envelope, event: MembershipJoined, uow: NetworksUoW) -> None:
        uow.read_models.membership_joined(event)

    @batch_event_handler("members", "membership.left")
    def on_membership_left(self, envelope: Envelope, event: MembershipLeft, uow: NetworksUoW) -> None:
        uow.read_models.membership_left(event)

    @batch_event_handler("members", "member.updated")
    def on_member_updated(self, envelope: Envelope, event: MemberUpdated, uow: NetworksUoW) -> None:
        uow.read_models.member_updated(event)

    @batch_event_handler("members", "member.erased")
    def on_member_erased(self, envelope: Envelope, event: MemberErased, uow: NetworksUoW) -> None:
        uow.read_models.member_erased(event)
        uow.forget_answers_about(event.member_id)

    # from the sessions service

    @batch_event_handler("sessions", "session.scheduled")
    def on_session_scheduled(self, envelope: Envelope, event: SessionSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.session_changed(event)

    @batch_event_handler("sessions", "session.rescheduled")
    def on_session_rescheduled(self, envelope: Envelope, event: SessionSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.session_changed(event)

    @batch_event_handler("sessions", "session.held")
    def on_session_held(self, envelope: Envelope, event: SessionSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.session_changed(event)

    @batch_event_handler("sessions", "session.closed")
    def on_session_closed(self, envelope: Envelope, event: SessionSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.session_changed(event)

    @batch_event_handler("sessions", "session.cancelled")
    def on_session_cancelled(self, envelope: Envelope, event: SessionSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.session_changed(event)

    @batch_event_handler("sessions", "output.published")
    def on_output_published(self, envelope: Envelope, event: OutputPublished, uow: NetworksUoW) -> None:
        uow.read_models.output_published(event)

    @batch_event_handler("sessions", "output.retracted")
    def on_output_retracted(self, envelope: Envelope, event: OutputRetracted, uow: NetworksUoW) -> None:
        uow.read_models.output_retracted(event)

    @batch_event_handler("sessions", "reflection.recorded")
    def on_reflection_recorded(self, envelope: Envelope, event: ReflectionRecorded, uow: NetworksUoW) -> None:
        uow.read_models.reflection_recorded(event)

    @batch_event_handler("sessions", "learning_question.opened")
    def on_learning_question_opened(self, envelope: Envelope, event: LearningLoopSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.loop_changed(event)

    @batch_event_handler("sessions", "learning_question.brought")
    def on_learning_question_brought(self, envelope: Envelope, event: LearningLoopSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.loop_changed(event)

    @batch_event_handler("sessions", "experiment.started")
    def on_experiment_started(self, envelope: Envelope, event: LearningLoopSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.loop_changed(event)

    @batch_event_handler("sessions", "experiment.mandate_changed")
    def on_experiment_mandate_changed(self, envelope: Envelope, event: LearningLoopSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.loop_changed(event)

    @batch_event_handler("sessions", "experiment.reported")
    def on_experiment_followed_up(self, envelope: Envelope, event: LearningLoopSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.loop_changed(event)

    @batch_event_handler("sessions", "learning_loop.closed")
    def on_learning_loop_closed(self, envelope: Envelope, event: LearningLoopSnapshot, uow: NetworksUoW) -> None:
        uow.read_models.loop_changed(event)


SERVICE = NetworksService


def _reader(caller: Json | None) -> Caller | None:
    return None if caller is None else Caller.of(caller)
