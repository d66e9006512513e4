"""The container images the platform's charts run: each repository and the tag its pinned chart uses (here), and
the digest haflow pins it to, read from the image lock (``haflow/images.lock.json``; docs/security-cluster.md
#image-digests).

A tag is mutable: whoever can push to the repository can change what ``:v1.35.0`` runs, and a pull after a
re-tag starts different code on half the nodes. A digest names one manifest list (image index), so every node
runs the same bytes. The constructs render each locked digest into the chart's own digest value
(``image.digest``, ``image.sha``) or, where a chart has none but concatenates ``repository:tag``, into the tag
(``v1.35.0@sha256:...``, a valid reference). Rule HA-SEC-066 reports every rendered container image without one.

One home per fact: the repository and tag belong to the chart version and live here; the digest, where it came
from and the day it was read live once, in the lock, which ``haflow images lock`` writes from the registry
(``skopeo inspect --raw``: the sha256 of the exact index bytes the registry serves) and ``haflow images lock
--check`` compares with the registry before a deploy. An entry whose digest is null has none from any source
reachable where it was written; it renders tag-only and HA-SEC-066 names it. ``$HAFLOW_IMAGES_LOCK`` names
another lock file (the tests use it to prove the lock is what reaches the charts).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from haflow.errors import MISSING, ConfigError, ConfigIssue
from haflow.reader import display, read_text

LOCK_FILE = Path(__file__).resolve().parent / "images.lock.json"
# The source `haflow images lock` records: the digest is the sha256 of the bytes the registry served.
REGISTRY_SOURCE = "registry: skopeo inspect --raw"
LOCK_ENV = "HAFLOW_IMAGES_LOCK"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
LOCK_FIX = ("rewrite it with `haflow images lock` where the registries are reachable, or correct the entry by hand "
            "(docs/security-cluster.md#image-digests)")
LOCK_COMMENT = (
    "The image lock: per image reference (repository:tag from haflow/images.py), the manifest-list digest haflow "
    "pins (null: none known), where it came from and the day it was read. Written by `haflow images lock` "
    "(sha256 of `skopeo inspect --raw`); `haflow images lock --check` compares it with the registry before a "
    "deploy. docs/security-cluster.md#image-digests.")


@dataclass(frozen=True)
class Image:
    """An image a chart runs: its repository, the tag the pinned chart version uses, and the chart's name."""

    repository: str
    tag: str
    chart: str

    @property
    def reference(self) -> str:
        """``repository:tag``, the image's key in the lock."""
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True)
class Locked:
    """One entry of the lock: the digest (None: not known), where it came from, the day it was read."""

    digest: str | None
    source: str
    checked: str  # YYYY-MM-DD

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "source": self.source, "checked": self.checked}


@dataclass(frozen=True)
class ImagePin:
    """An image with what the lock says of it."""

    image: Image
    digest: str | None
    source: str
    checked: str

    @property
    def repository(self) -> str:
        return self.image.repository

    @property
    def tag(self) -> str:
        return self.image.tag

    @property
    def tag_and_digest(self) -> str:
        """``tag@digest`` for charts that render ``repository:tag`` and take no digest value."""
        return f"{self.tag}@{self.digest}" if self.digest else self.tag

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag_and_digest}"

    @property
    def sha(self) -> str:
        """The digest's hex alone, for charts that render ``@sha256:{{ sha }}`` (kube-prometheus-stack); "" (the
        chart then renders the tag alone) when none is locked."""
        return self.digest.removeprefix("sha256:") if self.digest else ""


INGRESS_NGINX_CONTROLLER = Image("registry.k8s.io/ingress-nginx/controller", "v1.15.1", "ingress-nginx")
INGRESS_NGINX_CERTGEN = Image("registry.k8s.io/ingress-nginx/kube-webhook-certgen", "v1.6.9", "ingress-nginx")
CLUSTER_AUTOSCALER = Image("registry.k8s.io/autoscaling/cluster-autoscaler", "v1.35.0", "cluster-autoscaler")
METRICS_SERVER = Image("registry.k8s.io/metrics-server/metrics-server", "v0.8.0", "metrics-server")
EXTERNAL_SECRETS = Image("ghcr.io/external-secrets/external-secrets", "v2.8.0", "external-secrets")
KUBE_STATE_METRICS = Image("registry.k8s.io/kube-state-metrics/kube-state-metrics", "v2.18.0", "kube-prometheus-stack")
RELOADER = Image("ghcr.io/stakater/reloader", "v1.4.21", "reloader")
PROMETHEUS = Image("quay.io/prometheus/prometheus", "v3.9.1", "kube-prometheus-stack")
ALERTMANAGER = Image("quay.io/prometheus/alertmanager", "v0.31.0", "kube-prometheus-stack")
NODE_EXPORTER = Image("quay.io/prometheus/node-exporter", "v1.10.2", "kube-prometheus-stack")
PROMETHEUS_OPERATOR = Image("quay.io/prometheus-operator/prometheus-operator", "v0.88.1", "kube-prometheus-stack")
# The sidecar prometheus-operator injects into the Prometheus and Alertmanager pods: no pod template renders it, the
# operator's --prometheus-config-reloader argument names it (values: prometheusOperator.prometheusConfigReloader;
# the tag defaults to the chart's appVersion).
PROMETHEUS_CONFIG_RELOADER = Image("quay.io/prometheus-operator/prometheus-config-reloader", "v0.88.1",
                                   "kube-prometheus-stack")
PROMETHEUS_CERTGEN = Image("ghcr.io/jkroepke/kube-webhook-certgen", "1.7.6", "kube-prometheus-stack")
FLUENT_BIT = Image("cr.fluentbit.io/fluent/fluent-bit", "5.0.0", "fluent-bit")
NVIDIA_DEVICE_PLUGIN = Image("nvcr.io/nvidia/k8s-device-plugin", "v0.17.4", "nvidia-device-plugin")
# Docker Hub: pulled anonymously through the NAT today; the mirror (docs/security-cluster.md#a-mirror-for-docker-hub)
# is where a pinned copy would live.
PREFECT = Image("docker.io/prefecthq/prefect", "3.8.3-python3.11", "prefect-server")
PREFECT_KUBERNETES = Image("docker.io/prefecthq/prefect", "3.8.3-python3.11-kubernetes", "prefect-worker")
# The grafana chart 11.1.1's appVersion and its dashboards sidecar (values.yaml: sidecar.image)
GRAFANA = Image("docker.io/grafana/grafana", "12.3.2", "grafana")
GRAFANA_SIDECAR = Image("quay.io/kiwigrid/k8s-sidecar", "2.5.0", "grafana")

IMAGES: tuple[Image, ...] = (
    INGRESS_NGINX_CONTROLLER, INGRESS_NGINX_CERTGEN, CLUSTER_AUTOSCALER, METRICS_SERVER, EXTERNAL_SECRETS,
    KUBE_STATE_METRICS, RELOADER, PROMETHEUS, ALERTMANAGER, NODE_EXPORTER, PROMETHEUS_OPERATOR,
    PROMETHEUS_CONFIG_RELOADER, PROMETHEUS_CERTGEN, FLUENT_BIT, NVIDIA_DEVICE_PLUGIN, PREFECT, PREFECT_KUBERNETES,
    GRAFANA, GRAFANA_SIDECAR,
)


def lock_path() -> Path:
    """The lock file in use: ``$HAFLOW_IMAGES_LOCK`` when set, else haflow/images.lock.json."""
    return Path(os.environ.get(LOCK_ENV) or LOCK_FILE)


def read_lock(path: Path | None = None) -> dict[str, Locked]:
    """The lock's entries by image reference, every problem in it raised at once as a ConfigError naming the
    file, the key, the value, what is allowed and the fix."""
    path = path or lock_path()
    status = path.stat() if path.is_file() else None
    return dict(_read_lock(str(path), status.st_mtime_ns if status else 0, status.st_size if status else 0))


@cache
def _read_lock(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, Locked], ...]:
    return tuple(_parse(Path(path), _load_json(Path(path))).items())


def _load_json(path: Path) -> Any:
    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                raise ConfigError([ConfigIssue(display(path), key, MISSING, "appears twice (JSON keeps only the "
                                               "last one)", "keep one entry per image")], subject="the image lock")
        return dict(pairs)

    try:
        text = read_text(path)
    except ConfigError as err:
        raise ConfigError(err.issues, subject="the image lock") from None
    try:
        return json.loads(text, object_pairs_hook=unique)
    except json.JSONDecodeError as err:
        raise ConfigError([ConfigIssue(f"{display(path)}:{err.lineno}:{err.colno}", "", MISSING,
                                       f"not valid JSON: {err.msg}", LOCK_FIX)], subject="the image lock") from None


def _parse(path: Path, document: Any) -> dict[str, Locked]:
    where = display(path)
    issues: list[ConfigIssue] = []

    def issue(key: str, value: Any, problem: str, fix: str = LOCK_FIX) -> None:
        issues.append(ConfigIssue(where, key, value, problem, fix))

    known = {image.reference for image in IMAGES}
    entries = document.get("images") if isinstance(document, Mapping) else None
    if not isinstance(entries, Mapping):
        raise ConfigError([ConfigIssue(where, "images", MISSING if entries is None else entries,
                                       "the lock needs an `images` mapping of image reference to its entry",
                                       LOCK_FIX)], subject="the image lock")
    locked: dict[str, Locked] = {}
    for reference, entry in entries.items():
        key = f"images.{reference}"
        if reference not in known:
            issue(key, entry, f"is not an image haflow runs (allowed: the references in haflow/images.py: "
                  f"{', '.join(sorted(known))})",
                  "a chart bump changed the tag? rename the key to the new repository:tag and lock it again "
                  "(`haflow images lock`), or remove the entry")
            continue
        if not isinstance(entry, Mapping):
            issue(key, entry, "must be a mapping with digest, source and checked")
            continue
        for field in sorted(set(entry) - {"digest", "source", "checked"}):
            issue(f"{key}.{field}", entry[field], "is not a field of a lock entry (allowed: digest, source, checked)")
        digest = entry.get("digest", MISSING)
        if digest is not None and not (isinstance(digest, str) and DIGEST.match(digest)):
            issue(f"{key}.digest", digest, "must be sha256:<64 lowercase hex digits> (the manifest list's digest) "
                  "or null when none is known")
            digest = None
        source = entry.get("source", MISSING)
        if not isinstance(source, str) or not source.strip():
            issue(f"{key}.source", source, "must say where the digest came from (a non-empty string)")
        checked = entry.get("checked", MISSING)
        if not _is_date(checked):
            issue(f"{key}.checked", checked, "must be the day the digest was read, YYYY-MM-DD")
        locked[str(reference)] = Locked(digest, str(source), str(checked))
    for image in IMAGES:
        if image.reference not in entries:
            issue(f"images.{image.reference}", MISSING, "has no entry; every image in haflow/images.py needs one "
                  "(digest null when none is known)")
    if issues:
        raise ConfigError(issues, subject="the image lock")
    return locked


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def pinned(image: Image, path: Path | None = None) -> ImagePin:
    """``image`` with its lock entry (the lock in use unless ``path`` names one)."""
    entry = read_lock(path)[image.reference]
    return ImagePin(image, entry.digest, entry.source, entry.checked)


def pins(path: Path | None = None) -> tuple[ImagePin, ...]:
    """Every image with its lock entry, in IMAGES order."""
    return tuple(pinned(image, path) for image in IMAGES)


def stale_entries(as_of: date, max_age_days: int, *, chart: str | None = None,
                  path: Path | None = None) -> list[str]:
    """The locked digests (of ``chart``'s images, or all) read more than ``max_age_days`` before ``as_of``, each
    with where it came from (HA-SEC-067; tests/images/test_rule.py fails on purpose once one is due)."""
    problems = []
    for pin in pins(path):
        if pin.digest is None or (chart is not None and pin.image.chart != chart):
            continue
        age = (as_of - date.fromisoformat(pin.checked)).days
        if age <= max_age_days:
            continue
        where = ("from its registry" if pin.source.startswith(REGISTRY_SOURCE)
                 else f"from {pin.source}, never from its registry")
        problems.append(f"{pin.image.reference}: its digest was read {where} on {pin.checked}, {age} days before "
                        f"{as_of.isoformat()} (more than {max_age_days}); lock it again with `haflow images lock`")
    return problems


def lock_document(entries: Mapping[str, Locked]) -> str:
    """The lock file's text: IMAGES order, one entry per image."""
    ordered = {image.reference: entries[image.reference].to_json() for image in IMAGES}
    return json.dumps({"//": LOCK_COMMENT, "images": ordered}, indent=2) + "\n"


def write_lock(path: Path, entries: Mapping[str, Locked]) -> None:
    """Write the lock atomically: a temporary file beside it, flushed, renamed over it. A failure at any point
    leaves the previous lock as it was (and no temporary file)."""
    text = lock_document(entries)
    _parse(path, json.loads(text))  # what is written must read back
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
