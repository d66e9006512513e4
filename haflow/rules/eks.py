"""EKS rules: worker nodes in several AZs, IMDSv2, a private API endpoint, encrypted secrets, audit logs,
a Kubernetes version in standard support with add-ons listed for it, and facts that are still current."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from haflow import facts
from haflow.rules.engine import ERROR, NOT_APPLICABLE, WARNING, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment

MIN_AZS = 2
# The control-plane logs an investigation needs: API calls, the audit trail and who authenticated.
# https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")


def node_groups_of(cluster: LiteralResource, stack: Stack) -> list[LiteralResource]:
    return stack.referencing(cluster, "aws_eks_node_group", "cluster_name")


def is_dedicated(group: LiteralResource) -> bool:
    """A tainted group (e.g. GPU) only runs pods that tolerate the taint: it does not host the platform."""
    return bool(group.value("taint", []))


def guaranteed_azs(group: LiteralResource, stack: Stack) -> set[str]:
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
def node_groups_span_azs(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
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
def node_group_imdsv2(group: LiteralResource, stack: Stack, env: Environment) -> Outcome:
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
def private_endpoint(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
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
def secrets_encryption(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
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
def control_plane_logs(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    enabled = set(cluster.strings("enabled_cluster_log_types", []))
    missing = [log_type for log_type in REQUIRED_LOG_TYPES if log_type not in enabled]
    if missing:
        return [f"enabled_cluster_log_types lacks {', '.join(missing)}"]
    return []


def _calendar_entry(cluster: LiteralResource) -> facts.KubernetesVersion | None:
    return facts.EKS_KUBERNETES_VERSIONS.get(cluster.string("version"))


@rule(
    id="HA-EKS-006",
    level=ERROR,
    title="The Kubernetes version is in EKS standard support on the day of the check",
    rationale="Past standard support EKS bills extended support per cluster hour (or, with extended support "
    "off, upgrades the control plane on its own schedule), and the version gets fewer fixes; add-ons and "
    f"charts move on without it. Dates: {facts.EKS_CALENDAR.url}",
    fix="Set eks.kubernetes_version to a version in standard support (and the add-on versions listed for it), "
    "then upgrade one minor version at a time.",
    subjects=("aws_eks_cluster",),
)
def kubernetes_version_supported(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    entry = _calendar_entry(cluster)
    if entry is None:
        known = ", ".join(facts.EKS_KUBERNETES_VERSIONS)
        return [f"Kubernetes {cluster.string('version')} is not in haflow's EKS calendar ({known}); its support "
                "window cannot be verified"]
    days = entry.days_of_standard_support(stack.as_of)
    if days < 0:
        return [f"Kubernetes {entry.version} left EKS standard support on {entry.end_of_standard_support} "
                f"({-days} days before {stack.as_of}); extended support is billed per cluster hour until "
                f"{entry.end_of_extended_support}"]
    return []


@rule(
    id="HA-EKS-007",
    level=WARNING,
    title=f"The Kubernetes version has at least {facts.SUPPORT_WARNING_DAYS} days of standard support left",
    rationale="An upgrade needs testing in dev and staging first; starting it with weeks left risks running "
    "prod into billed extended support.",
    fix="Plan the upgrade to the next Kubernetes minor version now (eks.kubernetes_version and its add-ons).",
    subjects=("aws_eks_cluster",),
)
def kubernetes_version_support_ending(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    entry = _calendar_entry(cluster)
    if entry is None:
        return NOT_APPLICABLE  # HA-EKS-006 reports it
    days = entry.days_of_standard_support(stack.as_of)
    if days < 0:
        return NOT_APPLICABLE  # already past: HA-EKS-006's error
    if days < facts.SUPPORT_WARNING_DAYS:
        return [f"Kubernetes {entry.version} leaves EKS standard support on {entry.end_of_standard_support}, "
                f"in {days} days (warning under {facts.SUPPORT_WARNING_DAYS})"]
    return []


@rule(
    id="HA-EKS-008",
    level=ERROR,
    title="Every EKS add-on version is one listed for the cluster's Kubernetes version",
    rationale="An add-on build is published per Kubernetes version; one meant for another version may not "
    "install, or lag behind the fixes of the current build (kube-proxy's minor must equal the cluster's).",
    fix="Pin the version the EKS User Guide lists for the cluster's version (haflow/facts.py), confirmed with "
    "`aws eks describe-addon-versions --kubernetes-version <version>`.",
    subjects=("aws_eks_cluster",),
)
def addon_versions_listed(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    version = cluster.string("version")
    listed = facts.ADDON_VERSIONS.get(version)
    if listed is None:
        return [f"haflow lists no add-on versions for Kubernetes {version}; add them to haflow/facts.py"]
    by_name = {name: key for key, name in facts.ADDON_NAMES.items()}
    problems = []
    for addon in stack.referencing(cluster, "aws_eks_addon", "cluster_name"):
        name = addon.string("addon_name")
        pinned = addon.string("addon_version")
        allowed = listed.get(by_name.get(name, ""), ())
        if pinned not in allowed:
            shown = ", ".join(allowed) or "none"
            problems.append(f"{name} {pinned} is not listed for Kubernetes {version} (listed: {shown})")
    return problems


@rule(
    id="HA-EKS-009",
    level=ERROR,
    title="The cluster's upgrade policy is STANDARD support",
    rationale="Without upgrade_policy EKS keeps a cluster past standard support on billed extended support "
    "(6x the cluster-hour price) silently; STANDARD makes EKS upgrade it at the end of standard support instead.",
    fix="Set upgrade_policy { support_type = \"STANDARD\" } (eks.support_type: STANDARD), or suppress with the "
    "reason extended support is wanted.",
    subjects=("aws_eks_cluster",),
)
def upgrade_policy_standard(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not cluster.has("upgrade_policy.support_type"):
        return ["upgrade_policy is not set, so EKS defaults to EXTENDED support (billed) past standard support"]
    support_type = cluster.string("upgrade_policy.support_type")
    if support_type != "STANDARD":
        return [f"upgrade_policy.support_type is {support_type!r}; extended support is billed per cluster hour"]
    return []


@rule(
    id="HA-EKS-010",
    level=WARNING,
    title="The dated facts the EKS rules rely on are current",
    rationale="Support dates and add-on versions are copied from AWS pages on a given day; a table not "
    "re-read for months passes clusters against an out-of-date calendar.",
    fix="Re-read the sources named in haflow/facts.py, update the tables and their retrieval dates.",
    subjects=("aws_eks_cluster",),
)
def facts_current(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    return facts.stale_facts(stack.as_of)


# The access policy that lets a principal administer the whole cluster (what `cdktf deploy` of a platform
# stack needs: it creates namespaces, CRDs and cluster roles). https://docs.aws.amazon.com/eks/latest/userguide/access-policy-permissions.html
CLUSTER_ADMIN_POLICY_NAME = "AmazonEKSClusterAdminPolicy"
HTTPS_PORT = 443


def _cluster_security_group(cluster: LiteralResource) -> str:
    return f"${{{cluster.address}.vpc_config[0].cluster_security_group_id}}"


def _expression(resource: LiteralResource, *path: str) -> Any:
    """The attribute as written (a reference stays a ``${...}`` token): the rule compares references."""
    node: Any = resource.body
    for key in path:
        node = node[0] if isinstance(node, list) and len(node) == 1 else node
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _runner_path(cluster: LiteralResource, stack: Stack, project: LiteralResource) -> list[str]:
    """What keeps ``project`` (a CodeBuild project) from deploying onto ``cluster``; empty when nothing does."""
    if not _expression(project, "vpc_config"):
        return [f"{project.address} runs outside any VPC, so it cannot reach the private endpoint"]
    problems = []
    role = _expression(project, "service_role")
    entries = [entry for entry in stack.referencing(cluster, "aws_eks_access_entry", "cluster_name")
               if _expression(entry, "principal_arn") == role]
    principals = {role, *(f"${{{entry.address}.principal_arn}}" for entry in entries)}
    admin = [association for association in stack.referencing(cluster, "aws_eks_access_policy_association",
                                                               "cluster_name")
             if str(_expression(association, "policy_arn")).endswith(f"/{CLUSTER_ADMIN_POLICY_NAME}")
             and _expression(association, "principal_arn") in principals]
    if not entries or not admin:
        problems.append(f"{project.address}'s role has no access entry with {CLUSTER_ADMIN_POLICY_NAME} on the cluster")
    runner_groups = _expression(project, "vpc_config", "security_group_ids") or []
    admitted = [
        ingress for ingress in stack.resources("aws_vpc_security_group_ingress_rule")
        if _expression(ingress, "security_group_id") == _cluster_security_group(cluster)
        and _expression(ingress, "referenced_security_group_id") in runner_groups
        and ingress.integer("from_port", -1) <= HTTPS_PORT <= ingress.integer("to_port", -1)
    ]
    if not admitted:
        problems.append(f"no ingress rule admits {project.address}'s security group to the cluster security "
                        f"group on {HTTPS_PORT}")
    return problems


@rule(
    id="HA-EKS-011",
    level=ERROR,
    title="The platform stack's deployer has a path to the cluster API",
    rationale="The platform stack (Helm and Kubernetes providers) is applied against the cluster API; with a "
    "private endpoint and no runner inside the VPC, `cdktf deploy` of the platform (the DR one included, "
    "during a failover) cannot start.",
    fix="Keep eks.deploy_access.mode: runner (a CodeBuild runner in the cluster's VPC, admitted on 443, "
    "cluster admin through an access entry, in each region that runs a cluster) or open an allow-listed "
    "public endpoint (mode: public_endpoint).",
    subjects=("aws_eks_cluster",),
)
def deploy_path(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if cluster.boolean("vpc_config.endpoint_public_access", True) and cluster.strings(
            "vpc_config.public_access_cidrs", []):
        return []
    projects = stack.resources("aws_codebuild_project")
    if not projects:
        return ["the API endpoint is private and no CodeBuild deploy runner is in this stack"]
    attempts = {project.address: _runner_path(cluster, stack, project) for project in projects}
    if any(not problems for problems in attempts.values()):
        return []
    return [problem for problems in attempts.values() for problem in problems]
