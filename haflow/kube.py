"""The Kubernetes semantics every reader of the plan shares: label selectors, PodDisruptionBudget
arithmetic, zone spread, node labels, taints and tolerations, and ``Workload``, one set of identical
pods behind one controller.

Readers build a ``Workload`` from what they read (the plan rules from kubernetes_* resources and chart
values, the rendered rules from the objects Helm's engine produced, the SLO report from release values)
and ask these functions what the API server and the scheduler would do with it. The names are the
Kubernetes API's; attribute spellings of the kubernetes provider (``topology_key``,
``pod_anti_affinity``) are read too, since the plan writes them that way.

Bottom layer: imports only ``haflow.contract`` and ``haflow.plan``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from haflow import contract, plan
from haflow.contract import ZONE_TOPOLOGY_KEY

# --- label selectors ---------------------------------------------------------------------------------


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against labels; an empty selector selects nothing here."""
    if not selector:
        return False
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return False
    if any(labels.get(key) != str(value) for key, value in match_labels.items()):
        return False
    return all(expression_holds(expression, labels) for expression in expressions)


def expression_holds(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """One matchExpressions entry (label or node selector operators) against labels."""
    key, operator = expression.get("key", ""), expression.get("operator", "")
    values = [str(value) for value in expression.get("values") or []]
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    if operator in ("Gt", "Lt"):  # node selector operators
        try:
            number, bound = int(labels.get(key, "")), int(values[0])
        except (ValueError, IndexError):
            return False
        return number > bound if operator == "Gt" else number < bound
    return False


# --- PodDisruptionBudget arithmetic ------------------------------------------------------------------


def pod_count(value: Any, pods: int) -> int | None:
    """An IntOrString budget field as a number of pods: a count, or a percentage rounded up (as the
    disruption controller does); None for anything else (the API server refuses a string count)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]+%", value.strip()):
        return math.ceil(pods * int(value.strip()[:-1]) / 100)
    return None


@dataclass(frozen=True)
class Budget:
    """A PodDisruptionBudget: one of min_available / max_unavailable (a count or a percentage).

    ``address`` is where it comes from, for messages ("" when the chart builds it from values).
    """

    min_available: Any = None
    max_unavailable: Any = None
    address: str = ""

    @property
    def value(self) -> Any:
        """The field that decides: maxUnavailable when set, else minAvailable."""
        return self.max_unavailable if self.max_unavailable is not None else self.min_available

    def evictable(self, pods: int) -> int | None:
        """Pods a drain may evict when ``pods`` are running; None when the field is neither a count nor a
        percentage. A budget with neither field set limits nothing."""
        if self.max_unavailable is not None:
            count = pod_count(self.max_unavailable, pods)
            return None if count is None else min(pods, count)
        if self.min_available is not None:
            count = pod_count(self.min_available, pods)
            return None if count is None else max(0, pods - count)
        return pods

    def __str__(self) -> str:
        if self.max_unavailable is not None:
            return f"maxUnavailable {self.max_unavailable}"
        return f"minAvailable {self.min_available}"


# --- zone spread ---------------------------------------------------------------------------------------


def _key(item: Mapping[str, Any], api_name: str, provider_name: str) -> Any:
    return item.get(api_name, item.get(provider_name))


def spreads_over_zones(constraints: Any, affinity: Any, labels: Mapping[str, str] | None = None) -> bool:
    """Whether topology spread constraints or pod anti-affinity keep the pods apart across zones.

    With ``labels`` (the pods' labels, when the reader knows them) a constraint or term counts only when
    its labelSelector selects those pods, as the scheduler applies it.
    """

    def counts(term: Mapping[str, Any]) -> bool:
        if _key(term, "topologyKey", "topology_key") != ZONE_TOPOLOGY_KEY:
            return False
        return labels is None or selects(_key(term, "labelSelector", "label_selector"), labels)

    if any(counts(item) for item in plan.as_list(constraints) if isinstance(item, Mapping)):
        return True
    anti = plan.block(_key(affinity, "podAntiAffinity", "pod_anti_affinity")) if isinstance(affinity, Mapping) else {}
    terms = [term for value in anti.values() for term in plan.as_list(value) if isinstance(term, Mapping)]
    return any(counts(plan.block(_key(term, "podAffinityTerm", "pod_affinity_term")) or term) for term in terms)


# --- nodes: labels, taints, tolerations -----------------------------------------------------------------

_TAINT_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


def is_gpu_node_group(group: plan.Resource) -> bool:
    ami = str(group.body.get("ami_type", ""))
    return "NVIDIA" in ami or "GPU" in ami or contract.GPU_TAINT_KEY in [key for key, _, _ in _raw_taints(group)]


def node_labels(group: plan.Resource) -> dict[str, str]:
    """The labels a node of an EKS managed node group carries at join time (no GPU feature discovery)."""
    body = group.body
    labels = {str(k): str(v) for k, v in (body.get("labels") or {}).items()}
    labels["kubernetes.io/os"] = "linux"
    labels["kubernetes.io/arch"] = "arm64" if "ARM" in str(body.get("ami_type", "")) else "amd64"
    labels["eks.amazonaws.com/capacityType"] = str(body.get("capacity_type") or "ON_DEMAND")
    if isinstance(body.get("node_group_name"), str) and not plan.is_expression(body["node_group_name"]):
        labels["eks.amazonaws.com/nodegroup"] = body["node_group_name"]
    instance_types = plan.as_list(body.get("instance_types"))
    if len(instance_types) == 1:
        labels["node.kubernetes.io/instance-type"] = str(instance_types[0])
    return labels


def _raw_taints(group: plan.Resource) -> list[tuple[Any, Any, Any]]:
    return [(t.get("key"), t.get("value"), t.get("effect"))
            for t in (plan.block(item) for item in plan.as_list(group.body.get("taint")))]


def node_taints(group: plan.Resource) -> list[dict[str, str]]:
    """A node group's taints as the nodes carry them (the API's effect names, not EKS's)."""
    return [{"key": str(key or ""), "value": str(value or ""), "effect": _TAINT_EFFECTS.get(str(effect), str(effect))}
            for key, value, effect in _raw_taints(group)]


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, str]) -> bool:
    if toleration.get("effect") and toleration.get("effect") != taint["effect"]:
        return False
    if toleration.get("operator") == "Exists":
        return not toleration.get("key") or toleration.get("key") == taint["key"]
    return bool(toleration.get("key") == taint["key"] and str(toleration.get("value", "")) == taint["value"])


def cannot_schedule(pod: Mapping[str, Any], labels: Mapping[str, str], taints: list[dict[str, str]]) -> Iterator[str]:
    """Why the scheduler would not place ``pod`` (a pod spec) on a node with these labels and taints."""
    for key, value in (pod.get("nodeSelector") or {}).items():
        if labels.get(key) != str(value):
            yield f"nodeSelector {key}={value} but the nodes carry {key}={labels.get(key, '<absent>')}"
    required = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = required.get("nodeSelectorTerms") or []
    if terms and not any(all(expression_holds(e, labels) for e in term.get("matchExpressions") or [])
                         for term in terms):
        wanted = " or ".join(
            " and ".join(f"{e.get('key')} {e.get('operator')} {e.get('values', '')}".strip()
                         for e in term.get("matchExpressions") or []) for term in terms)
        yield f"its required node affinity ({wanted}) matches none of the node labels {json.dumps(dict(labels))}"
    tolerations = pod.get("tolerations") or []
    for taint in taints:
        if taint["effect"] in ("NoSchedule", "NoExecute") and not any(tolerates(t, taint) for t in tolerations):
            yield f"it does not tolerate the taint {taint['key']}={taint['value']}:{taint['effect']}"


# --- workloads -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Container:
    name: str
    liveness: bool
    readiness: bool
    requests: Mapping[str, Any]


@dataclass(frozen=True)
class Workload:
    """A set of identical pods behind one controller (Deployment, StatefulSet, DaemonSet, or an operator's
    custom resource), however the reader found it.

    ``name`` is how findings name it; ``budgets`` are the PodDisruptionBudgets that select its pods.
    """

    name: str
    replicas: int
    autoscaling_min: int | None
    budgets: tuple[Budget, ...]
    zone_spread: bool
    containers: tuple[Container, ...]
    # Pods that receive traffic need a readiness probe; a poller (the Prefect worker) only a liveness one.
    serves_traffic: bool = True
    # prometheus-operator builds the pods (and their probes) from a custom resource: ``containers`` is then
    # the one pod template the resource's spec describes.
    operated: bool = False
    pod_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def pods(self) -> int:
        """Pods running at the lowest: the autoscaler's floor when one scales it, else its replicas."""
        return self.autoscaling_min if self.autoscaling_min is not None else self.replicas

    @property
    def budget(self) -> Budget | None:
        return self.budgets[0] if self.budgets else None
