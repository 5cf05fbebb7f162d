"""Integration tests run nameko services in this process, so eventlet patches it first.

Never run these in the same pytest process as tests/e2e (grpcio hangs under eventlet): `make test`
runs the layers as separate pytest invocations.
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

import pytest  # noqa: E402

from services.common.migrations import upgrade  # noqa: E402
from tests.support.infra import postgres_database, rabbit_vhost  # noqa: E402


@pytest.fixture
def amqp_uri():
    with rabbit_vhost() as uri:
        yield uri


@pytest.fixture
def pg_url():
    with postgres_database() as url:
        yield url


@pytest.fixture
def members_config(amqp_uri, pg_url):
    """nameko config for the members service on a fresh vhost and a freshly migrated PostgreSQL database."""
    upgrade("members", pg_url)
    return {
        "AMQP_URI": amqp_uri,
        "DATABASE_URL": pg_url,
        "serializer": "json",
        "max_workers": 10,
        "KRING_EVENT_DELIVERY_LIMIT": 3,
    }
