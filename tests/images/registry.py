"""A real registry on 127.0.0.1 and small multi-arch images pushed into it with the real skopeo.

docker-registry (distribution 2.8) and skopeo (1.9) come from .tools/registry (`make image-tools`: Debian's
packages unpacked without root), $HAFLOW_DOCKER_REGISTRY / $HAFLOW_SKOPEO, or PATH; without them a test skips,
and fails instead with HAFLOW_REQUIRE_IMAGE_TOOLS=1 (CI: .ci/run).

An image is built here as an OCI image layout (https://github.com/opencontainers/image-spec/blob/main/
image-layout.md): one tiny gzipped layer and a config per platform (linux/amd64, linux/arm64), a manifest per
platform, and an image index naming both, which the layout's index.json tags. `skopeo copy --all` pushes the
index and both manifests, as a multi-arch image is published.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

REQUIRE_IMAGE_TOOLS = "HAFLOW_REQUIRE_IMAGE_TOOLS"
LOCAL_TOOLS = REPO_ROOT / ".tools" / "registry" / "bin"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
PLATFORMS = (("linux", "amd64"), ("linux", "arm64"))


def tool(name: str, variable: str) -> Path:
    for candidate in (os.environ.get(variable), LOCAL_TOOLS / name, shutil.which(name)):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    reason = f"{name} is neither ${variable} nor in {LOCAL_TOOLS} nor on PATH: run `make image-tools`"
    if os.environ.get(REQUIRE_IMAGE_TOOLS) == "1":
        pytest.fail(f"{reason} ({REQUIRE_IMAGE_TOOLS}=1: the image tests must run here)", pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE_IMAGE_TOOLS}=1 to make this a failure)")


def skopeo() -> Path:
    return tool("skopeo", "HAFLOW_SKOPEO")


def docker_registry() -> Path:
    return tool("docker-registry", "HAFLOW_DOCKER_REGISTRY")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Registry:
    """A running docker-registry: its address (127.0.0.1:port) and process."""

    host: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def head_manifest(self, name: str, tag: str) -> str:
        """The registry's own Docker-Content-Digest for name:tag, asked with the index media types."""
        request = urllib.request.Request(f"http://{self.host}/v2/{name}/manifests/{tag}", method="HEAD", headers={
            "Accept": ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))})
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.headers["Docker-Content-Digest"])


@contextmanager
def running_registry(workdir: Path) -> Iterator[Registry]:
    """docker-registry on a free loopback port, filesystem storage under ``workdir``, until the block ends."""
    binary = docker_registry()
    port = free_port()
    storage = workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.yml"
    config.write_text(json.dumps({  # JSON is YAML
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}"},
    }), encoding="utf-8")
    log = workdir / "registry.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(binary), "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
    registry = Registry(f"127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"http://{registry.host}/v2/", timeout=1):
                    break
            except OSError:
                assert process.poll() is None, log.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, f"the registry did not answer in 15 s: {log.read_text()}"
                time.sleep(0.05)
        yield registry
    finally:
        registry.stop()


def _blob(layout: Path, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _layer(text: str) -> tuple[bytes, str]:
    """A gzipped tar holding one small file; with the digest of the uncompressed tar (the config's diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    uncompressed = raw.getvalue()
    return gzip.compress(uncompressed, mtime=0), f"sha256:{hashlib.sha256(uncompressed).hexdigest()}"


def oci_layout(layout: Path, tag: str, seed: str) -> str:
    """Write a two-platform image (index + two manifests) tagged ``tag`` into the OCI layout ``layout``;
    return the index's digest. A different ``seed`` makes different layers, so a different image."""
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}), encoding="utf-8")
    manifests = []
    for os_name, arch in PLATFORMS:
        layer, diff_id = _layer(f"{seed} {os_name}/{arch}\n")
        config = _blob(layout, json.dumps({
            "architecture": arch, "os": os_name, "config": {"Cmd": ["/hello.txt"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]}}, sort_keys=True).encode())
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **_blob(layout, layer)}],
        }, sort_keys=True).encode()
        manifests.append({"mediaType": OCI_MANIFEST, **_blob(layout, manifest),
                          "platform": {"os": os_name, "architecture": arch}})
    # Indented, as many publishers write it: the digest is of these exact bytes, not of a re-serialization.
    index = (json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}, indent=3) + "\n").encode()
    descriptor = {"mediaType": OCI_INDEX, **_blob(layout, index),
                  "annotations": {"org.opencontainers.image.ref.name": tag}}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [descriptor]}), encoding="utf-8")
    return str(descriptor["digest"])


def push(layout: Path, tag: str, destination: str) -> None:
    """``skopeo copy --all`` of the layout's ``tag`` to ``destination`` (host:port/name:tag), as published."""
    result = subprocess.run(
        [str(skopeo()), "--insecure-policy", "copy", "--all", "--quiet", "--dest-tls-verify=false",
         f"oci:{layout}:{tag}", f"docker://{destination}"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def inspect_raw(reference: str) -> bytes:
    """What the registry serves for ``reference``: `skopeo inspect --raw`'s exact bytes."""
    result = subprocess.run([str(skopeo()), "inspect", "--raw", "--tls-verify=false", f"docker://{reference}"],
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout
