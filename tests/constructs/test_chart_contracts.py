"""The values haflow renders satisfy each chart's own contract, for every environment.

prefect-server and prefect-worker ship a values.schema.json (Helm refuses values that break it);
ingress-nginx ships none, so every key set must exist in its values.yaml.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from haflow.config import Environment
from haflow.constructs.ingress import ingress_nginx_values
from haflow.constructs.prefect import prefect_server_values, prefect_worker_values
from tests.conftest import ENVIRONMENT_NAMES
from tests.constructs.platform_fixtures import FAKE_INPUTS, load_default_values, load_schema, unknown_keys


def schema_errors(chart: str, values: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(load_schema(chart))
    return [
        f"{'.'.join(str(part) for part in error.absolute_path) or '<root>'}: {error.message}"
        for error in validator.iter_errors(values)
    ]


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_prefect_server_values_match_the_chart_schema(environments: dict[str, Environment], env_name: str) -> None:
    values = prefect_server_values(environments[env_name].prefect, FAKE_INPUTS)
    assert schema_errors("prefect-server", values) == []


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_prefect_worker_values_match_the_chart_schema(environments: dict[str, Environment], env_name: str) -> None:
    values = prefect_worker_values(environments[env_name].prefect, FAKE_INPUTS)
    assert schema_errors("prefect-worker", values) == []


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_every_ingress_nginx_key_exists_in_the_chart(environments: dict[str, Environment], env_name: str) -> None:
    values = ingress_nginx_values(environments[env_name].ingress, "model-api")
    assert unknown_keys(values, load_default_values("ingress-nginx")) == []


def test_the_schema_check_catches_an_unknown_server_key(environments: dict[str, Environment]) -> None:
    values = prefect_server_values(environments["prod"].prefect, FAKE_INPUTS)
    values["server"]["topologySpreadConstraints"] = []
    assert any("topologySpreadConstraints" in error for error in schema_errors("prefect-server", values))


def test_the_key_check_catches_an_unknown_ingress_key(environments: dict[str, Environment]) -> None:
    values = ingress_nginx_values(environments["prod"].ingress, "model-api")
    values["controller"]["replicas"] = 3
    assert unknown_keys(values, load_default_values("ingress-nginx")) == ["controller.replicas"]
