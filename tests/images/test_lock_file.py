"""The image lock as input: every problem is a clear error naming the file, the key, the value, what is allowed
and the fix (exit 2 from `haflow images list`, a ConfigError from haflow.images), and a write is atomic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from haflow import images
from haflow.errors import ConfigError

GOOD = "sha256:" + "a" * 64


def committed() -> dict[str, Any]:
    return json.loads(images.LOCK_FILE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def list_with(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "haflow", "images", "list", "--lock-file", str(path)],
                          capture_output=True, text=True, timeout=120, check=False, env=dict(os.environ))


def test_the_committed_lock_reads_and_lists() -> None:
    pins = images.pins(images.LOCK_FILE)
    assert [pin.image for pin in pins] == list(images.IMAGES)
    result = list_with(images.LOCK_FILE)
    assert result.returncode == 0, result.stderr
    for pin in pins:
        assert f"{pin.image.reference}" in result.stdout and (pin.digest or "none") in result.stdout
    assert f"{len(pins)} images" in result.stderr


def _reloader(entry: dict[str, Any]) -> None:
    entry["images"][images.RELOADER.reference]["digest"] = "sha256:ABC"


def _unknown(entry: dict[str, Any]) -> None:
    entry["images"]["ghcr.io/stakater/reloader:v9.9.9"] = {"digest": GOOD, "source": "x", "checked": "2026-12-07"}


def _missing(entry: dict[str, Any]) -> None:
    del entry["images"][images.FLUENT_BIT.reference]


def _date(entry: dict[str, Any]) -> None:
    entry["images"][images.RELOADER.reference]["checked"] = "2026-13-01"


def _field(entry: dict[str, Any]) -> None:
    entry["images"][images.RELOADER.reference]["sha"] = GOOD


def _no_images(entry: dict[str, Any]) -> None:
    entry.pop("images")


@pytest.mark.parametrize(("change", "message"), [
    (_reloader, f"images.{images.RELOADER.reference}.digest = 'sha256:ABC': must be sha256:<64 lowercase hex "
                f"digits>"),
    (_unknown, f"images.ghcr.io/stakater/reloader:v9.9.9 = {{'digest': '{GOOD}', 'source': 'x', 'checked': "
               f"'2026-12-07'}}: is not an image haflow runs (allowed: the "
               f"references in haflow/images.py"),
    (_missing, f"images.{images.FLUENT_BIT.reference} = <missing>: has no entry"),
    (_date, f"images.{images.RELOADER.reference}.checked = '2026-13-01': must be the day the digest was read, "
            f"YYYY-MM-DD"),
    (_field, f"images.{images.RELOADER.reference}.sha = '{GOOD}': is not a field of a lock entry (allowed: "
             f"digest, source, checked)"),
    (_no_images, "images = <missing>: the lock needs an `images` mapping"),
], ids=["malformed-digest", "unknown-image", "missing-image", "bad-date", "unknown-field", "no-images"])
def test_bad_content_is_exit_2_naming_file_key_value_and_fix(tmp_path: Path, change: Any, message: str) -> None:
    document = committed()
    change(document)
    path = tmp_path / "images.lock.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        images.read_lock(path)
    assert raised.value.subject == "the image lock"
    result = list_with(path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "problem in the image lock" in result.stderr
    assert message in result.stderr, result.stderr
    assert str(path.name) in result.stderr and "haflow images lock" in result.stderr  # the file and the fix


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not valid JSON"),
    ('{"images": {"a": 1, "a": 2}}', "a = <missing>: appears twice"),
], ids=["syntax", "duplicate-key"])
def test_unreadable_json_is_exit_2(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "images.lock.json"
    path.write_text(text, encoding="utf-8")
    result = list_with(path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_a_failed_write_keeps_the_last_good_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "images.lock.json"
    path.write_bytes(images.LOCK_FILE.read_bytes())
    entries = images.read_lock(path)
    entries[images.RELOADER.reference] = images.Locked(GOOD, "test", "2026-12-07")

    def refuse(source: str, destination: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        images.write_lock(path, entries)
    assert path.read_bytes() == images.LOCK_FILE.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # the temporary file is gone
    monkeypatch.undo()
    images.write_lock(path, entries)
    assert images.read_lock(path)[images.RELOADER.reference].digest == GOOD
