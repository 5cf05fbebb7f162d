"""Tracing in the Kubernetes manifests: off as shipped, and the production overlay's commented example, once
uncommented, turns it on in every Kring process with the standard OpenTelemetry variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common import tracing
from tests.ops.manifests import OVERLAYS, render

EXAMPLE = "      # - OTEL_"


def kring_config(objects: list[dict]) -> dict[str, str]:
    [found] = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("kring-config")]
    return found["data"]


def kring_containers_reading(objects: list[dict], config_name: str) -> list[str]:
    reading = []
    for obj in objects:
        template = obj.get("spec", {}).get("template", {})
        for c in template.get("spec", {}).get("containers", []):
            if any(ref.get("configMapRef", {}).get("name") == config_name for ref in c.get("envFrom", [])):
                reading.append(f"{obj['kind']}/{obj['metadata']['name']}")
    return reading


@pytest.fixture(scope="module")
def uncommented(kubectl) -> list[dict]:
    def uncomment(deploy: Path) -> None:
        kustomization = deploy / "k8s" / "overlays" / "production" / "kustomization.yaml"
        text = kustomization.read_text()
        assert EXAMPLE in text, "the production overlay's tracing example is gone"
        kustomization.write_text(text.replace(EXAMPLE, "      - OTEL_"))

    return render("production", kubectl, edit=uncomment)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_overlay_traces_unless_a_collector_is_configured(kubectl, overlay):
    config = kring_config(render(overlay, kubectl))
    assert not [key for key in config if key.startswith("OTEL_")]
    assert not tracing.wanted(config.get("KRING_TRACING", "auto"), config)


def test_the_production_tracing_example_uncommented_turns_tracing_on_in_every_kring_process(uncommented):
    config = kring_config(uncommented)
    endpoint = config["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert endpoint.startswith("http://") and endpoint.endswith(":4318"), \
        "OTLP over HTTP (the services run under eventlet, where grpcio hangs)"
    assert config["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert 0 < float(config["OTEL_TRACES_SAMPLER_ARG"]) <= 1
    assert tracing.wanted(config.get("KRING_TRACING", "auto"), config)
    name = next(o["metadata"]["name"] for o in uncommented if o["kind"] == "ConfigMap"
                and o["metadata"]["name"].startswith("kring-config"))
    readers = kring_containers_reading(uncommented, name)
    for process in ("gateway", "members", "networks", "sessions", "federation", "relay"):
        assert any(process in r for r in readers), f"{process} does not read the tracing settings: {readers}"
