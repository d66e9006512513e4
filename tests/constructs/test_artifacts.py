"""Properties of the synthesized artifacts bucket and the IAM its grants write."""

from __future__ import annotations

import json
from typing import Any

import pytest

from haflow.constructs.artifacts import OBJECT_WRITE_ACTIONS
from tests.conftest import ENVIRONMENT_NAMES
from tests.constructs.test_eks import foundation
from tests.plan import resources


def for_bucket(stack: dict[str, Any], rtype: str, bucket_id: str) -> dict[str, Any]:
    (found,) = [r for r in resources(stack, rtype).values() if r["bucket"] == f"${{aws_s3_bucket.{bucket_id}.id}}"]
    return found


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_every_bucket_is_versioned_kms_encrypted_private_and_tls_only(synthesized: dict[str, Any], env: str) -> None:
    stack = foundation(synthesized, env)
    buckets = resources(stack, "aws_s3_bucket")
    assert buckets
    for bucket_id in buckets:
        versioning = for_bucket(stack, "aws_s3_bucket_versioning", bucket_id)
        assert versioning["versioning_configuration"]["status"] == "Enabled"
        (rule,) = for_bucket(stack, "aws_s3_bucket_server_side_encryption_configuration", bucket_id)["rule"]
        default = rule["apply_server_side_encryption_by_default"]
        assert default["sse_algorithm"] == "aws:kms" and default["kms_master_key_id"].startswith("${aws_kms_key.")
        assert rule["bucket_key_enabled"] is True
        block = for_bucket(stack, "aws_s3_bucket_public_access_block", bucket_id)
        assert all(block[k] is True for k in (
            "block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
        ownership = for_bucket(stack, "aws_s3_bucket_ownership_controls", bucket_id)
        assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"
        policy = json.loads(for_bucket(stack, "aws_s3_bucket_policy", bucket_id)["policy"])
        assert {
            "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }.items() <= next(s for s in policy["Statement"] if s["Effect"] == "Deny").items()
        rules = {r["id"]: r for r in for_bucket(stack, "aws_s3_bucket_lifecycle_configuration", bucket_id)["rule"]}
        assert rules["expire-noncurrent-versions"]["noncurrent_version_expiration"][0]["noncurrent_days"] >= 1
        assert rules["abort-incomplete-multipart-uploads"]["abort_incomplete_multipart_upload"]


def policies_of(stack: dict[str, Any], construct: str) -> list[dict[str, Any]]:
    return [json.loads(p["policy"]) for p in resources(stack, "aws_iam_role_policy").values()
            if p["//"]["metadata"]["path"].split("/")[1] == construct]


@pytest.mark.parametrize(("role", "writes"), [("prefect-flow-run-role", True), ("model-api-role", False)])
def test_grants_are_least_privilege(synthesized: dict[str, Any], role: str, writes: bool) -> None:
    stack = foundation(synthesized, "prod")
    (bucket_id,) = [name for name in resources(stack, "aws_s3_bucket") if name.startswith("artifacts_")]
    bucket_arn = f"${{aws_s3_bucket.{bucket_id}.arn}}"
    (policy,) = policies_of(stack, role)
    actions = {action for s in policy["Statement"] for action in s["Action"]}
    assert not any(action.endswith("*") for action in actions)
    assert set(OBJECT_WRITE_ACTIONS) <= actions if writes else not actions & set(OBJECT_WRITE_ACTIONS)
    for statement in policy["Statement"]:
        assert statement["Resource"] in (bucket_arn, f"{bucket_arn}/*") or statement["Resource"].startswith(
            "${aws_kms_key.artifacts_key")
