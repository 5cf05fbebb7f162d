"""Every kustomize overlay renders, validates offline against the Kubernetes schemas (and the operators' custom
resources against their structure), and matches what the code reads. Each check is shown to catch a mistake."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.ops.manifests import (
    OVERLAYS,
    PINNED,
    consistency_problems,
    dev_sign_in_problems,
    image_pin_problems,
    pin_images_module,
    render,
    schema_problems,
)

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
            ("monitoring.coreos.com/v1", "PodMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule"),
            ("monitoring.coreos.com/v1", "ServiceMonitor"), ("rabbitmq.com/v1beta1", "Policy"),
            ("barmancloud.cnpg.io/v1", "ObjectStore"), ("postgresql.cnpg.io/v1", "ScheduledBackup")} <= kinds
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Job"} <= {k for _, k in kinds}


def test_production_backs_up_postgresql_continuously_and_every_night(rendered):
    cluster = find(rendered["production"], "Cluster", "kring-postgres")
    (plugin,) = cluster["spec"]["plugins"]
    assert plugin["isWALArchiver"] is True and plugin["parameters"]["barmanObjectName"] == "kring-backups"
    store = find(rendered["production"], "ObjectStore", "kring-backups")["spec"]
    assert store["configuration"]["destinationPath"].startswith("s3://") and store["retentionPolicy"] == "30d"
    nightly = find(rendered["production"], "ScheduledBackup", "kring-postgres-nightly")["spec"]
    assert nightly["method"] == "plugin" and nightly["cluster"]["name"] == "kring-postgres"


def test_the_production_queue_policy_is_the_one_kring_declare_would_set_and_the_job_only_checks_it(rendered):
    from services.common.topology import event_policies

    policy = find(rendered["production"], "Policy", "kring-events")["spec"]
    want = event_policies(int(config(rendered["production"])["KRING_EVENT_DELIVERY_LIMIT"]))["kring-events"]
    assert (policy["pattern"], policy["applyTo"], policy["priority"], policy["definition"]) == (
        want["pattern"], want["apply-to"], want["priority"], want["definition"])
    job = find(rendered["production"], "Job", "kring-migrate")["spec"]["template"]["spec"]
    assert job["containers"][0]["args"] == ["declare", "--policies", "check"]
    dev_job = find(rendered["development"], "Job", "kring-migrate")["spec"]["template"]["spec"]
    assert dev_job["containers"][0]["args"] == ["declare"]  # no topology operator there: kring declare sets it


@pytest.mark.parametrize("overlay", PINNED)
def test_every_production_image_is_pinned_by_digest(rendered, overlay):
    assert image_pin_problems(rendered[overlay]) == []


def test_an_image_by_tag_in_production_is_reported(rendered):
    objects = copy.deepcopy(rendered["production"])
    container(objects, "kring-gateway")["image"] = "registry.example.org/kring/kring:0.2.0"
    find(objects, "RabbitmqCluster", "kring-rabbitmq")["spec"]["image"] = "rabbitmq:4.1-management"
    problems = image_pin_problems(objects)
    assert any("kring-gateway container kring: image 'registry.example.org/kring/kring:0.2.0' is not pinned" in p
               for p in problems)
    assert any("RabbitmqCluster/kring-rabbitmq: spec.image 'rabbitmq:4.1-management' is not pinned" in p
               for p in problems)


def test_the_production_overlay_does_not_build_without_the_release_component(kubectl, tmp_path):
    """What makes the digests required: kustomize refuses the overlay until pin-images.py has written them (in a
    copy of deploy/ without any release component a checkout may hold)."""
    import shutil
    import subprocess

    shutil.copytree(ROOT / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("release"))
    result = subprocess.run([kubectl, "kustomize", str(tmp_path / "deploy" / "k8s" / "overlays" / "production")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "release" in result.stderr


@pytest.mark.parametrize("reference", [
    "registry.example.org/kring/kring:0.2.0",
    "registry.example.org/kring/kring@sha256:1234",
    "registry.example.org/kring/kring@sha256:" + "G" * 64,
    "registry.example.org/kring/kring@md5:" + "a" * 32,
])
def test_pin_images_refuses_a_reference_without_a_digest(reference):
    pin = pin_images_module()
    good = "rabbitmq:4.1-management@sha256:" + "a" * 64
    with pytest.raises(pin.NotPinned):
        pin.component(reference, good, good)
    assert pin.main(["--kring", reference, "--rabbitmq", good, "--postgres", good, "--out", "/nonexistent/x"]) == 2


def test_the_keda_overlay_scales_each_service_on_its_own_queues_and_nothing_else_scales_them(rendered):
    objects = rendered["production-keda"]
    scaled = {o["spec"]["scaleTargetRef"]["name"] for o in objects if o["kind"] == "ScaledObject"}
    assert scaled == {"kring-members", "kring-networks", "kring-sessions", "kring-federation"}
    hpas = {o["spec"]["scaleTargetRef"]["name"] for o in objects if o["kind"] == "HorizontalPodAutoscaler"}
    assert hpas == {"kring-gateway"}
    trigger_types = [t["type"] for o in objects if o["kind"] == "ScaledObject" for t in o["spec"]["triggers"]]
    assert trigger_types.count("rabbitmq") == 4 and trigger_types.count("cpu") == 4


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_gateway_takes_the_sign_in_broker_token_from_its_secret_and_starts_without_it(rendered, overlay):
    objects = rendered[overlay]
    reference = env_var(container(objects, "kring-gateway"), "KRING_SIGN_IN_BROKER_TOKEN")["valueFrom"]
    secret = reference["secretKeyRef"]
    assert secret["name"].startswith("kring-sign-in-broker-token")  # the development overlay adds a hash suffix
    assert (secret["key"], secret["optional"]) == ("token", True)
    for deployment in ("kring-members", "kring-networks", "kring-sessions", "kring-federation"):
        names = [env["name"] for env in container(objects, deployment).get("env", [])]
        assert "KRING_SIGN_IN_BROKER_TOKEN" not in names  # only the gateway checks it


def test_the_hand_made_secret_is_explained_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert "kubectl -n kring create secret generic kring-operator-token --from-literal=token=" in readme
    assert "kubectl -n kring create secret generic kring-sign-in-broker-token --from-literal=token=" in readme
    assert "kubectl -n kring create secret generic kring-federation-keys --from-literal=keys=" in readme
    assert "kubectl -n kring create configmap kring-peer-cas --from-file=ca.crt=" in readme


def test_production_serves_grpc_with_cert_manager_certificates_mounted_where_the_settings_point(rendered):
    objects = rendered["production"]
    certificates = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "Certificate"}
    assert certificates["kring-grpc"]["usages"] == ["server auth"]
    assert certificates["kring-instance"]["usages"] == ["client auth"]
    settings = config(objects)
    assert settings["KRING_GRPC_TLS_CERT_FILE"] == "/var/run/kring/grpc-tls/tls.crt"
    gateway = container(objects, "kring-gateway")
    assert "/var/run/kring/grpc-tls" in {m["mountPath"] for m in gateway["volumeMounts"]}
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    relay = container(objects, "kring-relay")
    assert "/var/run/kring/instance-tls" in {m["mountPath"] for m in relay["volumeMounts"]}
    for deployment in ("kring-federation",):
        assert env_var(container(objects, deployment), "KRING_FEDERATION_KEYS")["valueFrom"]["secretKeyRef"] == {
            "name": "kring-federation-keys", "key": "keys"}


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
    for key in ("KRING_GRPC_TLS_CERT_FILE", "KRING_GRPC_TLS_KEY_FILE", "KRING_GRPC_TLS_CLIENT_CA_FILE"):
        del config(objects)[key]  # plaintext gRPC: kubelet's gRPC probe can reach it
    container(objects, "kring-gateway")["livenessProbe"] = {"httpGet": {"path": "/healthz", "port": "http"}}


def _grpc_liveness_on_a_tls_port(objects):
    container(objects, "kring-gateway")["livenessProbe"] = {"grpc": {"port": 50051}}


def _certificate_file_not_mounted(objects):
    container(objects, "kring-relay")["volumeMounts"] = [
        m for m in container(objects, "kring-relay")["volumeMounts"] if m["name"] != "instance-tls"]


def _certificate_file_of_a_secret_nobody_makes(objects):
    volumes = find(objects, "Deployment", "kring-gateway")["spec"]["template"]["spec"]["volumes"]
    next(v for v in volumes if v["name"] == "grpc-tls")["secret"]["secretName"] = "kring-grpc-cert"


def _certificate_without_a_secret(objects):
    del find(objects, "Certificate", "kring-grpc")["spec"]["secretName"]


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


def _policy_limit_differs_from_the_config(objects):
    find(objects, "Policy", "kring-events")["spec"]["definition"]["delivery-limit"] = 9


def _two_owners_of_the_policy(objects):
    find(objects, "Job", "kring-migrate")["spec"]["template"]["spec"]["containers"][0]["args"] = ["declare"]


def _policy_for_another_cluster(objects):
    find(objects, "Policy", "kring-events")["spec"]["rabbitmqClusterReference"]["name"] = "rabbit"


def _no_wal_archiving(objects):
    del find(objects, "Cluster", "kring-postgres")["spec"]["plugins"]


def _archive_to_a_missing_store(objects):
    find(objects, "Cluster", "kring-postgres")["spec"]["plugins"][0]["parameters"]["barmanObjectName"] = "s3"


def _no_scheduled_backup(objects):
    objects.remove(find(objects, "ScheduledBackup", "kring-postgres-nightly"))


def _backups_kept_forever(objects):
    del find(objects, "ObjectStore", "kring-backups")["spec"]["retentionPolicy"]


def _no_per_queue_broker_metrics(objects):
    monitor = find(objects, "ServiceMonitor", "kring-rabbitmq")
    monitor["spec"]["endpoints"] = monitor["spec"]["endpoints"][:1]


def _postgres_scraped_under_another_job(objects):
    del find(objects, "PodMonitor", "kring-postgres")["spec"]["jobLabel"]


def _console_on_another_port(objects):
    container(objects, "kring-console")["ports"][0]["containerPort"] = 8080


def _console_on_loopback(objects):
    env_var(container(objects, "kring-console"), "KRING_CONSOLE_BIND_HOST")["value"] = "127.0.0.1"


def _console_probed_on_the_gateways_path(objects):
    container(objects, "kring-console")["readinessProbe"]["httpGet"]["path"] = "/v1/readyz"


def _console_pointed_elsewhere(objects):
    env_var(container(objects, "kring-console"), "KRING_CONSOLE_API_URL")["value"] = "http://kring-members:8080"


def _console_setting_typo(objects):
    env_var(container(objects, "kring-console"), "KRING_CONSOLE_API_URL")["name"] = "KRING_CONSOLE_API_ULR"


def _console_oidc_without_issuer(objects):
    del config(objects)["KRING_CONSOLE_OIDC_ISSUER"]


def _missing_console(objects):
    objects.remove(find(objects, "Deployment", "kring-console"))


CONSISTENCY = {
    "a KRING_ variable with a typo": (_typo_in_setting, "KRING_OPERATOR_TOKN is not a setting Kring reads"),
    "a ConfigMap key Kring does not read": (_unknown_setting_in_config_map, "sets KRING_METRICS_PATH, which Kring"),
    "listening on loopback": (_loopback_bind_host, "KRING_BIND_HOST is 127.0.0.1"),
    "a metrics base the ports do not follow": (_metrics_base_moved, "differ from what `kring members` listens on"),
    "another process's metrics port": (_wrong_metrics_port, "differ from what `kring networks` listens on"),
    "a probe path the gateway does not serve": (_wrong_probe_path, "path /ready is not a GET route of the gateway"),
    "an HTTP liveness probe on the gateway": (_http_liveness_for_the_gateway, "should be the native gRPC probe"),
    "a gRPC liveness probe on a TLS port": (_grpc_liveness_on_a_tls_port, "kubelet's gRPC probe cannot speak"),
    "a certificate file not mounted": (_certificate_file_not_mounted, "KRING_PEER_TLS_CERT_FILE is /var/run/kring/"
                                                                      "instance-tls/tls.crt, and no volume"),
    "a certificate from a secret nothing makes": (_certificate_file_of_a_secret_nobody_makes,
                                                  "reads secret kring-grpc-cert, which no Certificate"),
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
    "a service open to outside traffic": (_members_open_to_everyone, "only the gateway and the console take outside"),
    "a console port the process does not listen on": (_console_on_another_port, "differ from what `kring console`"),
    "a console on loopback": (_console_on_loopback, "KRING_CONSOLE_BIND_HOST is 127.0.0.1"),
    "a console probed on the wrong path": (_console_probed_on_the_gateways_path, "readinessProbe should be GET"),
    "a console that calls something else": (_console_pointed_elsewhere, "kring-members:8080, not the gateway"),
    "a console setting with a typo": (_console_setting_typo, "KRING_CONSOLE_API_ULR is not a setting Kring reads"),
    "half an OpenID configuration": (_console_oidc_without_issuer, "the console's settings are invalid"),
    "no console": (_missing_console, "no Deployment runs `kring console`"),
    "replicas fighting the autoscaler": (_replicas_beside_an_autoscaler, "sets replicas while"),
    "a process the PodMonitor does not scrape": (_pod_monitor_misses_the_gateway, "does not select Deployment/kring-"
                                                                                  "gateway"),
    "targets without the process label": (_pod_monitor_without_process_label, "no relabeling sets the `process`"),
    "alert rules that drifted from rules.yml": (_rules_drifted, "no PrometheusRule carries the groups"),
    "a queue policy that differs from the config": (_policy_limit_differs_from_the_config,
                                                    "9}, but kring-config (KRING_EVENT_DELIVERY_LIMIT=5)"),
    "two owners of the queue policy": (_two_owners_of_the_policy, "`kring declare` sets it too"),
    "a queue policy for another broker": (_policy_for_another_cluster, "rabbitmqClusterReference names no"),
    "no WAL archiving": (_no_wal_archiving, "no plugin archives its WAL"),
    "WAL archived to a store that is not there": (_archive_to_a_missing_store, "ObjectStore s3, which is not in"),
    "no nightly base backup": (_no_scheduled_backup, "no ScheduledBackup takes base backups"),
    "backups kept forever": (_backups_kept_forever, "no retentionPolicy"),
    "no per-queue broker metrics": (_no_per_queue_broker_metrics, "no ServiceMonitor scrapes /metrics/detailed"),
    "PostgreSQL under another job name": (_postgres_scraped_under_another_job, "does not take job from cnpg.io"),
}


def _keda_trigger_counts_another_service(objects):
    scaled = find(objects, "ScaledObject", "kring-members")
    scaled["spec"]["triggers"][0]["metadata"]["queueName"] = "^evt-.+--networks\\."


def _keda_trigger_counts_every_queue(objects):
    find(objects, "ScaledObject", "kring-sessions")["spec"]["triggers"][0]["metadata"]["queueName"] = "^evt-"


def _keda_beside_an_hpa(objects):
    hpa = copy.deepcopy(find(objects, "HorizontalPodAutoscaler", "kring-gateway"))
    hpa["metadata"]["name"] = hpa["spec"]["scaleTargetRef"]["name"] = "kring-networks"
    objects.append(hpa)


def _keda_credentials_the_pod_lacks(objects):
    find(objects, "ScaledObject", "kring-federation")["spec"]["triggers"][0]["metadata"]["usernameFromEnv"] = "USER"


KEDA = {
    "a trigger on another service's queues": (_keda_trigger_counts_another_service, "not its own: ['evt-"),
    "a trigger on every queue": (_keda_trigger_counts_every_queue, "not its own"),
    "a ScaledObject beside an autoscaler": (_keda_beside_an_hpa, "also has a HorizontalPodAutoscaler"),
    "credentials the pod does not have": (_keda_credentials_the_pod_lacks, "usernameFromEnv USER is not a variable"),
}


@pytest.mark.parametrize("case", KEDA)
def test_a_keda_scaler_that_does_not_match_the_code_is_reported(rendered, case):
    assert_reported(rendered["production-keda"], KEDA[case], consistency_problems)


def assert_reported(objects: list[dict], case: tuple[Mutation, str], check: Callable[[list[dict]], list[str]]) -> None:
    """The check reports the mistake a mutation makes in a copy of the rendered objects."""
    mutate, expected = case
    objects = copy.deepcopy(objects)
    mutate(objects)
    problems = check(objects)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize("case", CONSISTENCY)
def test_a_manifest_that_does_not_match_the_code_is_reported(rendered, case):
    assert_reported(rendered["production"], CONSISTENCY[case], consistency_problems)


@pytest.mark.parametrize("overlay", PINNED)
def test_production_never_enables_the_development_sign_in(rendered, overlay):
    assert dev_sign_in_problems(rendered[overlay]) == []


def test_the_development_overlay_has_the_development_sign_in_and_the_check_sees_it(rendered):
    assert dev_sign_in_problems(rendered["development"]) == [
        "Deployment/kring-console container kring: KRING_CONSOLE_DEV_SIGN_IN=true lets anyone sign in as any member"]


@pytest.mark.parametrize("how", ["config map", "container env"])
def test_a_development_sign_in_turned_on_in_production_is_reported(rendered, how):
    def enable(objects):
        if how == "config map":
            config(objects)["KRING_CONSOLE_DEV_SIGN_IN"] = "True"
        else:
            container(objects, "kring-console")["env"].append({"name": "KRING_CONSOLE_DEV_SIGN_IN", "value": "1"})

    assert_reported(rendered["production"], (enable, "lets anyone sign in as any member"), dev_sign_in_problems)


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


def _policy_target_unknown(objects):
    find(objects, "Policy", "kring-events")["spec"]["applyTo"] = "quorum-queues"


def _cron_with_five_fields(objects):
    find(objects, "ScheduledBackup", "kring-postgres-nightly")["spec"]["schedule"] = "0 2 * * *"


SCHEMA = {
    "a misspelt field": (_misspelt_field, "Deployment/kring-members: spec: Additional properties are not allowed"),
    "a port given as text": (_port_as_text, "containerPort: 'eighty' is not of type 'integer'"),
    "a probe without its port": (_probe_without_handler, "'port' is a required property"),
    "an even RabbitMQ cluster": (_even_rabbitmq_cluster, "quorum queues need an odd number of nodes"),
    "a PostgreSQL cluster without storage": (_cnpg_without_storage, "spec.storage.size must be a str"),
    "a PodMonitor field with a typo": (_pod_monitor_typo, "spec.podMetricEndpoints: unknown field"),
    "an alert without an expression": (_rule_without_expr, "rule KringProcessDown has no expr"),
    "a policy for a target RabbitMQ does not know": (_policy_target_unknown, "is not a policy target"),
    "a backup schedule in five fields": (_cron_with_five_fields, "CloudNativePG takes six fields"),
    "a Certificate without its Secret": (_certificate_without_a_secret, "spec.secretName must be a str"),
}


@pytest.mark.parametrize("case", SCHEMA)
def test_an_object_that_breaks_its_schema_is_reported(rendered, case):
    assert_reported(rendered["production"], SCHEMA[case], schema_problems)


def test_an_overlay_that_does_not_render_fails_with_kustomizes_message(kubectl, tmp_path, monkeypatch):
    import tests.ops.manifests as manifests

    broken = tmp_path / "deploy" / "k8s" / "overlays" / "broken"
    broken.mkdir(parents=True)
    (broken / "kustomization.yaml").write_text("resources:\n  - ../../base-that-does-not-exist\n")
    monkeypatch.setattr(manifests, "K8S", tmp_path / "deploy" / "k8s")
    with pytest.raises(RuntimeError, match="kubectl kustomize broken failed"):
        render("broken", kubectl)
