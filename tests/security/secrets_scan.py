"""Look for secrets in a database: every text value of every table of every schema but PostgreSQL's own.

Small enough for a test database, and blunt on purpose: a plaintext token in any column (a token table, an
outbox row carrying an event, a log table) is found, whatever the schema calls it.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


def where_found(database_url: str, secrets: Iterable[str]) -> list[str]:
    """``schema.table.column`` for every value that contains one of ``secrets``."""
    wanted = [s for s in secrets if s]
    engine = sqlalchemy.create_engine(database_url)
    found: list[str] = []
    try:
        with engine.connect() as conn:
            columns = conn.execute(sqlalchemy.text(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "JOIN information_schema.tables USING (table_schema, table_name) "
                "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN :system "
                "ORDER BY 1, 2, 3").bindparams(sqlalchemy.bindparam("system", expanding=True)),
                {"system": list(SYSTEM_SCHEMAS)}).all()
            for schema, table, column in columns:
                quoted = f'"{schema}"."{table}"'
                values = conn.execute(sqlalchemy.text(f'SELECT CAST("{column}" AS TEXT) FROM {quoted}')).scalars()
                for value in values:
                    if value is not None and any(secret in value for secret in wanted):
                        found.append(f"{schema}.{table}.{column}")
                        break
    finally:
        engine.dispose()
    return found


def tables(database_url: str) -> set[str]:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return {f"{schema}.{table}" for schema, table in conn.execute(sqlalchemy.text(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"))}
    finally:
        engine.dispose()
