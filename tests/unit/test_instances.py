"""Running instances locally: `kring relay` and `kring run-federation` parse, the supervisor restarts a relay
that dies (and says where its pid is) while any other death still stops the stack, and the demo data splits
into a national and a regional part."""

from __future__ import annotations

import io
import json
import os
import threading

from services.cli import build_parser
from services.common.config import available_processes
from services.demo.catalogue import DEMO_NETWORKS, DEMO_PARTS, REGIONAL_PART
from services.instances import amqp_for
from services.supervisor import ProcessGroup, RunOptions, Supervisor
from tests.support.processes import python


def test_the_relay_and_the_pair_of_instances_are_kring_commands():
    assert build_parser().parse_args(["relay"]).command == "relay"
    assert build_parser().parse_args(["run-federation", "--no-demo"]).demo is False
    assert build_parser().parse_args(["run", "--demo-part", "regional"]).demo_part == "regional"


def test_the_relay_is_a_process_of_every_instance_with_a_federation_service():
    assert available_processes()[-1] == "relay" and available_processes()[0] == "gateway"


def test_a_relay_that_dies_is_started_again_and_its_new_pid_is_in_the_pids_file(tmp_path):
    supervisor = Supervisor(RunOptions())
    supervisor.group = ProcessGroup(tmp_path / "logs", io.StringIO(), pid_file=tmp_path / "pids.json")
    supervisor.group.start("relay", python("import time; time.sleep(0.2); raise SystemExit(1)"), dict(os.environ))
    supervisor.group.start("gateway", python("import time; time.sleep(60)"), dict(os.environ))
    first = json.loads((tmp_path / "pids.json").read_text())["relay"]

    stopper = threading.Timer(2.5, supervisor.stop_requested.set)
    stopper.start()
    assert supervisor._supervise() == 0  # the relay's death did not stop the stack
    supervisor.group.stop_all(grace=2)

    pids = json.loads((tmp_path / "pids.json").read_text())
    assert pids["relay"] != first and set(pids) == {"relay", "gateway"}
    assert "relay exited with code 1; starting it again in 1 s" in supervisor.group.out.getvalue()


def test_the_demo_data_splits_into_a_national_and_a_regional_part_without_overlap():
    assert DEMO_PARTS["national"] | DEMO_PARTS["regional"] == DEMO_PARTS["all"]
    assert not DEMO_PARTS["national"] & DEMO_PARTS["regional"]
    parents = {n.key: n.parent for n in DEMO_NETWORKS}
    assert all(parents[key] in REGIONAL_PART or key == "werkplaats-twente" for key in REGIONAL_PART)


def test_each_instance_gets_its_own_virtual_host_on_the_same_broker():
    assert amqp_for("amqp://guest:guest@127.0.0.1:5672/", "kring-twente") == \
        "amqp://guest:guest@127.0.0.1:5672/kring-twente"
    assert amqp_for("amqp://u:p@rabbit:5672/old", "kring-nationaal") == "amqp://u:p@rabbit:5672/kring-nationaal"


def test_the_pair_meets_over_mutual_tls_with_development_certificates_made_once(tmp_path):
    from services.common.config import Settings
    from services.demo.certificates import local_pki

    national, regional = local_pki(tmp_path, "kring-nationaal"), local_pki(tmp_path, "kring-twente")
    made = national.server[0].read_bytes()
    assert local_pki(tmp_path, "kring-nationaal").server[0].read_bytes() == made  # kept across runs
    env = national.env(peer_ca_file=regional.ca_file)
    settings = Settings(**{k[len("KRING_"):].lower(): v for k, v in env.items()})
    assert settings.grpc_tls_require_client_cert and settings.grpc_tls_client_ca_file == regional.ca_file
    assert national.transport()["ca_bundle"].startswith("-----BEGIN CERTIFICATE-----")
    assert national.transport()["server_name"] == "localhost"
