"""Helm charts the platform installs, pinned, and the one way a construct installs a release.

Every chart is pinned to an exact version and its repository URL here, in one table, so an upgrade
is one reviewed line. Values are built as plain data by pure functions next to each construct and
rendered to YAML once, here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cdktf import AssetType, ITerraformDependable, TerraformAsset, TerraformProvider
from cdktf_cdktf_provider_helm.release import Release
from constructs import Construct

from haflow.contract import ZONE_TOPOLOGY_KEY


@dataclass(frozen=True)
class Chart:
    name: str
    repository: str
    version: str


# Versions: the chart repositories' index.yaml / release pages.
INGRESS_NGINX = Chart("ingress-nginx", "https://kubernetes.github.io/ingress-nginx", "4.15.1")
PREFECT_SERVER = Chart("prefect-server", "https://prefecthq.github.io/prefect-helm", "2026.8.18172642")
PREFECT_WORKER = Chart("prefect-worker", "https://prefecthq.github.io/prefect-helm", "2026.8.18172642")
EXTERNAL_SECRETS = Chart("external-secrets", "https://charts.external-secrets.io", "2.8.0")
METRICS_SERVER = Chart("metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "3.13.0")
CLUSTER_AUTOSCALER = Chart("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.56.0")
KUBE_PROMETHEUS_STACK = Chart(
    "kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts", "81.6.2"
)
FLUENT_BIT = Chart("fluent-bit", "https://fluent.github.io/helm-charts", "0.57.0")
# The version kube-prometheus-stack 81.6.2 declares as its grafana subchart (its Chart.yaml), as a release
# of its own (haflow.constructs.grafana).
GRAFANA = Chart("grafana", "https://grafana-community.github.io/helm-charts", "11.1.1")
# The version the EKS user guide installs (ml-eks-k8s-device-plugin.html).
NVIDIA_DEVICE_PLUGIN = Chart("nvidia-device-plugin", "https://nvidia.github.io/k8s-device-plugin", "0.17.4")

# Rolls Deployments when a Secret they name changes (the synced database credentials after a rotation).
RELOADER = Chart("reloader", "https://stakater.github.io/stakater-charts", "2.2.16")

ALL_CHARTS = (
    INGRESS_NGINX, PREFECT_SERVER, PREFECT_WORKER, EXTERNAL_SECRETS, METRICS_SERVER, CLUSTER_AUTOSCALER,
    KUBE_PROMETHEUS_STACK, FLUENT_BIT, GRAFANA, NVIDIA_DEVICE_PLUGIN, RELOADER,
)

# How long helm waits for a release's pods to become ready before it rolls the release back.
RELEASE_TIMEOUT_SECONDS = 900
RELEASE_HISTORY = 10


# libyaml's emitter when PyYAML was built with it (a tenth of the pure-Python one's time; the same YAML,
# which the snapshots check), else the pure-Python safe dumper.
_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def render_values(values: dict[str, Any]) -> str:
    """YAML for helm_release.values; never line-wrapped, so Terraform references stay whole."""
    return yaml.dump(values, Dumper=_DUMPER, sort_keys=True, width=1_000_000, default_flow_style=False)


def helm_release(
    scope: Construct,
    construct_id: str,
    *,
    chart: Chart,
    release_name: str,
    namespace: str,
    values: dict[str, Any],
    provider: TerraformProvider,
    depends_on: Sequence[ITerraformDependable] = (),
    create_namespace: bool = True,
) -> Release:
    """A pinned release that rolls itself back (atomic) when its pods do not become ready."""
    return Release(
        scope, construct_id,
        name=release_name,
        chart=chart.name,
        repository=chart.repository,
        version=chart.version,
        namespace=namespace,
        create_namespace=create_namespace,
        values=[render_values(values)],
        atomic=True,
        cleanup_on_fail=True,
        wait=True,
        timeout=RELEASE_TIMEOUT_SECONDS,
        max_history=RELEASE_HISTORY,
        provider=provider,
        depends_on=list(depends_on) or None,
    )


# haflow's own chart: it renders the objects its values list, as they are (ExternalSecrets, NetworkPolicies,
# RBAC, hooks); no cluster is needed at plan time.
MANIFESTS_CHART = Path(__file__).resolve().parent.parent / "charts" / "manifests"


def manifests_release(
    scope: Construct,
    release_id: str,
    *,
    name: str,
    namespace: str,
    values: dict[str, Any],
    provider: TerraformProvider,
    depends_on: Sequence[ITerraformDependable] = (),
    create_namespace: bool | None = None,
    wait: bool | None = None,
) -> Release:
    """A release of the local manifests chart in ``scope`` (its asset is ``scope``'s "manifests-chart"): atomic,
    cleaned up on failure, with the platform's timeout and history, like every pinned chart's release."""
    chart = TerraformAsset(scope, "manifests-chart", path=str(MANIFESTS_CHART), type=AssetType.DIRECTORY)
    return Release(
        scope, release_id,
        name=name,
        chart=chart.path,
        namespace=namespace,
        create_namespace=create_namespace,
        values=[render_values(values)],
        atomic=True,
        cleanup_on_fail=True,
        wait=wait,
        timeout=RELEASE_TIMEOUT_SECONDS,
        max_history=RELEASE_HISTORY,
        provider=provider,
        depends_on=list(depends_on) or None,
    )


def requests(cpu: str, memory: str) -> dict[str, dict[str, str]]:
    """A container's resources: what the scheduler reserves (no limit: these are small system pods whose
    usage is known, and a CPU limit only throttles them)."""
    return {"requests": {"cpu": cpu, "memory": memory}}


def spread_across_zones_and_hosts(labels: dict[str, str]) -> list[dict[str, Any]]:
    """topologySpreadConstraints: pods balanced over zones (hard) and nodes (best effort)."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": ZONE_TOPOLOGY_KEY,
            "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": dict(labels)},
        },
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(labels)},
        },
    ]


def anti_affinity_across_zones_and_hosts(labels: dict[str, str]) -> dict[str, Any]:
    """Pod anti-affinity for charts without topologySpreadConstraints: prefer other zones, then other nodes."""
    return {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "topologyKey": ZONE_TOPOLOGY_KEY,
                        "labelSelector": {"matchLabels": dict(labels)},
                    },
                },
                {
                    "weight": 50,
                    "podAffinityTerm": {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": dict(labels)},
                    },
                },
            ]
        }
    }
