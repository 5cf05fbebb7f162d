"""Domain gauges the members service owns: active (not erased) members by perspective."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, func, select

from services.common.domain_gauges import GaugeQuery, Reading, count_into
from services.common.metrics import MEMBERS_ACTIVE
from services.common.vocabulary import Perspective
from services.members.models import member_tags, members


def read(connection: Connection) -> Iterator[Reading]:
    rows = connection.execute(
        select(member_tags.c.value, func.count(func.distinct(member_tags.c.member_id)))
        .join(members, members.c.id == member_tags.c.member_id)
        .where(member_tags.c.kind == "perspective", members.c.erased_at.is_(None))
        .group_by(member_tags.c.value)
    )
    for perspective, count in count_into(Perspective, rows).items():
        yield MEMBERS_ACTIVE, {"perspective": perspective}, count


QUERY = GaugeQuery(gauges=(MEMBERS_ACTIVE,), read=read)
