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


def check_public_edge_has_tls(env: Environment) -> Iterator[Violation]:
    """An internet-facing NLB without a certificate serves model-api (and its API keys) in clear text."""
    ingress = env.ingress
    if ingress.load_balancer_scheme == "internet-facing" and not ingress.tls.enabled:
        yield Violation(
            "ingress.tls",
            "none",
            "an internet-facing load balancer without TLS serves model-api, and the credentials its clients "
            "send, over plain HTTP to the internet",
            "set ingress.tls.hosted_zone_id (the foundation requests and validates an ACM certificate for "
            "model_api.host) or ingress.tls.certificate_arn (an issued certificate), or set "
            "ingress.load_balancer_scheme: internal",
        )


def check_tls_names_a_host(env: Environment) -> Iterator[Violation]:
    """A certificate covers named hosts; an Ingress without a host answers for any name the NLB is reached by."""
    public = env.ingress.load_balancer_scheme == "internet-facing"
    if (env.ingress.tls.enabled or public) and not env.model_api.host:
        why = "the ACM certificate is issued for it" if env.ingress.tls.enabled else (
            "an internet-facing Ingress without a host answers for any name, the NLB's own DNS name included")
        yield Violation(
            "model_api.host",
            env.model_api.host,
            f"model-api needs a host name here: {why}",
            "set model_api.host to the name clients use, e.g. api.<your domain> (a name in the hosted zone "
            "ingress.tls.hosted_zone_id, or one the certificate covers)",
        )


def check_certificate_source(env: Environment) -> Iterator[Violation]:
    """One certificate source per region, in the region whose NLB uses it."""
    tls = env.ingress.tls
    if tls.certificate_arn and tls.hosted_zone_id:
        yield Violation(
            "ingress.tls.hosted_zone_id", tls.hosted_zone_id,
            "both an existing certificate (certificate_arn) and a requested one (hosted_zone_id) are set",
            "keep one: remove ingress.tls.hosted_zone_id to use the existing certificate, or "
            "ingress.tls.certificate_arn to have the foundation request one",
        )
    region = tls.certificate_region()
    if region is not None and region != env.region:
        yield Violation(
            "ingress.tls.certificate_arn", tls.certificate_arn,
            f"is a certificate in {region}, but an NLB can only use an ACM certificate of its own region "
            f"({env.region})",
            f"request or import the certificate in {env.region} and use its ARN",
        )
    secondary = tls.secondary_certificate_arn
    if secondary is None:
        if env.dr.enabled and tls.certificate_arn:
            yield Violation(
                "ingress.tls.secondary_certificate_arn", None,
                f"dr.mode is {env.dr.mode}: the DR region's NLB needs a certificate of its own region "
                f"({env.dr.secondary_region}); ACM certificates are regional",
                f"set ingress.tls.secondary_certificate_arn to an issued certificate in {env.dr.secondary_region}, "
                "or use ingress.tls.hosted_zone_id (each region's foundation then requests its own)",
            )
        return
    if not (env.dr.enabled and tls.certificate_arn):
        yield Violation(
            "ingress.tls.secondary_certificate_arn", secondary,
            "is used only with ingress.tls.certificate_arn and dr.mode other than none",
            "remove it",
        )
    elif secondary.split(":")[3] != env.dr.secondary_region:
        yield Violation(
            "ingress.tls.secondary_certificate_arn", secondary,
            f"is a certificate in {secondary.split(':')[3]}, not in dr.secondary_region ({env.dr.secondary_region})",
            f"use the ARN of a certificate in {env.dr.secondary_region}",
        )


def check_failover_record_is_the_host(env: Environment) -> Iterator[Violation]:
    """The certificate covers model_api.host: clients sent to another failover name would fail the TLS check."""
    dns = env.dr.dns
    if env.ingress.tls.enabled and dns is not None and dns.record_name.rstrip(".") != env.model_api.host:
        yield Violation(
            "dr.dns.record_name", dns.record_name,
            f"is not model_api.host ({env.model_api.host}), the name the certificate is issued for: clients "
            "following the failover record would get a certificate for another name",
            f"set dr.dns.record_name: {env.model_api.host}",
        )


CHECKS: tuple[Check, ...] = (
    check_pdb_leaves_room_to_drain,
    check_hpa_above_pdb_floor,
    check_canary_weight,
    check_gpu_has_nodes,
    check_public_edge_has_tls,
    check_tls_names_a_host,
    check_certificate_source,
    check_failover_record_is_the_host,
)
