"""The audit log: who did what with people's data or with trust, written with the change it records.

Every service that owns an audited action keeps two tables (:func:`audit_tables`):

- ``audit_log``, one row per action, written by the handler through ``uow.audit.record(...)`` in the same
  transaction as the change (as the outbox is): a refused or rolled-back command records nothing. The row holds
  the action (one of :data:`ACTIONS`), when, who (the actor: operator, member, partner or service), on whose
  behalf, what it was about (the target), the correlation id and the request id of the call, and a small
  ``detail`` of ids and statuses (:data:`DETAIL_KEYS`): never a name, an e-mail address, words a person typed,
  a key, a token or a hash. The table is append-only: no code path updates or deletes a row, and on
  PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE, except the retention purge (:func:`purge_audit`),
  which sets the transaction-local flag ``kring.audit_purge`` the trigger lets through.
- ``audit_people``: a person (a member) is never written into ``audit_log``. The row holds an opaque reference
  instead, and ``audit_people`` maps that reference to the member id. Erasing a member deletes their mapping
  rows (:meth:`SqlAuditLog.forget_member`), so the entries stay as they were but no longer lead to the person:
  read back, such a reference is ``{"kind": "member", "id": null, "erased": true}``.

Reading is the operator's (:func:`read_entries`): newest first, keyset-paged on ``(at, id)``, so the gateway can
merge the pages of several services into one (``GET /v1/audit``). Entries older than
``KRING_AUDIT_RETENTION_DAYS`` are purged by each service's housekeeping (:mod:`services.common.nameko_kit`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    and_,
    delete,
    event,
    insert,
    or_,
    select,
    text,
)

from services.common.caller import Caller, require
from services.common.db import UTCDateTime
from services.common.errors import ValidationFailed
from services.common.paging import decode_page_token, encode_page_token

# The closed list of what is recorded, by the service that owns it (README "Audit log" lists the same).
ACTIONS: dict[str, str] = {
    "member.exported": "everything held about a member was exported (members)",
    "member.erased": "a member was erased (members)",
    "token.issued": "a member's API token was issued (members)",
    "token.revoked": "a member's API token was revoked (members)",
    "partner.registered": "a partner organisation or another instance was registered with an API key (federation)",
    "partner.key_rotated": "a partner's API key was replaced (federation)",
    "partner.revoked": "a partner's API key was revoked (federation)",
    "partner.blocked": "a partner was blocked (federation)",
    "peer.configured": "the key and address this instance uses at another instance were set (federation)",
    "peer.removed": "another instance's key and address were removed (federation)",
    "network.blocked": "a network was blocked from every link (federation)",
    "link.accepted": "a link between two networks was accepted (federation)",
    "link.rejected": "a link request was rejected (federation)",
    "link.revoked": "a link was revoked (federation)",
    "link.policy_set": "one side's sharing policy of a link was set (federation)",
}
AuditAction = Literal[
    "member.exported", "member.erased", "token.issued", "token.revoked", "partner.registered",
    "partner.key_rotated", "partner.revoked", "partner.blocked", "peer.configured", "peer.removed",
    "network.blocked", "link.accepted", "link.rejected", "link.revoked", "link.policy_set",
]
# What ``detail`` may hold: ids, statuses, kinds and counts, never what a person typed.
DETAIL_KEYS = frozenset({
    "token_id", "status", "kind", "network_ids", "link_id", "requester_network_id", "target_network_id",
    "network_id", "instance_id", "links_ended", "visibilities", "themes_count", "from_peer", "transport",
    "via", "operator",  # a token: issued by the operator or by a sign-in; with the operator's authority or not
})
DetailValue = str | int | bool | None | list[str]
Detail = Mapping[str, DetailValue]
# Subjects the log names; only "member" is a person and goes through audit_people.
SubjectKind = Literal["operator", "member", "partner", "service", "network", "link", "instance", "token"]
MAX_PAGE = 200
# The kinds whose stored id is a reference in audit_people: a member, and the operator's person (see Subject).
PEOPLE_REFS = frozenset({"member", "operator"})
PURGE_FLAG = "kring.audit_purge"


class AuditTables(NamedTuple):
    log: Table
    people: Table


def audit_tables(metadata: MetaData) -> AuditTables:
    """Add the audit log and its people mapping to a service's metadata."""
    log = Table(
        "audit_log",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("at", UTCDateTime(), nullable=False),
        Column("action", String(40), nullable=False),
        Column("actor_kind", String(20), nullable=False),
        Column("actor_id", String(100), nullable=True),  # for a member: a reference in audit_people
        Column("on_behalf_kind", String(20), nullable=True),
        Column("on_behalf_id", String(100), nullable=True),
        Column("target_kind", String(20), nullable=False),
        Column("target_id", String(100), nullable=True),  # for a member: a reference in audit_people
        Column("correlation_id", String(100), nullable=True),
        Column("request_id", String(100), nullable=True),
        Column("detail", JSON, nullable=False),
        Index("ix_audit_log_at_id", "at", "id"),
        Index("ix_audit_log_target", "target_id"),
    )
    people = Table(
        "audit_people",
        metadata,
        Column("ref", String(36), primary_key=True),
        Column("member_id", String(36), nullable=False, index=True),
        Column("at", UTCDateTime(), nullable=False, index=True),
    )
    # Tables made from the metadata (the unit tests' SQLite) refuse updates as the migrated ones do.
    event.listen(log, "after_create", _refuse_updates_on_sqlite)
    return AuditTables(log, people)


# --- append-only, in the database -------------------------------------------------------------------------------

POSTGRES_APPEND_ONLY = (
    """
    CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' AND current_setting('kring.audit_purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)
SQLITE_REFUSE_UPDATE = (
    "CREATE TRIGGER IF NOT EXISTS audit_log_append_only BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE refused'); END"
)


def _refuse_updates_on_sqlite(target: Table, connection: Connection, **kwargs: Any) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(SQLITE_REFUSE_UPDATE)


def create_audit_tables() -> None:
    """Migration step shared by the services that keep an audit log: the two tables and, on PostgreSQL, the
    trigger that keeps the log append-only. Frozen: a later change to the tables is a new step."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=100), nullable=True),
        sa.Column("on_behalf_kind", sa.String(length=20), nullable=True),
        sa.Column("on_behalf_id", sa.String(length=100), nullable=True),
        sa.Column("target_kind", sa.String(length=20), nullable=False),
        sa.Column("target_id", sa.String(length=100), nullable=True),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at_id", "audit_log", ["at", "id"])
    op.create_index("ix_audit_log_target", "audit_log", ["target_id"])
    op.create_table(
        "audit_people",
        sa.Column("ref", sa.String(length=36), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    op.create_index("ix_audit_people_member_id", "audit_people", ["member_id"])
    op.create_index("ix_audit_people_at", "audit_people", ["at"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in POSTGRES_APPEND_ONLY:
            op.execute(statement)
    elif dialect == "sqlite":
        op.execute(SQLITE_REFUSE_UPDATE)


def drop_audit_tables() -> None:
    from alembic import op

    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_index("ix_audit_people_at", table_name="audit_people")
    op.drop_index("ix_audit_people_member_id", table_name="audit_people")
    op.drop_table("audit_people")
    op.drop_index("ix_audit_log_target", table_name="audit_log")
    op.drop_index("ix_audit_log_at_id", table_name="audit_log")
    op.drop_table("audit_log")


# --- recording ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Whom or what an entry names: an actor, the one acted for, or the target. ``person``: the member behind the
    operator's authority when a person signed in with it (``KRING_OPERATOR_EMAILS``), kept as ``audit_people``
    keeps any member."""

    kind: SubjectKind
    id: str | None = None
    person: str | None = None

    @classmethod
    def member(cls, member_id: str) -> Subject:
        return cls("member", member_id)

    @classmethod
    def network(cls, network_id: str) -> Subject:
        return cls("network", network_id)

    @classmethod
    def link(cls, link_id: str) -> Subject:
        return cls("link", link_id)

    @classmethod
    def partner(cls, partner_id: str) -> Subject:
        return cls("partner", partner_id)

    @classmethod
    def instance(cls, instance_id: str) -> Subject:
        return cls("instance", instance_id)


def actor_of(caller: Caller) -> Subject:
    """Who acted: the operator (with the person, for an operator's sign-in), a member (their id, which only
    ``audit_people`` keeps), a partner, a service."""
    if caller.kind == "member" and caller.member_id is not None:
        return Subject.member(caller.member_id)
    if caller.kind == "operator" and caller.member_id is not None:
        return Subject("operator", person=caller.member_id)
    if caller.kind == "partner":
        return Subject("partner", caller.partner_id)
    if caller.kind == "service":
        return Subject("service", caller.service)
    return Subject("operator")


class AuditLog(Protocol):
    """What a handler uses of the audit log (``uow.audit``): the SQL one, or a test's fake."""

    def record(self, action: AuditAction, caller: Caller, target: Subject, *, on_behalf_of: Subject | None = None,
               detail: Detail | None = None) -> None:
        """Write one entry in the open transaction, with the call's correlation id and request id."""

    def forget_member(self, member_id: str) -> None:
        """Delete the member's mapping rows: their entries stay, but no longer lead to them."""

    def entries(self, query: AuditQuery) -> list[AuditEntry]:
        """A page of entries matching ``query``, newest first (``query.page_size`` of them at most)."""
        ...


def check_detail(detail: Detail | None) -> dict[str, DetailValue]:
    """The detail as stored; a key outside :data:`DETAIL_KEYS` is a bug in the caller, refused here."""
    detail = dict(detail or {})
    unknown = sorted(set(detail) - DETAIL_KEYS)
    if unknown:
        raise ValueError(f"audit detail may hold only ids and statuses; not {unknown}")
    return detail


class SqlAuditLog:
    """The audit log on the unit of work's open connection. ``context`` gives the call's (correlation id, request
    id) when an entry is written: a batch of consumed events changes the correlation id between events."""

    def __init__(self, connection: Connection, tables: AuditTables,
                 context: Callable[[], tuple[str | None, str | None]]) -> None:
        self.connection = connection
        self.tables = tables
        self.context = context

    def record(self, action: AuditAction, caller: Caller, target: Subject, *, on_behalf_of: Subject | None = None,
               detail: Detail | None = None) -> None:
        if action not in ACTIONS:
            raise ValueError(f"{action!r} is not an audited action")
        stored = check_detail(detail)
        now = datetime.now(UTC)
        actor = actor_of(caller)
        correlation, request = self.context()
        self.connection.execute(insert(self.tables.log).values(
            id=str(uuid.uuid4()), at=now, action=action,
            actor_kind=actor.kind, actor_id=self._written(actor, now),
            on_behalf_kind=on_behalf_of.kind if on_behalf_of else None,
            on_behalf_id=self._written(on_behalf_of, now) if on_behalf_of else None,
            target_kind=target.kind, target_id=self._written(target, now),
            correlation_id=correlation[:100] if correlation else None,
            request_id=request[:100] if request else None,
            detail=stored,
        ))

    def _written(self, subject: Subject, now: datetime) -> str | None:
        """The id as the row holds it: for a member, or the person behind the operator's authority, a new opaque
        reference, mapped in ``audit_people`` (the operator has no id of its own, so the column is free for it)."""
        person = subject.id if subject.kind == "member" else subject.person if subject.kind == "operator" else None
        if person is None:
            return subject.id
        ref = str(uuid.uuid4())
        self.connection.execute(insert(self.tables.people).values(ref=ref, member_id=person, at=now))
        return ref

    def forget_member(self, member_id: str) -> None:
        people = self.tables.people
        self.connection.execute(delete(people).where(people.c.member_id == member_id))

    def entries(self, query: AuditQuery) -> list[AuditEntry]:
        log, people = self.tables
        statement = select(log).order_by(log.c.at.desc(), log.c.id.desc()).limit(query.page_size)
        if query.action is not None:
            statement = statement.where(log.c.action == query.action)
        if query.since is not None:
            statement = statement.where(log.c.at >= query.since)
        if query.until is not None:
            statement = statement.where(log.c.at < query.until)
        if query.target_id is not None:
            refs = select(people.c.ref).where(people.c.member_id == query.target_id)
            statement = statement.where(or_(
                and_(log.c.target_kind != "member", log.c.target_id == query.target_id),
                and_(log.c.target_kind == "member", log.c.target_id.in_(refs)),
            ))
        if query.page_token is not None:
            at, entry_id = query.after()
            statement = statement.where(or_(log.c.at < at, and_(log.c.at == at, log.c.id < entry_id)))
        rows = self.connection.execute(statement).all()
        refs_used = {ref for row in rows for kind, ref in ((row.actor_kind, row.actor_id),
                                                            (row.on_behalf_kind, row.on_behalf_id),
                                                            (row.target_kind, row.target_id))
                     if kind in PEOPLE_REFS and ref is not None}
        members: dict[str, str] = {}
        if refs_used:
            found = self.connection.execute(
                select(people.c.ref, people.c.member_id).where(people.c.ref.in_(sorted(refs_used)))).all()
            members = {ref: member_id for ref, member_id in found}
        return [entry_of(dict(row._mapping), members) for row in rows]


def entry_of(row: Mapping[str, Any], members: Mapping[str, str]) -> AuditEntry:
    """An entry as read: each member reference resolved to the member's id, or shown as erased."""

    def person(ref: str | None) -> SubjectOut:
        member_id = members.get(ref or "")
        return SubjectOut(kind="member", id=member_id, erased=member_id is None)

    def shown(kind: str | None, ref: str | None) -> SubjectOut | None:
        if kind is None:
            return None
        if kind == "member":
            return person(ref)
        if kind == "operator":  # a reference here is the person who signed in with the operator's authority
            return SubjectOut(kind=kind, person=person(ref) if ref is not None else None)
        return SubjectOut(kind=kind, id=ref)

    actor, target = shown(row["actor_kind"], row["actor_id"]), shown(row["target_kind"], row["target_id"])
    assert actor is not None and target is not None  # NOT NULL columns
    return AuditEntry(id=row["id"], at=row["at"], action=row["action"], actor=actor,
                      on_behalf_of=shown(row["on_behalf_kind"], row["on_behalf_id"]), target=target,
                      correlation_id=row["correlation_id"], request_id=row["request_id"], detail=row["detail"])


# --- reading -------------------------------------------------------------------------------------------------


class AuditQuery(BaseModel):
    """Which entries, and from where: newest first, ``page_token`` the (at, id) of the last entry seen."""

    model_config = ConfigDict(extra="forbid")

    action: AuditAction | None = Field(None, description="one action of the closed list")
    since: AwareDatetime | None = Field(None, description="entries at or after this moment (with a UTC offset)")
    until: AwareDatetime | None = Field(None, description="entries before this moment (with a UTC offset)")
    target_id: str | None = Field(None, min_length=1, max_length=100,
                                  description="entries about this member, network, link, partner or instance")
    page_size: int = Field(50, ge=1, le=MAX_PAGE)
    page_token: str | None = Field(None, max_length=500)

    @field_validator("page_token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is not None:
            _decode_position(value)
        return value

    @model_validator(mode="after")
    def _window(self) -> AuditQuery:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValidationFailed.single("until", "after_since", "until must come after since")
        return self

    def after(self) -> tuple[datetime, str]:
        assert self.page_token is not None
        return _decode_position(self.page_token)


def _decode_position(token: str) -> tuple[datetime, str]:
    at, entry_id = decode_page_token(token)
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        raise ValidationFailed.single("page_token", "valid_page_token", "not a page token this API returned") \
            from None
    if moment.tzinfo is None:
        raise ValidationFailed.single("page_token", "valid_page_token", "not a page token this API returned")
    return moment, entry_id


def page_token_after(entry: AuditEntry) -> str:
    """The page token of the page after ``entry``."""
    return encode_page_token(entry.at.astimezone(UTC).isoformat(), entry.id)


class SubjectOut(BaseModel):
    kind: str = Field(description="operator, member, partner, service, network, link, instance or token")
    id: str | None = Field(None, description="the id; null for the operator, and for a member since erased")
    erased: bool = Field(False, description="a member erased since: the entry no longer leads to them")
    # Absent rather than null when there is none, so that every other subject keeps the shape it always had.
    person: SubjectOut | None = Field(None, exclude_if=lambda person: person is None,
                                      description="for the operator: the person who signed in with the operator's "
                                                  "authority (a member, or erased); absent for the operator token")


class AuditEntry(BaseModel):
    id: str
    at: datetime = Field(description="when, in UTC")
    action: str = Field(description="what was done: one of the closed list (README, Operations, Audit log)")
    actor: SubjectOut = Field(description="who did it")
    on_behalf_of: SubjectOut | None = Field(None, description="for whom, e.g. the network a partner acted for")
    target: SubjectOut = Field(description="what it was done to")
    correlation_id: str | None = Field(None, description="the correlation id of the request that did it")
    request_id: str | None = Field(None, description="the request id (from an Idempotency-Key, or the message's)")
    detail: dict[str, DetailValue] = Field(default_factory=dict, description="ids and statuses only")
    service: str | None = Field(None, description="the service that recorded it")


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_page_token: str | None = None


def read_entries(caller: Caller, query: AuditQuery, audit: AuditLog, service: str) -> AuditPage:
    """A page of one service's entries, for the operator only."""
    require(caller.operator, "only the operator reads the audit log")
    items = [entry.model_copy(update={"service": service}) for entry in audit.entries(query)]
    token = page_token_after(items[-1]) if len(items) == query.page_size else None
    return AuditPage(items=items, next_page_token=token)


def merge_pages(pages: Sequence[AuditPage], page_size: int) -> AuditPage:
    """The newest ``page_size`` entries of several services' pages (each newest first, asked from the same token).

    Each service answered the entries after the same position; the newest ``page_size`` of them all are the
    page, and the last of those is where the next page starts. When a service had more than it answered, the
    merged page is full, so a next page is offered."""
    merged = sorted((e for page in pages for e in page.items), key=lambda e: (e.at, e.id), reverse=True)
    items = merged[:page_size]
    more = len(merged) > page_size or any(page.next_page_token for page in pages)
    return AuditPage(items=items, next_page_token=page_token_after(items[-1]) if items and more else None)


# --- retention -----------------------------------------------------------------------------------------------


def purge_audit(engine: Engine, tables: AuditTables, retention: timedelta) -> int:
    """Delete the entries older than ``retention``, and the people mapping rows as old: the one deletion the
    append-only trigger lets through (the flag is local to this transaction). Returns how many entries went."""
    cutoff = datetime.now(UTC) - retention
    log, people = tables
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SET LOCAL {PURGE_FLAG} = 'on'"))
        purged = conn.execute(delete(log).where(log.c.at < cutoff)).rowcount
        conn.execute(delete(people).where(people.c.at < cutoff))
    return int(purged)
