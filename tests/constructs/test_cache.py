"""Properties of the synthesized Redis replication group of every environment."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ENVIRONMENT_NAMES
from tests.constructs.test_eks import foundation
from tests.plan import referenced, resources


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_redis_fails_over_across_azs_with_cluster_mode_disabled(synthesized: dict[str, Any], env: str) -> None:
    (group,) = resources(foundation(synthesized, env), "aws_elasticache_replication_group").values()
    assert group["automatic_failover_enabled"] is True
    assert group["multi_az_enabled"] is True
    assert group["cluster_mode"] == "disabled"
    assert "num_node_groups" not in group and "replicas_per_node_group" not in group
    assert group["num_cache_clusters"] >= 2
    assert len(set(group["preferred_cache_cluster_azs"])) >= 2
    assert len(group["preferred_cache_cluster_azs"]) == group["num_cache_clusters"]


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_redis_is_encrypted_and_authenticated_from_secrets_manager(synthesized: dict[str, Any], env: str) -> None:
    stack = foundation(synthesized, env)
    (group,) = resources(stack, "aws_elasticache_replication_group").values()
    assert group["transit_encryption_enabled"] is True
    assert group["at_rest_encryption_enabled"] == "true"
    assert referenced(stack, group["kms_key_id"])[0] == "aws_kms_key"
    rtype, _, version = referenced(stack, group["auth_token"])
    assert rtype == "aws_secretsmanager_secret_version"
    assert version["secret_string"].startswith("${data.aws_secretsmanager_random_password.")
    assert version["lifecycle"]["ignore_changes"] == ["secret_string"]
    assert group["snapshot_retention_limit"] >= 1
