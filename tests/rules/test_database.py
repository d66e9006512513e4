"""Database rules (Aurora PostgreSQL): a compliant and a non-compliant case each."""

from __future__ import annotations

from datetime import date

import pytest

from haflow.config import Environment
from tests.rules.fragments import Resources, assert_rule, aurora, messages


def pinned(*, ignored: bool) -> Resources:
    """A cluster and its instances pinned to 16.6 (the provider's default auto_minor_version_upgrade: on),
    with or without engine_version in lifecycle.ignore_changes."""
    resources = aurora(engine_version="16.6")
    for body in [*resources["aws_rds_cluster"].values(), *resources["aws_rds_cluster_instance"].values()]:
        body["engine_version"] = "16.6"
        if ignored:
            body["lifecycle"] = {**body.get("lifecycle", {}), "ignore_changes": ["engine_version"]}
    return resources


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
        ("HA-DB-006", pinned(ignored=True), pinned(ignored=False),
         "engine_version = '16.6' with automatic minor upgrades on"),
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


def test_a_pinned_minor_without_automatic_upgrades_is_not_judged(environments: dict[str, Environment]) -> None:
    resources = aurora(engine_version="16.6")
    for instance in resources["aws_rds_cluster_instance"].values():
        instance["auto_minor_version_upgrade"] = False
    assert messages("HA-DB-006", resources, environments["prod"]) == []


def test_a_minor_is_judged_by_the_day_it_shipped(environments: dict[str, Environment]) -> None:
    """HA-DB-007 on the facts table: 16.13 (Aurora 2026-04-06) is on offer in 2026 and maybe gone from
    2027-04-06; 16.6 (community 2024-11-21) maybe gone since 2025-11-21; a minor not in the table is unchecked."""
    prod = environments["prod"]
    assert messages("HA-DB-007", aurora(engine_version="16.13"), prod, date(2026, 12, 7)) == []
    assert messages("HA-DB-007", aurora(engine_version="16.13"), prod, date(2027, 4, 5)) == []
    later = messages("HA-DB-007", aurora(engine_version="16.13"), prod, date(2027, 4, 6))
    assert len(later) == 1 and "from 2027-04-06 AWS may refuse new clusters" in later[0]
    old = messages("HA-DB-007", aurora(engine_version="16.6"), prod, date(2026, 12, 7))
    assert len(old) == 1 and "16.6 shipped on or after 2024-11-21" in old[0] and "381 days past" in old[0]
    unknown = messages("HA-DB-007", aurora(engine_version="16.99"), prod, date(2026, 12, 7))
    assert len(unknown) == 1 and "not in haflow's table" in unknown[0]


def test_every_minor_in_the_table_has_a_source_and_the_default_is_in_it() -> None:
    from haflow import facts
    from haflow.config.database import Database

    assert Database().engine_version == facts.DEFAULT_AURORA_POSTGRES_VERSION
    assert facts.DEFAULT_AURORA_POSTGRES_VERSION in facts.AURORA_POSTGRES_MINORS
    assert all(minor.source in facts.all_sources() for minor in facts.AURORA_POSTGRES_MINORS.values())
