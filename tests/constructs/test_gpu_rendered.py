"""The NVIDIA device plugin, rendered with Helm's engine, lands on the GPU node group the foundation creates."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.constructs.gpu import NAMESPACE, RELEASE_NAME, device_plugin_values
from haflow.constructs.helm import NVIDIA_DEVICE_PLUGIN
from haflow.plan import StackJson
from tests.conftest import resources
from tests.constructs.rendering import find, pod_spec, render

# Taint effects as the EKS API spells them (node group) and as Kubernetes does (pod tolerations).
EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


def term_matches(term: dict[str, Any], labels: dict[str, str]) -> bool:
    for expression in term.get("matchExpressions", []):
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
        if operator == "DoesNotExist" and value is not None:
            return False
    return True


def schedulable_on(spec: dict[str, Any], labels: dict[str, str], taints: list[dict[str, str]]) -> list[str]:
    """Why a pod with ``spec`` cannot run on a node with ``labels`` and ``taints`` (empty: it can)."""
    problems = [f"nodeSelector {key}={value} not on the node" for key, value in spec.get("nodeSelector", {}).items()
                if labels.get(key) != value]
    required = spec.get("affinity", {}).get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution")
    if required and not any(term_matches(term, labels) for term in required["nodeSelectorTerms"]):
        problems.append(f"no required nodeSelectorTerm matches the node labels {labels}")
    for taint in taints:
        tolerated = any(
            toleration.get("key") in (None, taint["key"])
            and (toleration.get("operator") == "Exists" or toleration.get("value") == taint.get("value"))
            and toleration.get("effect") in (None, taint["effect"])
            for toleration in spec.get("tolerations", [])
        )
        if not tolerated:
            problems.append(f"taint {taint} not tolerated")
    return problems


def test_device_plugin_schedules_on_the_gpu_node_group(synthesized: dict[str, StackJson]) -> None:
    groups = [g for g in resources(synthesized["prod-foundation"], "aws_eks_node_group").values() if g.get("taint")]
    assert len(groups) == 1, "prod has one tainted (GPU) node group"
    (gpu,) = groups
    taints = [{"key": t["key"], "value": t.get("value"), "effect": EFFECTS[t["effect"]]} for t in gpu["taint"]]
    objects = render(NVIDIA_DEVICE_PLUGIN, device_plugin_values(), release=RELEASE_NAME, namespace=NAMESPACE)
    daemon_set = find(objects, "DaemonSet", "nvidia-device-plugin")
    assert schedulable_on(pod_spec(daemon_set), gpu["labels"], taints) == []


@pytest.mark.parametrize("env_name", ["prod"])
def test_device_plugin_stays_off_the_general_nodes(synthesized: dict[str, StackJson], env_name: str) -> None:
    general = [g for g in resources(synthesized[f"{env_name}-foundation"], "aws_eks_node_group").values()
               if not g.get("taint")]
    objects = render(NVIDIA_DEVICE_PLUGIN, device_plugin_values(), release=RELEASE_NAME, namespace=NAMESPACE)
    spec = pod_spec(find(objects, "DaemonSet", "nvidia-device-plugin"))
    assert all(schedulable_on(spec, group["labels"], []) for group in general)
