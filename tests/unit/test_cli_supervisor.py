"""The local supervisor (``kring run``) keeps its children's output, stops them cleanly, and notices a death."""

from __future__ import annotations

import io
import os

from services.common.config import Settings
from services.supervisor import (
    EDGES,
    ProcessGroup,
    RunOptions,
    Supervisor,
    console_banner_line,
    killed_message,
    prepare_console_environment,
)
from tests.support.processes import python
from tests.support.stack import Stack, killed_on_stop
from tests.support.waiting import eventually


def test_child_output_goes_to_the_terminal_with_its_name_and_to_its_log_file(tmp_path):
    out = io.StringIO()
    group = ProcessGroup(tmp_path / "logs", out)

    group.start("members", python("print('hello from members')"), dict(os.environ))
    eventually(lambda: group.exited(), "the child to exit", 10, interval=0.05)
    group.stop_all()

    assert "members  | hello from members" in out.getvalue()
    assert "hello from members" in (tmp_path / "logs" / "members.log").read_text()


def test_stopping_sends_sigterm_and_kills_a_child_that_ignores_it(tmp_path):
    group = ProcessGroup(tmp_path, io.StringIO())
    group.start("polite", python("import time; time.sleep(60)"), dict(os.environ))
    stubborn = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)")
    group.start("stubborn", python(stubborn), dict(os.environ))
    eventually(lambda: "ready" in (tmp_path / "stubborn.log").read_text(), "the stubborn child to say it is ready", 10,
               interval=0.05)

    killed = group.stop_all(grace=1.0)

    assert killed == ["stubborn"]
    assert group.status() == {"polite": "exited with code -15", "stubborn": "exited with code -9"}


def test_the_gateway_and_the_relay_stop_before_the_services_they_call(tmp_path):
    group = ProcessGroup(tmp_path, io.StringIO())
    done = tmp_path / "gateway-done"
    gateway = ("import signal, sys, time, pathlib\n"
               "def stop(*_):\n    time.sleep(0.3); pathlib.Path(sys.argv[1]).touch(); sys.exit(0)\n"
               "signal.signal(signal.SIGTERM, stop); print('ready', flush=True); time.sleep(60)")
    service = ("import signal, sys, os, time\n"
               "def stop(*_):\n    print('gateway gone:', os.path.exists(sys.argv[1]), flush=True); sys.exit(0)\n"
               "signal.signal(signal.SIGTERM, stop); print('ready', flush=True); time.sleep(60)")
    group.start("members", [*python(service), str(done)], dict(os.environ))
    group.start("gateway", [*python(gateway), str(done)], dict(os.environ))
    for name in ("members", "gateway"):
        eventually(lambda name=name: "ready" in (tmp_path / f"{name}.log").read_text(), f"{name} to be ready", 10,
                   interval=0.05)

    killed = group.stop_all(grace=10.0, first=EDGES)

    assert killed == []
    assert "gateway gone: True" in (tmp_path / "members.log").read_text()
    assert group.status() == {"members": "exited with code 0", "gateway": "exited with code 0"}


def test_the_line_naming_killed_children_is_what_the_stack_tests_look_for(tmp_path):
    (tmp_path / "data").mkdir()
    line = killed_message(["relay", "sessions"])
    (tmp_path / "stack.log").write_text(f"gateway  | gateway stopped\nkring    | {line}\n")
    stack = Stack("http://x", "x:1", "t", tmp_path / "data", None, 0)  # type: ignore[arg-type]  # no process needed

    assert killed_on_stop(stack) == ["relay", "sessions"]


def test_a_child_that_dies_stops_the_stack_with_a_non_zero_exit(tmp_path):
    supervisor = Supervisor(RunOptions())
    supervisor.group = ProcessGroup(tmp_path, io.StringIO())
    supervisor.group.start("members", python("raise SystemExit(3)"), dict(os.environ))
    supervisor.group.start("gateway", python("import time; time.sleep(60)"), dict(os.environ))

    assert supervisor._supervise() == 1
    supervisor.group.stop_all()
    assert supervisor.group.status()["members"] == "exited with code 3"


def test_a_stop_request_ends_supervision_with_exit_zero(tmp_path):
    supervisor = Supervisor(RunOptions())
    supervisor.group = ProcessGroup(tmp_path, io.StringIO())
    supervisor.group.start("gateway", python("import time; time.sleep(60)"), dict(os.environ))
    supervisor.stop_requested.set()

    assert supervisor._supervise() == 0
    supervisor.group.stop_all()


def test_the_banner_says_where_everything_is(tmp_path):
    supervisor = Supervisor(RunOptions())
    supervisor.services = ["members"]
    supervisor.token_source = "generated"
    supervisor.broker_source = f"saved in {tmp_path / 'sign-in-broker-token'}"
    settings = Settings(data_dir=tmp_path, operator_token="op-token", http_port=8181, grpc_port=50999,
                        metrics_port=9300, sign_in_broker_token="broker-secret")

    banner = supervisor._banner(settings, "127.0.0.1", 4.25, ["demo data: 13 members created"])

    for expected in ("http://127.0.0.1:8181/v1", "http://127.0.0.1:8181/docs", "http://127.0.0.1:8181/openapi.json",
                     "127.0.0.1:50999", "gateway :9300", "members :9301", "op-token", str(tmp_path), "4.2 s",
                     "demo data: 13 members created", "sign-in-broker-token"):
        assert expected in banner
    assert "broker-secret" not in banner  # it mints any member's token: where it is, never what it is


CONSOLE_ENV = ("KRING_CONSOLE_API_URL", "KRING_CONSOLE_PUBLIC_URL", "KRING_CONSOLE_DEV_SIGN_IN", "KRING_CONSOLE_PORT",
               "KRING_CONSOLE_OIDC_ISSUER", "KRING_CONSOLE_OIDC_CLIENT_ID", "KRING_CONSOLE_OIDC_CLIENT_SECRET")


def unset_console_env(monkeypatch) -> None:
    """The console's settings unset, and put back as they were afterwards (the supervisor sets defaults in
    os.environ, which monkeypatch undoes only for variables it has seen)."""
    for name in CONSOLE_ENV:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_make_run_points_the_console_at_its_gateway_and_turns_the_development_sign_in_on(monkeypatch):
    unset_console_env(monkeypatch)
    monkeypatch.setenv("KRING_CONSOLE_PORT", "8199")

    console = prepare_console_environment(Settings(http_port=8181))

    assert (console.console_api_url, console.console_public_url) == ("http://127.0.0.1:8181", "http://127.0.0.1:8199")
    assert console.console_dev_sign_in
    banner = console_banner_line(console)
    assert "http://127.0.0.1:8199" in banner and "DEVELOPMENT SIGN-IN ON" in banner


def test_a_development_sign_in_turned_off_stays_off_and_the_banner_names_the_provider(monkeypatch):
    unset_console_env(monkeypatch)
    monkeypatch.setenv("KRING_CONSOLE_DEV_SIGN_IN", "false")
    monkeypatch.setenv("KRING_CONSOLE_OIDC_ISSUER", "https://login.example")
    monkeypatch.setenv("KRING_CONSOLE_OIDC_CLIENT_ID", "kring")
    monkeypatch.setenv("KRING_CONSOLE_OIDC_CLIENT_SECRET", "s3cret")

    console = prepare_console_environment(Settings(http_port=8181))

    assert not console.console_dev_sign_in
    banner = console_banner_line(console)
    assert "DEVELOPMENT" not in banner and "OpenID Connect: https://login.example" in banner
    assert "s3cret" not in banner


def test_the_console_stops_with_the_edges_before_the_services():
    assert "console" in EDGES
