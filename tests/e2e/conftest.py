"""End-to-end tests: the whole stack as separate processes (``kring run``), driven only through the admin
API and the gRPC API, the way users drive it.

This layer never imports eventlet's monkey patching: grpcio clients hang under it. ``make test`` runs it
in its own pytest process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.infra import postgres_database, rabbit_vhost
from tests.support.stack import OPERATOR_TOKEN, ROOT, Stack, free_port, killed_on_stop, start_stack, stop_stack

__all__ = ["OPERATOR_TOKEN", "ROOT", "Stack", "free_port", "start_stack", "stop_stack"]


def pytest_configure(config: pytest.Config) -> None:
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket"):
        raise pytest.UsageError("tests/e2e must run in a process without eventlet patching: run `make test`, "
                                "which runs each layer in its own pytest process")


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def stack(request, tmp_path_factory) -> Iterator[Stack]:
    """The stack on PostgreSQL (as in production) and on SQLite files (as `make run` starts it)."""
    tmp = tmp_path_factory.mktemp(f"stack-{request.param}")
    with rabbit_vhost("kring-e2e") as amqp_uri:
        if request.param == "postgresql":
            with postgres_database("kring_e2e") as database_url:
                running = start_stack(tmp, amqp_uri, database_url)
                yield running
                assert stop_stack(running.process) == 0, "kring run did not stop cleanly on Ctrl-C"
                assert killed_on_stop(running) == [], "every process exits on its own after SIGTERM"
        else:
            running = start_stack(tmp, amqp_uri, None)
            yield running
            assert stop_stack(running.process) == 0, "kring run did not stop cleanly on Ctrl-C"
            assert killed_on_stop(running) == [], "every process exits on its own after SIGTERM"
