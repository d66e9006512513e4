"""Database (Aurora) and cache (ElastiCache Redis) rules: a compliant and a non-compliant case each."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.config import Environment
from haflow.rules.engine import Status
from tests.rules.fragments import Resources, messages, ref, statuses


def aurora(azs: tuple[str, ...] = ("us-east-1a", "us-east-1b"), **cluster: Any) -> Resources:
    body = {
        "engine": "aurora-postgresql",
        "deletion_protection": True,
        "backup_retention_period": 7,
        "storage_encrypted": True,
        "manage_master_user_password": True,
        "skip_final_snapshot": False,
        "final_snapshot_identifier": "prod-final",
        "lifecycle": {"prevent_destroy": True},
        **cluster,
    }
    return {
        "aws_rds_cluster": {"db": {key: value for key, value in body.items() if value is not None}},
        "aws_rds_cluster_instance": {
            f"db-{index}": {"cluster_identifier": ref("aws_rds_cluster", "db"), "availability_zone": az}
            for index, az in enumerate(azs)
        },
    }


def redis(**group: Any) -> Resources:
    body = {
        "automatic_failover_enabled": True,
        "multi_az_enabled": True,
        "num_cache_clusters": 2,
        "transit_encryption_enabled": True,
        "at_rest_encryption_enabled": "true",
        "cluster_mode": "disabled",
        **group,
    }
    return {"aws_elasticache_replication_group": {"redis": {k: v for k, v in body.items() if v is not None}}}


@pytest.mark.parametrize(
    ("rule_id", "compliant", "non_compliant", "expected"),
    [
        ("HA-DB-001", aurora(), aurora(azs=("us-east-1a",)), "1 instance(s); at least 2"),
        ("HA-DB-001", aurora(), aurora(azs=("us-east-1a", "us-east-1a")), "share 1 AZ"),
        ("HA-DB-002", aurora(), aurora(deletion_protection=False), "deletion_protection is off"),
        ("HA-DB-003", aurora(), aurora(backup_retention_period=None), "is 1 day(s)"),
        ("HA-DB-004", aurora(), aurora(storage_encrypted=None), "storage_encrypted is off"),
        ("HA-DB-005", aurora(), aurora(manage_master_user_password=None, master_password="${var.pw}"),
         "master_password is set"),
        ("HA-DL-001", aurora(), aurora(lifecycle=None), "prevent_destroy is not set"),
        ("HA-DL-002", aurora(), aurora(skip_final_snapshot=True), "skip_final_snapshot is true"),
        ("HA-DL-002", aurora(), aurora(final_snapshot_identifier=None), "final_snapshot_identifier is not set"),
        ("HA-CACHE-001", redis(), redis(automatic_failover_enabled=False), "automatic_failover_enabled is off"),
        ("HA-CACHE-002", redis(), redis(multi_az_enabled=None), "multi_az_enabled is off"),
        ("HA-CACHE-003", redis(), redis(num_cache_clusters=1), "num_cache_clusters is 1"),
        ("HA-CACHE-004", redis(), redis(transit_encryption_enabled=False), "transit_encryption_enabled is off"),
        ("HA-CACHE-005", redis(), redis(at_rest_encryption_enabled="false"), "at_rest_encryption_enabled is off"),
        ("HA-CACHE-006", redis(), redis(cluster_mode="enabled", num_node_groups=2), "cluster_mode is 'enabled'"),
        ("HA-CACHE-006", redis(), redis(parameter_group_name="default.redis7.cluster.on"), "enables cluster mode"),
    ],
)
def test_stateful_rule(rule_id: str, compliant: Resources, non_compliant: Resources, expected: str,
                       environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    assert statuses(rule_id, compliant, env) == {Status.COMPLIANT}
    assert any(expected in message for message in messages(rule_id, non_compliant, env)), messages(
        rule_id, non_compliant, env
    )


def test_an_instance_without_an_availability_zone_cannot_prove_distinct_azs(
    environments: dict[str, Environment],
) -> None:
    resources = aurora()
    del resources["aws_rds_cluster_instance"]["db-1"]["availability_zone"]
    assert messages("HA-DB-001", resources, environments["prod"]) == [
        "cannot verify availability_zone: the attribute is not set"
    ]


def test_a_backup_retention_from_a_variable_is_a_finding(environments: dict[str, Environment]) -> None:
    found = messages("HA-DB-003", aurora(backup_retention_period="${var.days}"), environments["prod"])
    assert found == ["cannot verify backup_retention_period: '${var.days}' is a Terraform expression, not a literal"]
