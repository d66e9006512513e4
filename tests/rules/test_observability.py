"""Observability rules (the kube-prometheus-stack release): compliant and non-compliant cases, and the values
haflow synthesizes for every environment."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.config import Environment
from haflow.constructs.observability import AlertDelivery, kube_prometheus_stack_values
from haflow.rules.engine import Status
from haflow.rules.observability import resolve_receiver
from tests.rules.fragments import Resources, assert_rule, chart, statuses, with_values

CHART = "kube-prometheus-stack"
DELIVERY = AlertDelivery(environment="prod", region="us-east-1", role_arn="arn:aws:iam::123456789012:role/am",
                         topic_arn="arn:aws:sns:us-east-1:123456789012:prod-alerts",
                         heartbeat_topic_arn="arn:aws:sns:us-east-1:123456789012:prod-alerts-heartbeat")


def haflow_values(env: Environment) -> dict[str, Any]:
    return kube_prometheus_stack_values(env.observability, env.prefect.flow_run_namespace, "gp3", DELIVERY)


def monitoring(values: dict[str, Any]) -> Resources:
    return chart(CHART, values)


@pytest.mark.parametrize(
    ("rule_id", "change", "expected"),
    [
        ("HA-OBS-001", lambda v: {k: x for k, x in v.items() if k != "alertmanager"},
         "a critical alert routes to receiver 'null', which notifies no one"),
        ("HA-OBS-001", lambda v: with_values(v, "alertmanager.config.route.receiver", "null"),
         "a warning alert routes to receiver 'null'"),
        ("HA-OBS-001", lambda v: with_values(v, "alertmanager.enabled", False), "alertmanager.enabled is false"),
        # Receivers set, route left to the chart: Helm keeps the chart's route to null.
        ("HA-OBS-001", lambda v: with_values(v, "alertmanager.config", {"receivers": v["alertmanager"]["config"]
                                                                        ["receivers"]}),
         "a critical alert routes to receiver 'null'"),
        ("HA-OBS-002", lambda v: with_values(v, "alertmanager.config.route.routes",
                                             [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}]),
         "the Watchdog routes to receiver 'null', which notifies no one"),
        ("HA-OBS-002", lambda v: with_values(v, "defaultRules.rules.general", False),
         "the chart's general rules (which hold the Watchdog) are off"),
        ("HA-OBS-003", lambda v: with_values(v, "kubeScheduler", {}), "kubeScheduler.enabled is true"),
        ("HA-OBS-003", lambda v: with_values(v, "kubeEtcd.enabled", True), "kubeEtcd.enabled is true"),
    ],
)
def test_observability_rule(rule_id: str, change: Any, expected: str, environments: dict[str, Environment]) -> None:
    values = haflow_values(environments["prod"])
    assert_rule(rule_id, monitoring(values), monitoring(change(values)), expected, environments["prod"])


@pytest.mark.parametrize("rule_id", ["HA-OBS-001", "HA-OBS-002", "HA-OBS-003"])
def test_every_environment_complies(rule_id: str, environments: dict[str, Environment]) -> None:
    for env in environments.values():
        assert statuses(rule_id, monitoring(haflow_values(env)), env) == {Status.COMPLIANT}, env.name


def test_other_charts_are_not_subjects(environments: dict[str, Environment]) -> None:
    assert statuses("HA-OBS-001", chart("ingress-nginx", {}), environments["prod"]) == {Status.NOT_APPLICABLE}


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [({"severity": "critical"}, "critical"), ({"severity": "warning"}, "warning"), ({"severity": "info"}, "null"),
     ({"alertname": "Watchdog", "severity": "none"}, "heartbeat"), ({}, "warning")],
)
def test_routing_is_resolved_like_alertmanager(labels: dict[str, str], receiver: str,
                                              environments: dict[str, Environment]) -> None:
    """The same answers amtool gives on the rendered configuration (tests/alerting/test_alertmanager.py)."""
    route = haflow_values(environments["prod"])["alertmanager"]["config"]["route"]
    assert resolve_receiver(route, labels) == receiver
