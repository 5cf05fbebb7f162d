"""Domain gauges the networks service owns: active networks by level and kind (see common/domain_gauges.py)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, func, select

from services.common.domain_gauges import GaugeQuery, Reading
from services.common.metrics import NETWORKS_ACTIVE
from services.common.vocabulary import NetworkKind, NetworkLevel, NetworkStatus
from services.networks.models import networks


def read(connection: Connection) -> Iterator[Reading]:
    counts = {(level.value, kind.value): 0 for level in NetworkLevel for kind in NetworkKind}
    rows = connection.execute(
        select(networks.c.level, networks.c.kind, func.count())
        .where(networks.c.status == NetworkStatus.ACTIVE.value)
        .group_by(networks.c.level, networks.c.kind)
    )
    for level, kind, count in rows:
        counts[(level, kind)] = count
    for (level, kind), count in counts.items():
        yield NETWORKS_ACTIVE, {"level": level, "kind": kind}, float(count)


QUERY = GaugeQuery(gauges=(NETWORKS_ACTIVE,), read=read)
