"""Two instances side by side (``make run-federation``, ``kring run-federation``): a national Kring and a
regional one, each a whole ``kring run`` of its own, linked through their admin APIs.

| instance         | id               | admin API | gRPC  | metrics   | data directory      | RabbitMQ vhost   |
| ---------------- | ---------------- | --------- | ----- | --------- | ------------------- | ---------------- |
| national (A)     | kring-nationaal  | 8080      | 50051 | 9100-9105 | var/kring-nationaal | kring-nationaal  |
| regional (B)     | kring-twente     | 8081      | 50052 | 9110-9115 | var/kring-twente    | kring-twente     |

They meet over mutual TLS, with a development CA per instance made once in var/kring-federation/pki.
Each loads its part of the demo data (the werkplaats Twente and the circle under it on the regional one, the
rest on the national one); then :func:`services.demo.instances.link_instances` makes them follow each other and
links BeterOud with the werkplaats Twente. Ctrl-C stops both; either one stopping stops the other.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from services.demo.certificates import local_pki
from services.demo.http import DemoDataError
from services.demo.instances import Instance, link_instances
from services.supervisor import ProcessGroup

MANAGEMENT_URL = os.environ.get("KRING_RABBIT_MANAGEMENT", "http://127.0.0.1:15672")
READY_TIMEOUT = 180.0
STOP_GRACE = 20.0  # each child supervisor takes up to 10 s to stop its own children
# The relays reload their peer list every 2 s here (10 s by default), so the link is live within seconds.
DEMO_RELAY = {"KRING_RELAY_RELOAD_INTERVAL": "2"}

class InstanceSpec(TypedDict):
    part: str  # of the demo data (services.demo.plan.DEMO_PARTS)
    id: str  # also its RabbitMQ virtual host and data directory
    name: str
    ports: tuple[int, int, int, int]  # admin API, gRPC, first metrics port, console


INSTANCES: tuple[InstanceSpec, ...] = (
    {"part": "national", "id": "kring-nationaal", "name": "Kring Nationaal", "ports": (8080, 50051, 9100, 8090)},
    {"part": "regional", "id": "kring-twente", "name": "Kring Twente (regionaal)", "ports": (8081, 50052, 9110, 8091)},
)


def amqp_for(base: str, vhost: str) -> str:
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), parts.query, parts.fragment))


def ensure_vhost(base_amqp: str, vhost: str) -> None:
    """Create the virtual host (and the AMQP user's permissions on it) through the management API."""
    parts = urlsplit(base_amqp)
    auth = (parts.username or "guest", parts.password or "guest")
    with httpx.Client(base_url=MANAGEMENT_URL, auth=auth, timeout=10) as api:
        api.put(f"/api/vhosts/{quote(vhost, safe='')}").raise_for_status()
        api.put(f"/api/permissions/{quote(vhost, safe='')}/{quote(auth[0], safe='')}",
                json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()


class Pair:
    def __init__(self, root: Path, demo: bool) -> None:
        self.root = root
        self.demo = demo
        self.group = ProcessGroup(root / "logs")
        self.stop_requested = False
        self.transports: dict[str, dict[str, Any]] = {}

    def say(self, line: str) -> None:
        self.group.say("kring", line)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stop_requested = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        base_amqp = os.environ.get("KRING_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
        try:
            for spec in INSTANCES:
                ensure_vhost(base_amqp, spec["id"])
        except httpx.HTTPError as exc:
            self.say(f"cannot create the RabbitMQ virtual hosts through {MANAGEMENT_URL}: {exc} "
                     "(scripts/ensure-rabbitmq.sh starts RabbitMQ with its management plugin)")
            return 1
        ready_files = {}
        pki = {spec["id"]: local_pki(self.root / "pki", spec["id"]) for spec in INSTANCES}
        self.transports = {instance_id: files.transport() for instance_id, files in pki.items()}
        for spec in INSTANCES:
            http, grpc_port, metrics, console = spec["ports"]
            data_dir = self.root.parent / spec["id"]
            ready = data_dir / "ready.json"
            ready.unlink(missing_ok=True)
            ready_files[spec["id"]] = ready
            other = next(o for o in INSTANCES if o["id"] != spec["id"])
            tls = pki[spec["id"]].env(peer_ca_file=pki[other["id"]].ca_file)  # mutual TLS between the two
            env = {**os.environ, **DEMO_RELAY, **tls, "KRING_INSTANCE_ID": spec["id"],
                   "KRING_INSTANCE_NAME": spec["name"],
                   "KRING_DATA_DIR": str(data_dir), "KRING_AMQP_URI": amqp_for(base_amqp, spec["id"]),
                   "KRING_HTTP_PORT": str(http), "KRING_GRPC_PORT": str(grpc_port), "KRING_METRICS_PORT": str(metrics),
                   "KRING_CONSOLE_PORT": str(console)}
            env.pop("KRING_DATABASE_URL", None)  # one database per instance: SQLite files in its data directory
            # Each instance its own sign-in broker token, generated into its data directory (sign-in-broker-token).
            env.pop("KRING_SIGN_IN_BROKER_TOKEN", None)
            argv = [sys.executable, "-m", "services.cli", "run", "--ready-file", str(ready),
                    "--demo-part", spec["part"], "--ready-timeout", str(READY_TIMEOUT)]
            self.group.start(spec["id"], argv if self.demo else [*argv, "--no-demo"], env)
        try:
            infos = self._wait_ready(ready_files)
            if infos is None:
                return 0 if self.stop_requested else 1
            self._link(infos)
            return self._supervise()
        finally:
            self.group.stop_all(STOP_GRACE)
            self.say("stopped")

    def _wait_ready(self, ready_files: dict[str, Path]) -> dict[str, dict[str, Any]] | None:
        deadline = time.monotonic() + READY_TIMEOUT + 60
        while not all(path.exists() for path in ready_files.values()):
            if self.stop_requested or self.group.exited() or time.monotonic() > deadline:
                if not self.stop_requested:
                    self.say(f"an instance did not start: {self.group.status()}")
                return None
            time.sleep(0.5)
        return {name: json.loads(path.read_text()) for name, path in ready_files.items()}

    def _link(self, infos: dict[str, dict[str, Any]]) -> None:
        national, regional = (Instance(spec["id"], spec["name"], infos[spec["id"]]["http_url"],
                                       infos[spec["id"]]["grpc_address"], infos[spec["id"]]["operator_token"],
                                       self.transports[spec["id"]])
                              for spec in INSTANCES)
        lines = [f"{i.instance_id:<16} admin API {i.http_url}/v1   gRPC {i.grpc_address}   operator token "
                 f"{i.operator_token}" for i in (national, regional)]
        if self.demo:
            try:
                lines += link_instances(national, regional)
            except (DemoDataError, httpx.HTTPError, KeyError) as exc:
                lines.append(f"linking the instances FAILED ({exc}); both run without the link")
        else:
            lines.append("no demo data (--no-demo): link them with POST /v1/partners (kind instance) and "
                         "POST /v1/peers on each, then approve from GET /v1/peers/{id}/networks, as README "
                         "\"Two instances\" shows")
        rule = "=" * 78
        self.group.write("\n".join([rule, "Two Kring instances are ready", *(f"  {line}" for line in lines),
                                    f"  peers           GET {national.http_url}/v1/peers (and on {regional.http_url})",
                                    "Press Ctrl-C to stop both.", rule]) + "\n")

    def _supervise(self) -> int:
        while not self.stop_requested:
            gone = self.group.exited()
            if gone:
                self.say(f"{gone[0][0]} stopped (code {gone[0][1]}); stopping the other")
                return 1
            time.sleep(0.5)
        return 0


def run_two_instances(*, demo: bool = True, root: Path = Path("var/kring-federation")) -> int:
    root.mkdir(parents=True, exist_ok=True)
    return Pair(root.resolve(), demo).run()
