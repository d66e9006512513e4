"""Bad overlays of the foundation sections (eks, database, cache, artifacts): one precise error each."""

from __future__ import annotations

from pathlib import Path

import pytest

from haflow.config import ConfigError, load_environments
from tests.config.overlays import config_dir_with, issues_at

DEV = "availability_zones: [us-east-1a, us-east-1b]\nnetwork:\n  cidr: 10.10.0.0/16\n"
LOW_SLO = "slo: {availability: 99.0, rto_seconds: 3600, rpo_seconds: 3600}\n"

# (case id, extra dev.yaml text, key path, expected fragment of the message)
BAD_OVERLAYS = [
    ("node-desired-below-min", "eks:\n  node_pool: {min_size_per_az: 3, desired_size_per_az: 2, max_size_per_az: 4}\n",
     "eks.node_pool.desired_size_per_az", "must lie between min_size_per_az (3) and max_size_per_az (4)"),
    ("node-min-above-max", "eks:\n  node_pool: {min_size_per_az: 5, desired_size_per_az: 5, max_size_per_az: 4}\n",
     "eks.node_pool.min_size_per_az", "is larger than max_size_per_az (4); raise max_size_per_az to at least 5"),
    ("node-min-zero", "eks:\n  node_pool: {min_size_per_az: 0}\n", "eks.node_pool.min_size_per_az",
     "must be >= 1: an AZ whose group may drain to zero nodes"),
    ("gpu-desired-above-max", "eks:\n  gpu_node_pool: {enabled: true, desired_size: 3, max_size: 2}\n",
     "eks.gpu_node_pool.desired_size", "must lie between min_size (0) and max_size (2)"),
    ("gpu-not-a-gpu-type", "eks:\n  gpu_node_pool: {instance_types: [m6i.xlarge]}\n",
     "eks.gpu_node_pool.instance_types", "'m6i.xlarge' is not an NVIDIA GPU instance type"),
    ("mixed-architectures", "eks:\n  node_pool: {instance_types: [m6i.xlarge, m7g.xlarge]}\n",
     "eks.node_pool.instance_types", "mixes Graviton (arm64) and x86_64 instance types"),
    ("kubernetes-unsupported", 'eks:\n  kubernetes_version: "1.27"\n', "eks.kubernetes_version",
     "not a Kubernetes version haflow has EKS support dates and add-on versions for (allowed: 1.33, 1.34, 1.35"),
    ("kubernetes-as-number", "eks:\n  kubernetes_version: 1.30\n", "eks.kubernetes_version",
     "wrong type: expected a string"),
    ("kube-proxy-other-minor", 'eks:\n  kubernetes_version: "1.34"\n', "eks.addons.kube_proxy",
     "kube-proxy must have the cluster's minor version (1.34)"),
    ("addon-version-format", "eks:\n  addons: {coredns: latest}\n", "eks.addons.coredns",
     "not an EKS add-on version (vMAJOR.MINOR.PATCH-eksbuild.N)"),
    ("service-cidr-overlaps-vpc", "eks:\n  service_ipv4_cidr: 10.10.0.0/16\n", "eks.service_ipv4_cidr",
     "overlaps the VPC CIDR 10.10.0.0/16"),
    ("service-cidr-public", "eks:\n  service_ipv4_cidr: 8.8.0.0/16\n", "eks.service_ipv4_cidr",
     "EKS needs a service CIDR inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"),
    ("public-endpoint-without-allow-list", "eks:\n  endpoint_public_access: true\n", "eks.public_access_cidrs",
     "a public API endpoint needs an allow-list"),
    ("public-endpoint-open-to-all", "eks:\n  endpoint_public_access: true\n  public_access_cidrs: [0.0.0.0/0]\n",
     "eks.public_access_cidrs", "0.0.0.0/0 opens the API endpoint to the whole internet"),
    ("admin-not-a-role", "eks:\n  admin_role_arns: [arn:aws:iam::123456789012:user/alice]\n",
     "eks.admin_role_arns", "is not an IAM role ARN"),
    ("misspelt-eks-key", "eks:\n  node_pools: {}\n", "eks.node_pools", "did you mean 'node_pool'?"),
    ("db-class-without-prefix", "database:\n  instance_class: r6g.large\n", "database.instance_class",
     "not an RDS instance class (db.<family>.<size>, e.g. db.r6g.large); write it as db.r6g.large"),
    ("db-more-instances-than-azs", "database:\n  instances: 3\n", "database.instances",
     "instances are placed one per AZ and there are 2 availability zones; set database.instances: 2"),
    ("db-single-instance-for-99.9", "database:\n  instances: 1\n", "database.instances",
     "% needs >= 2 instances in different AZs"),
    ("db-short-backups-for-99.9", "database:\n  backup_retention_days: 3\n", "database.backup_retention_days",
     "keeps at least 7 days of backups"),
    ("db-tiers-per-instance", "database:\n  promotion_tiers: [0]\n", "database.promotion_tiers",
     "gives 1 tiers for 2 instances"),
    ("db-tier-out-of-range", "database:\n  promotion_tiers: [0, 16]\n", "database.promotion_tiers",
     "promotion tiers run from 0 to 15"),
    ("db-engine-version", 'database:\n  engine_version: "11.9"\n', "database.engine_version",
     "not an Aurora PostgreSQL version MAJOR.MINOR with a supported major (14, 15, 16, 17)"),
    ("db-backup-window", 'database:\n  preferred_backup_window: "3am"\n', "database.preferred_backup_window",
     "not a window in the form 03:00-04:00 (UTC)"),
    ("db-protected-without-final-snapshot", "database:\n  final_snapshot: false\n", "database.final_snapshot",
     "a cluster with deletion protection must also keep a final snapshot"),
    ("db-retention-above-limit", "database:\n  backup_retention_days: 40\n", "database.backup_retention_days",
     "must be less than or equal to 35"),
    ("db-password-rotation-never", "database:\n  prefect_password_rotation_days: 0\n",
     "database.prefect_password_rotation_days", "must be greater than or equal to 1"),
    ("db-password-rotation-above-a-year", "database:\n  prefect_password_rotation_days: 400\n",
     "database.prefect_password_rotation_days", "must be less than or equal to 365"),
    ("cache-type-without-prefix", "cache:\n  node_type: r7g.large\n", "cache.node_type",
     "not an ElastiCache node type (cache.<family>.<size>, e.g. cache.r7g.large); write it as cache.r7g.large"),
    ("cache-single-node", "cache:\n  num_cache_clusters: 1\n", "cache.num_cache_clusters",
     "automatic failover and Multi-AZ need a replica in another AZ to promote"),
    ("cache-too-many-nodes", "cache:\n  num_cache_clusters: 7\n", "cache.num_cache_clusters",
     "one primary and at most 5 replicas"),
    ("cache-cluster-mode-key", "cache:\n  num_node_groups: 2\n", "cache.num_node_groups", "unknown key"),
    ("artifacts-bucket-name", "artifacts:\n  bucket_name: Artifacts_Bucket\n", "artifacts.bucket_name",
     "S3 bucket names are 3-63 characters"),
    # No path from the deployer to the cluster API: refused, naming what would give one.
    ("deploy-public-endpoint-closed", "eks:\n  deploy_access: {mode: public_endpoint}\n",
     "eks.deploy_access.mode",
     "the deployer has no path to the EKS API: mode public_endpoint with eks.endpoint_public_access false; "
     "set eks.endpoint_public_access: true with eks.public_access_cidrs (your CI egress ranges), or use "
     "mode: runner"),
    ("deploy-public-endpoint-no-allowlist",
     "eks:\n  endpoint_public_access: true\n  deploy_access: {mode: public_endpoint}\n",
     "eks.public_access_cidrs", "a public API endpoint needs an allow-list"),
    ("deploy-runner-without-repository", "eks:\n  deploy_access: {mode: runner, repository_url: null}\n",
     "eks.deploy_access.repository_url",
     "the deploy runner has no source to run `cdktf deploy` from; set eks.deploy_access.repository_url"),
    ("deploy-unknown-mode", "eks:\n  deploy_access: {mode: vpn}\n", "eks.deploy_access.mode",
     "'runner' or 'public_endpoint'"),
]

# The offending value of this case is base.yaml's add-on pin (the overlay only moved the cluster
# version), so the error points at base.yaml.
REPORTED_IN = {"kube-proxy-other-minor": "base.yaml"}


@pytest.mark.parametrize(("case", "extra", "path", "fragment"), BAD_OVERLAYS, ids=[case[0] for case in BAD_OVERLAYS])
def test_bad_foundation_overlay_names_key_value_and_fix(
    tmp_path: Path, case: str, extra: str, path: str, fragment: str
) -> None:
    (issue,) = issues_at(config_dir_with(tmp_path, {"dev.yaml": DEV + extra}), "dev", path)
    assert issue.file.endswith(REPORTED_IN.get(case, "dev.yaml"))
    rendered = str(issue)
    assert rendered.startswith(f"{issue.file}: {path} = ")
    assert fragment in rendered


def test_low_slo_allows_a_single_instance_and_short_backups(tmp_path: Path) -> None:
    overlay = DEV + LOW_SLO + "database:\n  instances: 1\n  backup_retention_days: 1\n"
    (env,) = load_environments(["dev"], config_dir_with(tmp_path, {"dev.yaml": overlay}))
    assert env.database.instances == 1


def test_every_problem_of_an_overlay_is_reported_at_once(tmp_path: Path) -> None:
    overlay = DEV + "database:\n  instance_class: r6g.large\ncache:\n  node_type: r7g.large\n"
    with pytest.raises(ConfigError) as caught:
        load_environments(["dev"], config_dir_with(tmp_path, {"dev.yaml": overlay}))
    assert {issue.path for issue in caught.value.issues} == {"database.instance_class", "cache.node_type"}
