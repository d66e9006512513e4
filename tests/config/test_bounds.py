"""Every count, size and duration in an environment file has an upper bound (AWS's limit where there is one)."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.commands.schema import environment_schema
from tests.config.overlays import config_dir_with, issues_at


def numeric_fields(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every integer or number property of the schema, by definition.property."""
    found: dict[str, dict[str, Any]] = {}
    definitions = {"Environment": schema, **schema.get("$defs", {})}
    for name, definition in definitions.items():
        for prop, spec in definition.get("properties", {}).items():
            item = spec.get("items", spec) if spec.get("type") == "array" else spec
            if item.get("type") in ("integer", "number"):
                found[f"{name}.{prop}"] = item
    return found


def test_every_number_in_an_environment_has_a_maximum() -> None:
    fields = numeric_fields(environment_schema())
    assert len(fields) > 30
    unbounded = sorted(name for name, spec in fields.items()
                       if "maximum" not in spec and "exclusiveMaximum" not in spec and "enum" not in spec)
    assert unbounded == []


@pytest.mark.parametrize(
    ("overlay", "path"),
    [
        ("eks:\n  node_pool: {max_size_per_az: 1000000000000000000000000000000}\n", "eks.node_pool.max_size_per_az"),
        ("slo:\n  rto_seconds: 99999999999999999999\n", "slo.rto_seconds"),
        ("slo:\n  rpo_seconds: 99999999999999999999\n", "slo.rpo_seconds"),
        ("model_api:\n  replicas: 100000000\n", "model_api.replicas"),
        ("model_api:\n  canary: {weight_percent: 250}\n", "model_api.canary.weight_percent"),
        ("observability:\n  prometheus_retention: 99999999999y\n", "observability.prometheus_retention"),
        ("secrets:\n  refresh_interval: 99999999h\n", "secrets.refresh_interval"),
        ("model_api:\n  resources: {cpu_request: '99999999'}\n", "model_api.resources.cpu_request"),
        ("model_api:\n  resources: {memory_limit: 99999999Ti}\n", "model_api.resources.memory_limit"),
        ("observability:\n  prometheus_storage_gib: 99999999\n", "observability.prometheus_storage_gib"),
    ],
    ids=["max-size-1e30", "rto-1e20", "rpo-1e20", "replicas", "canary-weight", "retention", "refresh", "cpu",
         "memory", "storage"],
)
def test_out_of_bound_values_are_refused(tmp_path: Any, overlay: str, path: str) -> None:
    config_dir = config_dir_with(tmp_path, {"perf.yaml": f"tags: {{environment: perf}}\nnetwork: {{cidr: 10.99.0.0/16}}\n{overlay}"})
    issues_at(config_dir, "perf", path)
