"""The alerting rules (deploy/prometheus/rules.yml): promtool checks them and runs their unit tests
(rules_test.yml); they use only metrics the code defines; Kubernetes gets the same rules."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.ops.metric_names import known_names, metric_names

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules.yml"
RUNBOOK = ROOT / "docs" / "runbook.md"
REQUIRED_ALERTS = {
    "KringOutboxBacklogGrowing", "KringDeadLetters", "KringFederationDeliveryLagHigh", "KringRelayPeerDisconnected",
    "KringHttpErrorRateHigh", "KringRpcErrorRateHigh", "KringProcessDown",
    # the broker and the database (issue 15)
    "KringRabbitMQDown", "KringEventQueueBacklog", "KringEventQueueWithoutConsumers", "KringEventQueueUnackedHigh",
    "KringPostgresDown", "KringPostgresReplicationLagHigh", "KringPostgresConnectionsNearLimit",
    "KringPostgresWalArchivingFailing", "KringPostgresBackupStale",
}
SEVERITIES = {"critical", "warning", "info"}


def promtool_run(promtool: str, *args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def anchors(markdown: str) -> set[str]:
    """The anchors of a Markdown file's headings, as GitHub and GitLab make them."""
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, re.MULTILINE):
        found.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return found


def runbook_problems(groups: list[dict], runbook: str) -> list[str]:
    found = []
    sections = anchors(runbook)
    for rule in (r for g in groups for r in g["rules"] if "alert" in r):
        url = rule.get("annotations", {}).get("runbook_url", "")
        path, _, anchor = url.partition("#")
        if path != "docs/runbook.md" or not anchor:
            found.append(f"{rule['alert']}: runbook_url {url!r} does not name a section of docs/runbook.md")
        elif anchor not in sections:
            found.append(f"{rule['alert']}: docs/runbook.md has no section #{anchor}")
    return found


def rule_problems(groups: list[dict]) -> list[str]:
    known = known_names()
    found = []
    alerts = set()
    for group in groups:
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            alerts.add(rule.get("alert"))
            found.extend(f"{name}: {metric} is not a metric the code defines"
                         for metric in sorted(metric_names(rule["expr"]) - known))
            if "alert" in rule:
                if rule.get("labels", {}).get("severity") not in SEVERITIES:
                    found.append(f"{name}: severity label must be one of {sorted(SEVERITIES)}")
                if not {"summary", "description"} <= rule.get("annotations", {}).keys():
                    found.append(f"{name}: needs a summary and a description")
    found.extend(f"missing alert: {name}" for name in sorted(REQUIRED_ALERTS - alerts))
    return found


def test_promtool_check_rules_passes(promtool):
    result = promtool_run(promtool, "check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_unit_tests_pass_outbox_and_delivery_lag_alerts_firing_and_not_firing(promtool):
    tests = yaml.safe_load((PROMETHEUS / "rules_test.yml").read_text())["tests"]
    covered = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    quiet = {case["alertname"] for test in tests for case in test["alert_rule_test"] if not case.get("exp_alerts")}
    firing = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case.get("exp_alerts")}
    assert {"KringOutboxBacklogGrowing", "KringFederationDeliveryLagHigh", "KringDeadLetters",
            "KringEventQueueWithoutConsumers", "KringRabbitMQDown"} <= firing & quiet
    assert REQUIRED_ALERTS <= firing
    assert REQUIRED_ALERTS <= covered
    result = promtool_run(promtool, "test", "rules", "rules_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rules_use_only_metrics_the_code_defines_and_carry_severity_and_text():
    assert rule_problems(yaml.safe_load(RULES.read_text())["groups"]) == []


def test_a_rule_on_a_renamed_metric_is_reported():
    groups = yaml.safe_load(RULES.read_text().replace("kring_outbox_oldest_pending_age_seconds",
                                                      "kring_outbox_oldest_age_seconds"))["groups"]
    assert "KringOutboxBacklogGrowing: kring_outbox_oldest_age_seconds is not a metric the code defines" \
        in rule_problems(groups)


def test_a_broken_rule_file_fails_promtool_check_rules(promtool, tmp_path):
    broken = tmp_path / "rules.yml"
    broken.write_text(RULES.read_text().replace("max by (service) (kring_outbox_oldest_pending_age_seconds) > 900",
                                                "max by (service) (kring_outbox_oldest_pending_age_seconds > 900"))
    result = promtool_run(promtool, "check", "rules", str(broken), cwd=tmp_path)
    assert result.returncode != 0
    assert "unclosed left parenthesis" in result.stdout + result.stderr


def test_a_rule_change_that_breaks_its_unit_test_fails_promtool_test_rules(promtool, tmp_path):
    (tmp_path / "rules.yml").write_text(RULES.read_text().replace(
        "max by (service) (kring_outbox_oldest_pending_age_seconds) > 120", "max by (service) "
        "(kring_outbox_oldest_pending_age_seconds) > 3600"))  # the backlog alert would come an hour late
    (tmp_path / "rules_test.yml").write_text((PROMETHEUS / "rules_test.yml").read_text())
    result = promtool_run(promtool, "test", "rules", "rules_test.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert "alertname: KringOutboxBacklogGrowing" in result.stdout + result.stderr


def test_the_prometheus_rule_for_kubernetes_carries_exactly_the_groups_of_rules_yml():
    import importlib.util

    spec = importlib.util.spec_from_file_location("sync_prometheus_rule", PROMETHEUS / "sync_prometheus_rule.py")
    sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync)
    assert (PROMETHEUS / "prometheus-rule.yaml").read_text() == sync.render(), (
        "deploy/prometheus/prometheus-rule.yaml is out of date: run python deploy/prometheus/sync_prometheus_rule.py")
    rule = yaml.safe_load((PROMETHEUS / "prometheus-rule.yaml").read_text())
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]


def test_the_local_prometheus_configuration_is_valid_and_scrapes_every_process(promtool):
    from services.common.config import METRICS_PORT_OFFSETS, Settings, available_processes

    config = yaml.safe_load((PROMETHEUS / "local.yml").read_text())
    result = promtool_run(promtool, "check", "config", "local.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    (job,) = config["scrape_configs"]
    targets = {group["labels"]["process"]: group["targets"] for group in job["static_configs"]}
    base = Settings.model_fields["metrics_port"].default
    expected = {process: [f"127.0.0.1:{base + METRICS_PORT_OFFSETS[process]}"]
                for process in available_processes()}
    assert (job["job_name"], targets) == ("kring", expected)


def test_every_alert_links_to_its_section_of_the_runbook():
    assert runbook_problems(yaml.safe_load(RULES.read_text())["groups"], RUNBOOK.read_text()) == []


def test_an_alert_without_a_runbook_link_or_with_a_dead_anchor_is_reported():
    groups = yaml.safe_load(RULES.read_text())["groups"]
    del groups[0]["rules"][0]["annotations"]["runbook_url"]
    groups[0]["rules"][1]["annotations"]["runbook_url"] = "docs/runbook.md#kringnotargetz"
    problems = runbook_problems(groups, RUNBOOK.read_text())
    assert "KringProcessDown: runbook_url '' does not name a section of docs/runbook.md" in problems
    assert "KringNoTargets: docs/runbook.md has no section #kringnotargetz" in problems
    runbook = RUNBOOK.read_text().replace("## KringOutboxStuck\n", "## Outbox stuck\n")
    assert "KringOutboxStuck: docs/runbook.md has no section #kringoutboxstuck" in runbook_problems(
        yaml.safe_load(RULES.read_text())["groups"], runbook)


def test_the_dead_letter_alert_counts_what_the_broker_dead_letters_itself():
    """Messages past the delivery limit are dead-lettered by RabbitMQ, not by a handler: only the broker's count of
    the kring.dead-letter queue sees them (rules_test.yml shows it firing on that alone)."""
    rule = next(r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]
                if r.get("alert") == "KringDeadLetters")
    assert 'rabbitmq_detailed_queue_messages{queue="kring.dead-letter"}' in rule["expr"]


def test_a_rule_on_a_metric_the_broker_does_not_serve_is_reported():
    groups = yaml.safe_load(RULES.read_text().replace("rabbitmq_detailed_queue_consumers",
                                                      "rabbitmq_detailed_queue_consumer_count"))["groups"]
    assert ("KringEventQueueWithoutConsumers: rabbitmq_detailed_queue_consumer_count is not a metric the code "
            "defines") in rule_problems(groups)
