"""One guard at the top: an unexpected exception is exit 3 with one line and what to report; the traceback
only with --debug; main.py (the cdktf CLI's entry) prints bad configuration cleanly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from tests.conftest import CONFIG_DIR, REPO_ROOT, own_node_choice

runner = CliRunner()


def explode(*_: object, **__: object) -> None:
    raise KeyError("a bug somewhere deep")


def test_an_unexpected_exception_is_exit_3_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("haflow.commands.validate.load_or_report", explode)
    result = runner.invoke(app, ["validate", "--config-dir", str(CONFIG_DIR)])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "internal error: KeyError" in lines[0] and "--debug" in lines[0] and "report" in lines[0]


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("haflow.commands.validate.load_or_report", explode)
    result = runner.invoke(app, ["--debug", "validate", "--config-dir", str(CONFIG_DIR)])
    assert result.exit_code == 3
    assert "Traceback" in result.stderr and "a bug somewhere deep" in result.stderr


def test_the_real_cli_process_exits_3_without_a_traceback(tmp_path: Path) -> None:
    """A bug reached through `python -m haflow`: the process's own exit code and stderr."""
    code = ("import sys, haflow.commands.validate as v; "
            "v.load_or_report = lambda *a: (_ for _ in ()).throw(ZeroDivisionError('boom')); "
            "from haflow.cli import main; sys.argv = ['haflow', 'validate']; main()")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr and "ZeroDivisionError: boom" in result.stderr


@pytest.mark.parametrize("argv", [["check", "--help"], ["rules"]])
def test_a_closed_pipe_ends_quietly(argv: list[str]) -> None:
    """`haflow check --help | head -1`: the reader goes away; no internal-error report, no traceback. The pipe's
    read end is closed before haflow starts, so its first write fails every time (no race with a reader)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run([sys.executable, "-c", f"import sys; sys.argv = ['haflow', *{argv!r}]; "
                                 "from haflow.cli import main; main()"],
                                cwd=REPO_ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60,
                                check=False, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    finally:
        os.close(write_end)
    assert result.stderr == "", result.stderr
    assert result.returncode == 1  # click's own answer to EPIPE, which the guard repeats


@pytest.mark.slow
def test_main_py_prints_a_config_error_and_exits_2(tmp_path: Path) -> None:
    shutil.copytree(CONFIG_DIR, tmp_path / "environments")
    (tmp_path / "environments" / "dev.yaml").write_text("network:\n  cidr: 300.0.0.0/16\n", encoding="utf-8")
    environment = {**own_node_choice(), "PYTHONPATH": str(REPO_ROOT),
                   "CDKTF_OUTDIR": str(tmp_path / "cdktf.out")}
    result = subprocess.run([sys.executable, str(REPO_ROOT / "main.py")], cwd=tmp_path, env=environment,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    assert "environments/dev.yaml: network.cidr = '300.0.0.0/16'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cdktf.out").exists()
    assert os.listdir(tmp_path) == ["environments"]
