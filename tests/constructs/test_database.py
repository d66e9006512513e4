"""Properties of the synthesized Aurora PostgreSQL cluster of every environment."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.config import Environment
from haflow.constructs.database import FORCE_SSL_PARAMETER
from haflow.contract import POSTGRES_PORT, REDIS_PORT
from tests.conftest import ENVIRONMENT_NAMES
from tests.constructs.test_eks import foundation
from tests.plan import referenced, resources


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_instances_sit_in_distinct_azs_with_explicit_promotion_tiers(
    synthesized: dict[str, Any], environments: dict[str, Environment], env: str
) -> None:
    instances = list(resources(foundation(synthesized, env), "aws_rds_cluster_instance").values())
    azs = [instance["availability_zone"] for instance in instances]
    assert len(azs) == len(set(azs)) == environments[env].database.instances
    assert set(azs) <= set(environments[env].availability_zones)
    assert all("promotion_tier" in instance and not instance["publicly_accessible"] for instance in instances)
    assert all(instance["performance_insights_enabled"] for instance in instances)


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_ha_environments_have_a_standby_and_a_week_of_backups(synthesized: dict[str, Any], env: str) -> None:
    stack = foundation(synthesized, env)
    assert len(resources(stack, "aws_rds_cluster_instance")) >= 2
    (cluster,) = resources(stack, "aws_rds_cluster").values()
    assert cluster["backup_retention_period"] >= 7


def test_prod_keeps_its_data(synthesized: dict[str, Any]) -> None:
    (cluster,) = resources(foundation(synthesized, "prod"), "aws_rds_cluster").values()
    assert cluster["deletion_protection"] is True
    assert cluster["skip_final_snapshot"] is False and cluster["final_snapshot_identifier"]


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_cluster_is_encrypted_with_a_managed_password_and_tls_only(synthesized: dict[str, Any], env: str) -> None:
    stack = foundation(synthesized, env)
    (cluster,) = resources(stack, "aws_rds_cluster").values()
    assert "master_password" not in cluster
    if env == "prod":  # a global database member: the password comes write-only from haflow's replicated secret
        assert "manage_master_user_password" not in cluster
        assert "aws_secretsmanager_secret_version" in cluster["master_password_wo"]
    else:
        assert cluster["manage_master_user_password"] is True and "master_password_wo" not in cluster
    assert cluster["storage_encrypted"] is True
    assert referenced(stack, cluster["kms_key_id"])[0] == "aws_kms_key"
    assert cluster["copy_tags_to_snapshot"] is True and cluster["iam_database_authentication_enabled"] is True
    assert cluster["preferred_backup_window"] and cluster["enabled_cloudwatch_logs_exports"]
    _, _, parameters = referenced(stack, cluster["db_cluster_parameter_group_name"].replace(".name}", ".id}"))
    assert {"name": FORCE_SSL_PARAMETER, "value": "1"} in parameters["parameter"]


@pytest.mark.parametrize(("env", "port", "rtype"), [
    (env, port, rtype) for env in ENVIRONMENT_NAMES
    for port, rtype in ((POSTGRES_PORT, "aws_rds_cluster"), (REDIS_PORT, "aws_elasticache_replication_group"))
])
def test_data_stores_admit_only_the_eks_cluster_security_group(
    synthesized: dict[str, Any], env: str, port: int, rtype: str
) -> None:
    """Redis admits the EKS cluster security group only; Aurora also the Prefect password rotation function's."""
    stack = foundation(synthesized, env)
    (store,) = resources(stack, rtype).values()
    (group_ref,) = store.get("vpc_security_group_ids") or store["security_group_ids"]
    group_id = group_ref.split(".")[1]
    rules = [r for r in resources(stack, "aws_vpc_security_group_ingress_rule").values()
             if r["security_group_id"] == f"${{aws_security_group.{group_id}.id}}"]
    [function] = resources(stack, "aws_lambda_function").values()
    [rotation_group] = function["vpc_config"]["security_group_ids"]
    sources = sorted(rule["referenced_security_group_id"] for rule in rules)
    if rtype == "aws_rds_cluster":
        assert len(rules) == 2 and rotation_group in sources, sources
        sources.remove(rotation_group)
    (source,) = sources
    assert source.endswith(".vpc_config[0].cluster_security_group_id}")
    for rule in rules:
        assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (port, port, "tcp")
        assert "cidr_ipv4" not in rule
    assert "ingress" not in resources(stack, "aws_security_group")[group_id]
