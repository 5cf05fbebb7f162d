"""The ``kring`` command line: its commands, the operator token it keeps, and how it stays eventlet-free."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.cli import build_parser
from services.supervisor import (
    OPERATOR_TOKEN_FILE,
    SIGN_IN_BROKER_TOKEN_FILE,
    resolve_operator_token,
    resolve_sign_in_broker_token,
)


def test_importing_the_cli_loads_only_the_standard_library():
    code = "import sys, services.cli; print(sorted(m for m in ('eventlet', 'nameko', 'pydantic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_kring_service_monkey_patches_before_anything_else_is_imported():
    done = subprocess.run([sys.executable, "-m", "services.cli", "service", "--help"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "monkey_patch" not in done.stderr and "Eventlet is deprecated" not in done.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["service", "members"], {"command": "service", "name": "members"}),
        (["gateway"], {"command": "gateway"}),
        (["console"], {"command": "console"}),
        (["migrate"], {"command": "migrate", "service": None}),
        (["migrate", "--service", "members"], {"command": "migrate", "service": "members"}),
        (["declare"], {"command": "declare"}),
        (["run"], {"command": "run", "demo": True, "ready_file": None}),
        (["run", "--no-demo"], {"command": "run", "demo": False}),
        (["demo-data", "--url", "http://h:1", "--token", "t"], {"command": "demo-data", "url": "http://h:1"}),
    ],
)
def test_every_command_parses(argv, expected):
    args = vars(build_parser().parse_args(argv))
    assert {key: args[key] for key in expected} == expected
    assert callable(args["func"])


def test_service_refuses_an_unknown_service_name(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["service", "billing"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'billing'" in capsys.readouterr().err


def test_an_operator_token_is_generated_once_and_kept_for_the_owner_only(tmp_path):
    token, source = resolve_operator_token(tmp_path, None)

    path = tmp_path / OPERATOR_TOKEN_FILE
    assert len(token) >= 32 and "generated" in source
    assert path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_restart_keeps_the_saved_operator_token(tmp_path):
    first, _ = resolve_operator_token(tmp_path, None)
    second, source = resolve_operator_token(tmp_path, None)

    assert second == first and "saved" in source


def test_a_configured_operator_token_wins_and_is_not_written_to_disk(tmp_path):
    resolve_operator_token(tmp_path, None)

    token, source = resolve_operator_token(tmp_path, "from-the-environment")

    assert token == "from-the-environment" and "KRING_OPERATOR_TOKEN" in source
    assert (tmp_path / OPERATOR_TOKEN_FILE).read_text().strip() != token


def test_the_sign_in_broker_token_is_generated_once_apart_from_the_operators_and_kept_for_the_owner_only(tmp_path):
    operator, _ = resolve_operator_token(tmp_path, None)
    broker, source = resolve_sign_in_broker_token(tmp_path, None)
    again, again_source = resolve_sign_in_broker_token(tmp_path, None)

    path = tmp_path / SIGN_IN_BROKER_TOKEN_FILE
    assert path.name == "sign-in-broker-token"
    assert len(broker) >= 32 and broker != operator and "generated" in source
    assert (again, path.read_text().strip()) == (broker, broker) and "saved" in again_source
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_configured_sign_in_broker_token_wins(tmp_path):
    token, source = resolve_sign_in_broker_token(tmp_path, "configured-broker")
    assert token == "configured-broker" and "KRING_SIGN_IN_BROKER_TOKEN" in source
    assert not (tmp_path / SIGN_IN_BROKER_TOKEN_FILE).exists()


def test_a_child_stops_when_its_supervisor_dies(tmp_path):
    pid_file = tmp_path / "child.pid"
    child = ("import os, time; from services.cli import follow_supervisor; follow_supervisor(); "
             f"open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)")
    supervisor = ("import os, subprocess, sys, time; "
                  f"subprocess.Popen([sys.executable, '-c', {child!r}], "
                  "env={**os.environ, 'KRING_SUPERVISOR_PID': str(os.getpid())}); time.sleep(30)")
    parent = subprocess.Popen([sys.executable, "-c", supervisor])
    try:
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the child did not start"
            time.sleep(0.05)
        child_pid = int(pid_file.read_text())
    finally:
        parent.kill()
        parent.wait()

    deadline = time.monotonic() + 10
    while process_alive(child_pid):
        assert time.monotonic() < deadline, "the orphaned child is still running"
        time.sleep(0.1)


def process_alive(pid: int) -> bool:
    """True while the process runs (a zombie left for an absent reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat_path = Path(f"/proc/{pid}/stat")
    if not sys.platform.startswith("linux"):
        return True
    return stat_path.exists() and stat_path.read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_a_child_started_after_its_supervisor_died_refuses_to_start():
    env = {**os.environ, "KRING_SUPERVISOR_PID": "1"}  # the child's parent is this test, not pid 1
    done = subprocess.run([sys.executable, "-m", "services.cli", "declare"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "supervisor is gone" in done.stderr


# --- queue policies: where `kring declare` finds the management API ---------------------------------------------


def test_the_management_api_is_found_beside_a_broker_on_the_standard_port():
    from services.common.topology import Management

    api = Management.for_broker("amqp://kring:s3cret@rabbit.internal:5672/kring%2Fprod")
    assert (api.url, api.vhost, api.user, api.password) == ("http://rabbit.internal:15672", "kring/prod", "kring",
                                                             "s3cret")
    assert Management.for_broker("amqp://guest:guest@127.0.0.1/").vhost == "/"
    assert "s3cret" not in repr(api)


def test_a_configured_management_url_wins_and_may_carry_its_own_credentials():
    from services.common.topology import Management

    api = Management.for_broker("amqp://app:pw@rabbit:5672/kring", "https://admin:adm@rabbit-mgmt:443/rabbitmq/")
    assert (api.url, api.vhost, api.user, api.password) == ("https://rabbit-mgmt:443/rabbitmq", "kring", "admin",
                                                             "adm")
    assert Management.for_broker("amqp://app:pw@rabbit:5672/kring", "http://rabbit:15672").user == "app"


def test_a_broker_on_another_port_needs_the_management_url_said():
    import pytest

    from services.common.topology import Management, ManagementError

    with pytest.raises(ManagementError, match="set KRING_RABBITMQ_MANAGEMENT_URL"):
        Management.for_broker("amqp://guest:guest@127.0.0.1:35672/")


def test_a_management_url_without_a_host_is_refused_saying_so():
    import pytest

    from services.common.topology import Management, ManagementError

    # "host:port" parses as a scheme and a path: it named no host, and used to fail adding None to a string
    with pytest.raises(ManagementError, match="names no host"):
        Management.for_broker("amqp://guest:guest@127.0.0.1/", "rabbit:15672")


def test_kring_declare_without_a_management_api_fails_saying_what_to_do(monkeypatch):
    from services.chores import declare_topology
    from services.common.config import Settings

    lines: list[str] = []
    settings = Settings(amqp_uri="amqp://guest:guest@127.0.0.1:5672/", rabbitmq_management_url="http://127.0.0.1:9")
    assert declare_topology(settings, lines.append) == 1
    assert "cannot set the queue policies" in lines[0] and "rabbitmq_management" in lines[1]


def test_the_policy_carries_the_delivery_limit_and_the_dead_letter_exchange():
    from services.common.topology import event_policies

    (name, policy), = event_policies(7).items()
    assert name == "kring-events" and policy["pattern"] == "^evt-" and policy["priority"] > 0
    assert policy["definition"] == {"delivery-limit": 7, "dead-letter-exchange": "kring.dead-letter"}
