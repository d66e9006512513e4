"""The plan-diff classifier on hand-written plan JSON: what is data loss and what is not."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.review.plandiff import diff_stacks, neutral_only
from haflow.review.replacement import REPLACEMENT_ATTRIBUTES, forces_replacement, is_stateful

CLUSTER = {
    "cluster_identifier": "prod-db", "engine": "aurora-postgresql", "database_name": "prefect",
    "master_username": "haflow_admin", "deletion_protection": True, "skip_final_snapshot": False,
    "storage_encrypted": True, "tags": {"Name": "prod-db"},
}


def plan(**resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"resource": resources}


def cluster(**changes: Any) -> dict[str, Any]:
    return {"aws_rds_cluster": {"database_cluster_1A2B": {**CLUSTER, **changes}}}


def test_unchanged_plan_has_no_diff() -> None:
    result = diff_stacks("prod-foundation", plan(**cluster()), plan(**cluster()))
    assert result.empty and result.risks == []


@pytest.mark.parametrize("attribute", ["database_name", "master_username", "engine", "cluster_identifier"])
def test_replacement_forcing_change_of_the_cluster_is_data_loss(attribute: str) -> None:
    result = diff_stacks("prod-foundation", plan(**cluster()), plan(**cluster(**{attribute: "changed"})))
    assert [(risk.kind, risk.address) for risk in result.risks] == [
        ("replaced", "aws_rds_cluster.database_cluster_1A2B")
    ]
    assert attribute in result.risks[0].reason


def test_in_place_change_of_the_cluster_is_not_data_loss() -> None:
    result = diff_stacks("prod-foundation", plan(**cluster()), plan(**cluster(backup_retention_period=14)))
    assert [c.address for c in result.changed] == ["aws_rds_cluster.database_cluster_1A2B"]
    assert result.risks == []


def test_a_tag_change_is_neither_data_loss_nor_replacement() -> None:
    result = diff_stacks("prod-foundation", plan(**cluster()),
                         plan(**cluster(tags={"Name": "prod-db", "cost-center": "ml"})))
    assert result.risks == []
    [change] = result.changed
    assert neutral_only(change) and change.replacing == []
    assert [(a.path, a.before, a.after) for a in change.attributes] == [("tags.cost-center", "(absent)", "ml")]


def test_a_renamed_construct_id_is_removal_and_flagged() -> None:
    renamed = {"aws_rds_cluster": {"database_aurora_9F9F": dict(CLUSTER)}}
    result = diff_stacks("prod-foundation", plan(**cluster()), plan(**renamed))
    assert result.added == ["aws_rds_cluster.database_aurora_9F9F"]
    assert result.removed == ["aws_rds_cluster.database_cluster_1A2B"]
    [risk] = result.risks
    assert risk.kind == "removed" and "renamed construct id" in risk.reason


def test_removing_a_stateless_resource_is_not_data_loss() -> None:
    result = diff_stacks("prod-foundation", plan(aws_iam_role={"r": {"name": "x"}}), plan())
    assert result.removed == ["aws_iam_role.r"] and result.risks == []


@pytest.mark.parametrize(
    ("before", "after", "reason"),
    [
        ({"deletion_protection": True}, {"deletion_protection": False}, "deletion_protection turned off"),
        ({"skip_final_snapshot": False}, {"skip_final_snapshot": True}, "skip_final_snapshot"),
        ({"lifecycle": {"prevent_destroy": True}}, {}, "prevent_destroy removed"),
    ],
)
def test_protection_turned_off_is_data_loss(before: dict[str, Any], after: dict[str, Any], reason: str) -> None:
    old = {"aws_rds_cluster": {"c": {**CLUSTER, **before}}}
    new = {"aws_rds_cluster": {"c": {**{k: v for k, v in CLUSTER.items() if k not in before}, **after}}}
    result = diff_stacks("prod-foundation", plan(**old), plan(**new))
    assert [risk.kind for risk in result.risks] == ["protection-off"]
    assert reason in result.risks[0].reason


def test_bucket_rename_and_force_destroy() -> None:
    old = {"aws_s3_bucket": {"b": {"bucket": "acme-artifacts"}}}
    new = {"aws_s3_bucket": {"b": {"bucket": "acme-artifacts-2", "force_destroy": True}}}
    kinds = sorted(risk.kind for risk in diff_stacks("s", plan(**old), plan(**new)).risks)
    assert kinds == ["protection-off", "replaced"]


def test_secrets_and_long_values_are_abbreviated() -> None:
    old = {"aws_db_instance": {"d": {"password": "hunter2", "policy": "x" * 300}}}
    new = {"aws_db_instance": {"d": {"password": "hunter3", "policy": "y" * 300}}}
    [change] = diff_stacks("s", plan(**old), plan(**new)).changed
    shown = {a.path: (a.before, a.after) for a in change.attributes}
    assert "hunter" not in "".join(shown["password"]) and shown["password"][0].startswith("(sensitive")
    assert all(len(text) < 120 and "300 chars" in text for text in shown["policy"])


def test_provider_default_tags_show_as_a_provider_change() -> None:
    old = {"provider": {"aws": [{"default_tags": [{"tags": {"env": "prod"}}]}]}}
    new = {"provider": {"aws": [{"default_tags": [{"tags": {"env": "prod", "team": "ml"}}]}]}}
    result = diff_stacks("s", old, new)
    assert [c.address for c in result.providers] == ["provider.aws"] and result.risks == []
    assert result.changed == [] and result.added == [] and not result.empty


def test_a_provider_block_is_not_a_resource() -> None:
    """A stack appearing (new environment, or a base without it) counts its resources, not its providers."""
    new = {"provider": {"aws": [{"region": "eu-west-1"}]}, "resource": {"aws_s3_bucket": {"b": {"bucket": "x"}}}}
    result = diff_stacks("s", None, new)
    assert result.added == ["aws_s3_bucket.b"]
    assert [c.address for c in result.providers] == ["provider.aws"]


def test_the_tables_speak_of_stateful_types_only() -> None:
    assert all(is_stateful(rtype) for rtype in REPLACEMENT_ATTRIBUTES)
    assert forces_replacement("aws_elasticache_replication_group", "replication_group_id")
    assert forces_replacement("aws_rds_cluster", "s3_import[0].bucket_name")
    assert not forces_replacement("aws_rds_cluster", "backup_retention_period")
    assert not is_stateful("aws_db_subnet_group")


def test_helm_values_are_compared_key_by_key() -> None:
    old = {"helm_release": {"h": {"values": ["controller:\n  replicaCount: 3\n  image: {tag: v1}\n"]}}}
    new = {"helm_release": {"h": {"values": ["controller:\n  replicaCount: 2\n  image: {tag: v1}\n"]}}}
    [change] = diff_stacks("s", plan(**old), plan(**new)).changed
    assert [(a.path, a.before, a.after) for a in change.attributes] == [
        ("values[0].controller.replicaCount", "3", "2")
    ]
