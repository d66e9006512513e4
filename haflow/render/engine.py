"""Helm's own template engine behind one small interface.

Two engines render a chart the way ``helm install`` would, offline (no cluster, no network):

- ``HelmBinary``: a ``helm`` binary on PATH, through ``helm template``;
- ``HelmSdk``: Helm's Go SDK in-process, from PyPI ``helm-python-sdk`` (the optional ``render`` extra).

``select_engine`` prefers the binary (the release path a deployer uses) and falls back to the SDK.
Both return what the SDK returns: rendered manifest text per template path, with the cluster's
Kubernetes version and API versions as ``.Capabilities`` (kube-prometheus-stack, among others,
branches on ``.Capabilities.KubeVersion``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# `helm template` prefixes each document with the template it came from.
_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)
HELM_BINARY = "helm"
HELM_TIMEOUT_SECONDS = 120


class EngineUnavailable(RuntimeError):
    """No way to run Helm's engine here; the message says what was tried and how to get one."""


class RenderFailed(RuntimeError):
    """The chart's templates failed with these values (``helm install`` would fail the same way)."""


@dataclass(frozen=True)
class RenderRequest:
    chart: Path
    values: dict[str, Any]
    release_name: str
    namespace: str
    kube_version: str  # "1.33"
    api_versions: tuple[str, ...] = ()  # API groups/versions served beyond the built-in ones (from CRDs)


class Engine(Protocol):
    name: str

    def render(self, request: RenderRequest) -> dict[str, str]:
        """Rendered manifest text per template path (``<chart>/templates/<file>``)."""
        ...


def semver(kube_version: str) -> str:
    """``1.33`` -> ``v1.33.0``, the form Helm's --kube-version takes."""
    parts = kube_version.lstrip("v").split(".")
    return "v" + ".".join([*parts, "0", "0"][:3])


@dataclass
class HelmSdk:
    """Helm's Go SDK in-process (helm-python-sdk): no binary, no network."""

    name: str = "helm-python-sdk"
    _charts: dict[Path, Any] = field(default_factory=dict, repr=False)

    def render(self, request: RenderRequest) -> dict[str, str]:
        from helm_python import HelmError, _native

        chart = self._load(request.chart)
        # Chart.render() does not expose the Capabilities options the native call accepts.
        options = {
            "name": request.release_name,
            "namespace": request.namespace,
            "is_install": True,
            "kube_version": semver(request.kube_version),
            "api_versions": list(request.api_versions),
        }
        try:
            rendered = _native.call_string("helm_render", chart._raw(), json.dumps(request.values),
                                           json.dumps(options))
        except HelmError as err:
            raise RenderFailed(str(err)) from None
        manifests: dict[str, str] = json.loads(rendered)
        return manifests

    def _load(self, path: Path) -> Any:
        from helm_python import Chart, HelmError

        if path not in self._charts:
            try:
                self._charts[path] = Chart.load(path)
            except HelmError as err:
                raise RenderFailed(f"{path}: not a loadable chart ({err})") from None
        return self._charts[path]


@dataclass
class HelmBinary:
    """A ``helm`` binary through ``helm template`` (Helm 3.8+ or 4)."""

    path: str
    name: str = "helm"
    run: Callable[..., subprocess.CompletedProcess[str]] = field(default=subprocess.run, repr=False)

    def command(self, request: RenderRequest, values_file: Path) -> list[str]:
        argv = [self.path, "template", request.release_name, str(request.chart),
                "--namespace", request.namespace, "--kube-version", semver(request.kube_version),
                "--values", str(values_file)]
        for api_version in request.api_versions:
            argv += ["--api-versions", api_version]
        return argv

    def render(self, request: RenderRequest) -> dict[str, str]:
        with tempfile.TemporaryDirectory(prefix="haflow-helm-") as scratch:
            values_file = Path(scratch) / "values.json"
            values_file.write_text(json.dumps(request.values), encoding="utf-8")  # JSON is YAML
            try:
                done = self.run(self.command(request, values_file), capture_output=True, text=True,
                                timeout=HELM_TIMEOUT_SECONDS, check=False)
            except (OSError, subprocess.TimeoutExpired) as err:
                raise RenderFailed(f"{self.path} template: {err}") from None
        if done.returncode != 0:
            raise RenderFailed(done.stderr.strip() or f"{self.path} template exited {done.returncode}")
        return split_sources(done.stdout)


def split_sources(stream: str) -> dict[str, str]:
    """``helm template`` output as manifest text per template path, like the SDK returns it."""
    manifests: dict[str, str] = {}
    for document in re.split(r"^---\s*$", stream, flags=re.MULTILINE):
        match = _SOURCE.search(document)
        if match is None:
            continue
        source = match.group(1).strip()
        manifests[source] = f"{manifests[source]}\n---\n{document}" if source in manifests else document
    return manifests


def sdk_available() -> bool:
    try:
        import helm_python  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def select_engine(which: Callable[[str], str | None] = shutil.which,
                  sdk: Callable[[], bool] = sdk_available,
                  environ: Sequence[tuple[str, str]] | None = None) -> Engine:
    """A ``helm`` binary on PATH, else the in-process SDK, else EngineUnavailable saying what was tried.

    ``HAFLOW_HELM`` names a binary to use instead of looking one up on PATH.
    """
    settings = dict(environ if environ is not None else os.environ.items())
    wanted = settings.get("HAFLOW_HELM")
    if wanted:
        found = which(wanted)
        if found is None:
            raise EngineUnavailable(
                f"HAFLOW_HELM={wanted!r}: no such executable; unset it or point it at a helm binary"
            )
        return HelmBinary(found)
    found = which(HELM_BINARY)
    if found is not None:
        return HelmBinary(found)
    if sdk():
        return HelmSdk()
    raise EngineUnavailable(
        "no Helm engine: no `helm` binary on PATH and helm-python-sdk is not importable; "
        "install the render extra (pip install -e '.[render]') or a helm binary, or pass --no-render to skip "
        "the render gate explicitly"
    )
