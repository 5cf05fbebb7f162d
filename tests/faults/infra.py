"""A private RabbitMQ node and a private PostgreSQL cluster for the fault-injection suite.

Other test runs and benchmarks share the machine's RabbitMQ and PostgreSQL, so this layer never stops or
restarts those: it starts its own node and its own cluster in a temporary directory, on free ports, and
restarts these. Missing binaries fail the test with what to install; nothing is skipped.

As root, both run as their service users (the Debian ``rabbitmq-server`` wrapper switches to ``rabbitmq``;
``initdb`` and ``postgres`` refuse root, so they run through ``runuser -u postgres``), on directories owned
by those users.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from tests.support.stack import free_ports

INSTALL_RABBIT = ("install RabbitMQ with `apt-get install rabbitmq-server` (the faults suite starts a private node "
                  "from its binaries; it needs `rabbitmq-server` on the PATH)")
INSTALL_POSTGRES = ("install PostgreSQL with `apt-get install postgresql` (the faults suite starts a private cluster "
                    "with `initdb` and `pg_ctl` from /usr/lib/postgresql/<version>/bin or the PATH)")


def tail(path: Path, chars: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except FileNotFoundError:
        return f"({path} does not exist)"


def _owned_by(path: Path, user: str) -> None:
    """As root, hand the directory to the service user that will run in it."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        for root, dirs, files in os.walk(path):
            for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
                os.chown(name, entry.pw_uid, entry.pw_gid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill 0: look at its state
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class PrivateRabbit:
    """One RabbitMQ node of our own: AMQP, management API and distribution on free ports."""

    def __init__(self) -> None:
        if shutil.which("rabbitmq-server") is None:
            pytest.fail(f"rabbitmq-server not found; {INSTALL_RABBIT}", pytrace=False)
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("rabbitmq")
            except KeyError:
                pytest.fail(f"running as root but there is no user `rabbitmq`; {INSTALL_RABBIT}", pytrace=False)
        self.dir = Path(tempfile.mkdtemp(prefix="kring-faults-rabbit-"))
        self.port, self.management_port, self.dist_port = free_ports(3)
        self.node = f"kringfaults-{uuid.uuid4().hex[:8]}@localhost"
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = {self.port}\nmanagement.tcp.port = {self.management_port}\n"
            "loopback_users = none\n")
        (self.dir / "plugins").write_text("[rabbitmq_management].\n")
        os.chmod(self.dir, 0o755)
        _owned_by(self.dir, "rabbitmq")
        self.process: subprocess.Popen | None = None
        self.log = self.dir / "server.log"
        self.starts = 0

    @property
    def amqp_uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    @property
    def management_url(self) -> str:
        return f"http://127.0.0.1:{self.management_port}"

    def management(self) -> httpx.Client:
        return httpx.Client(base_url=self.management_url, auth=("guest", "guest"), timeout=10)

    def _env(self) -> dict[str, str]:
        d = self.dir
        return {**os.environ, "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
                "RABBITMQ_LOG_BASE": str(d / "log"), "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "plugins"), "RABBITMQ_PID_FILE": str(d / "pid"),
                "RABBITMQ_FEATURE_FLAGS_FILE": str(d / "ff")}

    def start(self, timeout: float = 90.0) -> None:
        # In the foreground as our child: `-detached` gives no process to wait on nor an exit to report.
        argv = ["rabbitmq-server"]
        if os.geteuid() != 0 and os.path.exists("/usr/lib/rabbitmq/bin/rabbitmq-server"):
            argv = ["/usr/lib/rabbitmq/bin/rabbitmq-server"]  # the Debian wrapper would try to switch user
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(argv, env=self._env(), stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the private RabbitMQ node exited with {self.process.returncode}:\n{tail(self.log)}",
                            pytrace=False)
            try:
                with self.management() as api:
                    if api.get("/api/overview").status_code == 200:
                        return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        pytest.fail(f"the private RabbitMQ node did not answer within {timeout:g} s:\n{tail(self.log)}", pytrace=False)

    def vhost(self, name: str) -> str:
        """A virtual host of its own on this node (queues, exchanges, dead letters apart), as an AMQP URI."""
        with self.management() as api:
            api.put(f"/api/vhosts/{name}").raise_for_status()
            api.put(f"/api/permissions/{name}/guest",
                    json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{name}"

    def queue_depths(self) -> dict[str, int]:
        """Messages in each queue, ready or unacknowledged, as the node counts them now (the management API's
        figures lag by its statistics interval, and are missing for a while after a restart)."""
        result = subprocess.run(["rabbitmqctl", "-n", self.node, "-q", "list_queues", "name", "messages",
                                 "--formatter", "json"], capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl list_queues failed: {result.stdout} {result.stderr}")
        return {q["name"]: int(q["messages"]) for q in json.loads(result.stdout)}

    def _beam_pid(self) -> int | None:
        try:
            return int((self.dir / "pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> None:
        """Stop the node (SIGTERM to the Erlang VM is a clean shutdown, so every quorum queue is on disk) and
        wait until it is gone, so that a new start does not find its ports taken."""
        pid = self._beam_pid()
        if pid is not None and _pid_alive(pid):
            os.kill(pid, sig)
            deadline = time.monotonic() + timeout
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        try:
            self.stop(timeout=20)
        finally:
            if self.process is not None and self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
            shutil.rmtree(self.dir, ignore_errors=True)


def postgres_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin, else wherever ``initdb`` is on the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        pytest.fail(f"initdb not found; {INSTALL_POSTGRES}", pytrace=False)
    return Path(initdb).parent


class PrivatePostgres:
    """One PostgreSQL cluster of our own, listening on 127.0.0.1 and a socket in its directory."""

    def __init__(self) -> None:
        self.bin = postgres_bin_dir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail(f"running as root but there is no user `postgres`; {INSTALL_POSTGRES}", pytrace=False)
        self.dir = Path(tempfile.mkdtemp(prefix="kring-faults-postgres-"))
        os.chmod(self.dir, 0o755)
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        (self.port,) = free_ports(1)
        _owned_by(self.dir, "postgres")
        self._run(["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])

    def _run(self, argv: list[str], timeout: float = 120.0) -> None:
        command = [str(self.bin / argv[0]), *argv[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if result.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
                        f"{tail(self.log)}", pytrace=False)

    def url(self, database: str = "kring") -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        # fsync off: this cluster is thrown away, and an immediate stop kills processes, not the machine, so
        # committed data is still in the operating system's cache when it starts again.
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                   "-c fsync=off")
        self._run(["pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start"])

    def stop(self, mode: str = "fast") -> None:
        self._run(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])

    def restart(self) -> None:
        """Like a crash: every backend killed at once, recovery from the write-ahead log on start."""
        self.stop("immediate")
        self.start()

    def create_database(self, name: str = "kring") -> str:
        engine = sqlalchemy.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
