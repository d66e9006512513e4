"""checkov-skips.yaml belongs to the configuration's repository, wherever haflow runs from."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from haflow.rules.checkov_gate import skips_file_for
from tests.conftest import CONFIG_DIR, REPO_ROOT

runner = CliRunner()
pytestmark = pytest.mark.slow


def test_the_skips_file_is_the_one_at_the_config_repositorys_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "deploy" / "environments").mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    assert skips_file_for(repo / "deploy" / "environments") == repo.resolve() / "checkov-skips.yaml"
    assert skips_file_for(CONFIG_DIR) == REPO_ROOT / "checkov-skips.yaml"


def test_run_from_elsewhere_the_repositorys_skips_still_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               synth_dir: Path) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["-q", "check", "--env", "dev", "--checkov", "--config-dir", str(CONFIG_DIR),
                                 "--from", str(synth_dir)])
    assert result.exit_code == 0, result.output
    assert "skipped with a reason" in result.output and " 0 failed" in result.output


def test_a_missing_skips_file_is_said_out_loud(tmp_path: Path, synth_dir: Path) -> None:
    shutil.copytree(CONFIG_DIR, tmp_path / "environments")
    result = runner.invoke(app, ["-q", "check", "--env", "dev", "--checkov", "--config-dir",
                                 str(tmp_path / "environments"), "--from", str(synth_dir)])
    assert "checkov-skips.yaml not found" in result.stderr
    assert "--checkov-skips FILE" in result.stderr
    assert result.exit_code == 1


def test_an_explicit_skips_file_must_exist(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", "--env", "dev", "--checkov", "--config-dir", str(CONFIG_DIR),
                                 "--checkov-skips", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "nope.yaml: file not found" in result.output
