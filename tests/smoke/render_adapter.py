"""TEMPORARY stand-in for haflow.render.render_environment (the gate's), same interface, Prefect only.

Delete when the gate branch is merged.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from haflow import plan

REPO_ROOT = Path(__file__).resolve().parents[2]
CHARTS = REPO_ROOT.parent / "shared" / "reference" / "charts"
EXPRESSION = re.compile(r"\$\{[^}]*\}")


@dataclass(frozen=True)
class RenderedObject:
    release: str
    chart: str
    source: str
    manifest: dict[str, Any]
    hook: str | None


@dataclass
class RenderResult:
    objects: list[RenderedObject]
    placeholders: dict[str, str] = field(default_factory=dict)

    def by_kind(self, kind: str) -> list[RenderedObject]:
        return [o for o in self.objects if o.manifest.get("kind") == kind]

    def find(self, kind: str, name: str, namespace: str | None = None) -> RenderedObject | None:
        for o in self.by_kind(kind):
            meta = o.manifest.get("metadata", {})
            if meta.get("name") == name and (namespace is None or meta.get("namespace") == namespace):
                return o
        return None


def render_environment(stacks: dict[str, dict[str, Any]], env: Any, charts_dir: Path | None = None) -> RenderResult:
    import helm_python

    placeholders: dict[str, str] = {}
    by_expression: dict[str, str] = {}
    numbers = itertools.count(1)

    def placeholder(match: re.Match[str]) -> str:
        expression = match.group(0)
        if expression not in by_expression:
            n = next(numbers)
            lowered = expression.lower()
            if lowered.endswith("port}"):
                value = str(40000 + n)
            elif lowered.endswith("arn}"):
                value = f"arn:aws:secretsmanager:us-east-1:000000000000:secret:placeholder-{n}"
            else:
                value = f"placeholder-{n}.haflow.invalid"
            by_expression[expression] = value
            placeholders[value] = expression
        return by_expression[expression]

    objects: list[RenderedObject] = []
    stack = stacks[f"{env.name}-platform"]
    for release in plan.resources(stack, "helm_release"):
        chart_ref = release.body["chart"]
        if chart_ref in ("prefect-server", "prefect-worker"):
            chart = helm_python.Chart.load(CHARTS / f"{chart_ref}-{release.body['version']}.tgz")
            chart_name = chart_ref
        elif chart_ref.startswith("assets/") and "manifests" in chart_ref:
            chart = helm_python.Chart.load(REPO_ROOT / "haflow" / "charts" / "manifests")
            chart_name = "manifests"
        else:
            continue
        values: dict[str, Any] = {}
        for document in release.body.get("values", []):
            values.update(yaml.safe_load(EXPRESSION.sub(placeholder, document)) or {})
        rendered = chart.render(values, name=release.body["name"], namespace=release.body["namespace"],
                                is_install=True)
        for path, text in rendered.items():
            if not path.endswith((".yaml", ".yml")):
                continue
            for manifest in yaml.safe_load_all(text):
                if manifest:
                    hook = manifest.get("metadata", {}).get("annotations", {}).get("helm.sh/hook")
                    objects.append(RenderedObject(release.body["name"], chart_name, release.address,
                                                  manifest, hook))
    for resource in plan.resources(stack, "kubernetes_config_map_v1"):
        body = yaml.safe_load(EXPRESSION.sub(placeholder, yaml.safe_dump(dict(resource.body))))
        metadata = body["metadata"][0] if isinstance(body["metadata"], list) else body["metadata"]
        manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": body.get("data", {})}
        objects.append(RenderedObject("", "", resource.address, manifest, None))
    return RenderResult(objects, placeholders)
