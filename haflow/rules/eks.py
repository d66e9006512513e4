"""EKS rules: worker nodes in several AZs, IMDSv2, a private API endpoint, encrypted secrets, audit logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from haflow.rules.engine import ERROR, Outcome, rule
from haflow.rules.stack import Resource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment

MIN_AZS = 2
# The control-plane logs an investigation needs: API calls, the audit trail and who authenticated.
# https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")


def node_groups_of(cluster: Resource, stack: Stack) -> list[Resource]:
    return stack.referencing(cluster, "aws_eks_node_group", "cluster_name")


def is_dedicated(group: Resource) -> bool:
    """A tainted group (e.g. GPU) only runs pods that tolerate the taint: it does not host the platform."""
    return bool(group.value("taint", []))


def guaranteed_azs(group: Resource, stack: Stack) -> set[str]:
    """The AZs in which the node group always has a node.

    An Auto Scaling group balances its instances over its AZs, so ``min_size`` nodes over ``n`` AZs
    occupy every AZ only when ``min_size >= n``; with fewer, which AZs they occupy cannot be told.
    """
    subnets = stack.referenced_list(group, "subnet_ids", "aws_subnet")
    azs = {subnet.string("availability_zone") for subnet in subnets}
    return azs if group.integer("scaling_config.min_size") >= len(azs) else set()


@rule(
    id="HA-EKS-001",
    level=ERROR,
    title="General-purpose node groups keep a node in at least two AZs",
    rationale="Pods can only be rescheduled into an AZ that has nodes; with every minimum node in one AZ, "
    "an AZ outage stops the platform until the autoscaler launches nodes elsewhere (minutes, capacity "
    "permitting).",
    fix="Give each AZ its own node group with scaling min_size >= 1 (or one group whose min_size is at "
    "least its number of AZs).",
    subjects=("aws_eks_cluster",),
)
def node_groups_span_azs(cluster: Resource, stack: Stack, env: Environment) -> Outcome:
    groups = [group for group in node_groups_of(cluster, stack) if not is_dedicated(group)]
    if not groups:
        return ["the cluster has no untainted managed node group"]
    covered = set().union(*(guaranteed_azs(group, stack) for group in groups))
    if len(covered) < MIN_AZS:
        shown = ", ".join(sorted(covered)) or "none"
        return [f"node groups guarantee nodes in {len(covered)} AZ ({shown}); at least {MIN_AZS} are needed"]
    return []


@rule(
    id="HA-EKS-002",
    level=ERROR,
    title="Nodes require IMDSv2 (session tokens)",
    rationale="IMDSv1 answers any request from the node, so an SSRF bug in a pod hands out the node "
    "role's credentials; IMDSv2 requires a session token that such requests cannot obtain.",
    fix="Attach a launch template with metadata_options.http_tokens = required to every node group.",
    subjects=("aws_eks_node_group",),
)
def node_group_imdsv2(group: Resource, stack: Stack, env: Environment) -> Outcome:
    if not group.has("launch_template"):
        return ["the node group has no launch template, so the EKS default (IMDSv1 allowed) applies"]
    template = stack.referenced(group, "launch_template.id", "aws_launch_template")
    tokens = template.string("metadata_options.http_tokens", "optional")
    if tokens != "required":
        return [f"{template.address} sets metadata_options.http_tokens = {tokens!r}; it must be 'required'"]
    return []


@rule(
    id="HA-EKS-003",
    level=ERROR,
    title="The cluster API endpoint is private",
    rationale="A public Kubernetes API endpoint exposes the control plane to the internet, one stolen "
    "token away from the cluster.",
    fix="Set vpc_config.endpoint_public_access = false and endpoint_private_access = true; reach the API "
    "through the VPC (VPN, bastion or SSM).",
    subjects=("aws_eks_cluster",),
)
def private_endpoint(cluster: Resource, stack: Stack, env: Environment) -> Outcome:
    problems = []
    # Provider defaults: endpoint_public_access true, endpoint_private_access false.
    if cluster.boolean("vpc_config.endpoint_public_access", True):
        problems.append("vpc_config.endpoint_public_access is true (the provider default when unset)")
    if not cluster.boolean("vpc_config.endpoint_private_access", False):
        problems.append("vpc_config.endpoint_private_access is false, so nodes reach the API over the internet")
    return problems


@rule(
    id="HA-EKS-004",
    level=ERROR,
    title="Kubernetes secrets are envelope-encrypted with KMS",
    rationale="Without envelope encryption, Kubernetes Secrets sit in etcd under AWS-managed keys only; "
    "a customer KMS key adds an audit trail and a revocation point.",
    fix="Add encryption_config { resources = [\"secrets\"], provider { key_arn = <KMS key> } }.",
    subjects=("aws_eks_cluster",),
)
def secrets_encryption(cluster: Resource, stack: Stack, env: Environment) -> Outcome:
    if not cluster.has("encryption_config"):
        return ["encryption_config is not set"]
    if "secrets" not in cluster.strings("encryption_config.resources"):
        return ["encryption_config.resources does not include 'secrets'"]
    if not cluster.has("encryption_config.provider.key_arn"):
        return ["encryption_config.provider.key_arn is not set"]
    return []


@rule(
    id="HA-EKS-005",
    level=ERROR,
    title="Control-plane logs include api, audit and authenticator",
    rationale="The audit and authenticator logs are the only record of who did what through the "
    "Kubernetes API.",
    fix=f"Set enabled_cluster_log_types to include {', '.join(REQUIRED_LOG_TYPES)}.",
    subjects=("aws_eks_cluster",),
)
def control_plane_logs(cluster: Resource, stack: Stack, env: Environment) -> Outcome:
    enabled = set(cluster.strings("enabled_cluster_log_types", []))
    missing = [log_type for log_type in REQUIRED_LOG_TYPES if log_type not in enabled]
    if missing:
        return [f"enabled_cluster_log_types lacks {', '.join(missing)}"]
    return []
