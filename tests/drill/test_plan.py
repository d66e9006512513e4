"""Reading a plan for live checks: references resolve to literals, or are reported, never passed."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.drill.clients import AwsClients
from haflow.drill.plan import Plan, Unresolved
from haflow.drill.verify import verify

STACK: dict[str, Any] = {
    "resource": {
        "aws_rds_cluster": {"db": {"cluster_identifier": "prod"}},
        "aws_s3_bucket": {"artifacts": {"bucket": "prod-artifacts-${data.aws_caller_identity.current.account_id}"}},
        "aws_kms_key": {"key": {}},
    }
}


def test_account_id_comes_from_the_live_account() -> None:
    bucket = STACK["resource"]["aws_s3_bucket"]["artifacts"]["bucket"]
    assert Plan(STACK, account_id="210987654321").literal(bucket) == "prod-artifacts-210987654321"
    with pytest.raises(Unresolved, match="needs the live account id"):
        Plan(STACK).literal(bucket)


@pytest.mark.parametrize("attribute", ["id", "cluster_identifier"])
def test_a_reference_resolves_to_the_identifier_in_the_plan(attribute: str) -> None:
    assert Plan(STACK).literal(f"${{aws_rds_cluster.db.{attribute}}}") == "prod"


@pytest.mark.parametrize(
    "value",
    ["${aws_kms_key.key.arn}", "${aws_rds_cluster.db.endpoint}", "${aws_rds_cluster.gone.id}", "${var.name}"],
)
def test_values_without_a_literal_are_unresolved(value: str) -> None:
    with pytest.raises(Unresolved):
        Plan(STACK).literal(value)


def test_an_unmatchable_resource_is_reported_as_drift() -> None:
    """A node group named by prefix only cannot be found live: a finding, not a silent pass."""
    stack = {
        "resource": {
            "aws_eks_node_group": {
                "general": {"cluster_name": "prod", "node_group_name_prefix": "general-", "subnet_ids": []}
            }
        }
    }
    offline = AwsClients(region="us-east-1", endpoint="127.0.0.1:1")  # no call reaches it
    findings = verify(Plan(stack), offline)
    assert [(d.resource, d.check) for d in findings.drift] == [("aws_eks_node_group.general", "node_group_name")]
    assert "cannot be matched" in findings.drift[0].found
