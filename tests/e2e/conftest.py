"""End-to-end tests: the whole stack as separate processes (``kring run``), driven only through the admin
API and the gRPC API, the way users drive it.

This layer never imports eventlet's monkey patching: grpcio clients hang under it. ``make test`` runs it
in its own pytest process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.infra import postgres_database, rabbit_vhost

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_TOKEN = "e2e-operator-token-0123456789abcdef"


def pytest_configure(config: pytest.Config) -> None:
    import eventlet.patcher

    if eventlet.patcher.is_monkey_patched("socket"):
        raise pytest.UsageError("tests/e2e must run in a process without eventlet patching: run `make test`, "
                                "which runs each layer in its own pytest process")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    http: str
    grpc: str
    token: str
    data_dir: Path
    process: subprocess.Popen

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"} if (token or self.token) else {}
        return httpx.Client(base_url=self.http, headers=headers, timeout=30)

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.http, timeout=30)


def start_stack(tmp: Path, amqp_uri: str, database_url: str | None, instance_id: str = "kring-e2e") -> Stack:
    http, grpc_port, metrics = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "KRING_AMQP_URI": amqp_uri,
        "KRING_DATA_DIR": str(tmp / "data"),
        "KRING_HTTP_PORT": str(http),
        "KRING_GRPC_PORT": str(grpc_port),
        # each process adds its offset (0..5) to the base; keep the range clear of the other ports
        "KRING_METRICS_PORT": str(metrics if metrics < 60000 else 20000 + metrics % 10000),
        "KRING_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "KRING_INSTANCE_ID": instance_id,
        "KRING_LOG_FORMAT": "text",
    }
    if database_url:
        env["KRING_DATABASE_URL"] = database_url
    ready = tmp / "ready"
    log = open(tmp / "stack.log", "wb")  # closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "--no-demo", "--ready-file", str(ready)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_stack(process)
            pytest.fail(f"the stack did not become ready; its log:\n{(tmp / 'stack.log').read_text()[-6000:]}",
                        pytrace=False)
        time.sleep(0.25)
    return Stack(f"http://127.0.0.1:{http}", f"127.0.0.1:{grpc_port}", OPERATOR_TOKEN, tmp / "data", process)


def stop_stack(process: subprocess.Popen) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.returncode


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
        else:
            running = start_stack(tmp, amqp_uri, None)
            yield running
            assert stop_stack(running.process) == 0, "kring run did not stop cleanly on Ctrl-C"
