"""Render one environment's platform: every helm_release with its pinned chart, every kubernetes_* resource.

    result = render_environment(stacks, env)          # stacks: every synthesized stack by name

Raises ``RenderUnavailable`` when the gate cannot run at all (no engine, a chart missing or not the
locked bytes, no schemas for the cluster's version, a cluster version that is not a literal): the
caller must say so, never pass silently. A release whose templates fail is recorded on its
``RenderedRelease`` (the rules report it), because ``helm install`` would fail the same way.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from haflow import plan
from haflow.plan import HELM_RELEASE, Resource, chart_name, release_values
from haflow.render.charts import (
    ChartError,
    ChartLock,
    ManifestLoader,
    PackageContents,
    load_lock,
    local_chart,
    read_crd_bundle,
    read_package,
    search_path,
    verified,
)
from haflow.render.engine import Engine, EngineUnavailable, RenderFailed, RenderRequest, select_engine
from haflow.render.model import HOOK_ANNOTATION, RenderedObject, RenderedRelease, RenderResult
from haflow.render.placeholders import Placeholders
from haflow.render.resources import ConversionError, convertible, to_object
from haflow.render.schemas import KubeSchemas, SchemasUnavailable

if TYPE_CHECKING:
    from haflow.config.model import Environment

EKS_CLUSTER = "aws_eks_cluster"
# Objects `helm install` never creates (`helm test` does).
TEST_HOOKS = ("test", "test-success", "test-failure")


class RenderUnavailable(RuntimeError):
    """The render gate cannot run here; the message says what is missing and how to get it."""


def render_environment(stacks: Mapping[str, Mapping[str, Any]], env: Environment, charts_dir: Path | None = None,
                       *, engine: Engine | None = None, lock: ChartLock | None = None,
                       check_unread: bool = True, secondary: bool = False) -> RenderResult:
    """Render ``env``'s platform stack against its foundation (with ``secondary``: the DR pair,
    ``<env>-dr-platform`` on ``<env>-dr-foundation``, whose cluster lives in the secondary region)."""
    started = time.perf_counter()
    platform_name, foundation_name = (
        (env.dr_platform_stack_name, env.dr_foundation_stack_name) if secondary
        else (env.platform_stack_name, env.foundation_stack_name)
    )
    missing = [name for name in (platform_name, foundation_name) if name not in stacks]
    if missing:
        raise RenderUnavailable(f"no synthesized stack {', '.join(missing)} to render")
    platform, foundation = stacks[platform_name], stacks[foundation_name]
    try:
        engine = engine or select_engine()
        lock = lock or load_lock()
        kube_version = cluster_version(foundation, foundation_name)
        schemas = KubeSchemas(kube_version)
        charts = _charts(platform, lock, charts_dir, schemas)
    except (EngineUnavailable, ChartError, SchemasUnavailable) as err:
        raise RenderUnavailable(str(err)) from None
    region = env.dr.secondary_region if secondary and env.dr.secondary_region else env.region
    placeholders = Placeholders(region, foundation.get("output") or {})
    result = RenderResult(env.name, kube_version, engine.name, [], [], placeholders.expressions, schemas,
                          foundation, platform, platform_name)
    for release in plan.resources(platform, HELM_RELEASE):
        rendered = _render_release(release, charts[release.address], engine, placeholders, schemas, check_unread)
        result.releases.append(rendered[0])
        result.objects.extend(rendered[1])
    for resource in plan.resources(platform):
        if resource.type == HELM_RELEASE or not convertible(resource.type):
            continue
        try:
            converted = to_object(_substituted(resource, placeholders), schemas)
        except ConversionError as err:
            result.conversion_problems.append((resource.address, str(err)))
            continue
        for unknown in converted.unknown_fields:
            result.conversion_problems.append((resource.address, f"{unknown}: no such field in the API object"))
        result.objects.append(RenderedObject("", "", resource.address, converted.manifest))
    result.seconds = time.perf_counter() - started
    return result


def cluster_version(foundation: Mapping[str, Any], stack_name: str) -> str:
    for cluster in plan.resources(foundation, EKS_CLUSTER):
        version = cluster.body.get("version")
        if isinstance(version, str) and not plan.is_expression(version):
            return version
        raise RenderUnavailable(f"{stack_name}: {cluster.address}.version = {version!r} is not a literal Kubernetes "
                                f"version; the gate renders for the cluster's own version")
    raise RenderUnavailable(f"{stack_name}: no {EKS_CLUSTER}, so no Kubernetes version to render for")


def _charts(platform: Mapping[str, Any], lock: ChartLock, charts_dir: Path | None,
            schemas: KubeSchemas) -> dict[str, Path]:
    """Each release's verified chart, with every CRD the charts ship registered in ``schemas``."""
    directories = search_path(charts_dir)
    found: dict[str, Path] = {}
    for release in plan.resources(platform, HELM_RELEASE):
        chart, version = str(release.body.get("chart", "")), str(release.body.get("version", ""))
        if release.body.get("repository"):
            entry = lock.package(chart_name(chart), version)
            path = verified(entry, directories, lock.path)
            for bundle in lock.crd_bundles(entry.chart, entry.version):
                schemas.add_crds(read_crd_bundle(verified(bundle, directories, lock.path)))
        else:
            local = local_chart(chart)
            if local is None:
                raise ChartError(f"{release.address}: chart {chart!r} has no repository and is not one of haflow's "
                                 f"own charts (haflow/charts/)")
            path = local
        schemas.add_crds(list(_contents(path).crds))
        found[release.address] = path
    return found


def _contents(path: Path) -> PackageContents:
    return read_package(path)


def _substituted(resource: Resource, placeholders: Placeholders) -> Resource:
    return Resource(resource.type, resource.name, placeholders.substitute(dict(resource.body)))


def _render_release(release: Resource, chart: Path, engine: Engine, placeholders: Placeholders,
                    schemas: KubeSchemas, check_unread: bool) -> tuple[RenderedRelease, list[RenderedObject]]:
    body = release.body
    name, namespace = str(body.get("name", "")), str(body.get("namespace") or "default")
    chart_id = chart_name(str(body.get("chart", "")))
    outcome = RenderedRelease(release.address, name, chart_id, str(body.get("version", "")), namespace, {})
    try:
        outcome.values = placeholders.substitute(release_values(release))
    except plan.UnreadableValues as err:
        outcome.error = f"values cannot be read: {err}"
        return outcome, []
    request = RenderRequest(chart, outcome.values, name, namespace, schemas.kube_version, schemas.api_versions)
    try:
        manifests = engine.render(request)
    except RenderFailed as err:
        outcome.error = str(err)
        return outcome, []
    objects = [RenderedObject(name, chart_id, release.address, manifest, _hook(manifest), namespace)
               for manifest in parse_manifests(manifests)]
    objects = [item for item in objects if not (item.hook and set(item.hook.split(",")) & set(TEST_HOOKS))]
    if check_unread:
        _check_unread(outcome, request, manifests, engine, _contents(chart).default_values)
    return outcome, objects


def parse_manifests(manifests: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    for source, text in sorted(manifests.items()):
        if not source.endswith((".yaml", ".yml", ".json", ".tpl")) or not text.strip():
            continue
        for document in yaml.load_all(text, Loader=ManifestLoader):
            if isinstance(document, dict) and document.get("kind") == "List":
                yield from (item for item in document.get("items") or [] if isinstance(item, dict))
            elif isinstance(document, dict) and document:
                yield document


def _hook(manifest: Mapping[str, Any]) -> str | None:
    annotations = (manifest.get("metadata") or {}).get("annotations") or {}
    hook = annotations.get(HOOK_ANNOTATION) if isinstance(annotations, Mapping) else None
    return str(hook) if hook else None


# --- values the chart never reads -------------------------------------------------------------------

def _check_unread(outcome: RenderedRelease, request: RenderRequest, baseline: Mapping[str, str], engine: Engine,
                  defaults: Mapping[str, Any]) -> None:
    """A key the chart does not declare is unread when rendering without it gives the same manifests."""
    try:
        if engine.render(request) != baseline:
            outcome.unread_check = "the chart renders differently on each run, so removing a key proves nothing"
            return
        for path in _undeclared(outcome.values, defaults, ()):
            outcome.unread_keys.extend(_unread(path, request, baseline, engine))
    except RenderFailed as err:
        outcome.unread_check = f"rendering without a key failed: {err}"


def _undeclared(values: Mapping[str, Any], defaults: Any, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """The highest key paths of ``values`` that the chart's default values (with subcharts') do not have."""
    for key, value in values.items():
        path = (*prefix, str(key))
        if not isinstance(defaults, Mapping) or key not in defaults:
            yield path
        elif isinstance(value, Mapping) and isinstance(defaults[key], Mapping):
            yield from _undeclared(value, defaults[key], path)


def _unread(path: tuple[str, ...], request: RenderRequest, baseline: Mapping[str, str],
            engine: Engine) -> list[str]:
    without = copy.deepcopy(request.values)
    node = without
    for key in path[:-1]:
        node = node[key]
    value = node.pop(path[-1])
    if engine.render(_with_values(request, without)) == baseline:
        return [".".join(path)]
    if not isinstance(value, Mapping):
        return []
    found: list[str] = []
    for key in value:
        found.extend(_unread((*path, str(key)), request, baseline, engine))
    return found


def _with_values(request: RenderRequest, values: dict[str, Any]) -> RenderRequest:
    return RenderRequest(request.chart, values, request.release_name, request.namespace, request.kube_version,
                         request.api_versions)
