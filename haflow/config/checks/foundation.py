"""Cross-field rules of the foundation sections (eks, database, cache, artifacts)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from haflow.config.checks.violation import Check, Violation
from haflow.config.model import Environment

# Environments promising this availability or more (the staging and prod shapes) need a standby
# database instance and a week of backups.
HA_AVAILABILITY_PERCENT = 99.5
HA_MIN_DATABASE_INSTANCES = 2
HA_MIN_BACKUP_RETENTION_DAYS = 7


def check_node_pool_sizes(env: Environment) -> Iterator[Violation]:
    pools = (
        ("eks.node_pool", env.eks.node_pool.min_size_per_az, env.eks.node_pool.desired_size_per_az,
         env.eks.node_pool.max_size_per_az, "_per_az"),
        ("eks.gpu_node_pool", env.eks.gpu_node_pool.min_size, env.eks.gpu_node_pool.desired_size,
         env.eks.gpu_node_pool.max_size, ""),
    )
    for path, low, desired, high, suffix in pools:
        if not low <= desired <= high:
            yield Violation(
                f"{path}.desired_size{suffix}", desired,
                f"must lie between min_size{suffix} ({low}) and max_size{suffix} ({high})",
                f"set min_size{suffix} <= desired_size{suffix} <= max_size{suffix}",
            )
        if low > high:
            yield Violation(
                f"{path}.min_size{suffix}", low, f"is larger than max_size{suffix} ({high})",
                f"raise max_size{suffix} to at least {low}",
            )


def check_kube_proxy_matches_cluster(env: Environment) -> Iterator[Violation]:
    version = env.eks.addons.kube_proxy
    if not version.startswith(f"v{env.eks.kubernetes_version}."):
        yield Violation(
            "eks.addons.kube_proxy", version,
            f"kube-proxy must have the cluster's minor version ({env.eks.kubernetes_version})",
            f"use a v{env.eks.kubernetes_version}.x-eksbuild.N version from `aws eks describe-addon-versions "
            f"--addon-name kube-proxy --kubernetes-version {env.eks.kubernetes_version}`",
        )


def check_service_cidr_outside_vpc(env: Environment) -> Iterator[Violation]:
    service = ipaddress.IPv4Network(env.eks.service_ipv4_cidr)
    if service.overlaps(ipaddress.IPv4Network(env.network.cidr)):
        yield Violation(
            "eks.service_ipv4_cidr", env.eks.service_ipv4_cidr,
            f"overlaps the VPC CIDR {env.network.cidr}; pods could not reach VPC addresses in the overlap",
            "use a range outside the VPC, e.g. 172.20.0.0/16",
        )


def check_public_endpoint_allow_list(env: Environment) -> Iterator[Violation]:
    if env.eks.endpoint_public_access and not env.eks.public_access_cidrs:
        yield Violation(
            "eks.public_access_cidrs", env.eks.public_access_cidrs,
            "a public API endpoint needs an allow-list (without one EKS admits 0.0.0.0/0)",
            "list the CIDRs that may reach the API, or set eks.endpoint_public_access: false",
        )


def check_deploy_path(env: Environment) -> Iterator[Violation]:
    """`cdktf deploy <env>-platform` must be able to reach the EKS API: a runner in the VPC or an allow-listed
    public endpoint (the allow-list itself is check_public_endpoint_allow_list's)."""
    access = env.eks.deploy_access
    if access.mode == "public_endpoint" and not env.eks.endpoint_public_access:
        yield Violation(
            "eks.deploy_access.mode", access.mode,
            "the deployer has no path to the EKS API: mode public_endpoint with eks.endpoint_public_access false",
            "set eks.endpoint_public_access: true with eks.public_access_cidrs (your CI egress ranges), or use "
            "mode: runner",
        )
    if access.mode == "runner" and access.repository_url is None:
        yield Violation(
            "eks.deploy_access.repository_url", access.repository_url,
            "the deploy runner has no source to run `cdktf deploy` from",
            "set eks.deploy_access.repository_url to this repository's HTTPS URL, or use mode: public_endpoint",
        )


def check_database_placement(env: Environment) -> Iterator[Violation]:
    db = env.database
    azs = len(env.availability_zones)
    if db.instances > azs:
        yield Violation(
            "database.instances", db.instances,
            f"instances are placed one per AZ and there are {azs} availability zones",
            f"set database.instances: {azs} or list more availability_zones",
        )
    if db.promotion_tiers and len(db.promotion_tiers) != db.instances:
        yield Violation(
            "database.promotion_tiers", db.promotion_tiers,
            f"gives {len(db.promotion_tiers)} tiers for {db.instances} instances",
            "give one tier per instance, or remove promotion_tiers for the default (0, 1, 2, ...)",
        )
    if env.slo.availability >= HA_AVAILABILITY_PERCENT and db.instances < HA_MIN_DATABASE_INSTANCES:
        yield Violation(
            "database.instances", db.instances,
            f"an availability SLO of {env.slo.availability}% needs >= {HA_MIN_DATABASE_INSTANCES} instances "
            "in different AZs for Multi-AZ failover",
            f"set database.instances: {HA_MIN_DATABASE_INSTANCES}",
        )
    short_backups = db.backup_retention_days < HA_MIN_BACKUP_RETENTION_DAYS
    if env.slo.availability >= HA_AVAILABILITY_PERCENT and short_backups:
        yield Violation(
            "database.backup_retention_days", db.backup_retention_days,
            f"an environment with an availability SLO of {env.slo.availability}% keeps at least "
            f"{HA_MIN_BACKUP_RETENTION_DAYS} days of backups",
            f"set database.backup_retention_days: {HA_MIN_BACKUP_RETENTION_DAYS} or more",
        )
    if db.deletion_protection and not db.final_snapshot:
        yield Violation(
            "database.final_snapshot", db.final_snapshot,
            "a cluster with deletion protection must also keep a final snapshot when it is finally deleted",
            "set database.final_snapshot: true (or deletion_protection: false for a throwaway environment)",
        )


CHECKS: tuple[Check, ...] = (
    check_node_pool_sizes,
    check_kube_proxy_matches_cluster,
    check_service_cidr_outside_vpc,
    check_public_endpoint_allow_list,
    check_deploy_path,
    check_database_placement,
)
