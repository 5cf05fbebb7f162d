"""Start the gateway as a real process on free ports, the way `make run` and Kubernetes start it.

The test process never hosts grpcio itself (see grpc_probe.py): pytest may have run the integration
layer's ``eventlet.monkey_patch()`` in this process, and grpcio hangs under eventlet.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.stack import free_ports

REPO = Path(__file__).resolve().parents[2]
OPERATOR_TOKEN = "e2e-operator-token"
STARTUP_TIMEOUT = 30.0



@dataclass
class Gateway:
    process: subprocess.Popen
    http_url: str
    grpc_target: str
    metrics_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, as Kubernetes does; returns the exit code (killing it if it does not stop in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"gateway did not stop within {timeout} s of SIGTERM\n{self.log()}")
        return self.process.returncode


@contextmanager
def running_gateway(tmp_path: Path, amqp_uri: str, *, startup_timeout: float = STARTUP_TIMEOUT,
                    https: ssl.SSLContext | None = None, **env: str) -> Iterator[Gateway]:
    """``https``: the admin API serves HTTPS (KRING_HTTP_TLS_* in ``env``); the client context to reach it."""
    http, grpc_port, metrics = free_ports(3)
    environment = {
        **os.environ,
        "KRING_AMQP_URI": amqp_uri,
        "KRING_BIND_HOST": "127.0.0.1",
        "KRING_HTTP_PORT": str(http),
        "KRING_GRPC_PORT": str(grpc_port),
        "KRING_METRICS_PORT": str(metrics),  # the gateway's offset is 0
        "KRING_OPERATOR_TOKEN": OPERATOR_TOKEN,
        "KRING_DATA_DIR": str(tmp_path / "data"),
        "KRING_RPC_TIMEOUT": "3",
        **env,
    }
    log_path = tmp_path / "gateway.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "services.gateway"], cwd=REPO, env=environment,
                                   stdout=log_file, stderr=subprocess.STDOUT)
    gateway = Gateway(process, f"{'https' if https else 'http'}://127.0.0.1:{http}", f"127.0.0.1:{grpc_port}",
                      f"http://127.0.0.1:{metrics}/metrics", log_path)
    try:
        _wait_until_up(gateway, startup_timeout, https)
        yield gateway
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_until_up(gateway: Gateway, timeout: float = STARTUP_TIMEOUT, https: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            pytest.fail(f"gateway exited with {gateway.process.returncode} at startup\n{gateway.log()}")
        try:
            if httpx.get(f"{gateway.http_url}/healthz", timeout=1, verify=https or True).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"gateway did not answer /healthz within {timeout} s\n{gateway.log()}")
