"""Write prometheus-rule.yaml (a PrometheusRule for the Prometheus Operator) from rules.yml.

rules.yml stays the one place to edit: promtool checks and unit-tests it as a plain rule file, and
tests/ops fails when prometheus-rule.yaml no longer carries the same groups. Run after editing rules.yml:

    python deploy/prometheus/sync_prometheus_rule.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
RULES = HERE / "rules.yml"
TARGET = HERE / "prometheus-rule.yaml"
HEADER = "# Generated from rules.yml by sync_prometheus_rule.py: edit rules.yml, then run that script.\n"


class _BlockStyleDumper(yaml.SafeDumper):
    """Multi-line strings (PromQL expressions) as literal blocks, the way a person writes them."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockStyleDumper.add_representer(str, _str)


def prometheus_rule(groups: list) -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "kring",
            "labels": {"app.kubernetes.io/name": "kring", "app.kubernetes.io/part-of": "kring"},
        },
        "spec": {"groups": groups},
    }


def render() -> str:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return HEADER + yaml.dump(prometheus_rule(groups), Dumper=_BlockStyleDumper, sort_keys=False, width=120)


def main() -> int:
    TARGET.write_text(render())
    print(f"wrote {TARGET.relative_to(Path.cwd()) if TARGET.is_relative_to(Path.cwd()) else TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
