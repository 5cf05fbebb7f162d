"""The whole stack (``kring run``) for a benchmark: a throwaway virtual host and database, free ports, and the
pid of every process, so a benchmark can drive the real gateway and read each process's resident memory.

Benchmarks that use it run in a process without eventlet (grpcio hangs under it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import database, vhost
from tests.support.stack import free_ports

ROOT = Path(__file__).resolve().parents[1]
OPERATOR_TOKEN = "bench-operator-token-0123456789abcdef"  # a throwaway stack's token


@dataclass
class BenchStack:
    http: str
    grpc: str
    token: str
    data_dir: Path
    database_url: str
    amqp_uri: str
    process: subprocess.Popen
    ready: dict
    metrics_port: int = 0  # the first process's (the gateway's); see services.common.config.METRICS_PORT_OFFSETS

    def gateway_metric(self, name: str, labels: str = "") -> float | None:
        """One sample of the gateway's metrics endpoint (``labels`` as exposed, e.g. ``source="event"``), or None
        when it is not there."""
        sample = f"{name}{{{labels}}} " if labels else f"{name} "
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10).text
        for line in text.splitlines():
            if line.startswith(sample):
                return float(line.split()[-1])
        return None

    def client(self, token: str | None = None, timeout: float = 60) -> httpx.Client:
        return httpx.Client(base_url=self.http, headers={"Authorization": f"Bearer {token or self.token}"},
                            timeout=timeout)

    def pids(self) -> dict[str, int]:
        """Process name (members, networks, sessions, federation, gateway, relay) → pid, as running now."""
        return json.loads(Path(self.ready["pids_file"]).read_text())


@contextmanager
def running_stack(demo: bool = False, env: dict[str, str] | None = None,
                  ready_timeout: float = 300) -> Iterator[BenchStack]:
    """Start ``kring run`` (with the demo data when ``demo``) on its own vhost, database and ports; stop it after.

    ``env`` adds settings, e.g. ``{"KRING_PARTNER_RATE": "0"}`` to lift the partner rate limit.
    """
    with vhost() as amqp_uri, database() as db_url, tempfile.TemporaryDirectory(prefix="kring-bench-") as tmp:
        http, grpc_port, metrics, *_, console = free_ports(2 + 6 + 1)  # gateway, metrics (+0..5), console
        data = Path(tmp) / "data"
        child_env = {
            **os.environ,
            "KRING_AMQP_URI": amqp_uri,
            "KRING_DATABASE_URL": db_url,
            "KRING_DATA_DIR": str(data),
            "KRING_HTTP_PORT": str(http),
            "KRING_GRPC_PORT": str(grpc_port),
            "KRING_METRICS_PORT": str(metrics),
            "KRING_CONSOLE_PORT": str(console),
            "KRING_OPERATOR_TOKEN": OPERATOR_TOKEN,
            "KRING_INSTANCE_ID": "kring-bench",
            "KRING_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        ready_file = Path(tmp) / "ready.json"
        log_path = Path(tmp) / "stack.log"
        argv = [sys.executable, "-m", "services.cli", "run", "--ready-file", str(ready_file),
                "--ready-timeout", str(ready_timeout), *([] if demo else ["--no-demo"])]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(argv, cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        try:
            deadline = time.monotonic() + ready_timeout + 60
            while not ready_file.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the stack did not become ready; its log:\n{log_path.read_text()[-6000:]}")
                time.sleep(0.25)
            yield BenchStack(f"http://127.0.0.1:{http}", f"127.0.0.1:{grpc_port}", OPERATOR_TOKEN, data, db_url,
                             amqp_uri, process, json.loads(ready_file.read_text()), metrics)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
