"""Storage rules (S3 buckets): a compliant and a non-compliant case each."""

from __future__ import annotations

import pytest

from haflow.config import Environment
from tests.rules.fragments import Resources, assert_rule, bucket, messages


@pytest.mark.parametrize(
    ("rule_id", "compliant", "non_compliant", "expected"),
    [
        ("HA-S3-001", bucket(), bucket(versioning=None), "no aws_s3_bucket_versioning"),
        ("HA-S3-001", bucket(), bucket(versioning="Suspended"), "versioning status 'Suspended'"),
        ("HA-S3-002", bucket(), bucket(algorithm="AES256"), "uses sse_algorithm 'AES256'"),
        ("HA-S3-002", bucket(), bucket(algorithm=None), "no server-side encryption configuration"),
        ("HA-S3-003", bucket(), bucket(block=False), "leaves block_public_acls, block_public_policy"),
        ("HA-S3-004", bucket(), bucket(statement={"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}),
         "no statement denying aws:SecureTransport"),
    ],
)
def test_storage_rule(rule_id: str, compliant: Resources, non_compliant: Resources, expected: str,
                     environments: dict[str, Environment]) -> None:
    assert_rule(rule_id, compliant, non_compliant, expected, environments["prod"])


def test_a_policy_from_a_data_source_cannot_be_read(environments: dict[str, Environment]) -> None:
    resources = bucket()
    resources["aws_s3_bucket_policy"]["b"]["policy"] = "${data.aws_iam_policy_document.tls.json}"
    assert messages("HA-S3-004", resources, environments["prod"])[0].startswith("cannot verify policy:")
