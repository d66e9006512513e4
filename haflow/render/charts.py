"""Where the pinned chart packages come from, and the lock that decides which bytes are trusted.

``charts.lock`` (repository root) holds, per chart version, the repository it is published in and the
sha256 of the package the render gate accepts; CRD bundles a chart does not package (external-secrets)
are locked the same way. A package whose digest differs from the lock is refused, never rendered.

Lookup order for a package: ``--charts-dir DIR`` alone when given; otherwise the chart cache
(``$HAFLOW_CHARTS_DIR``, default ``~/.cache/haflow/charts``, filled by ``haflow charts pull``), then the
reference packages beside the checkout (``../shared/reference/charts``), which is how CI and this
machine, without network to chart repositories, find them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
LOCK_FILE = REPO_ROOT / "charts.lock"
CACHE_ENV = "HAFLOW_CHARTS_DIR"
DEFAULT_CACHE = Path("~/.cache/haflow/charts")
REFERENCE_CHARTS = REPO_ROOT.parent / "shared" / "reference" / "charts"
# Local charts shipped in the package (haflow/charts/<name>); cdktf copies each into cdktf.out as an
# asset named "<scope>_<name>-chart_<hash>", which is how a release's chart path names its source.
LOCAL_CHARTS = REPO_ROOT / "haflow" / "charts"
FETCH_TIMEOUT_SECONDS = 20


class ChartError(Exception):
    """A chart the gate cannot use: not in the lock, not found, or not the locked bytes (exit 2)."""


@dataclass(frozen=True)
class LockedFile:
    chart: str
    version: str
    file: str
    sha256: str
    repository: str = ""  # the Helm repository a chart package is published in
    url: str = ""  # where a file that is not a chart package (a CRD bundle) is published


@dataclass(frozen=True)
class ChartLock:
    path: Path
    charts: tuple[LockedFile, ...]
    crds: tuple[LockedFile, ...]

    def package(self, chart: str, version: str) -> LockedFile:
        for entry in self.charts:
            if (entry.chart, entry.version) == (chart, version):
                return entry
        pinned = ", ".join(f"{entry.chart} {entry.version}" for entry in self.charts)
        raise ChartError(
            f"{self.path}: no entry for chart {chart} version {version} (locked: {pinned}); add its "
            f"repository, file and sha256 after checking the package's provenance"
        )

    def crd_bundles(self, chart: str, version: str) -> list[LockedFile]:
        return [entry for entry in self.crds if (entry.chart, entry.version) == (chart, version)]

    @property
    def files(self) -> tuple[LockedFile, ...]:
        return self.charts + self.crds


def load_lock(path: Path = LOCK_FILE) -> ChartLock:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ChartError(f"{path}: cannot read the chart lock ({err})") from None
    try:
        charts = tuple(_entry(item) for item in document["charts"])
        crds = tuple(_entry(item) for item in document.get("crds", []))
    except (KeyError, TypeError) as err:
        raise ChartError(f"{path}: every entry needs chart, version, file and sha256 ({err!r} missing)") from None
    return ChartLock(path, charts, crds)


def _entry(item: dict[str, Any]) -> LockedFile:
    return LockedFile(str(item["chart"]), str(item["version"]), str(item["file"]), str(item["sha256"]),
                      str(item.get("repository", "")), str(item.get("url", "")))


def default_cache() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def search_path(charts_dir: Path | None) -> list[Path]:
    """The directories looked in, in order."""
    if charts_dir is not None:
        return [charts_dir]
    return [default_cache(), REFERENCE_CHARTS]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified(entry: LockedFile, directories: list[Path], lock: Path) -> Path:
    """The first copy of ``entry`` in ``directories``, refused unless its sha256 is the locked one."""
    for directory in directories:
        candidate = directory / entry.file
        if not candidate.is_file():
            continue
        found = _digest(candidate)
        if found != entry.sha256:
            raise ChartError(
                f"{candidate}: sha256 {found} is not the locked {entry.sha256} ({lock}); refusing to render a "
                f"package that is not the pinned {entry.chart} {entry.version}. Replace it with the pinned "
                f"package (haflow charts pull) or, after reviewing a new package, update the lock"
            )
        return candidate
    where = ", ".join(str(directory) for directory in directories)
    raise ChartError(
        f"{entry.file} ({entry.chart} {entry.version}) not found in {where}; run `haflow charts pull`, "
        f"or pass --charts-dir with a directory holding the pinned packages"
    )


@cache
def _digest_cached(path: Path, size: int, mtime_ns: int) -> str:
    return sha256_of(path)


def _digest(path: Path) -> str:
    stat = path.stat()
    return _digest_cached(path.resolve(), stat.st_size, stat.st_mtime_ns)


def local_chart(chart: str) -> Path | None:
    """The package's own chart a release names by cdktf asset path (``assets/<scope>_<name>-chart_<hash>/...``)."""
    parts = Path(chart).parts
    if len(parts) < 2 or parts[0] != "assets":
        return None
    stem = parts[1].rsplit("_", 1)[0]  # drop the hash
    for candidate in sorted(LOCAL_CHARTS.iterdir()) if LOCAL_CHARTS.is_dir() else []:
        if stem.endswith(f"_{candidate.name}-chart") or stem == f"{candidate.name}-chart":
            return candidate
    return None


# --- reading a package without the engine -----------------------------------------------------------

@dataclass(frozen=True)
class PackageContents:
    """What the gate reads from a chart package itself: default values (with subcharts') and CRDs."""

    default_values: dict[str, Any]
    subcharts: tuple[str, ...]
    crds: tuple[dict[str, Any], ...]


def read_package(path: Path) -> PackageContents:
    if path.is_dir():
        return _read_members({str(p.relative_to(path.parent)): p.read_bytes() for p in path.rglob("*")
                              if p.is_file()})
    return _read_archive(path.resolve(), _digest(path))


@cache
def _read_archive(path: Path, digest: str) -> PackageContents:
    members: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            if member.isfile() and (member.name.endswith("values.yaml") or "/crds/" in member.name):
                handle = archive.extractfile(member)
                if handle is not None:
                    members[member.name] = handle.read()
    return _read_members(members)


def _read_members(members: dict[str, bytes]) -> PackageContents:
    """Default values keyed like Helm's coalesced tree: a subchart's values under its name."""
    defaults: dict[str, Any] = {}
    subcharts: list[str] = []
    crds: list[dict[str, Any]] = []
    for name, data in sorted(members.items()):
        parts = name.split("/")
        if parts[-1] == "values.yaml":
            nesting = [parts[i + 1] for i in range(len(parts) - 1) if parts[i] == "charts"]
            node = defaults
            for sub in nesting:
                node = node.setdefault(sub, {})
            node.update(yaml.safe_load(data) or {})
            subcharts.extend(nesting[-1:])
        elif len(parts) > 2 and parts[-2] == "crds" and parts[-1].endswith((".yaml", ".yml", ".json")):
            crds.extend(doc for doc in yaml.load_all(data, Loader=ManifestLoader) if isinstance(doc, dict)
                        and doc.get("kind") == "CustomResourceDefinition")
    return PackageContents(defaults, tuple(sorted(set(subcharts))), tuple(crds))


def read_crd_bundle(path: Path) -> list[dict[str, Any]]:
    return list(_read_crd_bundle(path.resolve(), _digest(path)))


@cache
def _read_crd_bundle(path: Path, digest: str) -> tuple[dict[str, Any], ...]:
    with path.open("rb") as stream:
        return tuple(doc for doc in yaml.load_all(stream, Loader=_loader())
                     if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition")


class ManifestLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML 1.1's '=' value tag read as the plain string it is in Kubernetes manifests (PyYAML #89)."""


ManifestLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def _loader() -> type[yaml.SafeLoader]:
    return ManifestLoader


# --- haflow charts pull -------------------------------------------------------------------------------

Fetch = Callable[[str], bytes]


def fetch_url(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:
        data: bytes = response.read()
        return data


@dataclass(frozen=True)
class PullResult:
    entry: LockedFile
    url: str
    path: Path | None
    problem: str = ""


def package_url(entry: LockedFile, fetch: Fetch) -> str:
    """The package's URL as the repository's index.yaml lists it (relative URLs resolved)."""
    index_url = entry.repository.rstrip("/") + "/index.yaml"
    index = yaml.load(fetch(index_url), Loader=_loader()) or {}
    for release in (index.get("entries") or {}).get(entry.chart) or []:
        if str(release.get("version")) == entry.version and release.get("urls"):
            return urllib.parse.urljoin(index_url, str(release["urls"][0]))
    raise ChartError(f"{index_url}: lists no {entry.chart} {entry.version}")


def pull(lock: ChartLock, destination: Path, fetch: Fetch = fetch_url) -> Iterator[PullResult]:
    """Download every locked file into ``destination``; a file whose digest differs is not written."""
    destination.mkdir(parents=True, exist_ok=True)
    for entry in lock.files:
        target = destination / entry.file
        if target.is_file() and sha256_of(target) == entry.sha256:
            yield PullResult(entry, "", target)
            continue
        url = entry.url or f"{entry.repository.rstrip('/')}/index.yaml"
        try:
            url = entry.url or package_url(entry, fetch)
            data = fetch(url)
        except (urllib.error.URLError, OSError, ValueError, ChartError, yaml.YAMLError) as err:
            yield PullResult(entry, url, None, f"could not fetch {url}: {_reason(err)}")
            continue
        found = hashlib.sha256(data).hexdigest()
        if found != entry.sha256:
            yield PullResult(entry, url, None, f"{url}: sha256 {found} is not the locked {entry.sha256} "
                                               f"({lock.path}); refused, nothing written")
            continue
        with tempfile.NamedTemporaryFile(dir=destination, prefix=f".{entry.file}.", delete=False) as partial:
            partial.write(data)
        Path(partial.name).replace(target)
        yield PullResult(entry, url, target)


def _reason(err: BaseException) -> str:
    if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
        return str(err.reason)
    return str(err)
