"""Secret rules: literal secrets anywhere in the plan are found; references, templates and names are not."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from haflow.config import Environment
from haflow.rules.engine import Status
from tests.rules.fragments import Resources, merge, messages, ref, statuses


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
