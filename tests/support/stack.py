"""The whole stack as separate processes (``kring run``) on free ports: shared by tests/e2e and tests/ops.

Never import eventlet's monkey patching here: both layers drive the stack from an unpatched process.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.infra import RABBIT_MANAGEMENT

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_TOKEN = "e2e-operator-token-0123456789abcdef"
SIGN_IN_BROKER_TOKEN = "e2e-sign-in-broker-token-0123456789"
OPERATOR_EMAIL = "operator@e2e.example.org"  # in KRING_OPERATOR_EMAILS: its sign-in carries the operator's authority


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` consecutive free ports below the kernel's ephemeral range (32768+), where outgoing connections
    take ports at any moment; a random start keeps concurrent test runs apart, and each port is tried."""
    for _ in range(200):
        start = random.randrange(20000, 32000 - count)
        candidates = list(range(start, start + count))
        if all(_bindable(port) for port in candidates):
            return candidates
    raise RuntimeError(f"no {count} consecutive free ports found between 20000 and 32000")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Stack:
    http: str
    grpc: str
    token: str
    data_dir: Path
    process: subprocess.Popen
    metrics_port: int  # KRING_METRICS_PORT: each process serves /metrics on this plus its offset
    amqp_uri: str = ""  # the broker (and vhost) the stack's processes share: another gateway joins it here
    console: str = ""  # the console's URL (``kring console``, started by ``kring run`` with the rest)
    broker_token: str = SIGN_IN_BROKER_TOKEN  # the sign-in broker's (the console's): POST /v1/sign-in/tokens only

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"} if (token or self.token) else {}
        return httpx.Client(base_url=self.http, headers=headers, timeout=30)

    def anonymous(self) -> httpx.Client:
        return httpx.Client(base_url=self.http, timeout=30)

    @property
    def log(self) -> Path:
        """What ``kring run`` printed: its own lines and every process's, prefixed with its name."""
        return self.data_dir.parent / "stack.log"

    def metrics_url(self, process: str) -> str:
        from services.common.config import METRICS_PORT_OFFSETS

        return f"http://127.0.0.1:{self.metrics_port + METRICS_PORT_OFFSETS[process]}/metrics"


def start_stack(tmp: Path, amqp_uri: str, database_url: str | None, instance_id: str = "kring-e2e",
                extra_env: dict[str, str] | None = None, demo: bool = False) -> Stack:
    """``extra_env``: more environment for every process of the stack (tests/e2e/test_tracing_e2e.py: OTLP).
    ``demo``: load the demo data before the stack counts as ready (tests/browser signs in as its people)."""
    # the gateway's two ports, the metrics base (each process adds its offset, 0..5, to it), then the console's
    http, grpc_port, metrics, *_, console = free_ports(2 + 6 + 1)
    env = {
        **os.environ,
        "KRING_AMQP_URI": amqp_uri,
        "KRING_RABBITMQ_MANAGEMENT_URL": RABBIT_MANAGEMENT,  # kring run sets the queue policies there
        "KRING_DATA_DIR": str(tmp / "data"),
        "KRING_HTTP_PORT": str(http),
        "KRING_GRPC_PORT": str(grpc_port),
        "KRING_METRICS_PORT": str(metrics),
        "KRING_CONSOLE_PORT": str(console),
        "KRING_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "KRING_SIGN_IN_BROKER_TOKEN": SIGN_IN_BROKER_TOKEN,
        "KRING_OPERATOR_EMAILS": OPERATOR_EMAIL,
        "KRING_INSTANCE_ID": instance_id,
        "KRING_LOG_FORMAT": "text",
        **(extra_env or {}),
    }
    if database_url:
        env["KRING_DATABASE_URL"] = database_url
    env.update(extra_env or {})
    ready = tmp / "ready"
    log = open(tmp / "stack.log", "wb")  # closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", *([] if demo else ["--no-demo"]), "--ready-file", str(ready)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_stack(process)
            pytest.fail(f"the stack did not become ready; its log:\n{(tmp / 'stack.log').read_text()[-6000:]}",
                        pytrace=False)
        time.sleep(0.25)
    return Stack(f"http://127.0.0.1:{http}", f"127.0.0.1:{grpc_port}", OPERATOR_TOKEN, tmp / "data", process,
                 metrics, amqp_uri, json.loads(ready.read_text())["console_url"])


def stop_stack(process: subprocess.Popen) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.returncode


def killed_on_stop(stack: Stack) -> list[str]:
    """The processes ``kring run`` had to kill when it stopped, from its line "did not stop within 10 s, killed:
    gateway, relay": every process should exit on its own after SIGTERM."""
    lines = re.findall(r"did not stop within \d+ s, killed: (.+)", stack.log.read_text(errors="replace"))
    return [name.strip() for line in lines for name in line.split(",")]
