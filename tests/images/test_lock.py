"""`haflow images lock` against a real registry: docker-registry 2.8 on 127.0.0.1 holding a two-platform image
under every reference haflow runs, pushed with the real `skopeo copy --all`, read back by the real `skopeo
inspect --raw` the command runs. The digest it locks is cross-checked with the registry's own
Docker-Content-Digest header and with skopeo's bytes hashed here."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from haflow import images
from tests.images.conftest import Published
from tests.images.registry import OCI_INDEX, inspect_raw, skopeo

REGISTRY_SOURCE = "registry: skopeo inspect --raw"


def haflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "haflow", *args], capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, **(env or {})})


def lock(published: Published, lock_file: Path, *args: str,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return haflow("images", "lock", "--mirror", published.registry.host, "--tls-verify=false",
                  "--lock-file", str(lock_file), *args, env={"HAFLOW_SKOPEO": str(skopeo()), **(env or {})})


def entries(path: Path) -> dict[str, dict[str, str | None]]:
    return json.loads(path.read_text(encoding="utf-8"))["images"]  # type: ignore[no-any-return]


def test_lock_records_the_index_digest_the_registry_serves(published: Published, lock_copy: Path) -> None:
    result = lock(published, lock_copy)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    locked = entries(lock_copy)
    today = datetime.now(UTC).date().isoformat()
    host = published.registry.host
    for image in images.IMAGES:
        entry = locked[image.reference]
        raw = inspect_raw(f"{host}/{image.reference}")
        # The bytes are the multi-arch index (both platforms), and their sha256 is what was locked...
        document = json.loads(raw)
        assert document["mediaType"] == OCI_INDEX
        assert len(document["manifests"]) == 2
        assert entry["digest"] == f"sha256:{hashlib.sha256(raw).hexdigest()}" == published.digest
        # ...which is the registry's own digest for the tag, asked for the index media types.
        name, tag = f"{host}/{image.reference}".split("/", 1)[1].rsplit(":", 1)
        assert published.registry.head_manifest(name, tag) == entry["digest"]
        assert entry["source"] == f"{REGISTRY_SOURCE} via {host}/{image.repository}"
        assert entry["checked"] == today
        assert f"locked {image.reference} {published.digest}" in result.stdout
    # What was written reads back through haflow.images, and `--check` agrees with the registry.
    assert {pin.digest for pin in images.pins(lock_copy)} == {published.digest}
    check = lock(published, lock_copy, "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("ok ") == len(images.IMAGES)


def test_check_names_a_re_pushed_tag(fresh: Callable[..., Published], lock_copy: Path) -> None:
    published = fresh()
    assert lock(published, lock_copy).returncode == 0
    before = lock_copy.read_bytes()
    other = published.repush(images.RELOADER, "two")
    assert other != published.digest

    result = lock(published, lock_copy, "--check")
    assert result.returncode == 1, result.stdout + result.stderr
    [mismatch] = [line for line in result.stdout.splitlines() if line.startswith("MISMATCH")]
    assert f"{images.RELOADER.reference}: locked {published.digest}, registry {other}" in mismatch
    assert result.stdout.count("ok ") == len(images.IMAGES) - 1
    assert lock_copy.read_bytes() == before  # --check writes nothing


def test_check_reports_the_committed_pins_the_registry_does_not_serve(published: Published, lock_copy: Path) -> None:
    """The committed lock against a registry serving other bytes: every corroborated pin is a mismatch, every
    image without a digest is named."""
    result = lock(published, lock_copy, "--check")
    assert result.returncode == 1, result.stderr
    committed = images.read_lock(images.LOCK_FILE)
    for reference, entry in committed.items():
        if entry.digest is None:
            assert f"NO DIGEST {reference}: locked none, registry {published.digest}" in result.stdout
        else:
            assert f"MISMATCH  {reference}: locked {entry.digest}, registry {published.digest}" in result.stdout


def test_a_tag_the_registry_does_not_have_is_a_clear_error(fresh: Callable[..., Published], lock_copy: Path) -> None:
    published = fresh(skip=(images.FLUENT_BIT,))
    before = lock_copy.read_bytes()
    result = lock(published, lock_copy)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [failed] = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert failed.startswith(f"FAILED {images.FLUENT_BIT.reference} (read as {published.registry.host}/"
                             f"{images.FLUENT_BIT.reference})")
    assert "manifest unknown" in failed
    assert "lock.json is unchanged" in result.stderr
    assert lock_copy.read_bytes() == before
    # --check cannot check it either: exit 2, not a pass.
    check = lock(published, lock_copy, "--check")
    assert check.returncode == 2 and "manifest unknown" in check.stderr


def test_a_registry_killed_midway_leaves_the_lock_unchanged(fresh: Callable[..., Published], lock_copy: Path,
                                                            tmp_path: Path) -> None:
    """skopeo (real) is run through a wrapper that SIGKILLs the registry before the fourth image."""
    published = fresh()
    wrapper = tmp_path / "skopeo-then-kill"
    count = tmp_path / "count"
    wrapper.write_text(f"""#!/bin/sh
n=$(cat {count} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {count}
if [ "$n" -eq 4 ]; then kill -9 {published.registry.process.pid}; sleep 0.2; fi
exec {skopeo()} "$@"
""", encoding="utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    before = lock_copy.read_bytes()

    result = lock(published, lock_copy, env={"HAFLOW_SKOPEO": str(wrapper)})
    assert result.returncode == 2, result.stdout + result.stderr
    assert published.registry.process.poll() is not None  # it was killed, mid-way
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == len(images.IMAGES) - 3, result.stderr
    assert lock_copy.read_bytes() == before
    assert sorted(path.name for path in lock_copy.parent.iterdir()) == [lock_copy.name]  # no temporary file left


def test_skopeo_missing_is_exit_2_naming_the_make_target(lock_copy: Path, tmp_path: Path) -> None:
    result = haflow("images", "lock", "--check", "--lock-file", str(lock_copy),
                    env={"HAFLOW_SKOPEO": str(tmp_path / "no-skopeo")})
    assert result.returncode == 2
    assert "skopeo is missing" in result.stderr and "make image-tools" in result.stderr
    assert "Traceback" not in result.stderr


def test_tls_verification_is_off_for_the_loopback_only(lock_copy: Path) -> None:
    result = haflow("images", "lock", "--tls-verify=false", "--lock-file", str(lock_copy),
                    env={"HAFLOW_SKOPEO": str(skopeo())})
    assert result.returncode == 2
    assert "--tls-verify=false is for a registry on this machine's loopback" in result.stderr
    assert "registry.k8s.io" in result.stderr
    mirrored = haflow("images", "lock", "--tls-verify=false", "--mirror", "mirror.example.com:5000",
                      "--lock-file", str(lock_copy), env={"HAFLOW_SKOPEO": str(skopeo())})
    assert mirrored.returncode == 2 and "mirror.example.com:5000 is not one" in mirrored.stderr


def test_lock_one_image_keeps_the_other_entries(fresh: Callable[..., Published], lock_copy: Path) -> None:
    published = fresh()
    before = images.read_lock(lock_copy)
    result = lock(published, lock_copy, "--image", images.PROMETHEUS.reference)
    assert result.returncode == 0, result.stderr
    after = images.read_lock(lock_copy)
    assert after[images.PROMETHEUS.reference].digest == published.digest
    assert {k: v for k, v in after.items() if k != images.PROMETHEUS.reference} == {
        k: v for k, v in before.items() if k != images.PROMETHEUS.reference}


@pytest.mark.parametrize(("args", "message"), [
    (["--image", "ghcr.io/stakater/reloader:v9"], "--image ghcr.io/stakater/reloader:v9: not an image haflow runs"),
    (["--mirror", "=x"], "--mirror '=x': not a mirror (allowed: PREFIX"),
    (["--mirror", "bad host/x"], "--mirror 'bad host/x': not a mirror"),
    (["--tls-verify", "maybe"], "--tls-verify 'maybe': allowed true or false"),
], ids=["unknown-image", "empty-prefix", "bad-host", "tls-verify-value"])
def test_bad_options_are_exit_2_before_any_registry_is_asked(lock_copy: Path, args: list[str],
                                                              message: str) -> None:
    before = lock_copy.read_bytes()
    result = haflow("images", "lock", *args, "--lock-file", str(lock_copy), env={"HAFLOW_SKOPEO": str(skopeo())})
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert "reading " not in result.stderr and "Traceback" not in result.stderr
    assert lock_copy.read_bytes() == before
