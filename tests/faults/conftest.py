"""Fault injection: every Kring process killed and restarted, the broker and the database restarted, a
service's AMQP connection dropped, duplicated, reordered and poisonous events on the bus, all while outputs
are published and shared across a federation of a few hundred networks; then a ledger of what must hold.

The broker and the database are this layer's own (:mod:`tests.faults.infra`), never the machine's shared
ones. This layer never imports eventlet's monkey patching: the partner client is grpcio, which hangs under it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.harness import Harness
from tests.faults.infra import PrivatePostgres, PrivateRabbit


def pytest_configure(config: pytest.Config) -> None:
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket"):
        raise pytest.UsageError("tests/faults must run in a process without eventlet patching: run `make test`, "
                                "which runs each layer in its own pytest process")


@pytest.fixture(scope="session")
def rabbit() -> Iterator[PrivateRabbit]:
    node = PrivateRabbit()
    try:
        node.start()
        yield node
    finally:
        node.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PrivatePostgres]:
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def harness(tmp_path_factory, rabbit, postgres) -> Iterator[Harness]:
    with Harness(tmp_path_factory.mktemp("faults"), rabbit.amqp_uri, postgres.create_database(),
                 rabbit.management_url).running() as running:
        yield running
