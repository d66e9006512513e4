"""Observability rules (the kube-prometheus-stack release): compliant and non-compliant cases, and the values
haflow synthesizes for every environment."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from haflow.config import Environment
from haflow.constructs.observability import AlertDelivery, kube_prometheus_stack_values
from haflow.rules.engine import Status
from haflow.rules.observability import resolve_receiver
from haflow.slo import slo_rules
from tests.rules.fragments import Resources, assert_rule, chart, statuses, with_values

CHART = "kube-prometheus-stack"
DELIVERY = AlertDelivery(environment="prod", region="us-east-1", role_arn="arn:aws:iam::123456789012:role/am",
                         topic_arn="arn:aws:sns:us-east-1:123456789012:prod-alerts",
                         heartbeat_topic_arn="arn:aws:sns:us-east-1:123456789012:prod-alerts-heartbeat")


def haflow_values(env: Environment) -> dict[str, Any]:
    return kube_prometheus_stack_values(env.observability, env.prefect.flow_run_namespace, "gp3", DELIVERY,
                                        env.slo.availability)


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


def _slo_alerts(values: dict[str, Any]) -> list[dict[str, Any]]:
    groups = values["additionalPrometheusRulesMap"]["haflow-slo"]["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _without_slo_rules(values: dict[str, Any]) -> dict[str, Any]:
    values = copy.deepcopy(values)
    del values["additionalPrometheusRulesMap"]["haflow-slo"]
    return values


def _page_as_ticket(values: dict[str, Any]) -> dict[str, Any]:
    values = copy.deepcopy(values)
    _slo_alerts(values)[0]["labels"]["severity"] = "warning"
    return values


def _other_objective(values: dict[str, Any]) -> dict[str, Any]:
    """The burn-rate alerts of a 99.9 % SLO in an environment that declares another one."""
    values = copy.deepcopy(values)
    values["additionalPrometheusRulesMap"]["haflow-slo"] = slo_rules(99.9)
    return values


def _short_window_dropped(values: dict[str, Any]) -> dict[str, Any]:
    values = copy.deepcopy(values)
    alert = _slo_alerts(values)[1]
    alert["expr"] = alert["expr"].split(" and ")[0]
    return values


@pytest.mark.parametrize(
    ("rule_id", "change", "expected"),
    [
        ("HA-OBS-010", _without_slo_rules, "no recording rule slo:sli_error:ratio_rate5m"),
        ("HA-OBS-010", _without_slo_rules, "no ModelApiErrorBudgetBurn alert for the window pair 1h/5m above 14.4x"),
        ("HA-OBS-010", _page_as_ticket, "need severity 'critical'"),
        ("HA-OBS-010", _other_objective, "the 1h window is not compared with (14.4 * 0.0015), the budget of "
                                         "slo.availability 99.85"),
        ("HA-OBS-010", _short_window_dropped, "6h/30m above 6x (critical): the 30m window is not compared"),
        ("HA-OBS-011", lambda v: with_values(v, "prometheus.prometheusSpec.retention", "3d"),
         "retention 3d is shorter than the longest SLO window 3d plus 1d of margin (4d)"),
        ("HA-OBS-011", lambda v: with_values(v, "prometheus.prometheusSpec.retention", "72h"), "retention 72h"),
        ("HA-OBS-011", lambda v: with_values(v, "prometheus.prometheusSpec.retention", "ten days"),
         "'ten days' is not a Prometheus duration"),
    ],
)
def test_slo_rule(rule_id: str, change: Any, expected: str, environments: dict[str, Environment]) -> None:
    values = haflow_values(environments["prod"])
    assert_rule(rule_id, monitoring(values), monitoring(change(values)), expected, environments["prod"])


def test_retention_left_to_the_chart_covers_the_windows(environments: dict[str, Environment]) -> None:
    """The chart's default retention (10d) is long enough."""
    values = copy.deepcopy(haflow_values(environments["prod"]))
    del values["prometheus"]["prometheusSpec"]["retention"]
    assert statuses("HA-OBS-011", monitoring(values), environments["prod"]) == {Status.COMPLIANT}


@pytest.mark.parametrize("rule_id", ["HA-OBS-001", "HA-OBS-002", "HA-OBS-003", "HA-OBS-010", "HA-OBS-011"])
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
