"""Learning loops: a member's learning question with its experiment and follow-up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Connection, RowMapping, insert, or_, select, update

from services.common.uow import TrackingRepository
from services.common.vocabulary import LoopStatus, Mandate, MembershipRole
from services.sessions.domain.loops import LearningLoop
from services.sessions.models import learning_loops
from services.sessions.repository.paging import decode_page_token, encode_page_token
from services.sessions.repository.rows import after_key, utc, utc_or_none
from services.sessions.schemas.commands import ListLearningQuestions

COLUMNS = ("id", "network_id", "owner_id", "question", "urgency", "shared_with_network", "opened_at", "revision",
           "brought_to_session_id", "experiment", "experiment_session_id", "experiment_at", "follow_up",
           "follow_up_session_id", "followed_up_at", "lesson", "output_id", "closed_at", "updated_at")


class LearningLoopRepository(TrackingRepository):
    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection

    def get(self, loop_id: str, *, for_update: bool = False) -> LearningLoop | None:
        query = select(learning_loops).where(learning_loops.c.id == loop_id)
        row = self.connection.execute(query.with_for_update() if for_update else query).mappings().first()
        return self._track(_load(row)) if row else None

    def add(self, loop: LearningLoop) -> None:
        self.connection.execute(insert(learning_loops).values(**_row(loop)))
        self._track(loop)

    def save(self, loop: LearningLoop) -> None:
        self.connection.execute(update(learning_loops).where(learning_loops.c.id == loop.id).values(**_row(loop)))

    def page(self, query: ListLearningQuestions, visible_to: str | None, shared: bool) -> tuple[list[LearningLoop],
                                                                                                 str | None]:
        """The network's loops by (opened_at, id), keyset-paged. ``visible_to``: only that owner's loops (and, with
        ``shared``, those shared with the network); None: all of them (the network's staff)."""
        c = learning_loops.c
        conditions: list[ColumnElement[bool]] = [c.network_id == query.network_id]
        if visible_to is not None:
            conditions.append(or_(c.owner_id == visible_to, c.shared_with_network.is_(True)) if shared
                              else c.owner_id == visible_to)
        if query.status:
            conditions.append(c.status == query.status.value)
        if query.page_token:
            conditions.append(after_key(c.opened_at, c.id, decode_page_token(query.page_token)))
        rows = self.connection.execute(
            select(learning_loops).where(*conditions).order_by(c.opened_at, c.id).limit(query.page_size + 1)
        ).mappings().all()
        page = [_load(r) for r in rows[: query.page_size]]
        more = len(rows) > query.page_size
        return page, encode_page_token(page[-1].opened_at, page[-1].id) if more else None

    def touching(self, network_id: str, start: datetime, end: datetime) -> list[LearningLoop]:
        """The network's loops opened, experimented on, followed up or closed in [start, end)."""
        c = learning_loops.c
        rows = self.connection.execute(
            select(learning_loops).where(c.network_id == network_id, or_(*(
                (moment >= start) & (moment < end)
                for moment in (c.opened_at, c.experiment_at, c.followed_up_at, c.closed_at)
            ))).order_by(c.opened_at, c.id)
        ).mappings().all()
        return [_load(r) for r in rows]

    def by_owner(self, member_id: str) -> list[LearningLoop]:
        c = learning_loops.c
        rows = self.connection.execute(
            select(learning_loops).where(c.owner_id == member_id).order_by(c.opened_at, c.id)
        ).mappings().all()
        return [_load(r) for r in rows]


def _load(row: RowMapping) -> LearningLoop:
    values = {name: row[name] for name in COLUMNS}
    for moment in ("experiment_at", "followed_up_at", "closed_at", "updated_at"):
        values[moment] = utc_or_none(values[moment])
    values["opened_at"] = utc(values["opened_at"])
    return LearningLoop(
        **values, owner_role=MembershipRole(row["owner_role"]), status=LoopStatus(row["status"]),
        mandate=Mandate(row["mandate"]) if row["mandate"] else None,
    )


def _row(loop: LearningLoop) -> dict[str, object]:
    row: dict[str, object] = {name: getattr(loop, name) for name in COLUMNS}
    row.update(owner_role=loop.owner_role.value, status=loop.status.value,
               mandate=loop.mandate.value if loop.mandate else None)
    return row
