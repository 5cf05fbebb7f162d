"""Every event consumer of every service is a batching handler (decision 0008): the events waiting in its queue
are applied in one transaction, each marked and settled on its own."""

from __future__ import annotations

import pytest

from services.common.nameko_kit import KringBatchEventHandler, KringEventHandler
from services.federation.service import FederationService
from services.members.service import MembersService
from services.networks.service import NetworksService
from services.sessions.service import SessionsService

SERVICES = [MembersService, NetworksService, SessionsService, FederationService]


def event_entrypoints(service: type) -> dict[str, KringEventHandler]:
    found = {}
    for name in dir(service):
        for entrypoint in getattr(getattr(service, name), "nameko_entrypoints", ()):
            if isinstance(entrypoint, KringEventHandler):
                found[name] = entrypoint
    return found


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.__name__)
def test_every_event_consumer_of_a_service_applies_its_queue_in_batches(service: type) -> None:
    one_by_one = [name for name, entrypoint in event_entrypoints(service).items()
                  if not isinstance(entrypoint, KringBatchEventHandler)]
    assert one_by_one == [], f"{service.__name__} consumes events one by one in {one_by_one}"


def test_the_services_that_consume_events_are_found() -> None:
    counts = {service.__name__: len(event_entrypoints(service)) for service in SERVICES}
    assert counts["NetworksService"] >= 12 and counts["SessionsService"] >= 8 and counts["FederationService"] >= 7
