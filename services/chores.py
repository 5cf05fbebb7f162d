"""Chores before the processes start, for ``kring migrate`` / ``kring declare`` and the local supervisor.

Nothing but the standard library at module level (see :mod:`services.cli`): each chore imports what it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.common.config import Settings

Log = Callable[[str], None]


def say(line: str) -> None:
    print(line, flush=True)


def _redact_db(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _redact_amqp(uri: str) -> str:
    from kombu.utils.url import maybe_sanitize_url

    sanitized: str = maybe_sanitize_url(uri)  # kombu's helper is not annotated; it answers a str for a str
    return sanitized


def migrate_services(settings: Settings, only: str | None, log: Log = say) -> int:
    """Upgrade each service's database to head; return an exit status."""
    from sqlalchemy.exc import SQLAlchemyError

    from services.common.config import available_services
    from services.common.migrations import upgrade

    available = available_services()
    if only and only not in available:
        log(f"service {only!r} has no code yet; available: {', '.join(available) or '(none)'}")
        return 2
    for service in [only] if only else available:
        url = settings.database_url_for(service)
        try:
            upgrade(service, url)
        except SQLAlchemyError as exc:
            log(f"migrating {service} on {_redact_db(url)} failed: {exc}")
            log("Is the database reachable? (scripts/ensure-postgres.sh starts a local PostgreSQL)")
            return 1
        log(f"migrated {service} ({_redact_db(url)})")
    return 0


def reencrypt_peer_keys(settings: Settings, log: Log = say) -> int:
    """Encrypt every stored peer API key under the first key of KRING_FEDERATION_KEYS (after a rotation, or to
    seal keys stored before encryption); an exit status."""
    from sqlalchemy.exc import SQLAlchemyError

    from services.common.config import get_settings
    from services.common.db import create_service_engine
    from services.common.errors import KringError
    from services.common.keys_at_rest import configured_keys
    from services.federation.unit_of_work import FederationUnitOfWork

    keys = configured_keys(get_settings().federation_keys)
    if not keys.configured:
        log("KRING_FEDERATION_KEYS is not set: nothing to encrypt with")
        return 2
    url = settings.database_url_for("federation")
    engine = create_service_engine(url, "federation", pool_size=1)
    try:
        with FederationUnitOfWork(engine, producer="federation") as uow:
            rewritten = uow.peers.reencrypt()
            uow.commit()
    except KringError as exc:
        log(f"re-encrypting the peer keys failed: {exc.message}")
        return 1
    except SQLAlchemyError as exc:
        log(f"re-encrypting the peer keys on {_redact_db(url)} failed: {exc}")
        return 1
    finally:
        engine.dispose()
    log(f"re-encrypted {rewritten} peer key(s) under the first key ({_redact_db(url)})")
    return 0


def declare_topology(settings: Settings, log: Log = say, *, list_queues: bool = True, apply_policies: bool = True,
                     migrate_queues: bool = False) -> int:
    """Set the queue policies (or check them), declare the dead-letter queue and every handler queue, and
    optionally move queues an earlier Kring declared with arguments onto the policies; return an exit status."""
    from kombu.exceptions import OperationalError

    from services.common.topology import (
        EVENT_POLICY,
        Management,
        ManagementError,
        QueueInUse,
        all_handler_queues,
        declare_all,
        migrate_queue,
    )

    try:
        management = Management.for_broker(settings.amqp_uri, settings.rabbitmq_management_url)
        declared = declare_all(settings.amqp_uri, settings.event_delivery_limit, management,
                               apply_policies=apply_policies)
    except ManagementError as exc:
        log(f"cannot set the queue policies: {exc}")
        log("The policies need RabbitMQ's management plugin (rabbitmq-plugins enable rabbitmq_management; "
            "scripts/ensure-rabbitmq.sh does this); KRING_RABBITMQ_MANAGEMENT_URL names it if it is elsewhere.")
        return 1
    except (OperationalError, OSError) as exc:
        log(f"cannot reach RabbitMQ at {_redact_amqp(settings.amqp_uri)}: {exc}")
        log("Start it with scripts/ensure-rabbitmq.sh (make run does this for you).")
        return 1
    log(f"declared {len(declared.queues)} queues" + (":\n  " + "\n  ".join(declared.queues) if list_queues else ""))
    log(f"policy {EVENT_POLICY} {'set' if apply_policies else 'checked'}: delivery limit "
        f"{settings.event_delivery_limit}, dead-lettering to kring.dead-letter")
    for problem in declared.problems:
        log(f"problem: {problem}")
    status = 1 if declared.problems else 0
    if declared.kept and not migrate_queues:
        log(f"{len(declared.kept)} queues keep the x-delivery-limit / x-dead-letter-exchange arguments an earlier "
            "Kring declared them with; RabbitMQ applies the lower of those and the policy's delivery limit. Stop "
            "their consumers and run `kring declare --migrate-queues` to move them onto the policy:\n  "
            + "\n  ".join(declared.kept))
    if migrate_queues:
        for queue in all_handler_queues():
            try:
                moved = migrate_queue(settings.amqp_uri, management, queue)
            except QueueInUse as exc:
                log(f"not migrated: {exc}")
                status = 1
                continue
            if moved is not None:
                log(f"migrated {queue.name} onto the policy ({moved} waiting messages kept)")
    return status
