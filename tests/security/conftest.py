"""Bad input and security: the whole stack as separate processes, attacked only through its two edges (the
admin API over HTTP, the partner API over gRPC) and its message bus, the way a hostile client would.

This layer never imports eventlet's monkey patching (grpcio hangs under it): ``make test`` runs it in its
own pytest process. One stack on PostgreSQL (the production database: it refuses what SQLite takes, such as
a NUL character) serves every test; the scenario in :mod:`tests.security.world` is built on it once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.world import World, build_world
from tests.support.infra import postgres_database, rabbit_vhost
from tests.support.stack import Stack, start_stack, stop_stack

# High enough that no test but the one about rate limits meets them; that one starts its own gateway.
STACK_LIMITS = {"KRING_ADMIN_RATE": "1000", "KRING_ADMIN_BURST": "2000",
                "KRING_PARTNER_RATE": "1000", "KRING_PARTNER_BURST": "2000"}


def pytest_configure(config: pytest.Config) -> None:
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket"):
        raise pytest.UsageError("tests/security must run in a process without eventlet patching: run `make test`, "
                                "which runs each layer in its own pytest process")


@pytest.fixture(scope="session")
def amqp_uri() -> Iterator[str]:
    with rabbit_vhost("kring-security") as uri:
        yield uri


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with postgres_database("kring_security") as url:
        yield url


@pytest.fixture(scope="session")
def stack(tmp_path_factory, amqp_uri, database_url) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("security-stack")
    with pytest.MonkeyPatch.context() as env:
        for name, value in STACK_LIMITS.items():
            env.setenv(name, value)
        running = start_stack(tmp, amqp_uri, database_url, instance_id="kring-security")
    yield running
    assert stop_stack(running.process) == 0, "kring run did not stop cleanly on Ctrl-C"


@pytest.fixture(scope="session")
def world(stack) -> Iterator[World]:
    built = build_world(stack)
    yield built
    built.close()
