"""Properties of the synthesized Redis replication group of every environment."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.config.redis_acl import CONSUMERS, USERS
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
def test_redis_is_encrypted_and_signs_in_rbac_users_from_secrets_manager(synthesized: dict[str, Any], env: str) -> None:
    stack = foundation(synthesized, env)
    (group,) = resources(stack, "aws_elasticache_replication_group").values()
    assert group["transit_encryption_enabled"] is True
    assert group["at_rest_encryption_enabled"] == "true"
    assert referenced(stack, group["kms_key_id"])[0] == "aws_kms_key"
    assert group["snapshot_retention_limit"] >= 1
    assert "auth_token" not in group
    (group_ref,) = group["user_group_ids"]
    rtype, _, user_group = referenced(stack, group_ref)
    assert rtype == "aws_elasticache_user_group"
    users = {body["user_name"]: body for body in (referenced(stack, raw)[2] for raw in user_group["user_ids"])}
    # the users are the data of haflow.config.redis_acl, access string for access string
    assert {name: body["access_string"] for name, body in users.items()} == {
        user.user_name: user.access_string() for user in USERS}
    assert users["default"]["authentication_mode"] == {"type": "no-password-required"}
    secrets = set()
    for user in CONSUMERS:
        mode = users[user.user_name]["authentication_mode"]
        assert mode["type"] == "password"
        (password,) = mode["passwords"]
        vtype, _, version = referenced(stack, password)
        assert vtype == "aws_secretsmanager_secret_version"
        assert version["secret_string"].startswith("${data.aws_secretsmanager_random_password.")
        assert version["lifecycle"]["ignore_changes"] == ["secret_string"]
        secrets.add(version["secret_id"])
    assert len(secrets) == len(CONSUMERS), "each consumer's password is in a secret of its own"


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_no_password_is_a_literal_in_the_plan(synthesized: dict[str, Any], env: str) -> None:
    """What lands in the synthesized JSON: references only (the values are in Terraform's state, sensitive)."""
    stack = foundation(synthesized, env)
    for body in resources(stack, "aws_elasticache_user").values():
        for password in body["authentication_mode"].get("passwords", []):
            assert password.startswith("${aws_secretsmanager_secret_version.") and password.endswith(".secret_string}")
