"""Terraform settings every stack carries (version floor, state encryption) and the Aurora log groups."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.config import Environment
from haflow.constructs.state_bucket import KEEP_NONCURRENT_STATE_VERSIONS, NONCURRENT_STATE_DAYS
from tests.conftest import ENVIRONMENT_NAMES
from tests.plan import resources

# use_lockfile (S3-native state locking) exists from Terraform 1.10, write-only arguments (prod's
# master_password_wo, with DR) from 1.11.
# https://developer.hashicorp.com/terraform/language/backend/s3#use_lockfile
# https://developer.hashicorp.com/terraform/language/resources/ephemeral/write-only
REQUIRED_VERSION = ">= 1.11"


def test_every_stack_requires_a_terraform_that_knows_its_settings(synthesized: dict[str, Any]) -> None:
    for name, stack in synthesized.items():
        assert stack["terraform"].get("required_version") == REQUIRED_VERSION, name


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_state_is_encrypted_with_the_bootstrap_key(
    synthesized: dict[str, Any], environments: dict[str, Environment], env_name: str
) -> None:
    env = environments[env_name]
    for stack_name in (env.foundation_stack_name, env.platform_stack_name):
        backend = synthesized[stack_name]["terraform"]["backend"]["s3"]
        assert backend["encrypt"] is True
        assert backend["kms_key_id"] == env.state.kms_key_alias, stack_name
        assert backend["use_lockfile"] is True
    aliases = resources(synthesized["bootstrap"], "aws_kms_alias")
    # one alias per state bucket: each bucket's region has its own (with DR, the secondary region too)
    named = [body for body in aliases.values() if body["name"] == env.state.kms_key_alias]
    assert named
    keys = resources(synthesized["bootstrap"], "aws_kms_key")
    for alias in named:
        assert any(alias["target_key_id"] == f"${{aws_kms_key.{logical_id}.key_id}}" for logical_id in keys)


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_aurora_log_exports_go_to_groups_the_stack_owns(
    synthesized: dict[str, Any], environments: dict[str, Environment], env_name: str
) -> None:
    env = environments[env_name]
    # the primary cluster, and with DR the secondary cluster in its own region
    names = [env.foundation_stack_name, *([f"{env.name}-dr-foundation"] if env.dr.enabled else [])]
    for name in names:
        stack = synthesized[name]
        (cluster_id, cluster), = resources(stack, "aws_rds_cluster").items()
        groups = {body["name"]: (logical_id, body)
                  for logical_id, body in resources(stack, "aws_cloudwatch_log_group").items()}
        assert cluster["enabled_cloudwatch_logs_exports"], name
        for export in cluster["enabled_cloudwatch_logs_exports"]:
            logical_id, group = groups[f"/aws/rds/cluster/{cluster['cluster_identifier']}/{export}"]
            assert group["kms_key_id"].startswith("${aws_kms_key.")
            assert group["retention_in_days"] == env.database.log_retention_days
            assert f"aws_cloudwatch_log_group.{logical_id}" in cluster["depends_on"], (name, cluster_id)


def test_every_state_bucket_expires_old_versions_keeping_the_newest_and_its_delete_markers(
    synthesized: dict[str, Any], environments: dict[str, Environment],
) -> None:
    """S3-native locking leaves a noncurrent version and a delete marker of <key>.tflock per run, and S3
    lifecycle filters cannot match a suffix: every state bucket (primary and DR) has one bucket-wide rule
    expiring noncurrent versions after NONCURRENT_STATE_DAYS but keeping each key's newest
    KEEP_NONCURRENT_STATE_VERSIONS, and removing expired delete markers; no rule names a state key, so a new
    environment does not change the bootstrap stack."""
    bootstrap = synthesized["bootstrap"]
    buckets = {body["bucket"]: f"${{aws_s3_bucket.{name}.id}}" for name, body in resources(bootstrap, "aws_s3_bucket").items()}
    rules_of = {config["bucket"]: config["rule"] for config in resources(bootstrap, "aws_s3_bucket_lifecycle_configuration").values()}
    state_buckets = {env.state.bucket for env in environments.values()} | {
        env.dr.state_bucket_for(env.state.bucket) for env in environments.values() if env.dr.enabled}
    assert state_buckets
    for bucket in state_buckets:
        rules = rules_of[buckets[bucket]]
        [history] = [r for r in rules if r.get("noncurrent_version_expiration")]
        assert history["status"] == "Enabled" and history["filter"][0]["prefix"] == ""
        expiration = history["noncurrent_version_expiration"][0]
        assert expiration["noncurrent_days"] == NONCURRENT_STATE_DAYS
        assert expiration["newer_noncurrent_versions"] == KEEP_NONCURRENT_STATE_VERSIONS >= 1
        assert history["expiration"][0]["expired_object_delete_marker"] is True
        assert not any(r["filter"][0].get("prefix") for r in rules), bucket
