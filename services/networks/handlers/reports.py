"""The nine-step health report of a network, from what the read models hold."""

from __future__ import annotations

from services.common.caller import Caller, require
from services.networks.domain import access
from services.networks.domain.health import health_steps
from services.networks.handlers.networks import get_known, now
from services.networks.ports import NetworksUoW
from services.networks.schemas import HealthReport, HealthReportQuery


def health_report(caller: Caller, network_id: str, uow: NetworksUoW,
                  query: HealthReportQuery | None = None) -> HealthReport:
    """In the language the query asks for (Dutch by default)."""
    language = (query or HealthReportQuery()).language
    require(access.can_read_health_report(caller, network_id),
            "only the network's coordinators and facilitators read its health report")
    with uow:
        network = get_known(uow, network_id)
        models = uow.read_models
        steps = health_steps(network, models.members_of(network_id), models.held_sessions(network_id),
                             models.live_outputs(network_id), models.reflection_count(network_id),
                             models.loops_of(network_id), now(), language)
        return HealthReport(network_id=network.id, network_name=network.name, generated_at=now(), language=language,
                            steps=steps)
