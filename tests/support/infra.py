"""Throwaway RabbitMQ virtual hosts and PostgreSQL databases for tests.

A test that needs the broker or the database and cannot reach it fails with how to start it; it never
skips. ``make test`` starts both when it can.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy

RABBIT_HOST = os.environ.get("KRING_TEST_RABBIT_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("KRING_TEST_RABBIT_PORT", "5672"))
RABBIT_MANAGEMENT = os.environ.get("KRING_TEST_RABBIT_MANAGEMENT", "http://127.0.0.1:15672")
RABBIT_USER = os.environ.get("KRING_TEST_RABBIT_USER", "guest")
RABBIT_PASSWORD = os.environ.get("KRING_TEST_RABBIT_PASSWORD", "guest")
POSTGRES_ADMIN_URL = os.environ.get("KRING_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")

START_RABBIT = (
    "start it with `rabbitmq-server -detached` and `rabbitmq-plugins enable rabbitmq_management` "
    "(or run `make test`, which does both)"
)
START_POSTGRES = (
    "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
    "(or run `make test`), or point KRING_TEST_POSTGRES_URL at a server"
)


def _management() -> httpx.Client:
    return httpx.Client(base_url=RABBIT_MANAGEMENT, auth=(RABBIT_USER, RABBIT_PASSWORD), timeout=10)


@contextmanager
def rabbit_vhost(prefix: str = "kring-test") -> Iterator[str]:
    """Create a virtual host for one test run; yield its AMQP URI; delete it afterwards."""
    vhost = f"{prefix}-{uuid.uuid4().hex[:8]}"
    try:
        with _management() as api:
            api.put(f"/api/vhosts/{quote(vhost, safe='')}").raise_for_status()
            api.put(
                f"/api/permissions/{quote(vhost, safe='')}/{RABBIT_USER}",
                json={"configure": ".*", "write": ".*", "read": ".*"},
            ).raise_for_status()
    except httpx.HTTPError as exc:
        pytest.fail(f"RabbitMQ management API not reachable at {RABBIT_MANAGEMENT} ({exc}); {START_RABBIT}",
                     pytrace=False)
    try:
        yield f"amqp://{RABBIT_USER}:{RABBIT_PASSWORD}@{RABBIT_HOST}:{RABBIT_PORT}/{quote(vhost, safe='')}"
    finally:
        with _management() as api:
            api.delete(f"/api/vhosts/{quote(vhost, safe='')}")


def queue_info(amqp_vhost_uri: str, queue: str) -> dict:
    vhost = amqp_vhost_uri.rsplit("/", 1)[1]
    with _management() as api:
        response = api.get(f"/api/queues/{vhost}/{quote(queue, safe='')}")
        response.raise_for_status()
        return response.json()


@contextmanager
def postgres_database(prefix: str = "kring_test") -> Iterator[str]:
    """Create an empty database for one test run; yield its URL; drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT",
                                     connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as exc:
        admin.dispose()
        pytest.fail(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({exc.orig}); {START_POSTGRES}",
                    pytrace=False)
    url = sqlalchemy.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
