"""The ``kring`` command: one entry point for every process and chore (also ``python -m services.cli``).

Nothing but the standard library is imported at module level: ``kring service`` monkey-patches the process
through :mod:`services.common.runner` before anything else loads, while ``kring gateway`` and ``kring relay``
must never be patched (grpcio hangs under eventlet). Each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from services.chores import declare_topology, migrate_services, say

if TYPE_CHECKING:
    from collections.abc import Callable

# --- commands --------------------------------------------------------------------------------------------


def cmd_service(args: argparse.Namespace) -> int:
    from services.common.runner import run_service  # monkey-patches this process with eventlet

    run_service(args.name)
    return 0


def cmd_gateway(args: argparse.Namespace) -> int:
    from services.gateway.main import run_gateway

    run_gateway()
    return 0


def cmd_relay(args: argparse.Namespace) -> int:
    from services.federation.relay.main import run_relay

    run_relay()
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from services.console.main import main as run_console

    return run_console()


def cmd_migrate(args: argparse.Namespace) -> int:
    from services.common.config import get_settings

    return migrate_services(get_settings(), args.service)


def cmd_federation_keys(args: argparse.Namespace) -> int:
    if args.action == "new":
        from services.common.keys_at_rest import KeysAtRest

        print(KeysAtRest.new_key())
        return 0
    from services.chores import reencrypt_peer_keys
    from services.common.config import get_settings

    return reencrypt_peer_keys(get_settings())


def cmd_declare(args: argparse.Namespace) -> int:
    from services.common.config import get_settings

    return declare_topology(get_settings(), apply_policies=args.policies == "apply",
                            migrate_queues=args.migrate_queues)


def cmd_run(args: argparse.Namespace) -> int:
    from services.supervisor import RunOptions, run_local

    return run_local(RunOptions(demo=args.demo, demo_part=args.demo_part, ready_file=args.ready_file,
                                ready_timeout=args.ready_timeout))


def cmd_run_federation(args: argparse.Namespace) -> int:
    from services.instances import run_two_instances

    return run_two_instances(demo=args.demo)


def cmd_demo_data(args: argparse.Namespace) -> int:
    import httpx

    from services.common.config import get_settings
    from services.demo import DemoDataError
    from services.supervisor import OPERATOR_TOKEN_FILE, load_demo, read_secret

    settings = get_settings()
    url = args.url or f"http://127.0.0.1:{settings.http_port}"
    token = args.token or settings.operator_token or read_secret(settings.data_dir / OPERATOR_TOKEN_FILE)
    if not token:
        say("no operator token: pass --token, set KRING_OPERATOR_TOKEN, or start Kring with `make run`")
        return 2
    try:
        result = load_demo(url, token, settings.data_dir)
    except (DemoDataError, httpx.HTTPError, KeyError, ValueError) as exc:
        say(f"loading demo data into {url} failed: {exc}")
        return 1
    for line in (result.summary(), *result.notes):
        say(line)
    say(f"example member token ({result.token_holder}): {result.token}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from services.common.config import SERVICES

    parser = argparse.ArgumentParser(prog="kring", description="Kring: a federation of learning networks.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    service = commands.add_parser("service", help="run one nameko service in this process")
    service.add_argument("name", choices=SERVICES)
    service.set_defaults(func=cmd_service)

    commands.add_parser("gateway", help="run the gateway (admin HTTP API and gRPC)").set_defaults(func=cmd_gateway)
    commands.add_parser("relay", help="run the federation relay (follows peer instances)").set_defaults(
        func=cmd_relay)

    commands.add_parser("console", help="run the console (the web application, a client of the admin API)"
                        ).set_defaults(func=cmd_console)

    migrate = commands.add_parser("migrate", help="upgrade every service's database (or one) to the latest")
    migrate.add_argument("--service", choices=SERVICES, help="only this service")
    migrate.set_defaults(func=cmd_migrate)

    keys = commands.add_parser("federation-keys", help="keys the peer API keys are encrypted with at rest")
    keys.add_argument("action", choices=("new", "reencrypt"),
                      help="new: print a new key (put it first in KRING_FEDERATION_KEYS to rotate); reencrypt: "
                      "encrypt every stored peer key under the first key (after a rotation, or after a migration "
                      "that ran without the setting)")
    keys.set_defaults(func=cmd_federation_keys)

    declare = commands.add_parser("declare", help="set the queue policies and declare every event queue on RabbitMQ")
    declare.add_argument("--policies", choices=("apply", "check"), default="apply",
                         help="apply (default): set the kring-events policy through the management API; check: "
                         "only verify it, where something else owns it (the Kubernetes Policy objects)")
    declare.add_argument("--migrate-queues", action="store_true",
                         help="move queues declared by Kring 0.1.0 with x-delivery-limit arguments onto the policy "
                         "(their consumers must be stopped)")
    declare.set_defaults(func=cmd_declare)

    run = commands.add_parser("run", help="run the whole stack locally (what `make run` does)")
    run.add_argument("--no-demo", dest="demo", action="store_false", help="do not load the demo data")
    run.add_argument("--ready-file", type=Path, help="write this JSON file (URLs, token) once ready")
    run.add_argument("--ready-timeout", type=float, default=90.0, help="seconds to wait for /readyz (90)")
    run.add_argument("--demo-part", choices=("all", "national", "regional"), default="all",
                     help="load only the national or the regional part of the demo data (run-federation does)")
    run.set_defaults(func=cmd_run)

    federation = commands.add_parser("run-federation", help="run two linked instances side by side, a national "
                                     "and a regional one (what `make run-federation` does)")
    federation.add_argument("--no-demo", dest="demo", action="store_false",
                            help="start both, follow each other, load no demo data and link nothing")
    federation.set_defaults(func=cmd_run_federation)

    demo = commands.add_parser("demo-data", help="load the demo data set into a running gateway")
    demo.add_argument("--url", help="gateway base URL (default http://127.0.0.1:$KRING_HTTP_PORT)")
    demo.add_argument("--token", help="operator token (default $KRING_OPERATOR_TOKEN or the saved one)")
    demo.set_defaults(func=cmd_demo_data)
    return parser


def follow_supervisor() -> None:
    """Under ``kring run``, make sure this process does not outlive the supervisor that started it.

    A watcher polls the parent pid and sends this process one SIGTERM when the supervisor is gone (Linux's
    PR_SET_PDEATHSIG would fire once per exiting supervisor thread, and repeated signals are not what the
    processes' shutdown handlers expect).
    """
    supervisor = os.environ.get("KRING_SUPERVISOR_PID")
    if not supervisor:
        return
    if os.getppid() != int(supervisor):
        sys.exit("kring: the supervisor is gone; not starting")
    threading.Thread(target=_stop_when_orphaned, args=(int(supervisor),), name="follow-supervisor",
                     daemon=True).start()


def _stop_when_orphaned(supervisor: int, poll: float = 1.0, grace: float = 15.0) -> None:
    while os.getppid() == supervisor:
        time.sleep(poll)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace)
    os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["service"]:
        # eventlet must patch the standard library before pydantic, SQLAlchemy & co. create their locks.
        import services.common.runner  # noqa: F401
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # nameko needs it; we know
    args = build_parser().parse_args(argv)
    follow_supervisor()
    command: Callable[[argparse.Namespace], int] = args.func  # each subcommand's cmd_* (build_parser)
    return command(args)


if __name__ == "__main__":
    sys.exit(main())
