"""Outputs with their authors, and reflections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, RowMapping, insert, or_, select, update

from services.common.uow import TrackingRepository
from services.common.vocabulary import OutputKind, ReflectionKind, ResourceType, Visibility
from services.sessions.domain.outputs import Output
from services.sessions.domain.reflections import Reflection
from services.sessions.models import output_authors, outputs, reflections, sessions
from services.sessions.repository.paging import decode_page_token, encode_page_token
from services.sessions.repository.rows import after_key, before_key, grouped, utc, utc_or_none
from services.sessions.schemas.commands import ListOutputs


class OutputRepository(TrackingRepository):
    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection

    def get(self, output_id: str) -> Output | None:
        row = self.connection.execute(select(outputs).where(outputs.c.id == output_id)).mappings().first()
        return self._track(self._load([row])[0]) if row else None

    def add(self, output: Output) -> None:
        self.connection.execute(insert(outputs).values(**self._row(output)))
        self.connection.execute(insert(output_authors), [
            {"output_id": output.id, "position": i, "member_id": member_id}
            for i, member_id in enumerate(output.author_ids)
        ])
        self._track(output)

    def save(self, output: Output) -> None:
        """Only retraction changes a published output; the authors stay as published."""
        self.connection.execute(update(outputs).where(outputs.c.id == output.id).values(**self._row(output)))

    def page(self, query: ListOutputs, inside: frozenset[str] | None) -> tuple[list[Output], str | None]:
        """Outputs of a network or a session ordered by (published_at, id), keyset-paged; for a reader inside only
        the networks ``inside`` (None: every network), the others' public outputs only."""
        conditions: list[ColumnElement[bool]] = []
        if query.network_id:
            conditions.append(outputs.c.network_id == query.network_id)
        if query.session_id:
            conditions.append(outputs.c.session_id == query.session_id)
        if query.kind:
            conditions.append(outputs.c.kind == query.kind.value)
        if inside is not None:  # the rule of services.sessions.domain.access.may_read_output, as a condition
            conditions.append(or_(outputs.c.network_id.in_(sorted(inside)),
                                  outputs.c.visibility == Visibility.PUBLIC.value))
        if query.page_token:
            conditions.append(after_key(outputs.c.published_at, outputs.c.id, decode_page_token(query.page_token)))
        rows = self.connection.execute(
            select(outputs).where(*conditions).order_by(outputs.c.published_at, outputs.c.id)
            .limit(query.page_size + 1)
        ).mappings().all()
        page = self._load(rows[: query.page_size])
        more = len(rows) > query.page_size
        return page, encode_page_token(page[-1].published_at, page[-1].id) if more else None

    def kinds_published_between(self, network_id: str, start: datetime, end: datetime) -> list[OutputKind]:
        """Kinds of the network's outputs, not retracted, of sessions that started in [start, end): an output
        belongs to the period of its session, whenever it was written up."""
        found = self.connection.execute(
            select(outputs.c.kind).join(sessions, sessions.c.id == outputs.c.session_id)
            .where(outputs.c.network_id == network_id, outputs.c.retracted_at.is_(None),
                   sessions.c.starts_at >= start, sessions.c.starts_at < end)
        ).scalars()
        return [OutputKind(kind) for kind in found]

    def by_author(self, member_id: str) -> list[Output]:
        authored = select(output_authors.c.output_id).where(output_authors.c.member_id == member_id)
        rows = self.connection.execute(
            select(outputs).where(outputs.c.id.in_(authored)).order_by(outputs.c.published_at, outputs.c.id)
        ).mappings().all()
        return self._load(rows)

    def _load(self, rows: Sequence[RowMapping]) -> list[Output]:
        ids = [row["id"] for row in rows]
        authors = grouped(self.connection.execute(
            select(output_authors).where(output_authors.c.output_id.in_(ids))
            .order_by(output_authors.c.output_id, output_authors.c.position)
        ).mappings(), "output_id") if ids else {}
        return [
            Output(
                id=row["id"], session_id=row["session_id"], network_id=row["network_id"], kind=OutputKind(row["kind"]),
                title=row["title"], body=row["body"], url=row["url"],
                resource_type=ResourceType(row["resource_type"]) if row["resource_type"] else None,
                themes=list(row["themes"]), visibility=Visibility(row["visibility"]), licence=row["licence"],
                author_ids=[a["member_id"] for a in authors.get(row["id"], [])],
                published_at=utc(row["published_at"]), retracted_at=utc_or_none(row["retracted_at"]),
                retraction_reason=row["retraction_reason"], statement=row["statement"],
            )
            for row in rows
        ]

    @staticmethod
    def _row(output: Output) -> dict[str, object]:
        return {
            "id": output.id, "session_id": output.session_id, "network_id": output.network_id,
            "kind": output.kind.value, "title": output.title, "body": output.body, "url": output.url,
            "resource_type": output.resource_type.value if output.resource_type else None, "themes": output.themes,
            "visibility": output.visibility.value, "licence": output.licence, "published_at": output.published_at,
            "retracted_at": output.retracted_at, "retraction_reason": output.retraction_reason,
            "statement": output.statement,
        }


class ReflectionRepository(TrackingRepository):
    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection

    def add(self, reflection: Reflection) -> None:
        self.connection.execute(insert(reflections).values(
            id=reflection.id, session_id=reflection.session_id, network_id=reflection.network_id,
            member_id=reflection.member_id, kind=reflection.kind.value, text=reflection.text,
            recorded_at=reflection.recorded_at,
        ))
        self._track(reflection)

    def kinds_between(self, network_id: str, start: datetime, end: datetime) -> list[ReflectionKind]:
        """Kinds of reflections on the network's sessions that started in [start, end)."""
        found = self.connection.execute(
            select(reflections.c.kind).join(sessions, sessions.c.id == reflections.c.session_id)
            .where(reflections.c.network_id == network_id, sessions.c.starts_at >= start, sessions.c.starts_at < end)
        ).scalars()
        return [ReflectionKind(kind) for kind in found]

    def by_member(self, member_id: str) -> list[Reflection]:
        rows = self.connection.execute(
            select(reflections).where(reflections.c.member_id == member_id)
            .order_by(reflections.c.recorded_at, reflections.c.id)
        ).mappings()
        return [_reflection(r) for r in rows]

    def page_of_member(self, member_id: str, page_size: int, page_token: str | None) -> tuple[list[Reflection],
                                                                                               str | None]:
        """The member's reflections newest first, keyset-paged on (recorded_at, id) descending."""
        c = reflections.c
        conditions: list[ColumnElement[bool]] = [c.member_id == member_id]
        if page_token:
            conditions.append(before_key(c.recorded_at, c.id, decode_page_token(page_token)))
        rows = self.connection.execute(
            select(reflections).where(*conditions).order_by(c.recorded_at.desc(), c.id.desc()).limit(page_size + 1)
        ).mappings().all()
        page = [_reflection(r) for r in rows[:page_size]]
        more = len(rows) > page_size
        return page, encode_page_token(page[-1].recorded_at, page[-1].id) if more else None


def _reflection(r: RowMapping) -> Reflection:
    return Reflection(r["id"], r["session_id"], r["network_id"], r["member_id"], ReflectionKind(r["kind"]), r["text"],
                      utc(r["recorded_at"]))
