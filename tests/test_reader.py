"""Every file haflow reads goes through one reader: whatever is wrong with it is exit 2 naming the file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow import reader
from haflow.cli import app
from haflow.config import ConfigError
from haflow.reader import MAX_YAML_BYTES, read_json, read_yaml
from tests.config.overlays import config_dir_with
from tests.conftest import REPO_ROOT

runner = CliRunner()
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)
)


def refused(path: Path, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read_yaml(path)
    text = caught.value.render()
    assert problem in text, text
    assert path.name in text


@pytest.mark.parametrize("file", ["dev.yaml", "base.yaml"])
def test_a_non_utf8_byte_in_an_overlay_is_bad_input(tmp_path: Path, file: str) -> None:
    config_dir = config_dir_with(tmp_path, {})
    path = config_dir / file
    path.write_bytes(path.read_bytes() + b"# caf\xe9\n")
    for command in (["validate"], ["synth", "--out", str(tmp_path / "out")]):
        result = runner.invoke(app, [*command, "--env", "dev", "--config-dir", str(config_dir)])
        assert result.exit_code == 2, result.output
        assert f"{file}: is not UTF-8 text (byte 0xe9" in result.output
        assert "Traceback" not in result.output


def test_a_non_utf8_byte_in_checkov_skips_is_bad_input(tmp_path: Path) -> None:
    skips = tmp_path / "checkov-skips.yaml"
    skips.write_bytes((REPO_ROOT / "checkov-skips.yaml").read_bytes() + b"# caf\xe9\n")
    result = runner.invoke(app, ["check", "--env", "dev", "--config-dir", str(REPO_ROOT / "environments"),
                                 "--checkov", "--checkov-skips", str(skips)])
    assert result.exit_code == 2, result.output
    assert "checkov-skips.yaml: is not UTF-8 text" in result.output


def test_a_directory_where_a_file_should_be(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").mkdir()
    refused(tmp_path / "dev.yaml", "is a directory")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "dev.yaml")
    refused(tmp_path / "dev.yaml", "is not a regular file")


def test_a_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").symlink_to("/dev/zero")
    refused(tmp_path / "dev.yaml", "is not a regular file")


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").write_text("# x\n" * (MAX_YAML_BYTES // 4 + 1), encoding="utf-8")
    refused(tmp_path / "dev.yaml", "haflow reads files of at most")


def test_a_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").write_text(ALIAS_BOMB, encoding="utf-8")
    refused(tmp_path / "dev.yaml", "aliases multiply it")


def test_an_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads any file whatever its mode, so the refusal the kernel gives others is stood in for."""
    path = tmp_path / "dev.yaml"
    path.write_text("region: us-east-1\n", encoding="utf-8")

    def denied(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(reader, "open", denied, raising=False)
    refused(path, "cannot read file (Permission denied)")


@pytest.mark.parametrize(("text", "problem"), [
    ("a: \x07\n", "not valid YAML"),
    ("[" * 5000, "nest"),
    ("? [a]\n: 1\n", "YAML syntax error"),
    ("a: &a [*a]\n", "alias"),
    ("--- a\n--- b\n", "YAML syntax error"),
], ids=["control-character", "deep-nesting", "unhashable-key", "recursive-alias", "two-documents"])
def test_malformed_yaml_is_bad_input(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "dev.yaml").write_text(text, encoding="utf-8")
    refused(tmp_path / "dev.yaml", problem)


def test_stacks_read_back_go_through_the_reader(tmp_path: Path) -> None:
    stack = tmp_path / "cdktf.out" / "stacks" / "prod-foundation" / "cdk.tf.json"
    stack.parent.mkdir(parents=True)
    stack.write_bytes(b'{"resource": \xff}')
    with pytest.raises(ConfigError, match=r"cdk\.tf\.json: is not UTF-8"):
        read_json(stack)
    result = runner.invoke(app, ["check", "--env", "prod", "--config-dir", str(REPO_ROOT / "environments"),
                                 "--from", str(tmp_path / "cdktf.out")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path, {})
    dev = config_dir / "dev.yaml"
    dev.write_bytes(b"\xef\xbb\xbf" + dev.read_bytes())
    result = runner.invoke(app, ["validate", "--env", "dev", "--config-dir", str(config_dir)])
    assert result.exit_code == 0, result.output
    shutil.rmtree(config_dir)
