"""Shared helpers of the platform tests: stand-in foundation outputs and the upstream chart contracts.

The chart contracts (values.schema.json / values.yaml of the pinned charts) are upstream files, not
part of the repository: tests find them in $HAFLOW_CHART_CONTRACTS, else in ../shared/reference/helm
beside the checkout, and skip with instructions when neither exists.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from haflow.constructs.platform_inputs import PlatformInputs
from tests.conftest import REPO_ROOT

CONTRACTS_ENV = "HAFLOW_CHART_CONTRACTS"
DEFAULT_CONTRACTS_DIR = REPO_ROOT.parent / "shared" / "reference" / "helm"
HOW_TO_GET_CONTRACTS = (
    "chart contracts not found: set HAFLOW_CHART_CONTRACTS to a directory holding "
    "prefect-server.values.schema.json, prefect-worker.values.schema.json (PrefectHQ/prefect-helm tag "
    "2026.8.18172642, charts/<chart>/values.schema.json) and ingress-nginx.values.yaml (kubernetes/ingress-nginx "
    "chart 4.15.1), e.g. from `helm show values` / `helm pull --untar` of those pinned versions"
)

# Plain strings in place of the foundation's Terraform references; the values builders treat both alike.
FAKE_INPUTS = PlatformInputs(
    region="us-east-1",
    vpc_id="vpc-0123456789abcdef0",
    vpc_cidr="10.0.0.0/16",
    cluster_name="haflow-test",
    cluster_endpoint="https://ABCDEF.gr7.us-east-1.eks.amazonaws.com",
    cluster_certificate_authority_data="LS0tLS1CRUdJTi0tLS0t",
    oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF",
    prefect_flow_run_role_arn="arn:aws:iam::123456789012:role/haflow-test-prefect-flow-run",
    model_api_role_arn="arn:aws:iam::123456789012:role/haflow-test-model-api",
    cluster_autoscaler_role_arn="arn:aws:iam::123456789012:role/haflow-test-cluster-autoscaler",
    fluent_bit_role_arn="arn:aws:iam::123456789012:role/haflow-test-fluent-bit",
    external_secrets_role_arn="arn:aws:iam::123456789012:role/haflow-test-external-secrets",
    prefect_secrets_role_arn="arn:aws:iam::123456789012:role/haflow-test-secrets-prefect",
    flow_run_secrets_role_arn="arn:aws:iam::123456789012:role/haflow-test-secrets-flow-runs",
    model_api_secrets_role_arn="arn:aws:iam::123456789012:role/haflow-test-secrets-model-api",
    monitoring_secrets_role_arn="arn:aws:iam::123456789012:role/haflow-test-secrets-monitoring",
    alertmanager_role_arn="arn:aws:iam::123456789012:role/haflow-test-alertmanager",
    database_endpoint="haflow-test.cluster-abc.us-east-1.rds.amazonaws.com",
    database_reader_endpoint="haflow-test.cluster-ro-abc.us-east-1.rds.amazonaws.com",
    database_port="5432",
    database_name="prefect",
    database_username="haflow_admin",
    database_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-abc",
    cache_primary_endpoint="master.haflow-test.abc.use1.cache.amazonaws.com",
    cache_port="6379",
    cache_prefect_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:haflow-test-redis-user-prefect",
    cache_model_api_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:haflow-test-redis-user-model-api",
    prefect_api_auth_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:haflow/test/prefect-api-auth",
    prefect_database_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:haflow/test/prefect-database",
    artifacts_bucket_name="haflow-test-artifacts",
    container_log_group_name="/haflow/test/containers",
    alerts_topic_arn="arn:aws:sns:us-east-1:123456789012:haflow-test-alerts",
    alerts_heartbeat_topic_arn="arn:aws:sns:us-east-1:123456789012:haflow-test-alerts-heartbeat",
    grafana_admin_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:haflow/test/grafana-admin-AbCdEf",
)


def contracts_dir() -> Path:
    configured = os.environ.get(CONTRACTS_ENV)
    if configured:
        path = Path(configured)
        if not path.is_dir():
            pytest.fail(f"{CONTRACTS_ENV}={configured} is not a directory")
        return path
    if DEFAULT_CONTRACTS_DIR.is_dir():
        return DEFAULT_CONTRACTS_DIR
    pytest.skip(HOW_TO_GET_CONTRACTS)


def load_schema(chart: str) -> dict[str, Any]:
    path = contracts_dir() / f"{chart}.values.schema.json"
    if not path.exists():
        pytest.skip(f"{path} missing; {HOW_TO_GET_CONTRACTS}")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def load_default_values(chart: str) -> dict[str, Any]:
    path = contracts_dir() / f"{chart}.values.yaml"
    if not path.exists():
        pytest.skip(f"{path} missing; {HOW_TO_GET_CONTRACTS}")
    values: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return values


def unknown_keys(values: Any, defaults: Any, path: str = "") -> list[str]:
    """Key paths set in ``values`` that the chart's values.yaml does not have.

    A key whose default is an empty mapping (annotations, labels, config, nodeSelector ...) is a
    free-form map: what goes inside is not checked. Lists are data, not keys.
    """
    if not isinstance(values, dict):
        return []
    if not isinstance(defaults, dict):
        return [path or "<root>"]
    if not defaults:
        return []
    found = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key not in defaults:
            found.append(where)
        else:
            found.extend(unknown_keys(value, defaults[key], where))
    return found
