"""Every Kring process as its own subprocess, so that each can be killed with SIGKILL and started again.

Not ``kring run``: its supervisor stops the whole stack when a child dies, which is the opposite of what a
fault-injection run needs. The environment is the one ``kring run`` gives its children (``KRING_*``), pointed
at the private RabbitMQ node and PostgreSQL cluster.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from services.common.config import METRICS_PORT_OFFSETS
from services.common.keys_at_rest import KeysAtRest
from tests.faults.infra import tail
from tests.support.stack import ROOT, free_ports

SERVICES = ("members", "networks", "sessions", "federation")
PROCESSES = (*SERVICES, "gateway", "relay")
OPERATOR_TOKEN = "faults-operator-token-0123456789abcdef"
# The gateway's budget for one call into a service: short, so that a fault costs seconds, not tens of them.
RPC_TIMEOUT = 4.0


def replica_names(replicas: int, *, relay: bool = True) -> tuple[str, ...]:
    """Process names: each service and the gateway ``replicas`` times (``sessions``, ``sessions-2``, ...), as
    Kubernetes runs them, and one relay (an instance follows each peer once)."""
    names = [f"{base}-{k}" if k > 1 else base for base in (*SERVICES, "gateway") for k in range(1, replicas + 1)]
    return (*names, *(("relay",) if relay else ()))


def kind_of(name: str) -> str:
    """``sessions-2`` is a sessions process."""
    return name.rsplit("-", 1)[0] if name.rsplit("-", 1)[-1].isdigit() else name


class Harness:
    def __init__(self, tmp: Path, amqp_uri: str, database_url: str, management_url: str,
                 names: tuple[str, ...] = PROCESSES) -> None:
        self.tmp = tmp
        self.logs = tmp / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.names = names
        self.env = {
            **os.environ,
            "KRING_AMQP_URI": amqp_uri,
            "KRING_RABBITMQ_MANAGEMENT_URL": management_url,  # kring declare sets the queue policies there
            "KRING_DATABASE_URL": database_url,
            "KRING_DATA_DIR": str(tmp / "data"),
            "KRING_OPERATOR_TOKEN": OPERATOR_TOKEN,
            "KRING_FEDERATION_KEYS": KeysAtRest.new_key(),  # the peer keys of the unreachable peer, encrypted at rest
            "KRING_INSTANCE_ID": "kring-faults",
            "KRING_LOG_FORMAT": "text",
            "KRING_RPC_TIMEOUT": str(RPC_TIMEOUT),
            "KRING_ADMIN_RATE": "0",
            "KRING_PARTNER_RATE": "0",
            "KRING_RELAY_RELOAD_INTERVAL": "2",
            "KRING_RELAY_BACKOFF_MAX": "2",
        }
        self.env.pop("KRING_SUPERVISOR_PID", None)
        # Each replica its own ports: its gateway's HTTP and gRPC, and the metrics ports of its processes.
        self.ports: dict[int, dict[str, int]] = {}
        for replica in sorted({self.replica(name) for name in names}):
            http, grpc_port, metrics, *_ = free_ports(2 + len(METRICS_PORT_OFFSETS))
            self.ports[replica] = {"http": http, "grpc": grpc_port, "metrics": metrics}
        self.gateways = [name for name in names if kind_of(name) == "gateway"]
        self.https = [f"http://127.0.0.1:{self.ports[self.replica(g)]['http']}" for g in self.gateways]
        self.http, self.grpc = self.https[0], f"127.0.0.1:{self.ports[1]['grpc']}"
        self.processes: dict[str, subprocess.Popen] = {}

    @staticmethod
    def replica(name: str) -> int:
        return int(name.rsplit("-", 1)[1]) if kind_of(name) != name else 1

    def env_of(self, name: str) -> dict[str, str]:
        ports = self.ports[self.replica(name)]
        return {**self.env, "KRING_HTTP_PORT": str(ports["http"]), "KRING_GRPC_PORT": str(ports["grpc"]),
                "KRING_METRICS_PORT": str(ports["metrics"])}

    def command(self, name: str) -> list[str]:
        kind = kind_of(name)
        return [sys.executable, "-m", "services.cli", *(["service", kind] if kind in SERVICES else [kind])]

    def chore(self, *args: str) -> None:
        """``kring migrate`` or ``kring declare``, against the private database and broker."""
        result = subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=ROOT, env=self.env_of("gateway"),
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            pytest.fail(f"kring {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)

    def log_path(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def start(self, name: str) -> None:
        running = self.processes.get(name)
        assert running is None or running.poll() is not None, f"{name} is already running"
        with open(self.log_path(name), "ab") as log:
            log.write(f"--- {name} started at {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.processes[name] = subprocess.Popen(self.command(name), cwd=ROOT, env=self.env_of(name), stdout=log,
                                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                    start_new_session=True)

    def kill9(self, name: str) -> None:
        process = self.processes[name]
        assert process.poll() is None, f"{name} died by itself before it was killed:\n{self.tail(name)}"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def restart(self, name: str) -> None:
        self.kill9(name)
        self.start(name)
        self.wait_ready(name)

    def metrics_url(self, name: str) -> str:
        port = self.ports[self.replica(name)]["metrics"] + METRICS_PORT_OFFSETS[kind_of(name)]
        return f"http://127.0.0.1:{port}/metrics"

    def wait_ready(self, *names: str, timeout: float = 60.0) -> None:
        """Each named process (default: all) serves its metrics, and the gateway's /readyz says that the
        broker and every service, with its database, answer."""
        names = names or self.names
        deadline = time.monotonic() + timeout
        pending = list(names)
        with httpx.Client(timeout=5) as client:
            while pending:
                for name in list(pending):
                    process = self.processes[name]
                    if process.poll() is not None:
                        pytest.fail(f"{name} exited with {process.returncode}:\n{self.tail(name)}", pytrace=False)
                    try:
                        if client.get(self.metrics_url(name)).status_code == 200:
                            pending.remove(name)
                    except httpx.HTTPError:
                        pass
                if not pending:
                    break
                if time.monotonic() > deadline:
                    pytest.fail(f"{pending} not serving metrics within {timeout:g} s:\n" +
                                "\n".join(self.tail(n) for n in pending), pytrace=False)
                time.sleep(0.2)
            self.wait_service_ready(client, deadline)

    def wait_service_ready(self, client: httpx.Client, deadline: float) -> None:
        """Every running gateway's /readyz answers 200."""
        pending, last = {g: self.https[i] for i, g in enumerate(self.gateways)}, "no answer"
        while pending:
            for gateway, url in list(pending.items()):
                if self.processes[gateway].poll() is not None:
                    continue
                try:
                    response = client.get(f"{url}/readyz")
                    if response.status_code == 200:
                        del pending[gateway]
                        continue
                    last = response.text
                except httpx.HTTPError as exc:
                    last = repr(exc)
            if pending and time.monotonic() > deadline:
                pytest.fail(f"/readyz of {sorted(pending)} not 200 in time: {last}\n" + self.tails(), pytrace=False)
            if pending:
                time.sleep(0.2)

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def tail(self, name: str, chars: int = 3000) -> str:
        return f"--- {name} (log tail) ---\n{tail(self.log_path(name), chars)}"

    def tails(self) -> str:
        return "\n".join(self.tail(name, 2000) for name in self.names)

    @contextmanager
    def running(self) -> Iterator[Harness]:
        """Migrate, declare the queues, start every process and wait until all are ready; stop them after."""
        self.chore("migrate")
        self.chore("declare")
        try:
            for name in self.names:
                self.start(name)
            self.wait_ready(timeout=120)
            yield self
        finally:
            self.stop_all()

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
