"""haflow writes only into what it owns: never loses a file, never leaves a half-written or stray one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from tests.conftest import CONFIG_DIR

runner = CliRunner()


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        for path in sorted(root.rglob("*"))
    }


def synth(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["synth", "--config-dir", str(CONFIG_DIR), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_an_out_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("my notes\n", encoding="utf-8")
    code, output = synth("--env", "prod", "--out", str(target))
    assert code == 2 and "is a file" in output
    assert target.read_text(encoding="utf-8") == "my notes\n"


def test_a_directory_of_notes_is_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    (notes / "deep").mkdir(parents=True)
    (notes / "todo.md").write_text("keep me\n", encoding="utf-8")
    (notes / "deep" / "more.md").write_text("me too\n", encoding="utf-8")
    before = tree_digest(notes)
    code, output = synth("--env", "prod", "--out", str(notes))
    assert code == 2 and "not a previous haflow or cdktf output" in output
    assert tree_digest(notes) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


@pytest.mark.parametrize("out", [".", "..", "/"], ids=["repository", "above", "root"])
def test_the_repository_and_directories_above_it_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    clone = tmp_path / "clone"
    shutil.copytree(CONFIG_DIR, clone / "environments")
    (clone / "README.md").write_text("a checkout\n", encoding="utf-8")
    subprocess.run(["git", "init", "--quiet", str(clone)], check=True)
    before = tree_digest(clone)
    monkeypatch.chdir(clone)
    result = runner.invoke(app, ["synth", "--env", "prod", "--out", out])
    assert result.exit_code == 2, result.output
    assert "is the repository" in result.output
    assert tree_digest(clone) == before


def test_synth_of_one_environment_keeps_the_others(tmp_path: Path, synth_dir: Path) -> None:
    out = tmp_path / "cdktf.out"
    shutil.copytree(synth_dir, out)
    others = {name: tree_digest(out / "stacks" / name) for name in os.listdir(out / "stacks")
              if not name.startswith("prod-") and name != "bootstrap"}
    assert others
    code, output = synth("--env", "prod", "--out", str(out))
    assert code == 0, output
    assert {name: tree_digest(out / "stacks" / name) for name in others} == others
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["stacks"]) == set(os.listdir(out / "stacks"))
    # the bootstrap stack holds every environment's state bucket, whichever environment was synthesized
    assert (out / "stacks" / "bootstrap" / "cdk.tf.json").read_bytes() == (
        synth_dir / "stacks" / "bootstrap" / "cdk.tf.json").read_bytes()
    check = runner.invoke(app, ["check", "--config-dir", str(CONFIG_DIR), "--from", str(out)])
    assert check.exit_code == 0, check.output


def test_synth_into_an_unwritable_place_is_bad_input(tmp_path: Path) -> None:
    code, output = synth("--env", "prod", "--out", "/proc/nope")
    assert code == 2 and "/proc" in output


@pytest.mark.parametrize("command", ["rules", "schema"])
def test_generated_files_refuse_a_directory_and_leave_no_stray_file(tmp_path: Path, command: str) -> None:
    before = sorted(tmp_path.parent.iterdir())
    result = runner.invoke(app, [command, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "is a directory" in result.output and "Traceback" not in result.output
    assert sorted(tmp_path.parent.iterdir()) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["rules", "schema"])
def test_generated_files_never_overwrite_a_file_haflow_did_not_write(tmp_path: Path, command: str) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# my project\n", encoding="utf-8")
    result = runner.invoke(app, [command, "--out", str(readme)])
    assert result.exit_code == 2, result.output
    assert readme.read_text(encoding="utf-8") == "# my project\n"
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]


@pytest.mark.parametrize("command", ["rules", "schema"])
def test_generated_files_replace_their_previous_copy(tmp_path: Path, command: str) -> None:
    target = tmp_path / "out.txt"
    assert runner.invoke(app, [command, "--out", str(target)]).exit_code == 0
    first = target.read_bytes()
    assert runner.invoke(app, [command, "--out", str(target)]).exit_code == 0
    assert target.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.parametrize(("log", "message"), [
    ("dir", "is a directory"),
    ("README.md", "is not a drill log"),
])
def test_the_drill_log_is_appended_only_to_a_drill_log(tmp_path: Path, log: str, message: str) -> None:
    target = tmp_path / log
    if log == "dir":
        target.mkdir()
    else:
        target.write_text("# my project\n", encoding="utf-8")
    before = tree_digest(tmp_path)
    result = runner.invoke(app, ["drill", "failover", "aurora", "--cluster-id", "db", "--rto-seconds", "60",
                                 "--endpoint-url", "http://127.0.0.1:1", "--yes", "--log", str(target)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert tree_digest(tmp_path) == before


def test_the_documented_out_path_inside_a_checkout_is_allowed(tmp_path: Path) -> None:
    """`make synth` writes cdktf.out inside the checkout: a new (or previous) output there is fine."""
    from haflow.output import claim_output_dir

    clone = tmp_path / "clone"
    shutil.copytree(CONFIG_DIR, clone / "environments")
    subprocess.run(["git", "init", "--quiet", str(clone)], check=True)
    assert claim_output_dir(clone / "cdktf.out", (clone / "environments",)) == (clone / "cdktf.out").resolve()
