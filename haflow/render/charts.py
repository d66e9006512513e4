"""Where the pinned chart packages come from, and the lock that decides which bytes are trusted.

``charts.lock`` (repository root) holds, per chart version, the repository it is published in, where its
package comes from and the digest the render gate accepts:

- a chart rendered from the repository's *published* package: that package's ``sha256`` (as the
  repository's index.yaml lists it); ``haflow charts pull`` downloads it through the index;
- a chart rendered from the chart directory of a git commit (``source.parts``: repository, commit, path,
  and vendored subcharts with their own commits): the ``content_sha256`` of its files
  (haflow/render/mirror.py); ``pull`` downloads each commit's archive from GitHub and packs it
  deterministically. ``published_sha256`` records the repository's published package, which is *not*
  what the gate renders (its files differ), for reference.

CRD bundles a chart does not package (external-secrets) are locked by ``sha256`` and fetched from ``url``
(a raw file at the pinned commit). A package whose digest differs from the lock is refused, never rendered.

Lookup order for a package: ``--charts-dir DIR`` alone when given; otherwise the chart cache
(``$HAFLOW_CHARTS_DIR``, default ``~/.cache/haflow/charts``, filled by ``haflow charts pull``), then the
reference packages beside the checkout (``$HAFLOW_REFERENCE_CHARTS``, default ``../shared/reference/charts``;
set it to an empty string to look in the cache only).
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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from haflow import progress
from haflow.render.mirror import (
    GitSource,
    MirrorError,
    assemble,
    content_digest,
    directory_from_archive,
    pack,
    package_files,
)

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
LOCK_FILE = REPO_ROOT / "charts.lock"
CACHE_ENV = "HAFLOW_CHARTS_DIR"
DEFAULT_CACHE = Path("~/.cache/haflow/charts")
REFERENCE_CHARTS = REPO_ROOT.parent / "shared" / "reference" / "charts"
REFERENCE_ENV = "HAFLOW_REFERENCE_CHARTS"
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
    sha256: str  # the exact bytes ("" when the entry is verified by content_sha256)
    repository: str = ""  # the Helm repository a chart package is published in
    url: str = ""  # where a file that is not a chart package (a CRD bundle) is published
    content_sha256: str = ""  # the files of a package packed from git (mirror.content_digest)
    parts: tuple[GitSource, ...] = ()  # the commits a package packed from git is made of
    published_sha256: str = ""  # the repository's own package of that version, not the one rendered

    @property
    def digest(self) -> str:
        """What the lock checks: ``content:<sha256>`` for a package packed from git, else the file's sha256."""
        return f"content:{self.content_sha256}" if self.content_sha256 else self.sha256


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
        raise ChartError(f"{path}: every entry needs chart, version, file and sha256 or content_sha256 with "
                         f"source.parts (repo, commit, path) ({err!r} missing)") from None
    return ChartLock(path, charts, crds)


def _entry(item: dict[str, Any]) -> LockedFile:
    parts = tuple(GitSource(str(part["repo"]), str(part["commit"]), str(part["path"]), str(part.get("into", "")))
                  for part in (item.get("source") or {}).get("parts", []))
    if "sha256" not in item and not ("content_sha256" in item and parts):
        raise KeyError("sha256")
    return LockedFile(str(item["chart"]), str(item["version"]), str(item["file"]), str(item.get("sha256", "")),
                      str(item.get("repository", "")), str(item.get("url", "")),
                      str(item.get("content_sha256", "")), parts, str(item.get("published_sha256", "")))


def default_cache() -> Path:
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def search_path(charts_dir: Path | None) -> list[Path]:
    """The directories looked in, in order."""
    if charts_dir is not None:
        return [charts_dir]
    reference = reference_charts()
    return [default_cache(), reference] if reference else [default_cache()]


def reference_charts() -> Path | None:
    """The reference packages beside the checkout ($HAFLOW_REFERENCE_CHARTS; empty: none)."""
    reference = os.environ.get(REFERENCE_ENV)
    if reference is None:
        return REFERENCE_CHARTS
    return Path(reference).expanduser() if reference else None


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
        found = _content_digest(candidate) if entry.content_sha256 else _digest(candidate)
        if found != entry.digest:
            kind = "content digest" if entry.content_sha256 else "sha256"
            raise ChartError(
                f"{candidate}: {kind} {found.removeprefix('content:')} is not the locked "
                f"{entry.digest.removeprefix('content:')} ({lock}); refusing to render a package that is not the "
                f"pinned {entry.chart} {entry.version}. Replace it with the pinned package (`haflow charts pull`) "
                f"or, after reviewing a new package, update the lock"
            )
        return candidate
    where = ", ".join(str(directory) for directory in directories)
    raise ChartError(
        f"{entry.file} ({entry.chart} {entry.version}) not found in {where}; run `haflow charts pull` (it "
        f"fetches every package charts.lock pins into {default_cache()}: needs HTTPS to github.com and the "
        f"chart repositories), or pass --charts-dir with a directory holding the pinned packages"
    )


@cache
def _digest_cached(path: Path, size: int, mtime_ns: int) -> str:
    return sha256_of(path)


def _digest(path: Path) -> str:
    stat = path.stat()
    return _digest_cached(path.resolve(), stat.st_size, stat.st_mtime_ns)


@cache
def _content_digest_cached(path: Path, size: int, mtime_ns: int) -> str:
    try:
        return "content:" + content_digest(package_files(path))
    except (OSError, tarfile.TarError, EOFError, MirrorError) as err:
        return f"content:unreadable ({err})"


def _content_digest(path: Path) -> str:
    stat = path.stat()
    return _content_digest_cached(path.resolve(), stat.st_size, stat.st_mtime_ns)


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


def _coalesce(into: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Merge ``values`` over ``into`` key by key, as Helm coalesces a parent's values over a subchart's defaults
    (members are read in sorted order, so a chart's charts/ come before its own values.yaml)."""
    for key, value in values.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _coalesce(into[key], value)
        else:
            into[key] = value


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
            _coalesce(node, yaml.safe_load(data) or {})
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
    """Fetch every locked file into ``destination``; a file whose digest differs is not written.

    A published package comes through its repository's index.yaml; a package packed from git is built from
    each commit's GitHub archive (fetched once per commit) and verified by its content digest.
    """
    destination.mkdir(parents=True, exist_ok=True)
    archives: dict[str, bytes] = {}
    for entry in lock.files:
        target = destination / entry.file
        present = target.is_file() and (_content_digest(target) if entry.content_sha256 else sha256_of(target))
        if present == entry.digest:
            yield PullResult(entry, "", target)
            continue
        url = entry.url or (entry.parts[0].url if entry.parts else f"{entry.repository.rstrip('/')}/index.yaml")
        try:
            if entry.parts:
                data, url = _packed_from_git(entry, fetch, archives)
            else:
                url = entry.url or package_url(entry, fetch)
                data = fetch(url)
        except (urllib.error.URLError, OSError, ValueError, ChartError, yaml.YAMLError, tarfile.TarError,
                EOFError, MirrorError) as err:
            yield PullResult(entry, url, None, f"could not fetch {url}: {_reason(err)}")
            continue
        found = ("content:" + content_digest(package_files(data))) if entry.content_sha256 else \
            hashlib.sha256(data).hexdigest()
        if found != entry.digest:
            kind = "content digest" if entry.content_sha256 else "sha256"
            yield PullResult(entry, url, None, f"{url}: {kind} {found.removeprefix('content:')} is not the locked "
                                               f"{entry.digest.removeprefix('content:')} ({lock.path}); refused, "
                                               f"nothing written")
            continue
        with tempfile.NamedTemporaryFile(dir=destination, prefix=f".{entry.file}.", delete=False) as partial:
            partial.write(data)
        Path(partial.name).replace(target)
        yield PullResult(entry, url, target)


def _packed_from_git(entry: LockedFile, fetch: Fetch, archives: dict[str, bytes]) -> tuple[bytes, str]:
    parts = []
    for source in entry.parts:
        if source.url not in archives:
            progress.say(f"fetching {source.url} ({entry.chart} {entry.version}: {source.path})")
            archives[source.url] = fetch(source.url)
        parts.append((source, directory_from_archive(archives[source.url], source.path, source.url)))
    urls = " + ".join(f"{source.url}:{source.path}" for source in entry.parts)
    return pack(assemble(entry.chart, parts)), urls


def _reason(err: BaseException) -> str:
    if isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError):
        return str(err.reason)
    return str(err)
