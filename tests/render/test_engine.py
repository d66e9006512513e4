"""The engine interface: which engine runs, what it is asked, and that Helm's Capabilities reach the templates."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from haflow.render.engine import (
    EngineUnavailable,
    HelmBinary,
    HelmSdk,
    RenderFailed,
    RenderRequest,
    select_engine,
    semver,
    split_sources,
)
from haflow.render.gate import parse_manifests


def test_a_helm_binary_on_path_is_preferred() -> None:
    engine = select_engine(which=lambda name: f"/usr/local/bin/{name}", sdk=lambda: True, environ=[])
    assert isinstance(engine, HelmBinary) and engine.path == "/usr/local/bin/helm"


def test_without_a_binary_the_sdk_renders_in_process() -> None:
    assert isinstance(select_engine(which=lambda name: None, sdk=lambda: True, environ=[]), HelmSdk)


def test_without_either_the_gate_says_what_to_install() -> None:
    with pytest.raises(EngineUnavailable, match=r"no `helm` binary on PATH and helm-python-sdk is not importable.*"
                                                r"--no-render"):
        select_engine(which=lambda name: None, sdk=lambda: False, environ=[])


def test_haflow_helm_names_the_binary_and_a_wrong_name_is_an_error() -> None:
    found = {"helm3": "/opt/helm3"}
    engine = select_engine(which=found.get, sdk=lambda: True, environ=[("HAFLOW_HELM", "helm3")])
    assert isinstance(engine, HelmBinary) and engine.path == "/opt/helm3"
    with pytest.raises(EngineUnavailable, match="HAFLOW_HELM='helm4': no such executable"):
        select_engine(which=found.get, sdk=lambda: True, environ=[("HAFLOW_HELM", "helm4")])


REQUEST = RenderRequest(Path("/charts/demo-1.0.0.tgz"), {"replicaCount": 2}, "demo", "apps", "1.33",
                        ("monitoring.coreos.com/v1",))


def test_the_binary_is_asked_for_the_cluster_version_and_api_versions() -> None:
    argv = HelmBinary("/bin/helm").command(REQUEST, Path("/tmp/values.json"))
    assert argv == ["/bin/helm", "template", "demo", "/charts/demo-1.0.0.tgz", "--namespace", "apps",
                    "--kube-version", "v1.33.0", "--values", "/tmp/values.json",
                    "--api-versions", "monitoring.coreos.com/v1"]


HELM_TEMPLATE_OUTPUT = """---
# Source: demo/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: demo
---
# Source: demo/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
---
# Source: demo/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo-worker
"""


def test_binary_output_is_split_per_template_like_the_sdk_returns_it() -> None:
    calls: list[list[str]] = []

    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        assert Path(argv[argv.index("--values") + 1]).read_text(encoding="utf-8") == '{"replicaCount": 2}'
        return subprocess.CompletedProcess(argv, 0, HELM_TEMPLATE_OUTPUT, "")

    manifests = HelmBinary("/bin/helm", run=run).render(REQUEST)
    assert sorted(manifests) == ["demo/templates/deployment.yaml", "demo/templates/service.yaml"]
    assert [doc["metadata"]["name"] for doc in parse_manifests(manifests)] == ["demo", "demo-worker", "demo"]
    assert split_sources(HELM_TEMPLATE_OUTPUT) == manifests


def test_a_failing_binary_is_a_render_failure_with_its_message() -> None:
    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 1, "", "Error: values don't meet the specifications of the schema")

    with pytest.raises(RenderFailed, match="values don't meet the specifications"):
        HelmBinary("/bin/helm", run=run).render(REQUEST)


def test_semver_is_what_kube_version_takes() -> None:
    assert [semver(v) for v in ("1.33", "v1.34", "1.35.2")] == ["v1.33.0", "v1.34.0", "v1.35.2"]


CAPABILITIES_TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
data:
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  monitoring: {{ .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" | quote }}
  replicas: {{ .Values.replicaCount | quote }}
"""


def test_the_sdk_passes_the_cluster_version_and_api_versions_to_the_templates(tmp_path: Path) -> None:
    chart = tmp_path / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 1.0.0\n", encoding="utf-8")
    (chart / "values.yaml").write_text("replicaCount: 1\n", encoding="utf-8")
    (chart / "templates" / "configmap.yaml").write_text(CAPABILITIES_TEMPLATE, encoding="utf-8")
    request = RenderRequest(chart, {"replicaCount": 2}, "demo", "apps", "1.33", ("monitoring.coreos.com/v1",))
    [configmap] = parse_manifests(HelmSdk().render(request))
    assert configmap["metadata"] == {"name": "demo", "namespace": "apps"}
    assert configmap["data"] == {"kube": "v1.33.0", "monitoring": "true", "replicas": "2"}
    plain = RenderRequest(chart, {}, "demo", "apps", "1.31")
    [configmap] = parse_manifests(HelmSdk().render(plain))
    assert configmap["data"] == {"kube": "v1.31.0", "monitoring": "false", "replicas": "1"}


def test_a_template_error_is_a_render_failure(tmp_path: Path) -> None:
    chart = tmp_path / "broken"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 1.0.0\n", encoding="utf-8")
    (chart / "templates" / "x.yaml").write_text("{{ required \"set image\" .Values.image }}\n", encoding="utf-8")
    with pytest.raises(RenderFailed, match="set image"):
        HelmSdk().render(RenderRequest(chart, {}, "broken", "apps", "1.33"))
