"""Every kustomize overlay renders, validates offline against the Kubernetes schemas (and the operators' custom
resources against their structure), and matches what the code reads. Each check is shown to catch a mistake."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ops.manifests import OVERLAYS, consistency_problems, render, schema_problems

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rendered(kubectl) -> dict[str, list[dict]]:
    return {overlay: render(overlay, kubectl) for overlay in OVERLAYS}


def find(objects: list[dict], kind: str, name: str) -> dict:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"].startswith(name):
            return obj
    raise LookupError(f"{kind}/{name}")


def container(objects: list[dict], deployment: str, name: str = "kring") -> dict:
    pod = find(objects, "Deployment", deployment)["spec"]["template"]["spec"]
    return next(c for c in [*pod.get("initContainers", []), *pod["containers"]] if c["name"] == name)


def env_var(c: dict, name: str) -> dict:
    return next(v for v in c["env"] if v["name"] == name)


def config(objects: list[dict]) -> dict:
    return find(objects, "ConfigMap", "kring-config")["data"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_renders_and_every_object_validates_against_the_kubernetes_schemas(rendered, overlay):
    assert rendered[overlay]
    assert schema_problems(rendered[overlay]) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_commands_ports_probes_settings_and_secrets_match_what_the_code_reads(rendered, overlay):
    assert consistency_problems(rendered[overlay]) == []


def test_production_runs_rabbitmq_and_postgresql_through_their_operators_and_ships_monitoring(rendered):
    kinds = {(o["apiVersion"], o["kind"]) for o in rendered["production"]}
    assert {("rabbitmq.com/v1beta1", "RabbitmqCluster"), ("postgresql.cnpg.io/v1", "Cluster"),
            ("monitoring.coreos.com/v1", "PodMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")} <= kinds
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Job"} <= {k for _, k in kinds}


def test_the_hand_made_secret_is_explained_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert "kubectl -n kring create secret generic kring-operator-token --from-literal=token=" in readme


# --- each check catches its mistake --------------------------------------------------------------------------

Mutation = Callable[[list[dict]], None]


def _set(path_fn: Callable[[list[dict]], dict], key: str, value) -> Mutation:
    def mutate(objects: list[dict]) -> None:
        path_fn(objects)[key] = value
    return mutate


def _typo_in_setting(objects):
    env_var(container(objects, "kring-gateway"), "KRING_OPERATOR_TOKEN")["name"] = "KRING_OPERATOR_TOKN"


def _unknown_setting_in_config_map(objects):
    config(objects)["KRING_METRICS_PATH"] = "/metrics"


def _loopback_bind_host(objects):
    config(objects)["KRING_BIND_HOST"] = "127.0.0.1"


def _metrics_base_moved(objects):
    config(objects)["KRING_METRICS_PORT"] = "9200"


def _wrong_metrics_port(objects):
    container(objects, "kring-networks")["ports"][0]["containerPort"] = 9101


def _wrong_probe_path(objects):
    container(objects, "kring-gateway")["readinessProbe"]["httpGet"]["path"] = "/ready"


def _http_liveness_for_the_gateway(objects):
    container(objects, "kring-gateway")["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}}


def _no_liveness(objects):
    del container(objects, "kring-members")["livenessProbe"]


def _service_probe_on_wrong_path(objects):
    container(objects, "kring-sessions")["livenessProbe"]["httpGet"]["path"] = "/healthz"


def _unknown_service(objects):
    container(objects, "kring-members")["args"] = ["service", "memberz"]


def _unknown_command(objects):
    container(objects, "kring-gateway")["args"] = ["gatway"]


def _second_image(objects):
    container(objects, "kring-networks")["image"] = "kring:other"


def _secret_nobody_makes(objects):
    env_var(container(objects, "kring-members"), "KRING_DATABASE_URL")["valueFrom"]["secretKeyRef"]["name"] = "pg"


def _secret_key_that_does_not_exist(objects):
    env_var(container(objects, "kring-members"), "KRING_DATABASE_URL")["valueFrom"]["secretKeyRef"]["key"] = "url"


def _amqp_host_nobody_serves(objects):
    env_var(container(objects, "kring-gateway"), "KRING_AMQP_URI")["value"] = "amqp://$(RABBITMQ_USERNAME):" \
        "$(RABBITMQ_PASSWORD)@rabbitmq:5672/"


def _no_memory_limit(objects):
    del container(objects, "kring-gateway")["resources"]["limits"]["memory"]


def _root_user(objects):
    find(objects, "Deployment", "kring-members")["spec"]["template"]["spec"]["securityContext"]["runAsUser"] = 0


def _data_dir_on_read_only_root(objects):
    config(objects)["KRING_DATA_DIR"] = "/var/lib/kring"


def _missing_federation(objects):
    objects.remove(find(objects, "Deployment", "kring-federation"))


def _job_declares_before_migrating(objects):
    pod = find(objects, "Job", "kring-migrate")["spec"]["template"]["spec"]
    pod["initContainers"][0]["args"], pod["containers"][0]["args"] = ["declare"], ["migrate"]


def _service_selects_nothing(objects):
    find(objects, "Service", "kring-gateway")["spec"]["selector"]["app.kubernetes.io/component"] = "gw"


def _members_open_to_everyone(objects):
    objects.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": "debug", "namespace": "kring"},
                    "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "members"}},
                             "policyTypes": ["Ingress"], "ingress": [{}]}})


def _replicas_beside_an_autoscaler(objects):
    find(objects, "Deployment", "kring-gateway")["spec"]["replicas"] = 3


def _pod_monitor_misses_the_gateway(objects):
    find(objects, "PodMonitor", "kring")["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] = "members"


def _pod_monitor_without_process_label(objects):
    find(objects, "PodMonitor", "kring")["spec"]["podMetricsEndpoints"][0]["relabelings"] = []


def _rules_drifted(objects):
    find(objects, "PrometheusRule", "kring")["spec"]["groups"][0]["rules"].pop()


CONSISTENCY = {
    "a KRING_ variable with a typo": (_typo_in_setting, "KRING_OPERATOR_TOKN is not a setting Kring reads"),
    "a ConfigMap key Kring does not read": (_unknown_setting_in_config_map, "sets KRING_METRICS_PATH, which Kring"),
    "listening on loopback": (_loopback_bind_host, "KRING_BIND_HOST is 127.0.0.1"),
    "a metrics base the ports do not follow": (_metrics_base_moved, "differ from what `kring members` listens on"),
    "another process's metrics port": (_wrong_metrics_port, "differ from what `kring networks` listens on"),
    "a probe path the gateway does not serve": (_wrong_probe_path, "path /ready is not a GET route of the gateway"),
    "an HTTP liveness probe on the gateway": (_http_liveness_for_the_gateway, "should be the native gRPC probe"),
    "no liveness probe": (_no_liveness, "kring-members container kring: no livenessProbe"),
    "a service probed on a path of the gateway": (_service_probe_on_wrong_path, "the metrics port serves /metrics"),
    "a service that has no code": (_unknown_service, "is not a kring command"),
    "a command the CLI does not have": (_unknown_command, "`kring gatway` is not a kring command"),
    "two images": (_second_image, "Kring runs from one image"),
    "a secret nothing creates": (_secret_nobody_makes, "reads secret pg, which nothing creates"),
    "a secret key that does not exist": (_secret_key_that_does_not_exist, "reads key url of secret"),
    "an AMQP host without a Service": (_amqp_host_nobody_serves, "KRING_AMQP_URI points at rabbitmq"),
    "no memory limit": (_no_memory_limit, "no memory limit"),
    "running as root": (_root_user, "runAsUser 0 differs from the Dockerfile's USER"),
    "a data directory on the read-only root": (_data_dir_on_read_only_root, "is on the read-only root filesystem"),
    "a service without a Deployment": (_missing_federation, "no Deployment runs `kring service federation`"),
    "declaring before migrating": (_job_declares_before_migrating, "should run `kring migrate` and then"),
    "a Service that selects no pod": (_service_selects_nothing, "Service/kring-gateway: its selector matches no pod"),
    "a service open to outside traffic": (_members_open_to_everyone, "only the gateway takes outside traffic"),
    "replicas fighting the autoscaler": (_replicas_beside_an_autoscaler, "sets replicas while"),
    "a process the PodMonitor does not scrape": (_pod_monitor_misses_the_gateway, "does not select Deployment/kring-"
                                                                                  "gateway"),
    "targets without the process label": (_pod_monitor_without_process_label, "no relabeling sets the `process`"),
    "alert rules that drifted from rules.yml": (_rules_drifted, "no PrometheusRule carries the groups"),
}


@pytest.mark.parametrize("case", CONSISTENCY)
def test_a_manifest_that_does_not_match_the_code_is_reported(rendered, case):
    mutate, expected = CONSISTENCY[case]
    objects = copy.deepcopy(rendered["production"])
    mutate(objects)
    problems = consistency_problems(objects)
    assert any(expected in problem for problem in problems), problems


def _misspelt_field(objects):
    find(objects, "Deployment", "kring-members")["spec"]["replica"] = 2


def _port_as_text(objects):
    container(objects, "kring-gateway")["ports"][0]["containerPort"] = "eighty"


def _probe_without_handler(objects):
    container(objects, "kring-gateway")["readinessProbe"]["httpGet"].pop("port")


def _even_rabbitmq_cluster(objects):
    find(objects, "RabbitmqCluster", "kring-rabbitmq")["spec"]["replicas"] = 2


def _cnpg_without_storage(objects):
    del find(objects, "Cluster", "kring-postgres")["spec"]["storage"]


def _pod_monitor_typo(objects):
    monitor = find(objects, "PodMonitor", "kring")["spec"]
    monitor["podMetricEndpoints"] = monitor.pop("podMetricsEndpoints")


def _rule_without_expr(objects):
    del find(objects, "PrometheusRule", "kring")["spec"]["groups"][0]["rules"][0]["expr"]


SCHEMA = {
    "a misspelt field": (_misspelt_field, "Deployment/kring-members: spec: Additional properties are not allowed"),
    "a port given as text": (_port_as_text, "containerPort: 'eighty' is not of type 'integer'"),
    "a probe without its port": (_probe_without_handler, "'port' is a required property"),
    "an even RabbitMQ cluster": (_even_rabbitmq_cluster, "quorum queues need an odd number of nodes"),
    "a PostgreSQL cluster without storage": (_cnpg_without_storage, "spec.storage.size must be a str"),
    "a PodMonitor field with a typo": (_pod_monitor_typo, "spec.podMetricEndpoints: unknown field"),
    "an alert without an expression": (_rule_without_expr, "rule KringProcessDown has no expr"),
}


@pytest.mark.parametrize("case", SCHEMA)
def test_an_object_that_breaks_its_schema_is_reported(rendered, case):
    mutate, expected = SCHEMA[case]
    objects = copy.deepcopy(rendered["production"])
    mutate(objects)
    problems = schema_problems(objects)
    assert any(expected in problem for problem in problems), problems


def test_an_overlay_that_does_not_render_fails_with_kustomizes_message(kubectl, tmp_path, monkeypatch):
    import tests.ops.manifests as manifests

    broken = tmp_path / "overlays" / "broken"
    broken.mkdir(parents=True)
    (broken / "kustomization.yaml").write_text("resources:\n  - ../../base-that-does-not-exist\n")
    monkeypatch.setattr(manifests, "K8S", tmp_path)
    with pytest.raises(RuntimeError, match="kubectl kustomize broken failed"):
        render("broken", kubectl)
