"""The local supervisor behind ``make run`` (``kring run``).

It prepares (data directory, operator token, migrations, queues), starts every service, the gateway, the
federation relay and the console as child processes, waits for ``/readyz``, loads the demo data, prints where
everything is, and then watches: a child that dies stops the whole stack with a non-zero exit, except the relay,
which is started again (after 1 s, doubling to 30 s while it keeps dying), as Kubernetes would; Ctrl-C or SIGTERM
stops it cleanly (the gateway, the relay and the console first, then the services; a child still running after
10 s is killed and named). The pid of every running child is in ``<data dir>/pids.json`` (tests kill the relay
with it).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import httpx

from services.chores import declare_topology, migrate_services
from services.common.config import Settings, available_services, get_settings
from services.console.settings import ConsoleSettings
from services.demo import DemoDataError, DemoResult, admin_client, load_demo_data
from services.demo.catalogue import DEMO_PARTS

# File names in the data directory (the tokens themselves are generated, never in the code).
OPERATOR_TOKEN_FILE = "operator-token"  # noqa: S105
SIGN_IN_BROKER_TOKEN_FILE = "sign-in-broker-token"  # noqa: S105 - the console's credential for sign-ins
DEMO_TOKEN_FILE = "demo-token"  # noqa: S105
FEDERATION_KEY_FILE = "federation-key"  # the key peer API keys are encrypted with at rest, made on first run
PIDS_FILE = "pids.json"
READY_TIMEOUT = 90.0
STOP_GRACE = 10.0
RESTARTED = frozenset({"relay"})  # children restarted when they die; any other death stops the stack
RESTART_DELAY, RESTART_DELAY_MAX = 1.0, 30.0
# Stopped first, the services after them: what calls the services (clients through the gateway, the relay for
# peers) stops calling before the services stop answering, so no call waits for a service already gone.
EDGES = frozenset({"gateway", "relay", "console"})
EDGES_HEAD_START = 3.0  # seconds the edges get before the services are stopped too, if they have not exited yet


# --- tokens kept in the data directory ---------------------------------------------------------------------


def write_secret(path: Path, value: str) -> None:
    """Write a secret readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    os.chmod(path, 0o600)  # also when the file already existed with wider permissions


def read_secret(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def _grpcurl_hint(settings: Settings, host: str) -> str:
    address = f"{host}:{settings.grpc_port}"
    if settings.grpc_tls_cert_file is None:
        return f"grpcurl -plaintext {address} list"
    return f"TLS: grpcurl -cacert <its CA> {address} list"


def resolve_federation_keys(data_dir: Path, configured: str | None) -> str:
    """KRING_FEDERATION_KEYS as configured, else a key saved in the data directory by an earlier run (or made
    now): a local stack encrypts its peer keys like a deployed one."""
    if configured:
        return configured
    from services.common.keys_at_rest import KeysAtRest

    path = data_dir / FEDERATION_KEY_FILE
    saved = read_secret(path)
    if saved:
        return saved
    key = KeysAtRest.new_key()
    write_secret(path, key)
    return key


def prepare_console_environment(settings: Settings) -> ConsoleSettings:
    """The console of a local stack: a client of this stack's gateway, reached by browsers on this machine, and
    with the development sign-in on unless KRING_CONSOLE_DEV_SIGN_IN says otherwise (``make run`` is for trying
    Kring out: anyone at this machine may sign in as any demo person; the banner says so)."""
    host = local_url_host(settings)
    console = ConsoleSettings()
    os.environ.setdefault("KRING_CONSOLE_API_URL", f"http://{host}:{settings.http_port}")
    os.environ.setdefault("KRING_CONSOLE_PUBLIC_URL", f"http://{host}:{console.console_port}")
    os.environ.setdefault("KRING_CONSOLE_DEV_SIGN_IN", "true")
    return ConsoleSettings()


def console_banner_line(console: ConsoleSettings) -> str:
    ways = []
    if console.console_dev_sign_in:
        ways.append("DEVELOPMENT SIGN-IN ON: anyone here may sign in as any member (KRING_CONSOLE_DEV_SIGN_IN)")
    if console.oidc_enabled:
        ways.append(f"OpenID Connect: {console.console_oidc_issuer}")
    return f"  console         {console.console_public_url}   ({'; '.join(ways) or 'no way to sign in configured'})"


def resolve_operator_token(data_dir: Path, configured: str | None) -> tuple[str, str]:
    """The operator token and where it came from: configuration, saved by an earlier run, or generated now.

    A generated token is saved in the data directory so a restart keeps it.
    """
    return resolve_token(data_dir / OPERATOR_TOKEN_FILE, configured, "KRING_OPERATOR_TOKEN")


def resolve_sign_in_broker_token(data_dir: Path, configured: str | None) -> tuple[str, str]:
    """The sign-in broker's token (the console's), as the operator token: configured, saved, or generated."""
    return resolve_token(data_dir / SIGN_IN_BROKER_TOKEN_FILE, configured, "KRING_SIGN_IN_BROKER_TOKEN")


def resolve_token(path: Path, configured: str | None, setting: str) -> tuple[str, str]:
    if configured:
        return configured, f"from {setting}"
    saved = read_secret(path)
    if saved:
        return saved, f"saved in {path}"
    token = secrets.token_urlsafe(32)
    write_secret(path, token)
    return token, f"generated, saved in {path}"


def load_demo(base_url: str, operator_token: str, data_dir: Path, part: str = "all") -> DemoResult:
    """Load the demo data (``part``: all of it, or the national or regional part of a federation of two
    instances), keeping the example member token in the data directory across runs."""
    token_path = data_dir / DEMO_TOKEN_FILE
    with admin_client(base_url, operator_token) as client:
        result = load_demo_data(client, read_secret(token_path), networks=None if part == "all" else DEMO_PARTS[part])
    if result.token:
        write_secret(token_path, result.token)
    return result


# --- child processes ---------------------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    pump: threading.Thread
    argv: list[str] | None = None
    env: dict[str, str] | None = None
    restarts: int = 0


class ProcessGroup:
    """Child processes whose output goes to the terminal, prefixed with their name, and to logs/<name>.log."""

    def __init__(self, log_dir: Path, out: TextIO | None = None, pid_file: Path | None = None) -> None:
        self.log_dir = log_dir
        self.out = out or sys.stdout
        self.pid_file = pid_file
        self.children: list[Child] = []
        self._lock = threading.Lock()
        self.width = 9

    def say(self, name: str, line: str) -> None:
        self.write(f"{name:<{self.width}}| {line.rstrip()}\n")

    def write(self, text: str) -> None:
        with self._lock:  # whole lines only, never interleaved with a child's
            self.out.write(text)
            self.out.flush()

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.children.append(self._spawn(name, argv, env))
        self._write_pids()

    def restart(self, name: str) -> Child:
        """Start a child that exited again, with the same command; the old entry is replaced."""
        index, old = next((i, c) for i, c in enumerate(self.children) if c.name == name)
        old.pump.join(timeout=2)
        child = self._spawn(name, old.argv or [], old.env or {})
        child.restarts = old.restarts + 1
        self.children[index] = child
        self._write_pids()
        return child

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.width = max(self.width, len(name) + 1)
        # Own process group: Ctrl-C reaches the supervisor only, which then stops the children in order.
        child_env = {**env, "KRING_SUPERVISOR_PID": str(os.getpid())}
        process = subprocess.Popen(  # noqa: S603 - argv is built by the supervisor itself
            argv, env=child_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            process_group=0,
        )
        log_file = open(self.log_dir / f"{name}.log", "a", encoding="utf-8")  # the pump thread closes it
        log_file.write(f"--- {name} started (pid {process.pid}) at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        log_file.flush()
        pump = threading.Thread(target=self._pump, args=(name, process, log_file), name=f"log-{name}",
                                daemon=True)
        pump.start()
        return Child(name, process, pump, argv, env)

    def _write_pids(self) -> None:
        if self.pid_file is None:
            return
        pids = {c.name: c.process.pid for c in self.children}
        partial = self.pid_file.with_name(self.pid_file.name + ".partial")
        partial.write_text(json.dumps(pids, indent=2) + "\n")
        partial.replace(self.pid_file)

    def _pump(self, name: str, process: subprocess.Popen[bytes], log_file: TextIO) -> None:
        assert process.stdout is not None
        with log_file:
            for raw in process.stdout:
                line = raw.decode("utf-8", "replace")
                log_file.write(line)
                log_file.flush()
                self.say(name, line)

    @staticmethod
    def _terminate(children: list[Child]) -> None:
        for child in children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)

    def exited(self) -> list[tuple[str, int]]:
        return [(c.name, c.process.returncode) for c in self.children if c.process.poll() is not None]

    def status(self) -> dict[str, str]:
        return {c.name: "running" if c.process.poll() is None else f"exited with code {c.process.returncode}"
                for c in self.children}

    def stop_all(self, grace: float = STOP_GRACE, first: frozenset[str] = frozenset(),
                 head_start: float = EDGES_HEAD_START) -> list[str]:
        """SIGTERM every child, wait up to ``grace`` seconds, SIGKILL the rest; return the names killed.

        The children named in ``first`` are stopped first: the others get SIGTERM once those have exited, or
        after ``head_start`` seconds; all of them are killed at ``grace``."""
        started = time.monotonic()
        deadline = started + grace
        leading = [c for c in self.children if c.name in first]
        self._terminate(leading)
        for child in leading:
            try:
                child.process.wait(timeout=max(0.0, started + min(head_start, grace) - time.monotonic()))
            except subprocess.TimeoutExpired:
                break
        self._terminate([c for c in self.children if c.name not in first])
        killed = []
        for child in self.children:
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
                killed.append(child.name)
        for child in self.children:
            child.pump.join(timeout=2)
        return killed


def killed_message(names: list[str], grace: float = STOP_GRACE) -> str:
    """The line naming the children that had to be killed (tests/e2e look for it after every stack)."""
    return f"did not stop within {grace:.0f} s, killed: {', '.join(names)}"


# --- the run -----------------------------------------------------------------------------------------------


@dataclass
class RunOptions:
    demo: bool = True
    demo_part: str = "all"  # or "national" / "regional": one instance of `kring run-federation`
    ready_file: Path | None = None
    ready_timeout: float = READY_TIMEOUT


def local_url_host(settings: Settings) -> str:
    return "127.0.0.1" if settings.bind_host in ("0.0.0.0", "::", "") else settings.bind_host


def ports_in_use(host: str, ports: dict[str, int]) -> list[str]:
    busy = []
    for what, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex((host, port)) == 0:
                busy.append(f"{what} port {port}")
    return busy


class Supervisor:
    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.started = time.monotonic()
        self.stop_requested = threading.Event()
        self.group: ProcessGroup | None = None
        self.console = ConsoleSettings()  # as configured; _prepare_environment completes it for this stack

    @property
    def processes(self) -> list[str]:
        """The children: the services, the gateway and, with the federation service, the relay."""
        return ["gateway", *self.services, *(["relay"] if "federation" in self.services else [])]

    def log(self, line: str) -> None:
        if self.group:
            self.group.say("kring", line)
        else:
            print(f"kring    | {line}", flush=True)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.stop_requested.is_set() and self.group:  # second Ctrl-C: do not wait any longer
            for child in self.group.children:
                if child.process.poll() is None:
                    child.process.kill()
        self.stop_requested.set()

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        settings = self._prepare_environment()
        host = local_url_host(settings)
        busy = ports_in_use(host, self._ports(settings))
        if busy:
            self.log(f"already in use on {host}: {', '.join(busy)} (another `make run`?). Stop it, or choose other "
                     "ports with KRING_HTTP_PORT, KRING_GRPC_PORT, KRING_METRICS_PORT, KRING_CONSOLE_PORT.")
            return 1
        if migrate_services(settings, None, self.log) or declare_topology(settings, self.log, list_queues=False):
            return 1
        if self.stop_requested.is_set():
            return 0
        self.group = ProcessGroup(settings.data_dir / "logs", pid_file=settings.data_dir / PIDS_FILE)
        env = dict(os.environ)
        for name in self.services:
            self.group.start(name, [sys.executable, "-m", "services.cli", "service", name], env)
        self.group.start("gateway", [sys.executable, "-m", "services.cli", "gateway"], env)
        if "relay" in self.processes:
            self.group.start("relay", [sys.executable, "-m", "services.cli", "relay"], env)
        self.group.start("console", [sys.executable, "-m", "services.cli", "console"], env)
        try:
            return self._run_started(settings, host)
        finally:
            killed = self.group.stop_all(first=EDGES)
            if killed:
                self.log(killed_message(killed))
            if self.options.ready_file:
                self.options.ready_file.unlink(missing_ok=True)
            self.log("stopped")

    def _prepare_environment(self) -> Settings:
        """Fix the data directory, the operator token and the federation keys in the environment children inherit."""
        settings = Settings()
        data_dir = settings.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        token, self.token_source = resolve_operator_token(data_dir, settings.operator_token)
        configured_broker = settings.sign_in_broker_token.get_secret_value() if settings.sign_in_broker_token else None
        broker, self.broker_source = resolve_sign_in_broker_token(data_dir, configured_broker)
        os.environ["KRING_DATA_DIR"] = str(data_dir)
        os.environ["KRING_OPERATOR_TOKEN"] = token
        os.environ["KRING_SIGN_IN_BROKER_TOKEN"] = broker  # the gateway checks it; the console presents it
        configured_keys = settings.federation_keys.get_secret_value() if settings.federation_keys else None
        os.environ["KRING_FEDERATION_KEYS"] = resolve_federation_keys(data_dir, configured_keys)
        self.console = prepare_console_environment(settings)
        os.environ.setdefault("KRING_LOG_FORMAT", "text")  # readable on a terminal; set json to get JSON lines
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        get_settings.cache_clear()
        self.services = available_services()
        self.log(f"data in {data_dir}; services: {', '.join(self.services) or '(none yet)'}")
        return get_settings()

    def _ports(self, settings: Settings) -> dict[str, int]:
        ports = {"admin API": settings.http_port, "gRPC": settings.grpc_port,
                 "console": self.console.console_port}
        for process in self.processes:
            ports[f"{process} metrics"] = settings.metrics_port_for(process)
        return ports

    def _run_started(self, settings: Settings, host: str) -> int:
        assert self.group is not None
        base_url = f"http://{host}:{settings.http_port}"
        ready, last = self._wait_until_ready(f"{base_url}/readyz")
        if ready:  # the console answers once the admin API does
            ready, last = self._wait_until_ready(f"http://{host}:{self.console.console_port}/readyz")
        if self.stop_requested.is_set():
            return 0
        if not ready:
            why = "a process exited" if self.group.exited() else f"not ready after {self.options.ready_timeout:.0f} s"
            self.log(f"{why}; processes: {self.group.status()}")
            self.log(f"last /readyz answer: {last}")
            return 1
        ready_seconds = time.monotonic() - self.started
        demo_lines = self._load_demo(base_url, settings) if self.options.demo else ["demo data: skipped (--no-demo)"]
        self.group.write(self._banner(settings, host, ready_seconds, demo_lines) + "\n")
        if self.options.ready_file:
            self._write_ready_file(settings, host, ready_seconds)
        return self._supervise()

    def _wait_until_ready(self, url: str) -> tuple[bool, str]:
        assert self.group is not None
        deadline = time.monotonic() + self.options.ready_timeout
        last = "no answer yet"
        while time.monotonic() < deadline and not self.stop_requested.is_set():
            if self.group.exited():
                return False, last
            try:
                response = httpx.get(url, timeout=2.0)
                if response.status_code == 200:
                    return True, response.text
                last = f"{response.status_code} {response.text[:500]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            self.stop_requested.wait(0.5)
        return False, last

    def _load_demo(self, base_url: str, settings: Settings) -> list[str]:
        try:
            result = load_demo(base_url, settings.operator_token or "", settings.data_dir, self.options.demo_part)
        except (DemoDataError, httpx.HTTPError, KeyError, ValueError) as exc:
            self.log(f"demo data could not be loaded: {exc}")
            return [f"demo data: FAILED ({exc}); the stack runs without it"]
        return [
            f"demo data: {result.summary()}",
            *(f"demo data: {note}" for note in result.notes),
            f"example member token ({result.token_holder}): {result.token}",
        ]

    def _banner(self, settings: Settings, host: str, ready_seconds: float, demo_lines: list[str]) -> str:
        base_url = f"http://{host}:{settings.http_port}"
        metrics = "  ".join(f"{p} :{settings.metrics_port_for(p)}" for p in self.processes)
        rows = [
            f"Kring is ready ({ready_seconds:.1f} s from start)",
            console_banner_line(self.console),
            f"  admin API       {base_url}/v1",
            f"  docs            {base_url}/docs",
            f"  OpenAPI         {base_url}/openapi.json",
            f"  gRPC            {host}:{settings.grpc_port}   ({_grpcurl_hint(settings, host)})",
            f"  instance        {settings.instance_id}   (peers: GET {base_url}/v1/peers)",
            f"  metrics         {metrics}   (http://{host}:PORT/metrics)",
            f"  operator token  {settings.operator_token}   ({self.token_source})",
            f"  sign-in broker  token {self.broker_source}   (the console's: it opens only POST /v1/sign-in/tokens)",
            f"  data dir        {settings.data_dir}   (logs in {settings.data_dir / 'logs'})",
            *(f"  {line}" for line in demo_lines),
            f'  try             curl -H "Authorization: Bearer {settings.operator_token}" {base_url}/v1/members',
            "Press Ctrl-C to stop.",
        ]
        rule = "=" * 78
        return "\n".join([rule, *rows, rule])

    def _write_ready_file(self, settings: Settings, host: str, ready_seconds: float) -> None:
        assert self.options.ready_file is not None
        info = {
            "pid": os.getpid(),
            "http_url": f"http://{host}:{settings.http_port}",
            "console_url": self.console.console_public_url,
            "grpc_address": f"{host}:{settings.grpc_port}",
            "instance_id": settings.instance_id,
            "pids_file": str(settings.data_dir / PIDS_FILE),
            "operator_token": settings.operator_token,
            "data_dir": str(settings.data_dir),
            "ready_seconds": round(ready_seconds, 2),
        }
        path = self.options.ready_file
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(info, indent=2) + "\n")
        partial.replace(path)  # whoever waits for the file never reads half of it

    def _supervise(self) -> int:
        assert self.group is not None
        due: dict[str, float] = {}  # restartable children that died: when to start them again
        while not self.stop_requested.wait(0.5):
            for name, code in self.group.exited():
                if name not in RESTARTED:
                    self.log(f"{name} exited with code {code}; stopping everything")
                    return 1
                if name not in due:
                    child = next(c for c in self.group.children if c.name == name)
                    delay = min(RESTART_DELAY_MAX, RESTART_DELAY * 2 ** min(child.restarts, 10))
                    self.log(f"{name} exited with code {code}; starting it again in {delay:.0f} s")
                    due[name] = time.monotonic() + delay
            for name, at in list(due.items()):
                if time.monotonic() >= at:
                    del due[name]
                    self.group.restart(name)
        self.log("stopping (signal received)")
        return 0


def run_local(options: RunOptions) -> int:
    return Supervisor(options).run()
