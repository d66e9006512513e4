"""A chart package rebuilt from the upstream git commit, the same bytes on every machine.

Most pinned charts are rendered from the chart directory of a git tag, not from the repository's published
package (see charts.lock's ``provenance``). To give every machine those exact files, ``haflow charts pull``
downloads the commit's archive from GitHub, keeps the chart directory (and vendored subcharts, each from its
own commit), drops what the chart's ``.helmignore`` drops (Helm's rules, as ``helm package`` applies them)
and packs the files deterministically.

The lock verifies such a package by its *content digest*: the sha256 of a manifest of ``sha256  path`` lines,
one per regular file, sorted by path. Tar headers, file order, modes, owners, timestamps and gzip metadata
do not enter it, so the packages in ../shared/reference/charts and the ones ``pull`` packs are accepted
alike when they hold the same files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

Files = dict[str, bytes]  # path inside the package ("<chart>/templates/x.yaml") -> contents

HELMIGNORE = ".helmignore"
# Helm adds this rule to every chart's .helmignore (pkg/ignore: rules.AddDefaults).
HELM_DEFAULT_IGNORE = "templates/.?*"
# A fixed timestamp for every tar header and the gzip header: the packed bytes depend on the files only.
PACKED_MTIME = 946684800  # 2000-01-01T00:00:00Z


class MirrorError(Exception):
    """An archive that does not hold what the lock says (exit 2 at the command)."""


def content_digest(files: Mapping[str, bytes]) -> str:
    manifest = "".join(f"{hashlib.sha256(files[path]).hexdigest()}  {path}\n" for path in sorted(files))
    return hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def package_files(package: bytes | Path) -> Files:
    """The regular files of a .tgz package; a link or device in it is refused (Helm refuses them too)."""
    stream = io.BytesIO(package) if isinstance(package, bytes) else package.open("rb")
    files: Files = {}
    with stream, tarfile.open(fileobj=stream, mode="r:gz") as archive:
        for member in archive:
            if member.isdir():
                continue
            if not member.isfile():
                raise MirrorError(f"{member.name}: not a regular file (type {member.type!r}); a chart package holds "
                                  f"regular files only")
            handle = archive.extractfile(member)
            files[member.name.removeprefix("./")] = handle.read() if handle else b""
    return files


def pack(files: Mapping[str, bytes]) -> bytes:
    """A .tgz of ``files``: sorted, mode 0644, owner 0:0, fixed mtime, gzip without name or timestamp."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(files):
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(files[path]), 0o644, PACKED_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(files[path]))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return compressed.getvalue()


# --- .helmignore, as Helm reads it (helm.sh/helm/v3/pkg/ignore) ------------------------------------------

@dataclass(frozen=True)
class _Rule:
    raw: str
    regex: re.Pattern[str]
    negate: bool
    must_dir: bool
    base_only: bool  # no slash in the pattern: matched against the last path element only

    def matches(self, path: str) -> bool:
        name = PurePosixPath(path).name if self.base_only else path
        return self.regex.fullmatch(name) is not None


def _glob(pattern: str) -> re.Pattern[str]:
    """Go's filepath.Match syntax: ``*`` and ``?`` never cross a ``/``; ``[^...]`` negates a class."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise MirrorError(f"{HELMIGNORE}: {pattern!r}: unterminated character class")
            body = pattern[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith("^") else body).replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


class HelmIgnore:
    def __init__(self, text: str) -> None:
        self.rules: list[_Rule] = []
        for line in [*text.splitlines(), HELM_DEFAULT_IGNORE]:
            rule = line.strip()
            if not rule or rule.startswith("#"):
                continue
            if "**" in rule:
                raise MirrorError(f"{HELMIGNORE}: {rule!r}: Helm does not support '**'")
            negate = rule.startswith("!")
            rule = rule[1:] if negate else rule
            must_dir = rule.endswith("/")
            rule = rule.rstrip("/") if must_dir else rule
            base_only = "/" not in rule
            self.rules.append(_Rule(line, _glob(rule.lstrip("/")), negate, must_dir, base_only))

    def ignores(self, path: str, is_dir: bool) -> bool:
        # Helm's Rules.Ignore, including its reading of a negated rule: a path a "!" rule does not match is
        # ignored, one it matches goes on to the next rule.
        for rule in self.rules:
            if rule.negate:
                if (rule.must_dir and not is_dir) or not rule.matches(path):
                    return True
                continue
            if rule.must_dir and not is_dir:
                continue
            if rule.matches(path):
                return True
        return False


def helm_filtered(files: Mapping[str, bytes]) -> Files:
    """The chart's files (paths relative to the chart root) that ``helm package`` keeps.

    Helm walks the directory and skips an ignored directory with everything under it, so each parent
    directory of a file is tested as a directory first.
    """
    rules = HelmIgnore(files.get(HELMIGNORE, b"").decode("utf-8"))
    kept: Files = {}
    for path, data in files.items():
        parts = path.split("/")
        parents = ["/".join(parts[:depth]) for depth in range(1, len(parts))]
        if any(rules.ignores(parent, True) for parent in parents) or rules.ignores(path, False):
            continue
        kept[path] = data
    return kept


# --- the chart directory out of a GitHub commit archive -------------------------------------------------

def archive_url(repo: str, commit: str) -> str:
    return f"https://codeload.github.com/{repo}/tar.gz/{commit}"


def directory_from_archive(archive: bytes, directory: str, where: str) -> Files:
    """The regular files under ``directory`` of a GitHub archive (one top folder ``<repo>-<commit>/``)."""
    prefix = directory.strip("/") + "/"
    files: Files = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar:
            path = member.name.partition("/")[2]
            if not member.isfile() or not path.startswith(prefix):
                continue
            handle = tar.extractfile(member)
            files[path[len(prefix):]] = handle.read() if handle else b""
    if not files:
        raise MirrorError(f"{where}: the archive holds nothing under {prefix}")
    return files


@dataclass(frozen=True)
class GitSource:
    """A chart directory at a commit; ``into`` places it in the package (``""``: the chart itself)."""

    repo: str
    commit: str
    path: str
    into: str = ""

    @property
    def url(self) -> str:
        return archive_url(self.repo, self.commit)


def assemble(chart: str, parts: Iterable[tuple[GitSource, Files]]) -> Files:
    """The package's files: each part filtered by its own .helmignore, under ``<chart>/<into>/``."""
    files: Files = {}
    for source, tree in parts:
        root = "/".join(p for p in (chart, source.into.strip("/")) if p)
        for path, data in helm_filtered(tree).items():
            files[f"{root}/{path}"] = data
    return files
