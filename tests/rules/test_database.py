"""Database rules (Aurora PostgreSQL): a compliant and a non-compliant case each."""

from __future__ import annotations

import pytest

from haflow.config import Environment
from tests.rules.fragments import Resources, assert_rule, aurora, messages


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
    ],
)
def test_database_rule(rule_id: str, compliant: Resources, non_compliant: Resources, expected: str,
                      environments: dict[str, Environment]) -> None:
    assert_rule(rule_id, compliant, non_compliant, expected, environments["prod"])


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
