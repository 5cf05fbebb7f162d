"""Domain gauges the sessions service owns: sessions held in the last 30 days by format, and outputs shared
beyond their own network (published, not retracted, visibility other than ``network``) by visibility."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from services.common.domain_gauges import GaugeQuery, Reading, count_into
from services.common.metrics import OUTPUTS_SHARED_BEYOND_NETWORK, SESSIONS_HELD_LAST_MONTH
from services.common.vocabulary import SessionFormat, SessionStatus, Visibility
from services.sessions.models import outputs, sessions

HELD = (SessionStatus.HELD.value, SessionStatus.CLOSED.value)  # closed: held, and its outputs are published
WINDOW = timedelta(days=30)


def reader(now: Callable[[], datetime]) -> Callable[[Connection], Iterator[Reading]]:
    def read(connection: Connection) -> Iterator[Reading]:
        until = now()
        held = connection.execute(
            select(sessions.c.format, func.count())
            .where(sessions.c.status.in_(HELD), sessions.c.starts_at >= until - WINDOW,
                   sessions.c.starts_at <= until)
            .group_by(sessions.c.format)
        )
        for session_format, count in count_into(SessionFormat, held).items():
            yield SESSIONS_HELD_LAST_MONTH, {"format": session_format}, count
        shared = connection.execute(
            select(outputs.c.visibility, func.count())
            .where(outputs.c.visibility != Visibility.NETWORK.value, outputs.c.retracted_at.is_(None))
            .group_by(outputs.c.visibility)
        )
        beyond = [v for v in Visibility if v is not Visibility.NETWORK]
        for visibility, count in count_into(beyond, shared).items():
            yield OUTPUTS_SHARED_BEYOND_NETWORK, {"visibility": visibility}, count

    return read


QUERY = GaugeQuery(gauges=(SESSIONS_HELD_LAST_MONTH, OUTPUTS_SHARED_BEYOND_NETWORK),
                   read=reader(lambda: datetime.now(UTC)))
