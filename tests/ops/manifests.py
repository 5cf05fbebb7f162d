"""Checks of the rendered Kubernetes manifests (deploy/k8s), offline.

- :func:`schema_problems`: every core object against the Kubernetes JSON schemas shipped by
  ``kubernetes-validate`` (strict: unknown fields are errors); the custom resources of the operators
  (RabbitmqCluster, CloudNativePG Cluster, PodMonitor, ServiceMonitor, PrometheusRule), which those schemas do
  not know, against their required structure here.
- :func:`consistency_problems`: the manifests against what the code reads: commands of the ``kring`` CLI,
  ``KRING_*`` settings, ports, probe paths, secrets, selectors, network policies, the scrape configuration.

Each returns a list of problems, one line each, empty when all is well; tests/ops/test_kubernetes.py shows
that each kind of mistake is reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("development", "production", "production-keda")
PINNED = ("production", "production-keda")  # overlays whose every image must be pinned by digest
KUBERNETES_VERSION = "1.32"  # schemas to validate against: the oldest Kubernetes minor we claim to run on
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
LONG_RUNNING = ("gateway", "service", "relay", "console")  # kring commands that serve until stopped
# Processes that take traffic from outside the namespace; every other accepts only Prometheus' scrapes.
OUTSIDE_FACING = ("gateway", "console")
# Secrets that no manifest renders: made by an operator for its custom resource, or by hand (README "Deploy").
HAND_MADE_SECRETS = {"kring-operator-token": {"token"},
                     "kring-sign-in-broker-token": {"token"},
                     "kring-federation-keys": {"keys"},
                     "kring-console": {"session-key", "oidc-client-secret"},
                     "kring-backup-credentials": {"ACCESS_KEY_ID", "ACCESS_SECRET_KEY"}}
# ConfigMaps made by hand (README "Between organisations: TLS"): the CAs of the peers' client certificates.
HAND_MADE_CONFIG_MAPS = {"kring-peer-cas": {"ca.crt"}}
CERT_MANAGER_KEYS = {"tls.crt", "tls.key", "ca.crt"}  # what cert-manager writes into a Certificate's Secret
# The certificate files each process reads (services/gateway/shared/tls.py, services/federation/relay/transport.py)
TLS_FILES = {"gateway": ("grpc_tls_cert_file", "grpc_tls_key_file", "grpc_tls_client_ca_file", "peer_tls_cert_file",
                         "peer_tls_key_file", "http_tls_cert_file", "http_tls_key_file", "http_tls_client_ca_file"),
             "relay": ("peer_tls_cert_file", "peer_tls_key_file")}
CERTIFICATE_USAGES = {"server auth", "client auth", "digital signature", "key encipherment"}
RABBITMQ_USER_KEYS = {"username", "password", "host", "port"}
CNPG_APP_KEYS = {"username", "user", "password", "host", "port", "dbname", "uri", "jdbc-uri", "pgpass"}

Obj = dict[str, Any]
FROM_A_SECRET = "(from a secret)"


# --- rendering -----------------------------------------------------------------------------------------------


def pin_images_module() -> Any:
    spec = importlib.util.spec_from_file_location("pin_images", ROOT / "deploy" / "k8s" / "pin-images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digest(name: str) -> str:
    """A digest made up for the tests' own renderings (a release writes the registry's real ones)."""
    return "sha256:" + hashlib.sha256(f"kring tests: {name}".encode()).hexdigest()


def render(overlay: str, kubectl: str = "kubectl", edit: Callable[[Path], None] | None = None) -> list[Obj]:
    """The overlay as kustomize builds it, from a copy of deploy/ in which the production overlay's release
    component has been written by deploy/k8s/pin-images.py, as a release writes it. ``edit(deploy)`` changes the
    copy first (an operator's edit: uncommenting an example)."""
    with tempfile.TemporaryDirectory() as tmp:
        deploy = Path(tmp) / "deploy"
        shutil.copytree(K8S.parent, deploy, ignore=shutil.ignore_patterns("release", "__pycache__"))
        release = deploy / "k8s" / "overlays" / "production" / "release"
        release.mkdir(parents=True, exist_ok=True)
        (release / "kustomization.yaml").write_text(pin_images_module().component(
            f"registry.example.org/kring/kring@{test_digest('kring')}",
            f"rabbitmq:4.1-management@{test_digest('rabbitmq')}",
            f"ghcr.io/cloudnative-pg/postgresql:17.6@{test_digest('postgres')}"))
        if edit is not None:
            edit(deploy)
        target = deploy / K8S.relative_to(K8S.parent) / "overlays" / overlay
        result = subprocess.run([kubectl, "kustomize", str(target)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {overlay} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def ident(obj: Obj) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


# --- schemas -------------------------------------------------------------------------------------------------


def schema_problems(objects: list[Obj]) -> list[str]:
    from kubernetes_validate import utils

    found = []
    for obj in objects:
        check = CUSTOM_RESOURCES.get((obj.get("apiVersion"), obj.get("kind")))
        if check is not None:
            found.extend(f"{ident(obj)}: {problem}" for problem in check(obj))
            continue
        try:
            utils.validate(obj, KUBERNETES_VERSION, strict=True)
        except utils.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path) or "(top)"
            found.append(f"{ident(obj)}: {where}: {exc.message}")
        except utils.SchemaNotFoundError:
            found.append(f"{ident(obj)}: no Kubernetes schema for {obj.get('apiVersion')} {obj.get('kind')}")
    return found


def _get(obj: Obj, path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _structure(obj: Obj, required: dict[str, type], allowed_spec: set[str]) -> Iterator[str]:
    if not _get(obj, "metadata.name"):
        yield "metadata.name is required"
    for path, kind in required.items():
        value = _get(obj, path)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            yield f"{path} must be a {kind.__name__}, found {value!r}"
    yield from (f"spec.{key}: unknown field" for key in sorted(set(obj.get("spec") or {}) - allowed_spec))


def _rabbitmq_cluster(obj: Obj) -> Iterator[str]:
    yield from _structure(obj, {"spec.replicas": int, "spec.persistence.storage": str}, {
        "replicas", "image", "imagePullSecrets", "service", "persistence", "resources", "affinity", "tolerations",
        "rabbitmq", "tls", "override", "skipPostDeploySteps", "terminationGracePeriodSeconds", "delayStartSeconds",
        "secretBackend", "autoEnableAllFeatureFlags"})
    replicas = _get(obj, "spec.replicas")
    if isinstance(replicas, int) and (replicas < 3 or replicas % 2 == 0):
        yield f"spec.replicas is {replicas}: quorum queues need an odd number of nodes, at least 3"
    config = _get(obj, "spec.rabbitmq.additionalConfig")
    if config is not None and not isinstance(config, str):
        yield "spec.rabbitmq.additionalConfig must be a string (rabbitmq.conf lines)"


def _cnpg_cluster(obj: Obj) -> Iterator[str]:
    yield from _structure(obj, {"spec.instances": int, "spec.storage.size": str,
                                "spec.bootstrap.initdb.database": str, "spec.bootstrap.initdb.owner": str}, {
        "instances", "imageName", "imageCatalogRef", "imagePullPolicy", "postgresql", "bootstrap", "storage",
        "walStorage", "resources", "affinity", "topologySpreadConstraints", "primaryUpdateStrategy",
        "primaryUpdateMethod", "monitoring", "backup", "superuserSecret", "enableSuperuserAccess", "managed",
        "description", "inheritedMetadata", "startDelay", "stopDelay", "smartShutdownTimeout", "switchoverDelay",
        "failoverDelay", "maxSyncReplicas", "minSyncReplicas", "logLevel", "nodeMaintenanceWindow", "env",
        "envFrom", "certificates", "replica", "externalClusters", "priorityClassName", "schedulerName",
        "serviceAccountTemplate", "tablespaces", "projectedVolumeTemplate", "ephemeralVolumeSource",
        "ephemeralVolumesSizeLimit", "seccompProfile", "plugins", "probes", "podSecurityContext",
        "securityContext", "enablePDB", "postgresUID", "postgresGID", "livenessProbeTimeout"})
    parameters = _get(obj, "spec.postgresql.parameters") or {}
    yield from (f"spec.postgresql.parameters.{k} must be a string" for k, v in parameters.items()
                if not isinstance(v, str))


def _pod_monitor(obj: Obj) -> Iterator[str]:
    yield from _structure(obj, {"spec.selector": dict, "spec.podMetricsEndpoints": list}, {
        "jobLabel", "podTargetLabels", "podMetricsEndpoints", "selector", "namespaceSelector", "sampleLimit",
        "targetLimit", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit", "keepDroppedTargets",
        "attachMetadata", "scrapeProtocols", "scrapeClass", "fallbackScrapeProtocol", "bodySizeLimit",
        "selectorMechanism", "scrapeClassicHistograms", "nativeHistogramBucketLimit",
        "nativeHistogramMinBucketFactor", "convertClassicHistogramsToNHCB"})
    endpoints = _get(obj, "spec.podMetricsEndpoints") or []
    if isinstance(endpoints, list) and not endpoints:
        yield "spec.podMetricsEndpoints is empty"
    for i, endpoint in enumerate(endpoints if isinstance(endpoints, list) else []):
        if not isinstance(endpoint.get("port"), str) and not isinstance(endpoint.get("portNumber"), int):
            yield f"spec.podMetricsEndpoints[{i}] needs a port name (or portNumber)"
        for relabel in endpoint.get("relabelings", []):
            if relabel.get("action", "replace") == "replace" and not relabel.get("targetLabel"):
                yield f"spec.podMetricsEndpoints[{i}].relabelings: a replace needs a targetLabel"


def _service_monitor(obj: Obj) -> Iterator[str]:
    yield from _structure(obj, {"spec.selector": dict, "spec.endpoints": list}, {
        "jobLabel", "targetLabels", "podTargetLabels", "endpoints", "selector", "namespaceSelector",
        "sampleLimit", "targetLimit", "labelLimit", "labelNameLengthLimit", "labelValueLengthLimit",
        "keepDroppedTargets", "attachMetadata", "scrapeProtocols", "scrapeClass", "bodySizeLimit",
        "selectorMechanism", "fallbackScrapeProtocol"})


DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def _prometheus_rule(obj: Obj) -> Iterator[str]:
    yield from _structure(obj, {"spec.groups": list}, {"groups"})
    for group in _get(obj, "spec.groups") or []:
        if not isinstance(group.get("name"), str) or not isinstance(group.get("rules"), list):
            yield "spec.groups[]: every group needs a name and rules"
            continue
        for rule in group["rules"]:
            label = rule.get("alert") or rule.get("record") or "?"
            if ("alert" in rule) == ("record" in rule):
                yield f"group {group['name']}: rule {label} needs exactly one of alert and record"
            if not isinstance(rule.get("expr"), str) or not rule.get("expr", "").strip():
                yield f"group {group['name']}: rule {label} has no expr"
            if "for" in rule and not DURATION.match(str(rule["for"])):
                yield f"group {group['name']}: rule {label}: for {rule['for']!r} is not a duration"


def _rabbitmq_policy(obj: Obj) -> Iterator[str]:
    yield from _structure(obj, {"spec.name": str, "spec.pattern": str, "spec.definition": dict,
                                "spec.rabbitmqClusterReference.name": str},
                          {"name", "vhost", "pattern", "applyTo", "priority", "definition", "rabbitmqClusterReference"})
    if _get(obj, "spec.applyTo") not in (None, "queues", "exchanges", "all", "classic_queues", "quorum_queues",
                                         "streams"):
        yield f"spec.applyTo {_get(obj, 'spec.applyTo')!r} is not a policy target RabbitMQ knows"


def _object_store(obj: Obj) -> Iterator[str]:
    yield from _structure(obj, {"spec.configuration.destinationPath": str}, {
        "configuration", "retentionPolicy", "instanceSidecarConfiguration"})
    retention = _get(obj, "spec.retentionPolicy")
    if retention is not None and not re.fullmatch(r"\d+[dwm]", str(retention)):
        yield f"spec.retentionPolicy {retention!r} is not a number of days, weeks or months (30d)"


def _scheduled_backup(obj: Obj) -> Iterator[str]:
    yield from _structure(obj, {"spec.schedule": str, "spec.cluster.name": str}, {
        "schedule", "cluster", "method", "pluginConfiguration", "immediate", "suspend", "backupOwnerReference",
        "target", "online", "onlineConfiguration"})
    schedule = _get(obj, "spec.schedule")
    if isinstance(schedule, str) and len(schedule.split()) != 6:
        yield f"spec.schedule {schedule!r}: CloudNativePG takes six fields, seconds first"


def _scaled_object(obj: Obj) -> Iterator[str]:
    yield from _structure(obj, {"spec.scaleTargetRef.name": str, "spec.triggers": list}, {
        "scaleTargetRef", "minReplicaCount", "maxReplicaCount", "pollingInterval", "cooldownPeriod",
        "idleReplicaCount", "initialCooldownPeriod", "advanced", "triggers", "fallback"})
    for i, trigger in enumerate(_get(obj, "spec.triggers") or []):
        if not isinstance(trigger.get("type"), str) or not isinstance(trigger.get("metadata"), dict):
            yield f"spec.triggers[{i}] needs a type and metadata"
        elif any(not isinstance(v, str) for v in trigger["metadata"].values()):
            yield f"spec.triggers[{i}].metadata: every value must be a string"


def _certificate(obj: Obj) -> Iterator[str]:
    yield from _structure(obj, {"spec.secretName": str, "spec.issuerRef.name": str}, {
        "secretName", "secretTemplate", "commonName", "dnsNames", "uris", "ipAddresses", "emailAddresses",
        "duration", "renewBefore", "renewBeforePercentage", "privateKey", "usages", "issuerRef", "isCA", "subject",
        "keystores", "literalSubject", "revisionHistoryLimit", "additionalOutputFormats", "nameConstraints",
        "encodeUsagesInRequest", "otherNames", "signatureAlgorithm"})
    if not (_get(obj, "spec.dnsNames") or _get(obj, "spec.commonName") or _get(obj, "spec.uris")):
        yield "spec: names nothing (dnsNames, commonName or uris)"
    for usage in _get(obj, "spec.usages") or []:
        if usage not in CERTIFICATE_USAGES:
            yield f"spec.usages: {usage!r} is not a usage Kring's certificates need {sorted(CERTIFICATE_USAGES)}"


CUSTOM_RESOURCES: dict[tuple[str, str], Callable[[Obj], Iterator[str]]] = {
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): _rabbitmq_cluster,
    ("postgresql.cnpg.io/v1", "Cluster"): _cnpg_cluster,
    ("monitoring.coreos.com/v1", "PodMonitor"): _pod_monitor,
    ("monitoring.coreos.com/v1", "ServiceMonitor"): _service_monitor,
    ("monitoring.coreos.com/v1", "PrometheusRule"): _prometheus_rule,
    ("rabbitmq.com/v1beta1", "Policy"): _rabbitmq_policy,
    ("barmancloud.cnpg.io/v1", "ObjectStore"): _object_store,
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): _scheduled_backup,
    ("keda.sh/v1alpha1", "ScaledObject"): _scaled_object,
    ("cert-manager.io/v1", "Certificate"): _certificate,
}


# --- what the code reads -------------------------------------------------------------------------------------


@cache
def allowed_env() -> frozenset[str]:
    from services.common.config import SERVICES, Settings
    from services.console.settings import ConsoleSettings

    return frozenset({f"KRING_{name.upper()}" for name in (*Settings.model_fields, *ConsoleSettings.model_fields)}
                     | {f"KRING_{service.upper()}_DATABASE_URL" for service in SERVICES})


def console_settings(env: dict[str, str]) -> Any:
    """The ConsoleSettings ``kring console`` would read from this environment (a secret counts as set)."""
    from services.console.settings import ConsoleSettings

    values = {key[len("KRING_"):].lower(): ("(secret)" if value == FROM_A_SECRET else value)
              for key, value in env.items() if key[len("KRING_"):].lower() in ConsoleSettings.model_fields}
    return ConsoleSettings(**values)


def effective_settings(env: dict[str, str]) -> Any:
    """The Settings a process would read from this environment (the defaults for what it does not set)."""
    from services.common.config import Settings

    values = {name: field.default for name, field in Settings.model_fields.items()}
    values.update({key[len("KRING_"):].lower(): value for key, value in env.items()
                   if key in allowed_env() and key[len("KRING_"):].lower() in values
                   and value != FROM_A_SECRET})  # a secret's value is not in the manifests
    return Settings(**values)


@cache
def gateway_get_paths() -> frozenset[str]:
    from services.common.config import Settings
    from services.gateway.admin.app import create_app

    paths = create_app(Settings(), None).openapi()["paths"]
    return frozenset(path for path, operations in paths.items() if "get" in operations)


def parse_command(args: list[str]) -> tuple[str | None, str | None, str | None]:
    """(command, service, error) for a container's arguments to the ``kring`` entry point."""
    from services.cli import build_parser
    from services.common.config import available_services

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            parsed = build_parser().parse_args(args)
    except SystemExit:
        return None, None, f"`kring {' '.join(args)}` is not a kring command: {stderr.getvalue().strip()[-200:]}"
    service = getattr(parsed, "name", None) if parsed.command == "service" else None
    if service is not None and service not in available_services():
        return parsed.command, service, f"`kring service {service}`: there is no services/{service}/service.py"
    return parsed.command, service, None


def dockerfile_user() -> str | None:
    users = [line.split(None, 1)[1].strip() for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line.strip().upper().startswith("USER ")]
    return users[-1] if users else None


# --- consistency ---------------------------------------------------------------------------------------------


def pod_templates(objects: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    for obj in objects:
        if obj.get("kind") in WORKLOADS:
            yield obj, obj["spec"]["template"]


def containers(pod: Obj) -> list[Obj]:
    return [*pod["spec"].get("initContainers", []), *pod["spec"].get("containers", [])]


def is_kring(template: Obj) -> bool:
    return template.get("metadata", {}).get("labels", {}).get("app.kubernetes.io/name") == "kring"


def matches(selector: dict | None, labels: dict) -> bool:
    """Whether a LabelSelector selects pods with these labels ({} selects every pod, as in Kubernetes)."""
    if selector is None or "matchExpressions" in selector:
        return False  # Kring's manifests use matchLabels only; anything else deserves a look
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def consistency_problems(objects: list[Obj]) -> list[str]:
    found: list[str] = []
    by_kind: dict[str, list[Obj]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in by_kind.get("ConfigMap", [])}
    secrets = {o["metadata"]["name"]: set(o.get("data", {})) | set(o.get("stringData", {}))
               for o in by_kind.get("Secret", [])}
    provided = dict(HAND_MADE_SECRETS)
    provided.update({f"{o['metadata']['name']}-default-user": RABBITMQ_USER_KEYS
                     for o in by_kind.get("RabbitmqCluster", [])})
    provided.update({f"{o['metadata']['name']}-app": CNPG_APP_KEYS for o in by_kind.get("Cluster", [])})
    provided.update(secrets)
    hosts = {o["metadata"]["name"] for o in by_kind.get("Service", [])} | {
        o["metadata"]["name"] for o in by_kind.get("RabbitmqCluster", [])} | {
        f"{o['metadata']['name']}-rw" for o in by_kind.get("Cluster", [])}

    images: set[str] = set()
    processes: dict[str, list[str]] = {}
    kring_pods: list[tuple[Obj, Obj, str | None]] = []  # (workload, template, process)
    user = dockerfile_user()
    for workload, template in pod_templates(objects):
        if not is_kring(template):
            continue
        pod_process = None
        for container in containers(template):
            where = f"{ident(workload)} container {container['name']}"
            images.add(container.get("image", "(none)"))
            command, service, error = parse_command(container.get("args", []))
            if container.get("command"):
                found.append(f"{where}: sets command; the image's entrypoint is kring, give the subcommand as args")
            if error:
                found.append(f"{where}: {error}")
                continue
            process = service or command
            processes.setdefault(process, []).append(ident(workload))
            if command in LONG_RUNNING:
                pod_process = process
            env = _container_env(container, config_maps, provided, hosts, where, found)
            settings = effective_settings(env)
            if command == "console":
                _check_console(container, env, where, found)
            else:
                _check_ports_and_probes(container, command, process, settings, where, found)
            _check_container_hardening(template, container, settings, user, where, found)
            _check_tls_files(template, container, process, settings, by_kind, provided, where, found)
        kring_pods.append((workload, template, pod_process))

    if len(images) > 1:
        found.append(f"Kring runs from one image, but the manifests use {sorted(images)}")
    _check_coverage(processes, by_kind, found)
    _check_services(by_kind, kring_pods, found)
    _check_scaling(by_kind, found)
    _check_network_policies(by_kind, kring_pods, found)
    _check_pod_monitors(by_kind, kring_pods, found)
    _check_monitoring_content(by_kind, found)
    _check_queue_policies(by_kind, config_maps, found)
    _check_backups(by_kind, found)
    _check_scaled_objects(by_kind, kring_pods, found)
    return found


def _container_env(container: Obj, config_maps: dict, provided: dict, hosts: set[str], where: str,
                   found: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            if name not in config_maps:
                found.append(f"{where}: envFrom ConfigMap {name} is not in the manifests")
                continue
            for key in config_maps[name]:
                if key not in allowed_env():
                    found.append(f"{where}: ConfigMap {name} sets {key}, which Kring does not read")
            env.update(config_maps[name])
        else:
            found.append(f"{where}: envFrom {sorted(source)}: name each secret variable with secretKeyRef instead, "
                         "so the names can be checked")
    helpers = set()
    for var in container.get("env", []):
        name = var["name"]
        if "value" in var:
            env[name] = str(var["value"])
            helpers.update(re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(var["value"])) if name.startswith(
                "KRING_") else [])
        ref = var.get("valueFrom", {}).get("secretKeyRef")
        if ref is not None:
            env[name] = FROM_A_SECRET
            if ref["name"] not in provided:
                found.append(f"{where}: {name} reads secret {ref['name']}, which nothing creates "
                             "(no manifest, operator or README step)")
            elif ref["key"] not in provided[ref["name"]]:
                found.append(f"{where}: {name} reads key {ref['key']} of secret {ref['name']}, which has "
                             f"{sorted(provided[ref['name']])}")
    for var in container.get("env", []):
        name = var["name"]
        if name.startswith("KRING_") and name not in allowed_env():
            found.append(f"{where}: {name} is not a setting Kring reads (services/common/config.py)")
        elif not name.startswith("KRING_") and name not in helpers:
            found.append(f"{where}: {name} is neither a KRING_ setting nor used by one as $({name})")
    amqp = env.get("KRING_AMQP_URI", "")
    host = re.match(r"^amqps?://(?:[^@/]*@)?([^:/]+)", amqp)
    if host and host.group(1) not in hosts:
        found.append(f"{where}: KRING_AMQP_URI points at {host.group(1)}, which no Service or RabbitmqCluster "
                     "provides")
    return env


def _check_ports_and_probes(container: Obj, command: str | None, process: str | None, settings: Any, where: str,
                            found: list[str]) -> None:
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    if command not in LONG_RUNNING:
        if ports:
            found.append(f"{where}: `kring {command}` serves nothing, yet declares ports {ports}")
        return
    expected = {"metrics": settings.metrics_port_for(process)}
    if command == "gateway":
        expected.update(http=settings.http_port, grpc=settings.grpc_port)
    if ports != expected:
        found.append(f"{where}: container ports {ports} differ from what `kring {process}` listens on {expected}")
    if settings.bind_host not in ("0.0.0.0", "::"):
        found.append(f"{where}: KRING_BIND_HOST is {settings.bind_host}: probes and Prometheus reach the pod's IP, "
                     "so the process must listen on 0.0.0.0")
    for kind in ("livenessProbe", "readinessProbe"):
        if kind not in container:
            found.append(f"{where}: no {kind}")
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        probe = container.get(kind)
        if probe is None:
            continue
        if "httpGet" in probe:
            port = probe["httpGet"]["port"]
            number = ports.get(port) if isinstance(port, str) else port
            path = probe["httpGet"].get("path", "/")
            if number is None or number not in ports.values():
                found.append(f"{where}: {kind} port {port} is not a container port")
            elif command == "gateway" and number == settings.http_port:
                if path not in gateway_get_paths():
                    found.append(f"{where}: {kind} path {path} is not a GET route of the gateway")
            elif number == expected["metrics"]:
                if path != "/metrics":
                    found.append(f"{where}: {kind} path {path}: the metrics port serves /metrics")
            else:
                found.append(f"{where}: {kind} port {port} serves no HTTP")
        elif "grpc" in probe:
            if command != "gateway" or probe["grpc"]["port"] != settings.grpc_port:
                found.append(f"{where}: {kind} gRPC port {probe['grpc']['port']} is not the gateway's gRPC port")
        elif "tcpSocket" in probe:
            port = probe["tcpSocket"]["port"]
            if (ports.get(port) if isinstance(port, str) else port) not in ports.values():
                found.append(f"{where}: {kind} port {port} is not a container port")
    if command == "gateway":
        liveness = container.get("livenessProbe", {})
        if settings.grpc_tls_cert_file is not None:
            if liveness.get("httpGet", {}).get("path") != "/healthz":
                found.append(f"{where}: the gRPC port serves TLS, which kubelet's gRPC probe cannot speak: the "
                             "gateway's livenessProbe should be GET /healthz")
        elif "grpc" not in liveness:
            found.append(f"{where}: the gateway's livenessProbe should be the native gRPC probe")
        if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            found.append(f"{where}: the gateway's readinessProbe should be GET /readyz")


def _check_console(container: Obj, env: dict[str, str], where: str, found: list[str]) -> None:
    """The console serves its pages on KRING_CONSOLE_PORT (no metrics port), listens on the pod's IP, and is probed
    on its /healthz and /readyz."""
    try:
        console = console_settings(env)
    except ValueError as invalid:
        found.append(f"{where}: the console's settings are invalid: {str(invalid).splitlines()[-1].strip()}")
        return
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    if ports != {"http": console.console_port}:
        found.append(f"{where}: container ports {ports} differ from what `kring console` listens on "
                     f"{ {'http': console.console_port} }")
    if console.console_bind_host not in ("0.0.0.0", "::"):
        found.append(f"{where}: KRING_CONSOLE_BIND_HOST is {console.console_bind_host}: probes and the ingress "
                     "reach the pod's IP, so the console must listen on 0.0.0.0")
    for kind, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        probe = container.get(kind, {}).get("httpGet", {})
        port = probe.get("port")
        if (ports.get(port) if isinstance(port, str) else port) != console.console_port or probe.get("path") != path:
            found.append(f"{where}: the console's {kind} should be GET {path} on its http port")
    if not console.console_api_url.startswith("http://kring-gateway:"):
        found.append(f"{where}: KRING_CONSOLE_API_URL is {console.console_api_url}, not the gateway's Service")


def dev_sign_in_problems(objects: list[Obj]) -> list[str]:
    """Every console that would let anyone sign in as any member (KRING_CONSOLE_DEV_SIGN_IN true): for the
    production overlays, this must be empty."""
    found = []
    config_maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"}
    for workload, template in pod_templates(objects):
        for container in containers(template):
            if container.get("args", [None])[:1] != ["console"]:
                continue  # only the console reads the setting
            env: dict[str, str] = {}
            for source in container.get("envFrom", []):
                env.update(config_maps.get(source.get("configMapRef", {}).get("name", ""), {}))
            env.update({v["name"]: str(v["value"]) for v in container.get("env", []) if "value" in v})
            value = env.get("KRING_CONSOLE_DEV_SIGN_IN", "false").strip().lower()
            if value in ("1", "true", "yes", "on", "t", "y"):
                found.append(f"{ident(workload)} container {container['name']}: KRING_CONSOLE_DEV_SIGN_IN={value} "
                             "lets anyone sign in as any member")
    return found


def _check_container_hardening(template: Obj, container: Obj, settings: Any, user: str | None, where: str,
                               found: list[str]) -> None:
    resources = container.get("resources", {})
    for section in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if resource not in resources.get(section, {}):
                found.append(f"{where}: no {resource} {section[:-1]}")
    pod_security = template["spec"].get("securityContext", {})
    security = {**pod_security, **container.get("securityContext", {})}
    if security.get("runAsNonRoot") is not True:
        found.append(f"{where}: runAsNonRoot must be true")
    uid = str(security.get("runAsUser"))
    if user is None or uid != user.split(":")[0]:
        found.append(f"{where}: runAsUser {uid} differs from the Dockerfile's USER {user}")
    if security.get("allowPrivilegeEscalation") is not False:
        found.append(f"{where}: allowPrivilegeEscalation must be false")
    if security.get("readOnlyRootFilesystem") is True:
        mounts = [m["mountPath"].rstrip("/") for m in container.get("volumeMounts", [])]
        data_dir = str(settings.data_dir)
        if not any(data_dir == m or data_dir.startswith(m + "/") for m in mounts):
            found.append(f"{where}: KRING_DATA_DIR {data_dir} is on the read-only root filesystem")


def _check_tls_files(template: Obj, container: Obj, process: str | None, settings: Any, by_kind: dict[str, list[Obj]],
                     provided: dict[str, set[str]], where: str, found: list[str]) -> None:
    """Each certificate file the process reads is a key of a mounted Secret (a cert-manager Certificate's, or one
    made by hand) or ConfigMap (made by hand or in the manifests)."""
    certificates = {_get(o, "spec.secretName") for o in by_kind.get("Certificate", [])}
    config_maps = {o["metadata"]["name"]: set(o.get("data", {})) for o in by_kind.get("ConfigMap", [])}
    volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
    mounts = {m["mountPath"].rstrip("/"): m["name"] for m in container.get("volumeMounts", [])}
    for setting in TLS_FILES.get(process or "", ()):
        path = getattr(settings, setting)
        if path is None:
            continue
        variable = f"KRING_{setting.upper()}"
        directory, key = str(path.parent), path.name
        volume = volumes.get(mounts.get(directory, ""))
        if volume is None:
            found.append(f"{where}: {variable} is {path}, and no volume is mounted at {directory}")
        elif "secret" in volume:
            secret = volume["secret"]["secretName"]
            keys = CERT_MANAGER_KEYS if secret in certificates else provided.get(secret)
            if keys is None:
                found.append(f"{where}: {variable} reads secret {secret}, which no Certificate or README step makes")
            elif key not in keys:
                found.append(f"{where}: {variable} reads {key} of secret {secret}, which has {sorted(keys)}")
        elif "configMap" in volume:
            name = volume["configMap"]["name"]
            keys = config_maps.get(name, HAND_MADE_CONFIG_MAPS.get(name))
            if keys is None:
                found.append(f"{where}: {variable} reads ConfigMap {name}, which nothing makes")
            elif key not in keys:
                found.append(f"{where}: {variable} reads {key} of ConfigMap {name}, which has {sorted(keys)}")
        else:
            found.append(f"{where}: {variable} is on volume {volume['name']}, neither a Secret nor a ConfigMap")


def _check_coverage(processes: dict[str, list[str]], by_kind: dict[str, list[Obj]], found: list[str]) -> None:
    from services.common.config import available_processes

    for process in (*available_processes(), "console"):
        runs = [w for w in processes.get(process, []) if w.startswith("Deployment/")]
        if not runs:
            command = f"kring {process}" if process in ("gateway", "relay", "console") else f"kring service {process}"
            found.append(f"no Deployment runs `{command}`")
    jobs = [o for o in by_kind.get("Job", []) if is_kring(o["spec"]["template"])]
    order = [c.get("args", [None])[0] for job in jobs for c in containers(job["spec"]["template"])]
    if order[:2] != ["migrate", "declare"]:
        found.append(f"the migration Job should run `kring migrate` and then `kring declare`, runs {order}")


def _check_services(by_kind: dict[str, list[Obj]], kring_pods: list, found: list[str]) -> None:
    templates = [t for _, t in pod_templates([o for k in WORKLOADS for o in by_kind.get(k, [])])]
    for service in by_kind.get("Service", []):
        selector = service["spec"].get("selector")
        selected = [t for t in templates if selector and matches({"matchLabels": selector}, t["metadata"]["labels"])]
        if not selected:
            found.append(f"{ident(service)}: its selector matches no pod")
            continue
        names = {p.get("name") for t in selected for c in containers(t) for p in c.get("ports", [])}
        numbers = {p["containerPort"] for t in selected for c in containers(t) for p in c.get("ports", [])}
        for port in service["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            if target not in (names if isinstance(target, str) else numbers):
                found.append(f"{ident(service)}: targetPort {target} is not a port of its pods")


def _check_scaling(by_kind: dict[str, list[Obj]], found: list[str]) -> None:
    deployments = {o["metadata"]["name"]: o for o in by_kind.get("Deployment", [])}
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        target = deployments.get(hpa["spec"]["scaleTargetRef"]["name"])
        if target is None:
            found.append(f"{ident(hpa)}: scales {hpa['spec']['scaleTargetRef']['name']}, which does not exist")
        elif "replicas" in target["spec"]:
            found.append(f"{ident(target)}: sets replicas while {ident(hpa)} owns the count (a re-apply resets it)")
    for scaled in by_kind.get("ScaledObject", []):
        target = deployments.get(scaled["spec"]["scaleTargetRef"]["name"])
        if target is not None and "replicas" in target["spec"]:
            found.append(f"{ident(target)}: sets replicas while {ident(scaled)} owns the count")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        selected = [d for d in deployments.values()
                    if matches(pdb["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])]
        if not selected:
            found.append(f"{ident(pdb)}: selects no Deployment's pods")
        for deployment in selected:
            name = deployment["metadata"]["name"]
            hpas = [h["spec"].get("minReplicas", 1) for h in by_kind.get("HorizontalPodAutoscaler", [])
                    if h["spec"]["scaleTargetRef"]["name"] == name]
            hpas += [o["spec"].get("minReplicaCount", 0) for o in by_kind.get("ScaledObject", [])
                     if o["spec"]["scaleTargetRef"]["name"] == name]
            floor = hpas[0] if hpas else deployment["spec"].get("replicas", 1)
            if pdb["spec"].get("minAvailable", 0) >= floor:
                found.append(f"{ident(pdb)}: minAvailable {pdb['spec']['minAvailable']} with {floor} replica(s) "
                             "blocks every node drain")


def _check_network_policies(by_kind: dict[str, list[Obj]], kring_pods: list, found: list[str]) -> None:
    policies = by_kind.get("NetworkPolicy", [])
    for workload, template, process in kring_pods:
        labels = template["metadata"]["labels"]
        applying = [p for p in policies if matches(p["spec"]["podSelector"], labels)
                    and "Ingress" in p["spec"].get("policyTypes", ["Ingress"])]
        if not applying:
            found.append(f"{ident(workload)}: no NetworkPolicy restricts ingress to its pods")
        ports = {p.get("name"): p["containerPort"] for c in containers(template) for p in c.get("ports", [])}
        for policy in applying:
            for rule in policy["spec"].get("ingress", []):
                if not rule.get("from") and process not in OUTSIDE_FACING:
                    found.append(f"{ident(policy)}: lets anyone reach {ident(workload)}; only the gateway and the "
                                 "console take outside traffic")
                for port in rule.get("ports", []):
                    if process == "console" and port.get("port") == "metrics":
                        continue  # the scrape policy covers every Kring pod; the console has nothing to scrape
                    if isinstance(port.get("port"), str) and port["port"] not in ports and process is not None:
                        found.append(f"{ident(policy)}: port {port['port']} is not a port of {ident(workload)}")


def _check_pod_monitors(by_kind: dict[str, list[Obj]], kring_pods: list, found: list[str]) -> None:
    for monitor in by_kind.get("PodMonitor", []):
        if monitor["spec"].get("selector", {}).get("matchLabels", {}).get("app.kubernetes.io/name") != "kring":
            continue  # another system's metrics (CloudNativePG): _check_infrastructure_monitors
        endpoints = monitor["spec"].get("podMetricsEndpoints", [])
        for workload, template, process in kring_pods:
            if process is None or process == "console":  # the console serves no /metrics
                continue
            labels = template["metadata"]["labels"]
            if not matches(monitor["spec"]["selector"], labels):
                found.append(f"{ident(monitor)}: does not select {ident(workload)}, so it is not scraped")
                continue
            names = {p.get("name") for c in containers(template) for p in c.get("ports", [])}
            if not any(e.get("port") in names for e in endpoints):
                found.append(f"{ident(monitor)}: {ident(workload)} has no port named "
                             f"{[e.get('port') for e in endpoints]}")
            job = labels.get(monitor["spec"].get("jobLabel", ""), None)
            if job != "kring":
                found.append(f"{ident(monitor)}: {ident(workload)} would be scraped as job={job!r}; the dashboard "
                             "and the alerts expect job=\"kring\"")
        relabels = [r for e in endpoints for r in e.get("relabelings", [])]
        if not any(r.get("targetLabel") == "process" for r in relabels):
            found.append(f"{ident(monitor)}: no relabeling sets the `process` label the alerts use")


def _check_monitoring_content(by_kind: dict[str, list[Obj]], found: list[str]) -> None:
    if not by_kind.get("PodMonitor") and not by_kind.get("PrometheusRule"):
        return
    _check_infrastructure_monitors(by_kind, found)
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "rules.yml").read_text())["groups"]
    if not any(o["spec"].get("groups") == rules for o in by_kind.get("PrometheusRule", [])):
        found.append("no PrometheusRule carries the groups of deploy/prometheus/rules.yml")
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "kring-dashboard.json").read_text())
    shipped = [o for o in by_kind.get("ConfigMap", []) if o["metadata"].get("labels", {}).get("grafana_dashboard")]
    if not any(json.loads(value) == dashboard for o in shipped for value in o.get("data", {}).values()):
        found.append("no ConfigMap labelled grafana_dashboard carries deploy/grafana/kring-dashboard.json")


def _check_infrastructure_monitors(by_kind: dict[str, list[Obj]], found: list[str]) -> None:
    """RabbitMQ and PostgreSQL are scraped under the job names the alerts and the dashboard use, from the ports
    and paths their exporters serve."""
    rules = (ROOT / "deploy" / "prometheus" / "rules.yml").read_text()
    for cluster in by_kind.get("RabbitmqCluster", []):
        name = cluster["metadata"]["name"]
        monitors = [m for m in by_kind.get("ServiceMonitor", [])
                    if m["spec"]["selector"].get("matchLabels", {}).get("app.kubernetes.io/name") == name]
        paths = {(e.get("port"), e.get("path")) for m in monitors for e in m["spec"]["endpoints"]}
        families = {f for m in monitors for e in m["spec"]["endpoints"] for f in e.get("params", {}).get("family", [])}
        if ("prometheus", "/metrics/detailed") not in paths or not {"queue_coarse_metrics",
                                                                     "queue_consumer_count"} <= families:
            found.append(f"RabbitmqCluster/{name}: no ServiceMonitor scrapes /metrics/detailed on port prometheus "
                         "with the queue_coarse_metrics and queue_consumer_count families (per-queue depth and "
                         "consumers)")
        if f'job="{name}"' not in rules:
            found.append(f"RabbitmqCluster/{name}: its ServiceMonitor scrapes it as job={name!r}, which no alert uses")
    for cluster in by_kind.get("Cluster", []):
        name = cluster["metadata"]["name"]
        monitors = [m for m in by_kind.get("PodMonitor", [])
                    if m["spec"]["selector"].get("matchLabels", {}).get("cnpg.io/cluster") == name]
        if not any(e.get("port") == "metrics" for m in monitors for e in m["spec"]["podMetricsEndpoints"]):
            found.append(f"Cluster/{name}: no PodMonitor scrapes its instances' metrics port")
        elif not any(m["spec"].get("jobLabel") == "cnpg.io/cluster" for m in monitors):
            found.append(f"Cluster/{name}: its PodMonitor does not take job from cnpg.io/cluster; the alerts expect "
                         f"job={name!r}")


def _declare_args(by_kind: dict[str, list[Obj]]) -> list[str]:
    for job in by_kind.get("Job", []):
        for container in containers(job["spec"]["template"]):
            if container.get("args", [None])[0] == "declare":
                return container["args"]
    return []


def _check_queue_policies(by_kind: dict[str, list[Obj]], config_maps: dict, found: list[str]) -> None:
    """One owner for the queue policy: `kring declare` sets it, or Policy objects do and `kring declare --policies
    check` only checks them; and the objects say what the code would set for the configured delivery limit."""
    from services.common.topology import event_policies

    args = _declare_args(by_kind)
    checks_only = "--policies" in args and args[args.index("--policies") + 1:][:1] == ["check"]
    policies = by_kind.get("Policy", [])
    if policies and not checks_only:
        found.append("Policy objects set the queue policy and `kring declare` sets it too: give the migration Job "
                     "`declare --policies check`, so one owner keeps it")
    if checks_only and not policies:
        found.append("`kring declare --policies check` checks a queue policy that no Policy object sets")
    limit = int((config_maps.get("kring-config") or {}).get("KRING_EVENT_DELIVERY_LIMIT", 5))
    clusters = {o["metadata"]["name"] for o in by_kind.get("RabbitmqCluster", [])}
    for name, want in event_policies(limit).items() if policies else ():
        objs = [p for p in policies if p["spec"].get("name") == name]
        if not objs:
            found.append(f"no Policy object sets the queue policy {name}")
            continue
        spec = objs[0]["spec"]
        have = {"pattern": spec.get("pattern"), "apply-to": spec.get("applyTo"), "priority": spec.get("priority"),
                "definition": spec.get("definition")}
        for key, value in want.items():
            if have[key] != value:
                found.append(f"Policy/{objs[0]['metadata']['name']}: {key} is {have[key]!r}, but kring-config "
                             f"(KRING_EVENT_DELIVERY_LIMIT={limit}) means {value!r}")
        if spec.get("rabbitmqClusterReference", {}).get("name") not in clusters:
            found.append(f"Policy/{objs[0]['metadata']['name']}: its rabbitmqClusterReference names no "
                         "RabbitmqCluster")


def _check_backups(by_kind: dict[str, list[Obj]], found: list[str]) -> None:
    """Every CloudNativePG cluster archives its WAL to an ObjectStore that exists, and is backed up on a schedule."""
    stores = {o["metadata"]["name"]: o for o in by_kind.get("ObjectStore", [])}
    for cluster in by_kind.get("Cluster", []):
        name = cluster["metadata"]["name"]
        archivers = [p for p in cluster["spec"].get("plugins", []) if p.get("isWALArchiver")]
        if not archivers:
            found.append(f"Cluster/{name}: no plugin archives its WAL (spec.plugins with isWALArchiver): no "
                         "point-in-time restore is possible")
        for plugin in archivers:
            store = plugin.get("parameters", {}).get("barmanObjectName")
            if store not in stores:
                found.append(f"Cluster/{name}: archives WAL to ObjectStore {store}, which is not in the manifests")
            elif not stores[store]["spec"].get("retentionPolicy"):
                found.append(f"ObjectStore/{store}: no retentionPolicy: backups would pile up for ever")
        schedules = [b for b in by_kind.get("ScheduledBackup", []) if b["spec"]["cluster"]["name"] == name]
        if not schedules:
            found.append(f"Cluster/{name}: no ScheduledBackup takes base backups of it")
        for backup in schedules:
            if backup["spec"].get("method") == "plugin" and not any(
                    p["name"] == backup["spec"].get("pluginConfiguration", {}).get("name") for p in archivers):
                found.append(f"{ident(backup)}: backs up through a plugin the cluster does not use")


def _check_scaled_objects(by_kind: dict[str, list[Obj]], kring_pods: list, found: list[str]) -> None:
    """A ScaledObject is the only scaler of its Deployment, and its queue trigger counts exactly the queues of the
    service that Deployment runs, with credentials the pod has."""
    from services.common.topology import all_handler_queues

    queues = [q.name for q in all_handler_queues()]
    by_name = {w["metadata"]["name"]: (w, t, p) for w, t, p in kring_pods}
    hpas = {h["spec"]["scaleTargetRef"]["name"] for h in by_kind.get("HorizontalPodAutoscaler", [])}
    hosts = {o["metadata"]["name"] for o in by_kind.get("Service", [])} | {
        o["metadata"]["name"] for o in by_kind.get("RabbitmqCluster", [])}
    for scaled in by_kind.get("ScaledObject", []):
        target = scaled["spec"]["scaleTargetRef"]["name"]
        if target not in by_name:
            found.append(f"{ident(scaled)}: scales {target}, which is not a Kring Deployment")
            continue
        if target in hpas:
            found.append(f"{ident(scaled)}: {target} also has a HorizontalPodAutoscaler; the two would fight")
        _, template, process = by_name[target]
        env = {v["name"] for c in containers(template) for v in c.get("env", [])}
        for trigger in scaled["spec"]["triggers"]:
            if trigger["type"] != "rabbitmq":
                continue
            meta = trigger["metadata"]
            for key in ("usernameFromEnv", "passwordFromEnv"):
                if key in meta and meta[key] not in env:
                    found.append(f"{ident(scaled)}: {key} {meta[key]} is not a variable of {target}'s pod")
            host = re.match(r"^https?://(?:[^@/]*@)?([^:/.]+)", meta.get("host", ""))
            if host is None or host.group(1) not in hosts:
                found.append(f"{ident(scaled)}: host {meta.get('host')!r} is no RabbitMQ Service of the manifests")
            counted = sorted(q for q in queues if re.search(meta.get("queueName", ""), q)) \
                if meta.get("useRegex") == "true" else [meta.get("queueName")]
            own = sorted(q for q in queues if q.split("--", 1)[1].startswith(f"{process}."))
            if counted != own:
                extra, missing = sorted(set(counted) - set(own)), sorted(set(own) - set(counted))
                found.append(f"{ident(scaled)}: its queue trigger counts {len(counted)} queues, {process} consumes "
                             f"{len(own)} (not its own: {extra[:2]}; missed: {missing[:2]})")


def image_pin_problems(objects: list[Obj]) -> list[str]:
    """Every image a production overlay runs is pinned by digest: Kring's, and the operators' RabbitMQ and
    PostgreSQL (a tag can be moved to other content after it was tested)."""
    pinned = re.compile(r"@sha256:[0-9a-f]{64}$")
    found = []
    for workload, template in pod_templates(objects):
        for container in containers(template):
            if not pinned.search(container.get("image", "")):
                found.append(f"{ident(workload)} container {container['name']}: image {container.get('image')!r} "
                             "is not pinned by digest")
    for obj, path in [(o, "spec.image") for o in objects if o.get("kind") == "RabbitmqCluster"] + [
            (o, "spec.imageName") for o in objects if o.get("kind") == "Cluster"]:
        if not pinned.search(_get(obj, path) or ""):
            found.append(f"{ident(obj)}: {path} {_get(obj, path)!r} is not pinned by digest")
    return found
