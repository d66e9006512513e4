"""Cross-field rules over the platform sections: combinations that can never work on a cluster.

Part of ``haflow.config.checks.CHECKS``; each yields Violation(key path, value, problem, fix).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from haflow.config.checks.violation import Check, Violation
from haflow.config.model import Environment
from haflow.config.platform import Autoscaling

CANARY_WEIGHT_RANGE = (0, 100)  # nginx.ingress.kubernetes.io/canary-weight with the default canary-weight-total


@dataclass(frozen=True)
class _Disruptable:
    """A replicated workload guarded by a PodDisruptionBudget, optionally scaled by an HPA."""

    path: str
    replicas_key: str
    replicas: int
    pdb_min_available: int
    autoscaling: Autoscaling | None


def _workloads(env: Environment) -> list[_Disruptable]:
    return [
        _Disruptable("ingress", "controller_replicas", env.ingress.controller_replicas,
                     env.ingress.pdb_min_available, env.ingress.autoscaling),
        _Disruptable("prefect.server", "replicas", env.prefect.server.replicas,
                     env.prefect.server.pdb_min_available, None),
        _Disruptable("prefect.worker", "replicas", env.prefect.worker.replicas,
                     env.prefect.worker.pdb_min_available, None),
        _Disruptable("model_api", "replicas", env.model_api.replicas,
                     env.model_api.pdb_min_available, env.model_api.autoscaling),
    ]


def check_pdb_leaves_room_to_drain(env: Environment) -> Iterator[Violation]:
    """A PDB asking for as many pods as exist blocks every node drain (upgrades, scale-in, AZ rebalancing)."""
    for workload in _workloads(env):
        if workload.pdb_min_available >= workload.replicas:
            yield Violation(
                f"{workload.path}.pdb_min_available",
                workload.pdb_min_available,
                f"must be below {workload.path}.{workload.replicas_key} ({workload.replicas}): "
                "a PDB that keeps every pod makes no node drainable (upgrades and scale-in hang)",
                f"set {workload.path}.pdb_min_available to at most {max(workload.replicas - 1, 1)} "
                f"or raise {workload.path}.{workload.replicas_key}",
            )


def check_hpa_above_pdb_floor(env: Environment) -> Iterator[Violation]:
    """An HPA allowed to shrink to the PDB floor leaves the PDB no pod to evict at low load."""
    for workload in _workloads(env):
        scaling = workload.autoscaling
        if scaling is None:
            continue
        if scaling.min_replicas < workload.pdb_min_available + 1:
            yield Violation(
                f"{workload.path}.autoscaling.min_replicas",
                scaling.min_replicas,
                f"must be at least {workload.path}.pdb_min_available + 1 ({workload.pdb_min_available + 1}): "
                "scaled in to its minimum, the workload could never lose a pod to a drain",
                f"set {workload.path}.autoscaling.min_replicas to {workload.pdb_min_available + 1} or more",
            )
        if scaling.max_replicas < scaling.min_replicas:
            yield Violation(
                f"{workload.path}.autoscaling.max_replicas",
                scaling.max_replicas,
                f"is below autoscaling.min_replicas ({scaling.min_replicas})",
                f"set {workload.path}.autoscaling.max_replicas to {scaling.min_replicas} or more",
            )


def check_canary_weight(env: Environment) -> Iterator[Violation]:
    low, high = CANARY_WEIGHT_RANGE
    weight = env.model_api.canary.weight_percent
    if not low <= weight <= high:
        yield Violation(
            "model_api.canary.weight_percent",
            weight,
            f"ingress-nginx canary weights are percentages, {low}-{high}",
            f"set model_api.canary.weight_percent between {low} and {high} (e.g. 10)",
        )


def check_gpu_has_nodes(env: Environment) -> Iterator[Violation]:
    """GPU pods only fit on the tainted GPU node group; without one they stay Pending forever."""
    if env.model_api.gpu_count and not env.eks.gpu_node_pool.enabled:
        yield Violation(
            "model_api.gpu_count",
            env.model_api.gpu_count,
            "model-api requests GPUs but the environment has no GPU node group, so its pods could never be scheduled",
            "set eks.gpu_node_pool.enabled: true or model_api.gpu_count: 0",
        )


CHECKS: tuple[Check, ...] = (
    check_pdb_leaves_room_to_drain,
    check_hpa_above_pdb_floor,
    check_canary_weight,
    check_gpu_has_nodes,
)
