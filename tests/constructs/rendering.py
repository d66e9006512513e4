"""Render a pinned upstream chart with Helm's own engine (helm-python-sdk), for tests of the values haflow sets.

The chart packages are the pinned ones charts.lock verifies, looked up as `haflow check` does (the chart cache,
then ../shared/reference/charts); without them the tests that render skip, saying what to run, and fail
instead when HAFLOW_REQUIRE_CHARTS=1 (CI: .ci/run), so a green run cannot hide a gate that never ran.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from haflow.constructs.helm import Chart
from haflow.render.charts import ChartError, load_lock, search_path, verified
from tests.charts import charts_missing

Manifest = dict[str, Any]


def render(chart: Chart, values: dict[str, Any], *, release: str, namespace: str) -> list[Manifest]:
    """Every object the chart renders with ``values`` (hooks included), as parsed YAML documents."""
    helm_python = pytest.importorskip("helm_python")
    lock = load_lock()
    try:
        package = verified(lock.package(chart.name, chart.version), search_path(None), lock.path)
    except ChartError as err:
        charts_missing(str(err))
    rendered = helm_python.Chart.load(str(package)).render(values=values, name=release, namespace=namespace)
    objects: list[Manifest] = []
    for path, text in sorted(rendered.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        objects.extend(document for document in yaml.safe_load_all(text) if isinstance(document, dict))
    return objects


def find(objects: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [o for o in objects if o.get("kind") == kind and o.get("metadata", {}).get("name") == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}: " + ", ".join(
        f"{o.get('kind')}/{o.get('metadata', {}).get('name')}" for o in objects
    )
    return matches[0]


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container(workload: Manifest, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in pod_spec(workload)["containers"] if c["name"] == name)
    return found
