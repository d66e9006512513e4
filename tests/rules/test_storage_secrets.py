"""Storage (S3), data-loss (S3) and secrets rules: a compliant and a non-compliant case each."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from haflow.config import Environment
from haflow.rules.engine import Status
from tests.rules.fragments import Resources, merge, messages, ref, statuses

TLS_ONLY = {
    "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": [ref("aws_s3_bucket", "b", "arn"), ref("aws_s3_bucket", "b", "arn") + "/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def bucket(*, versioning: str | None = "Enabled", algorithm: str | None = "aws:kms", block: bool = True,
           statement: dict[str, Any] | None = None, **attributes: Any) -> Resources:
    bucket_ref = ref("aws_s3_bucket", "b")
    resources: Resources = {
        "aws_s3_bucket": {"b": {"bucket": "artifacts", "lifecycle": {"prevent_destroy": True}, **attributes}},
        "aws_s3_bucket_public_access_block": {
            "b": {"bucket": bucket_ref, **{setting: block for setting in (
                "block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")}}
        },
        "aws_s3_bucket_policy": {
            "b": {"bucket": bucket_ref, "policy": json.dumps({"Version": "2012-10-17",
                                                                "Statement": [statement or TLS_ONLY]})}
        },
    }
    if versioning:
        resources["aws_s3_bucket_versioning"] = {
            "b": {"bucket": bucket_ref, "versioning_configuration": {"status": versioning}}
        }
    if algorithm:
        resources["aws_s3_bucket_server_side_encryption_configuration"] = {
            "b": {"bucket": bucket_ref, "rule": [{"apply_server_side_encryption_by_default": {
                "sse_algorithm": algorithm, "kms_master_key_id": ref("aws_kms_key", "k", "arn")}}]}
        }
    return resources


@pytest.mark.parametrize(
    ("rule_id", "non_compliant", "expected"),
    [
        ("HA-S3-001", bucket(versioning=None), "no aws_s3_bucket_versioning"),
        ("HA-S3-001", bucket(versioning="Suspended"), "versioning status 'Suspended'"),
        ("HA-S3-002", bucket(algorithm="AES256"), "uses sse_algorithm 'AES256'"),
        ("HA-S3-002", bucket(algorithm=None), "no server-side encryption configuration"),
        ("HA-S3-003", bucket(block=False), "leaves block_public_acls, block_public_policy"),
        ("HA-S3-004", bucket(statement={"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}),
         "no statement denying aws:SecureTransport"),
        ("HA-DL-001", bucket(lifecycle={}), "prevent_destroy is not set"),
        ("HA-DL-003", bucket(force_destroy=True), "force_destroy is true"),
    ],
)
def test_storage_rule(rule_id: str, non_compliant: Resources, expected: str,
                      environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    assert statuses(rule_id, bucket(), env) == {Status.COMPLIANT}
    assert any(expected in message for message in messages(rule_id, non_compliant, env))


def test_a_policy_from_a_data_source_cannot_be_read(environments: dict[str, Environment]) -> None:
    resources = bucket()
    resources["aws_s3_bucket_policy"]["b"]["policy"] = "${data.aws_iam_policy_document.tls.json}"
    assert messages("HA-S3-004", resources, environments["prod"])[0].startswith("cannot verify policy:")


def release(values: dict[str, Any], **attributes: Any) -> Resources:
    return {"helm_release": {"app": {"name": "app", "chart": "app", "values": [yaml.safe_dump(values)],
                                     **attributes}}}


@pytest.mark.parametrize(
    ("non_compliant", "expected"),
    [
        ({"aws_rds_cluster": {"db": {"master_password": "example-hunter2"}}}, "master_password holds"),
        ({"aws_elasticache_replication_group": {"r": {"auth_token": "example-t0ken-value"}}}, "auth_token holds"),
        ({"aws_secretsmanager_secret_version": {"v": {"secret_string": "example-plain"}}}, "secret_string holds"),
        (release({"externalDatabase": {"password": "example-password"}}), "values externalDatabase.password"),
        (release({}, set_sensitive=[{"name": "auth.apiKey", "value": "example-abc123"}]), "values auth.apiKey"),
        ({"kubernetes_deployment_v1": {"d": {"spec": {"template": {"spec": {"container": [
            {"name": "api", "env": [{"name": "DB_PASSWORD", "value": "example-literal"}]}]}}}}}},
         "env[0].value (DB_PASSWORD)"),
        ({"kubernetes_config_map_v1": {"c": {"data": {"url": "postgresql://app:example-pa55@db:5432/app"}}}},
         "a URL with an inline password"),
        ({"kubernetes_secret_v1": {"s": {"data": {"key": "AKIAIOSFODNN7EXAMPLE"}}}}, "an AWS access key id"),
    ],
)
def test_literal_secrets_are_found(non_compliant: Resources, expected: str,
                                   environments: dict[str, Environment]) -> None:
    found = messages("HA-SEC-001", non_compliant, environments["prod"])
    assert any(expected in message for message in found), found


def test_references_templates_and_secret_names_are_not_secrets(environments: dict[str, Environment]) -> None:
    compliant = merge(
        {"aws_elasticache_replication_group": {"r": {
            "auth_token": ref("aws_secretsmanager_secret_version", "v", "secret_string"),
            "auth_token_update_strategy": "ROTATE", "manage_master_user_password": True}}},
        release({
            "externalDatabase": {"existingSecret": "prefect-database", "passwordSecretKey": "password"},
            "objects": [{"spec": {"data": [{"secretKey": "password", "remoteRef": {"property": "password"}}],
                                  "target": {"template": {"data": {
                                      "url": "postgresql://{{ .username }}:{{ .password }}@db:5432/app"}}}}}],
            "serviceAccount": {"automountServiceAccountToken": True},
        }),
    )
    assert statuses("HA-SEC-001", compliant, environments["prod"]) == {Status.COMPLIANT}
