"""haflow diff rejects bad arguments with exit 2 before synthesizing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from haflow.commands import diff as command
from tests.conftest import CONFIG_DIR


@pytest.mark.parametrize(
    ("envs", "output_format", "fail_on", "message"),
    [
        ([], "yaml", None, "--format"),
        ([], "markdown", "everything", "--fail-on"),
        (["nope"], "markdown", None, "unknown environment 'nope'"),
    ],
)
def test_bad_arguments_exit_2(envs: list[str], output_format: str, fail_on: str | None, message: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run("HEAD", envs, CONFIG_DIR, output_format, fail_on) == 2
    assert message in capsys.readouterr().err


def test_outside_a_git_repository_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run("HEAD", ["prod"], CONFIG_DIR, "markdown", None, repo=tmp_path) == 2
    assert "not inside a git repository" in capsys.readouterr().err
