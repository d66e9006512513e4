"""haflow images: the chart images, their locked digests, and the lock written from (and checked against) the
registry.

``lock`` asks the registry for each image's manifest list with ``skopeo inspect --raw docker://<ref>`` and locks
the sha256 of those exact bytes: the digest of the multi-arch index, which is what a pod's ``image@sha256:...``
must name (a platform manifest's digest would pin one architecture). ``lock --check`` does the same and compares
with the lock instead of writing it: the deploy runner's gate before ``cdktf deploy`` (docs/deploy.md).

``--mirror`` reads the images through another registry: ``PREFIX`` (``host[:port][/path]``) for every image,
as ``PREFIX/<registry>/<path>:<tag>``, or ``REGISTRY=PREFIX`` for one upstream registry, as
``PREFIX/<path>:<tag>`` (an ECR pull-through cache's layout: ``--mirror
docker.io=<account>.dkr.ecr.<region>.amazonaws.com/docker-hub``). A mirror that copies manifests unchanged
(a pull-through cache, ``skopeo copy --all``) serves the same digest as the upstream.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from haflow import images, progress
from haflow.commands.common import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, print_error
from haflow.errors import ConfigError
from haflow.reader import display

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
LOCAL_SKOPEO = REPO_ROOT / ".tools" / "registry" / "bin" / "skopeo"
SKOPEO_ENV = "HAFLOW_SKOPEO"
MIRRORS_ENV = "HAFLOW_IMAGE_MIRRORS"
INSPECT_TIMEOUT_SECONDS = 120
INDEX_TYPES = frozenset({"application/vnd.oci.image.index.v1+json",
                         "application/vnd.docker.distribution.manifest.list.v2+json"})
HOST = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")


class ImagesError(Exception):
    """Bad input to an images command (exit 2)."""


@dataclass(frozen=True)
class Mirror:
    """Where images are read from instead of their registry: ``registry`` None for every image."""

    registry: str | None
    prefix: str

    def applies(self, image: images.Image) -> bool:
        return self.registry is None or registry_of(image.repository) == self.registry

    def reference(self, image: images.Image) -> str:
        path = image.repository if self.registry is None else image.repository.split("/", 1)[1]
        return f"{self.prefix}/{path}:{image.tag}"


@dataclass(frozen=True)
class Resolved:
    image: images.Image
    fetched: str  # the reference skopeo read
    digest: str | None = None
    media_type: str = ""
    problem: str = ""


def registry_of(repository: str) -> str:
    return repository.split("/", 1)[0]


def parse_mirror(text: str) -> Mirror:
    registry, _, prefix = text.rpartition("=")
    prefix = prefix.strip().rstrip("/")
    host = prefix.split("/", 1)[0]
    if not prefix or not HOST.match(host) or ("=" in text and not HOST.match(registry)):
        raise ImagesError(
            f"--mirror {text!r}: not a mirror (allowed: PREFIX, as host[:port][/path], for every image, or "
            f"REGISTRY=PREFIX for the images of one registry, e.g. docker.io=<account>.dkr.ecr.<region>."
            f"amazonaws.com/docker-hub); fix the value")
    return Mirror(registry or None, prefix)


def mirrors_from(options: Sequence[str]) -> list[Mirror]:
    """--mirror options, else $HAFLOW_IMAGE_MIRRORS (the same forms, separated by spaces). A registry's own
    mirror wins over one for every image."""
    texts = list(options) or os.environ.get(MIRRORS_ENV, "").split()
    mirrors = [parse_mirror(text) for text in texts]
    return sorted(mirrors, key=lambda mirror: mirror.registry is None)


def fetched_reference(image: images.Image, mirrors: Sequence[Mirror]) -> str:
    for mirror in mirrors:
        if mirror.applies(image):
            return mirror.reference(image)
    return image.reference


def is_loopback(reference: str) -> bool:
    host = registry_of(reference)
    host = host[1:host.index("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def find_skopeo() -> Path:
    named = os.environ.get(SKOPEO_ENV)
    if named:
        if Path(named).is_file() and os.access(named, os.X_OK):
            return Path(named)
        raise ImagesError(f"skopeo is missing: ${SKOPEO_ENV} = {named!r} is not an executable file; point it at "
                          f"skopeo, or unset it and run `make image-tools` (Debian's skopeo into .tools/registry)")
    for candidate in (LOCAL_SKOPEO, shutil.which("skopeo")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise ImagesError(f"skopeo is missing: it is neither ${SKOPEO_ENV} nor {display(LOCAL_SKOPEO)} nor on PATH; "
                      f"run `make image-tools` (Debian's skopeo unpacked into .tools/registry) or install skopeo")


def inspect_raw(skopeo: Path, reference: str, tls_verify: bool) -> bytes:
    """The exact bytes the registry serves for ``reference``'s manifest (list), or ImagesError."""
    command = [str(skopeo), "inspect", "--raw", f"--tls-verify={'true' if tls_verify else 'false'}",
               f"docker://{reference}"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=INSPECT_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise ImagesError(f"no answer in {INSPECT_TIMEOUT_SECONDS} s") from None
    except OSError as err:
        raise ImagesError(f"cannot run {skopeo} ({err.strerror})") from None
    if result.returncode != 0:
        raise ImagesError(_skopeo_message(result.stderr.decode("utf-8", "replace")))
    return result.stdout


def _skopeo_message(stderr: str) -> str:
    """skopeo's error without its log decoration (``time=... level=fatal msg="..."``)."""
    quoted = re.findall(r'msg="((?:[^"\\]|\\.)*)"', stderr)
    text = quoted[-1].replace('\\"', '"') if quoted else stderr.strip()
    return " ".join(text.split())[:500] or "skopeo failed without a message"


def resolve(skopeo: Path, image: images.Image, mirrors: Sequence[Mirror], tls_verify: bool) -> Resolved:
    fetched = fetched_reference(image, mirrors)
    try:
        raw = inspect_raw(skopeo, fetched, tls_verify)
    except ImagesError as err:
        return Resolved(image, fetched, problem=str(err))
    try:
        document = json.loads(raw)
        media_type = str(document.get("mediaType") or "")
    except (ValueError, AttributeError):
        return Resolved(image, fetched, problem="the registry's answer is not a JSON manifest")
    return Resolved(image, fetched, f"sha256:{hashlib.sha256(raw).hexdigest()}", media_type)


def _selected(references: Sequence[str]) -> list[images.Image]:
    if not references:
        return list(images.IMAGES)
    known = {image.reference: image for image in images.IMAGES}
    unknown = [reference for reference in references if reference not in known]
    if unknown:
        raise ImagesError(f"--image {', '.join(unknown)}: not an image haflow runs (allowed: "
                          f"{', '.join(known)}); name it as repository:tag from `haflow images list`")
    return [known[reference] for reference in dict.fromkeys(references)]


def list_images(lock_file: Path | None) -> int:
    try:
        pins = images.pins(lock_file)
    except ConfigError as err:
        print_error(err.render())
        return EXIT_BAD_INPUT
    width = max(len(pin.image.reference) for pin in pins)
    print(f"{'IMAGE':<{width}}  {'DIGEST':<71}  CHECKED     SOURCE")
    for pin in pins:
        print(f"{pin.image.reference:<{width}}  {pin.digest or 'none':<71}  {pin.checked}  {pin.source}")
    missing = sum(pin.digest is None for pin in pins)
    print_error(f"{len(pins)} images in {display(lock_file or images.lock_path())}, {missing} without a digest")
    return EXIT_OK


def lock(lock_file: Path | None, *, check: bool, mirror: Sequence[str], tls_verify: str,
         only: Sequence[str]) -> int:
    path = lock_file or images.lock_path()
    try:
        skopeo = find_skopeo()
        mirrors = mirrors_from(mirror)
        chosen = _selected(only)
        verify = _tls_verify(tls_verify, [fetched_reference(image, mirrors) for image in chosen])
        current = images.read_lock(path) if (check or only) else {}
    except ImagesError as err:
        print_error(f"haflow images lock: {err}")
        return EXIT_BAD_INPUT
    except ConfigError as err:
        print_error(err.render())
        return EXIT_BAD_INPUT
    results = []
    for number, image in enumerate(chosen, 1):
        progress.say(f"reading {image.reference} ({number}/{len(chosen)}) from its registry")
        results.append(resolve(skopeo, image, mirrors, verify))
    failed = [result for result in results if result.problem]
    for result in failed:
        through = f" (read as {result.fetched})" if result.fetched != result.image.reference else ""
        print_error(f"FAILED {result.image.reference}{through}: {result.problem}")
    for result in results:
        if result.digest and result.media_type not in INDEX_TYPES:
            print_error(f"note   {result.image.reference}: the registry serves a single manifest "
                        f"({result.media_type or 'no mediaType'}), not a multi-arch index; its digest pins one "
                        f"platform")
    if check:
        return _compare(path, current, results, failed)
    if failed:
        print_error(f"{len(failed)} of {len(results)} images not read; {display(path)} is unchanged")
        return EXIT_BAD_INPUT
    day = datetime.now(UTC).date().isoformat()
    entries = dict(current) if only else {}
    for result in results:
        mirrored = result.fetched != result.image.reference
        source = images.REGISTRY_SOURCE + (f" via {result.fetched.rsplit(':', 1)[0]}" if mirrored else "")
        entries[result.image.reference] = images.Locked(result.digest, source, day)
    try:
        images.write_lock(path, entries)
    except OSError as err:
        print_error(f"{display(path)}: cannot write the image lock ({err.strerror}); it is unchanged")
        return EXIT_BAD_INPUT
    for result in results:
        print(f"locked {result.image.reference} {result.digest}")
    print_error(f"wrote {display(path)}: {len(results)} digests read from the registry on {day}")
    return EXIT_OK


def _tls_verify(value: str, references: Sequence[str]) -> bool:
    if value not in ("true", "false"):
        raise ImagesError(f"--tls-verify {value!r}: allowed true or false")
    if value == "true":
        return True
    remote = sorted({registry_of(reference) for reference in references if not is_loopback(reference)})
    if remote:
        raise ImagesError(f"--tls-verify=false is for a registry on this machine's loopback (a test's) only, and "
                          f"{', '.join(remote)} is not one; drop the option")
    return False


def _compare(path: Path, current: dict[str, images.Locked], results: Sequence[Resolved],
             failed: Sequence[Resolved]) -> int:
    findings = 0
    for result in results:
        if result.problem:
            continue
        locked = current[result.image.reference].digest
        if locked is None:
            findings += 1
            print(f"NO DIGEST {result.image.reference}: locked none, registry {result.digest}")
        elif locked != result.digest:
            findings += 1
            print(f"MISMATCH  {result.image.reference}: locked {locked}, registry {result.digest} (a re-pushed "
                  f"tag, or a locked digest the registry never served)")
        else:
            print(f"ok        {result.image.reference} {locked}")
    if failed:
        print_error(f"{len(failed)} of {len(results)} images not read: the lock is not checked "
                    f"({findings} findings among the others)")
        return EXIT_BAD_INPUT
    if findings:
        print_error(f"{findings} of {len(results)} images differ from {display(path)} or have no digest: check "
                    f"the registry's change, then `haflow images lock` (docs/security-cluster.md#image-digests)")
        return EXIT_FINDINGS
    print_error(f"{len(results)} images match {display(path)}")
    return EXIT_OK
