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
from services.common.topology import Management, event_policies  # noqa: E402
from tests.support.infra import RABBIT_MANAGEMENT, postgres_database, rabbit_vhost  # noqa: E402

DELIVERY_LIMIT = 3


@pytest.fixture
def amqp_uri():
    """A throwaway virtual host with Kring's queue policies, as `kring declare` leaves one."""
    with rabbit_vhost() as uri:
        management = Management.for_broker(uri, RABBIT_MANAGEMENT)
        for name, policy in event_policies(DELIVERY_LIMIT).items():
            management.put_policy(name, policy)
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
        "KRING_EVENT_DELIVERY_LIMIT": DELIVERY_LIMIT,
    }


@pytest.fixture
def all_services_config(members_config):
    """The config above, with every service's database migrated."""
    for service in ("networks", "sessions", "federation"):
        upgrade(service, members_config["DATABASE_URL"])
    return members_config


@pytest.fixture
def all_services(all_services_config, container_factory):
    """Members, networks, sessions and federation running in this process; yields an RPC proxy to them."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from services.federation.service import FederationService
    from services.members.service import MembersService
    from services.networks.service import NetworksService
    from services.sessions.service import SessionsService

    for service in (MembersService, NetworksService, SessionsService, FederationService):
        container_factory(service, all_services_config).start()
    with ClusterRpcProxy(all_services_config, timeout=15) as rpc:
        yield rpc
