"""Workload rules (Deployments and the charts haflow knows): compliant and non-compliant cases, budget arithmetic."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.config import Environment
from haflow.rules.engine import Status
from haflow.rules.stack import Unverifiable
from haflow.rules.workloads import evictable, plan_budget
from tests.rules.fragments import PREFECT_SERVER, Resources, chart, merge, messages, statuses, with_values

LABELS = {"app.kubernetes.io/name": "api"}
ZONE_SPREAD = {"topology_key": "topology.kubernetes.io/zone", "max_skew": 1, "when_unsatisfiable": "DoNotSchedule"}
CONTAINER = {
    "name": "api",
    "liveness_probe": {"http_get": {"path": "/health", "port": "8080"}},
    "readiness_probe": {"http_get": {"path": "/ready", "port": "8080"}},
    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
}


def deployment(*, replicas: str = "3", pdb: dict[str, str] | None = None, hpa_min: int | None = 3,
               spread: list[dict[str, Any]] | None = None, container: dict[str, Any] | None = None) -> Resources:
    resources: Resources = {
        "kubernetes_deployment_v1": {"api": {
            "metadata": {"name": "api", "namespace": "apps"},
            "spec": {
                "replicas": replicas,
                "selector": {"match_labels": LABELS},
                "template": {"metadata": {"labels": {**LABELS, "tier": "web"}}, "spec": {
                    "container": [container or CONTAINER],
                    "topology_spread_constraint": [ZONE_SPREAD] if spread is None else spread,
                }},
            },
        }},
        "kubernetes_pod_disruption_budget_v1": {"api": {
            "metadata": {"name": "api", "namespace": "apps"},
            "spec": {"selector": {"match_labels": LABELS}, **(pdb if pdb is not None else {"min_available": "2"})},
        }},
    }
    if pdb == {}:
        del resources["kubernetes_pod_disruption_budget_v1"]
    if hpa_min is not None:
        resources["kubernetes_horizontal_pod_autoscaler_v2"] = {"api": {
            "metadata": {"name": "api", "namespace": "apps"},
            "spec": {"min_replicas": hpa_min, "max_replicas": 9,
                     "scale_target_ref": {"kind": "Deployment", "name": "api", "api_version": "apps/v1"}},
        }}
    return resources


ZONE_SPREAD_VALUES = [{"topologyKey": "topology.kubernetes.io/zone", "maxSkew": 1}]
INGRESS = {"controller": {"replicaCount": 3, "minAvailable": 2,
                          "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 9},
                          "topologySpreadConstraints": ZONE_SPREAD_VALUES}}
SERVER_PDB: Resources = {"kubernetes_pod_disruption_budget_v1": {"server": {
    "metadata": {"name": "server", "namespace": "prefect-server"},
    "spec": {"min_available": "2", "selector": {"match_labels": {
        "app.kubernetes.io/name": "prefect-server", "app.kubernetes.io/instance": "prefect-server"}}},
}}}


@pytest.mark.parametrize(
    ("rule_id", "compliant", "non_compliant", "expected"),
    [
        ("HA-WL-001", deployment(), deployment(replicas="1", hpa_min=None, pdb={"max_unavailable": "1"}),
         "api: replicas is 1"),
        ("HA-WL-001", deployment(), deployment(hpa_min=1), "may scale down to 1"),
        ("HA-WL-002", deployment(), deployment(pdb={}), "no PodDisruptionBudget selects its pods"),
        ("HA-WL-002", deployment(), deployment(pdb={"min_available": "3"}, hpa_min=4), "lets no pod be evicted"),
        ("HA-WL-002", deployment(), deployment(pdb={"max_unavailable": "100%"}), "evict every pod"),
        ("HA-WL-003", deployment(), deployment(replicas="4", pdb={"min_available": "2"}, hpa_min=2),
         "at the autoscaler's minimum of 2 pods, minAvailable 2"),
        ("HA-WL-004", deployment(), deployment(container={**CONTAINER, "readiness_probe": None}),
         "has no readiness probe"),
        ("HA-WL-005", deployment(), deployment(spread=[]), "nothing spreads its pods"),
        ("HA-WL-006", deployment(), deployment(container={**CONTAINER, "resources": {}}), "requests no cpu or memory"),
        ("HA-WL-001", chart("ingress-nginx", INGRESS),
         chart("ingress-nginx", {"controller": {**INGRESS["controller"], "replicaCount": 1,
                                                "autoscaling": {"enabled": False}}}),
         "ingress-nginx controller: replicas is 1"),
        ("HA-WL-002", chart("ingress-nginx", INGRESS),
         chart("ingress-nginx", with_values(INGRESS, "controller.minAvailable", 3)), "minAvailable 3 with 3"),
        ("HA-WL-004", chart("ingress-nginx", INGRESS),
         chart("ingress-nginx", with_values(INGRESS, "controller.readinessProbe", None)), "no readiness probe"),
        ("HA-WL-005", chart("ingress-nginx", INGRESS),
         chart("ingress-nginx", with_values(INGRESS, "controller.topologySpreadConstraints", [])),
         "nothing spreads its pods"),
        ("HA-WL-002", merge(chart("prefect-server", PREFECT_SERVER), SERVER_PDB), chart("prefect-server", PREFECT_SERVER),
         "prefect-server server: no PodDisruptionBudget"),
    ],
)
def test_workload_rule(rule_id: str, compliant: Resources, non_compliant: Resources, expected: str,
                       environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    assert statuses(rule_id, compliant, env) <= {Status.COMPLIANT, Status.NOT_APPLICABLE}
    assert Status.COMPLIANT in statuses(rule_id, compliant, env)
    found = messages(rule_id, non_compliant, env)
    assert any(expected in message for message in found), found


def test_zone_anti_affinity_counts_as_zone_spread(environments: dict[str, Environment]) -> None:
    resources = deployment(spread=[])
    pod = resources["kubernetes_deployment_v1"]["api"]["spec"]["template"]["spec"]
    pod["affinity"] = {"pod_anti_affinity": {"preferred_during_scheduling_ignored_during_execution": [
        {"weight": 100, "pod_affinity_term": {"topology_key": "topology.kubernetes.io/zone"}}]}}
    assert statuses("HA-WL-005", resources, environments["prod"]) == {Status.COMPLIANT}


def test_charts_haflow_does_not_know_are_not_applicable(environments: dict[str, Environment]) -> None:
    assert statuses("HA-WL-001", chart("metrics-server", {}), environments["prod"]) == {Status.NOT_APPLICABLE}


@pytest.mark.parametrize(
    ("min_available", "max_unavailable", "pods", "allowed"),
    [("2", None, 3, 1), ("50%", None, 3, 1), (None, "1", 3, 1), (None, "34%", 3, 2), (3, None, 3, 0)],
)
def test_plan_budgets_read_the_providers_strings(min_available: Any, max_unavailable: Any, pods: int,
                                                 allowed: int) -> None:
    assert evictable(plan_budget(min_available, max_unavailable), pods) == allowed


def test_a_budget_that_is_neither_count_nor_percentage_cannot_be_verified() -> None:
    with pytest.raises(Unverifiable, match="'two' is neither a count nor a percentage"):
        evictable(plan_budget("two", None), 3)
