"""The Kubernetes semantics the rules and the report share: selectors, budgets, zone spread, scheduling."""

from __future__ import annotations

from typing import Any

import pytest

from haflow import plan
from haflow.contract import ZONE_TOPOLOGY_KEY
from haflow.kube import Budget, cannot_schedule, node_labels, node_taints, selects, spreads_over_zones, tolerates

LABELS = {"app": "api", "tier": "web", "zone-count": "3"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"matchLabels": {"app": "api"}}, True),
        ({"matchLabels": {"app": "worker"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        ({"matchExpressions": [{"key": "zone-count", "operator": "Gt", "values": ["2"]}]}, True),
        ({"matchLabels": {"app": "api"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]},
         False),
        ({}, False),  # an empty selector selects nothing here (a PDB or spread that names no pods)
        (None, False),
    ],
)
def test_label_selectors_match_as_the_api_defines_them(selector: dict[str, Any] | None, expected: bool) -> None:
    assert selects(selector, LABELS) is expected


@pytest.mark.parametrize(
    ("budget", "pods", "evictable"),
    [(Budget(min_available=2), 3, 1), (Budget(min_available="50%"), 3, 1), (Budget(max_unavailable=1), 3, 1),
     (Budget(max_unavailable="34%"), 3, 2), (Budget(min_available=3), 3, 0), (Budget(max_unavailable=5), 3, 3),
     (Budget(), 3, 3)],
)
def test_disruption_budget_arithmetic_rounds_like_kubernetes(budget: Budget, pods: int, evictable: int) -> None:
    assert budget.evictable(pods) == evictable


def test_a_string_count_is_neither_a_count_nor_a_percentage() -> None:
    # The API server accepts an IntOrString budget string only as a percentage.
    assert Budget(max_unavailable="1").evictable(3) is None


ZONE_TERM = {"topologyKey": ZONE_TOPOLOGY_KEY, "labelSelector": {"matchLabels": {"app": "api"}}}


@pytest.mark.parametrize(
    ("constraints", "affinity", "labels", "expected"),
    [
        ([ZONE_TERM], None, LABELS, True),
        ([{**ZONE_TERM, "labelSelector": {"matchLabels": {"app": "other"}}}], None, LABELS, False),
        ([{**ZONE_TERM, "topologyKey": "kubernetes.io/hostname"}], None, None, False),
        ([{"topology_key": ZONE_TOPOLOGY_KEY}], None, None, True),  # the kubernetes provider's spelling
        ([], {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [ZONE_TERM]}}, LABELS, True),
        ([], {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": ZONE_TERM}]}}, LABELS, True),
        ([], {"pod_anti_affinity": {"preferred_during_scheduling_ignored_during_execution": [
            {"pod_affinity_term": {"topology_key": ZONE_TOPOLOGY_KEY}}]}}, None, True),
        ([], {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [ZONE_TERM]}}, LABELS, False),
        ("${var.spread}", None, None, False),
    ],
)
def test_zone_spread(constraints: Any, affinity: Any, labels: dict[str, str] | None, expected: bool) -> None:
    assert spreads_over_zones(constraints, affinity, labels) is expected


GPU_GROUP = plan.Resource("aws_eks_node_group", "gpu", {
    "ami_type": "AL2023_x86_64_NVIDIA", "node_group_name": "gpu", "instance_types": ["g5.xlarge"],
    "labels": {"nvidia.com/gpu.present": "true"},
    "taint": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
})


def test_a_node_groups_labels_and_taints_are_what_its_nodes_carry() -> None:
    labels = node_labels(GPU_GROUP)
    assert labels["eks.amazonaws.com/nodegroup"] == "gpu" and labels["kubernetes.io/arch"] == "amd64"
    assert labels["node.kubernetes.io/instance-type"] == "g5.xlarge"
    assert node_taints(GPU_GROUP) == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "nvidia.com/gpu", "operator": "Exists"}, True),
        ({"operator": "Exists"}, True),
        ({"key": "nvidia.com/gpu", "value": "true"}, True),
        ({"key": "nvidia.com/gpu", "value": "false"}, False),
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}, False),
    ],
)
def test_tolerations(toleration: dict[str, str], expected: bool) -> None:
    assert tolerates(toleration, node_taints(GPU_GROUP)[0]) is expected


def test_a_pod_that_cannot_land_says_why() -> None:
    pod = {"nodeSelector": {"nvidia.com/gpu.present": "true"},
           "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
               {"matchExpressions": [{"key": "feature.node.kubernetes.io/pci-10de.present", "operator": "In",
                                      "values": ["true"]}]}]}}}}
    reasons = list(cannot_schedule(pod, node_labels(GPU_GROUP), node_taints(GPU_GROUP)))
    assert len(reasons) == 2
    assert "required node affinity (feature.node.kubernetes.io/pci-10de.present In ['true'])" in reasons[0]
    assert reasons[1] == "it does not tolerate the taint nvidia.com/gpu=true:NoSchedule"
    landing = {"nodeSelector": {"nvidia.com/gpu.present": "true"}, "tolerations": [{"operator": "Exists"}]}
    assert list(cannot_schedule(landing, node_labels(GPU_GROUP), node_taints(GPU_GROUP))) == []
