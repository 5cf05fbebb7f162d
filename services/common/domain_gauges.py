"""Domain gauges: figures an operator wants on a wall (networks by level and kind, active members by
perspective, ...), read from a service's own database every 30 s by the service that owns the data.

A service declares what it reads in ``services/<service>/gauges.py`` as a :class:`GaugeQuery` (plain
SQLAlchemy, no nameko, so it is tested without a broker) and attaches it with one line::

    gauges = DomainGauges(QUERY)

The provider runs the query in a managed thread beside the workers; a failed read is logged and counted
(``kring_domain_gauges_errors_total``) and the gauges keep their last values until the next read succeeds.
Every replica reads the same shared database, so dashboards aggregate these gauges with ``max()``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nameko.extensions import DependencyProvider
from prometheus_client import Gauge
from sqlalchemy import Connection, Engine

from services.common import metrics
from services.common.db import create_service_engine

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 30.0

Reading = tuple[Gauge, dict[str, str], float]


@dataclass(frozen=True)
class GaugeQuery:
    """The gauges a service owns and the function that reads all of their values in one go.

    ``read`` returns every labelled value of every gauge in ``gauges``, zeros included, so a value that
    drops to nothing shows 0 rather than vanishing; a label set it no longer returns disappears.
    """

    gauges: tuple[Gauge, ...]
    read: Callable[[Connection], Iterable[Reading]]


def count_into(vocabulary: Iterable[str], rows: Iterable[tuple[Any, Any]]) -> dict[str, float]:
    """Counts per vocabulary value, zeros included, from ``(value, count)`` rows."""
    counts = {str(value): 0.0 for value in vocabulary}
    for value, count in rows:
        if value is not None:
            counts[str(value)] = counts.get(str(value), 0.0) + float(count)
    return counts


class GaugeCollector:
    """Reads a :class:`GaugeQuery` from an engine and sets its gauges. No nameko: tests call it directly."""

    def __init__(self, query: GaugeQuery, engine: Engine, service: str) -> None:
        self.query = query
        self.engine = engine
        self.service = service
        metrics.DOMAIN_GAUGES_ERRORS.labels(service=service)  # exposed at 0 from the start, so rate() sees the first

    def collect_once(self) -> bool:
        try:
            with self.engine.connect() as connection:
                readings = list(self.query.read(connection))
            owned = {id(gauge) for gauge in self.query.gauges}
            strays = [gauge for gauge, _, _ in readings if id(gauge) not in owned]
            if strays:
                raise ValueError(f"the query returned values of gauges it does not declare: {strays}")
        except Exception:  # the database may be down, or a bug in the query: the next round tries again
            metrics.DOMAIN_GAUGES_ERRORS.labels(service=self.service).inc()
            log.warning("reading the domain gauges of %s failed; will retry", self.service, exc_info=True)
            return False
        # Read first, then replace: nothing here yields, so a scrape never sees a half-updated gauge.
        for gauge in self.query.gauges:
            gauge.clear()
        for gauge, labels, value in readings:
            gauge.labels(**labels).set(value)
        metrics.DOMAIN_GAUGES_LAST_SUCCESS.labels(service=self.service).set(time.time())
        return True


class DomainGauges(DependencyProvider):  # type: ignore[misc]  # nameko ships no types
    """Runs a service's :class:`GaugeQuery` at start and then every ``interval`` seconds.

    It reads through the engine of the service's :class:`~services.common.nameko_kit.ServiceDatabase`
    when the service has one (same pool, and on SQLite the same write serialisation), else its own.
    """

    def __init__(self, query: GaugeQuery, *, interval: float = INTERVAL_SECONDS) -> None:
        self.query = query
        self.interval = interval

    def setup(self) -> None:
        self._stopping = False
        self._wake = threading.Event()
        self._own_engine: Engine | None = None

    def start(self) -> None:
        service = self.container.service_name
        engine = next((getattr(d, "engine", None) for d in self.container.dependencies
                       if isinstance(getattr(d, "engine", None), Engine)), None)
        if engine is None:
            engine = self._own_engine = create_service_engine(self.container.config["DATABASE_URL"], service,
                                                              pool_size=1)
        self.collector = GaugeCollector(self.query, engine, service)
        self.container.spawn_managed_thread(self._run, identifier=f"{service}.domain_gauges")

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._own_engine is not None:
            self._own_engine.dispose()

    def kill(self) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stopping:
            self.collector.collect_once()
            self._wake.wait(self.interval)

    def get_dependency(self, worker_ctx: Any) -> None:
        return None
