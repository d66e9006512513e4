"""The container images the platform's charts run, each with the tag the pinned chart uses and, where one could be
sourced, the manifest-list digest haflow pins it to (sourced data, dated; docs/security-cluster.md#image-digests).

A tag is mutable: whoever can push to the repository can change what ``:v1.35.0`` runs, and a pull after a
re-tag starts different code on half the nodes. A digest names one manifest list, so every node runs the same
bytes. The constructs render the digests below into each chart's own digest value (``image.digest``,
``image.sha``) or, where a chart has none but concatenates ``repository:tag``, into the tag
(``v1.35.0@sha256:...``, a valid reference). Rule HA-SEC-066 reports every rendered container image without one.

No registry is reachable from where haflow's checks run, so no digest here was pulled. ``source`` says where each
came from: the chart package itself (locked by sha256 in charts.lock), or identical pins of the same reference in
public repositories (found by code search on ``checked``); the latter are corroborated, not verified against the
registry. Before the first deploy of a new pin, ``crane digest <repository>:<tag>`` (or ``docker buildx
imagetools inspect``) must print the same digest (docs/security-cluster.md). Entries with no digest are the ones
no source here could give; they stay tag-only and HA-SEC-066 names them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImagePin:
    """One image reference: repository, the tag its chart uses, and the digest haflow pins (None: not sourced)."""

    repository: str
    tag: str
    digest: str | None
    source: str
    checked: str  # YYYY-MM-DD the source was read

    @property
    def tag_and_digest(self) -> str:
        """``tag@digest`` for charts that render ``repository:tag`` and take no digest value."""
        return f"{self.tag}@{self.digest}" if self.digest else self.tag

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag_and_digest}"


CHART_VALUES = "the chart's own values.yaml (the package is locked by sha256 in charts.lock)"
PUBLIC_PINS = "identical pins of this exact reference in {n} public files (code search); not pulled here"
NOT_SOURCED = "no digest found for this exact reference in any source reachable here"
CHECKED = "2026-12-07"

INGRESS_NGINX_CONTROLLER = ImagePin(
    "registry.k8s.io/ingress-nginx/controller", "v1.15.1",
    "sha256:594ceea76b01c592858f803f9ff4d2cb40542cae2060410b2c95f75907d659e1", CHART_VALUES, CHECKED)
INGRESS_NGINX_CERTGEN = ImagePin(
    "registry.k8s.io/ingress-nginx/kube-webhook-certgen", "v1.6.9",
    "sha256:01038e7de14b78d702d2849c3aad72fd25903c4765af63cf16aa3398f5d5f2dd", CHART_VALUES, CHECKED)
CLUSTER_AUTOSCALER = ImagePin(
    "registry.k8s.io/autoscaling/cluster-autoscaler", "v1.35.0",
    "sha256:2fc9433dd3b47baef0e68d6b1110b770a3c93db10c7bead4c5bc6cb21c72b875", PUBLIC_PINS.format(n=2), CHECKED)
METRICS_SERVER = ImagePin(
    "registry.k8s.io/metrics-server/metrics-server", "v0.8.0",
    "sha256:89258156d0e9af60403eafd44da9676fd66f600c7934d468ccc17e42b199aee2",
    PUBLIC_PINS.format(n=2) + " (one of them a mirror carrying the same digest)", CHECKED)
EXTERNAL_SECRETS = ImagePin(
    "ghcr.io/external-secrets/external-secrets", "v2.8.0",
    "sha256:24c0dd3699e0988520afd2218612758cd97d1f702757b5b4fcf89adaa33ef679", PUBLIC_PINS.format(n=4), CHECKED)
KUBE_STATE_METRICS = ImagePin(
    "registry.k8s.io/kube-state-metrics/kube-state-metrics", "v2.18.0",
    "sha256:1545919b72e3ae035454fc054131e8d0f14b42ef6fc5b2ad5c751cafa6b2130e", PUBLIC_PINS.format(n=2), CHECKED)
RELOADER = ImagePin(
    "ghcr.io/stakater/reloader", "v1.4.21",
    "sha256:b253579350a835082cdad8d8736671cedaa0f8309437c894bd1bf1c2f0e0d45e", PUBLIC_PINS.format(n=4), CHECKED)
# Not sourced: digests published for docker.io/prom/* exist for the Prometheus images, but quay.io's manifest
# lists are separate pushes and the same digest cannot be assumed.
PROMETHEUS = ImagePin("quay.io/prometheus/prometheus", "v3.9.1", None, NOT_SOURCED, CHECKED)
ALERTMANAGER = ImagePin("quay.io/prometheus/alertmanager", "v0.31.0", None, NOT_SOURCED, CHECKED)
NODE_EXPORTER = ImagePin("quay.io/prometheus/node-exporter", "v1.10.2", None, NOT_SOURCED, CHECKED)
PROMETHEUS_OPERATOR = ImagePin("quay.io/prometheus-operator/prometheus-operator", "v0.88.1", None, NOT_SOURCED,
                               CHECKED)
PROMETHEUS_CERTGEN = ImagePin("ghcr.io/jkroepke/kube-webhook-certgen", "1.7.6", None, NOT_SOURCED, CHECKED)
FLUENT_BIT = ImagePin("cr.fluentbit.io/fluent/fluent-bit", "5.0.0", None, NOT_SOURCED, CHECKED)
NVIDIA_DEVICE_PLUGIN = ImagePin("nvcr.io/nvidia/k8s-device-plugin", "v0.17.4", None, NOT_SOURCED, CHECKED)
# Docker Hub: pulled anonymously through the NAT today; the mirror (docs/security-cluster.md#a-mirror-for-docker-hub)
# is where a pinned copy would live.
PREFECT = ImagePin("docker.io/prefecthq/prefect", "3.8.3-python3.11", None, NOT_SOURCED, CHECKED)
PREFECT_KUBERNETES = ImagePin("docker.io/prefecthq/prefect", "3.8.3-python3.11-kubernetes", None, NOT_SOURCED,
                              CHECKED)

IMAGES: tuple[ImagePin, ...] = (
    INGRESS_NGINX_CONTROLLER, INGRESS_NGINX_CERTGEN, CLUSTER_AUTOSCALER, METRICS_SERVER, EXTERNAL_SECRETS,
    KUBE_STATE_METRICS, RELOADER, PROMETHEUS, ALERTMANAGER, NODE_EXPORTER, PROMETHEUS_OPERATOR, PROMETHEUS_CERTGEN,
    FLUENT_BIT, NVIDIA_DEVICE_PLUGIN, PREFECT, PREFECT_KUBERNETES,
)
