"""Alembic migrations, one history per service, run programmatically (``kring migrate``).

Each service keeps ``services/<service>/migrations/`` with an ``env.py`` that calls :func:`run_env`
with its metadata. On PostgreSQL the service's tables and Alembic's version table live in the
service's own schema.
"""

from __future__ import annotations

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from services.common.db import create_service_engine, ensure_schema, schema_for


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", f"services.{service}:migrations")
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    engine = create_service_engine(url, service)
    try:
        ensure_schema(engine, service)
        config = alembic_config(service, url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def run_env(metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``."""
    config = context.config
    connection = config.attributes["connection"]
    service = config.attributes["service"]
    schema = schema_for(config.get_main_option("sqlalchemy.url") or "", service)
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def create_processed_commands() -> None:
    """Migration step shared by every service: the record of applied commands (services/common/commands.py).

    Frozen: migrations that already ran call it, so a later change to the table is a new step, not an edit here.
    """
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "processed_commands",
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("command", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index("ix_processed_commands_recorded_at", "processed_commands", ["recorded_at"])


def add_outbox_trace_context() -> None:
    """Migration step shared by every service: the outbox keeps each event's trace context (tracing.py). Frozen."""
    import sqlalchemy as sa
    from alembic import op

    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("trace_context", sa.JSON(), nullable=True))


def drop_outbox_trace_context() -> None:
    from alembic import op

    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("trace_context")


def drop_processed_commands() -> None:
    from alembic import op

    op.drop_index("ix_processed_commands_recorded_at", table_name="processed_commands")
    op.drop_table("processed_commands")
