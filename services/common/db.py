"""Database engines: one database (or PostgreSQL schema) per service.

SQLite (the default for a local run) gets WAL and a busy timeout so the outbox relay can read while
workers write. PostgreSQL gives each service its own schema, named after the service, in whatever
database the URL names, so one PostgreSQL server can hold a whole instance without shared tables.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    Row,
    Table,
    TypeDecorator,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from services.common import tracing


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp on every backend: stored in UTC, always loaded back aware.

    SQLite keeps no offset, so without this a value comes back naive and compares unequal to itself.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite keeps no offset; PostgreSQL answers in the session's time zone. Either way: UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def schema_for(url: str, service: str) -> str | None:
    return service if is_postgres(url) else None


def create_service_engine(url: str, service: str, *, pool_size: int = 10) -> Engine:
    """A service's engine; with tracing on, its statements are spans (services/common/tracing.py)."""
    engine = _create_engine(url, service, pool_size=pool_size)
    tracing.instrument_engine(engine)
    return engine


def _create_engine(url: str, service: str, *, pool_size: int) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        _serialise_sqlite_transactions(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            # SQLAlchemy 2.1 defaults to psycopg 3; services run psycopg2 made cooperative by psycogreen.
            parsed = parsed.set(drivername="postgresql+psycopg2")
        return create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            pool_timeout=10,
            connect_args={"options": f"-csearch_path={service}", "connect_timeout": 5},
        )
    return create_engine(url)


def ensure_schema(engine: Engine, service: str) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{service}"'))


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _serialise_sqlite_transactions(engine: Engine) -> None:
    """One transaction at a time per engine, and transactions the driver does not second-guess.

    - pysqlite opens transactions lazily, only before a write, so a SAVEPOINT issued after a SELECT
      started (and on release committed) a transaction of its own: a processed-event marker survived
      the rollback of its handler. Emitting BEGIN ourselves is SQLAlchemy's documented remedy.
    - Under eventlet a worker can yield while holding SQLite's write lock (the relay publishes inside
      its transaction). Another worker of the same process would then wait for the lock inside C, which
      blocks the whole hub. This lock makes it wait cooperatively instead (it is green once patched).
    """
    lock = threading.RLock()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        lock.acquire()
        conn.info["kring_holds_lock"] = True
        conn.exec_driver_sql("BEGIN")

    # Fired just before the driver commits or rolls back; nothing can yield in between.
    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(conn: Connection) -> None:
        if conn.info.pop("kring_holds_lock", False):
            lock.release()


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see _serialise_sqlite_transactions
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # SQLite's built-in lower() folds ASCII only; case-insensitive filters need what PostgreSQL does.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


SqlValue = str | bytes | int | float | None  # what SQLite hands a user-defined function


def _unicode_lower(value: SqlValue) -> SqlValue:
    return value.lower() if isinstance(value, str) else value


def insert_if_absent(connection: Connection, table: Table, row: dict[str, Any]) -> bool:
    """Insert ``row`` unless a row with its primary key exists; whether it was inserted.

    One statement on PostgreSQL and SQLite. A concurrent insert of the same key makes this one wait until
    the other transaction ends: if it commits, nothing is inserted here; if it rolls back, this one inserts.
    """
    dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(connection.dialect.name)
    if dialect is not None:
        return connection.execute(dialect.insert(table).values(**row).on_conflict_do_nothing()).rowcount == 1
    keys = {column.name: row[column.name] for column in table.primary_key.columns}
    if connection.execute(select(*table.primary_key.columns).filter_by(**keys)).first():
        return False
    # A nested transaction lets a concurrent duplicate lose the race cleanly on the primary key.
    savepoint = connection.begin_nested()
    try:
        connection.execute(insert(table).values(**row))
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        return False
    return True


def insert_or_lock(connection: Connection, table: Table, row: dict[str, Any]) -> Row[*tuple[Any, ...]] | None:
    """Insert ``row`` unless a row with its key exists; then None. Otherwise the existing row, locked until the
    transaction ends (PostgreSQL), for the caller to update.

    How two handlers that may meet on the same new key (the same event on two workers, an output's publication and
    its retraction at once) write it without either failing on the key: the second waits for the first, then
    sees its row.
    """
    if insert_if_absent(connection, table, row):
        return None
    keys = {column.name: row[column.name] for column in table.primary_key.columns}
    return connection.execute(select(table).filter_by(**keys).with_for_update()).first()
