"""Long commands say what they are doing; `make` shows its first-run install; `make bench` fails on a missed
target."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import CONFIG_DIR, REPO_ROOT

runner = CliRunner()
STAGE = re.compile(r"^\[\s*\d+\.\d+s\] \S")


def test_synth_prints_its_stages_with_elapsed_seconds_on_stderr(tmp_path: Path, synth_dir: Path) -> None:
    from haflow.cli import app

    result = runner.invoke(app, ["synth", "--env", "dev", "--config-dir", str(CONFIG_DIR), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    stages = [line for line in result.stderr.splitlines() if STAGE.match(line)]
    assert len(stages) >= 2 and any("synthesizing" in line for line in stages)
    assert not any(STAGE.match(line) for line in result.stdout.splitlines())


def test_quiet_silences_the_stages(tmp_path: Path, synth_dir: Path) -> None:
    from haflow.cli import app

    result = runner.invoke(app, ["-q", "synth", "--env", "dev", "--config-dir", str(CONFIG_DIR),
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    # -q silences the stages, not the warning about base.yaml's example values (tests/config/test_placeholders.py)
    assert [line for line in result.stderr.splitlines() if not line.startswith("WARNING: ")] == []
    assert "WARNING: 2 example value(s) shipped in environments/ are still set" in result.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_the_first_make_synth_says_it_is_installing_and_shows_pip(tmp_path: Path) -> None:
    shutil.copy(REPO_ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(REPO_ROOT / "constraints.txt", tmp_path / "constraints.txt")
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    planned = subprocess.run(["make", "-n", "synth"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "setting up .venv" in planned and "several minutes" in planned
    installs = [line for line in planned.splitlines() if "pip install" in line]
    assert installs and not any(" -q" in line or "--quiet" in line for line in installs)


def load_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_synth", REPO_ROOT / "bench" / "synth.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("synth_seconds", "exit_code"), [(0.36, 1), (0.27, 0)], ids=["missed", "met"])
def test_make_bench_fails_when_a_target_is_missed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], synth_seconds: float, exit_code: int
) -> None:
    """A run measuring 0.36 against the 0.35 target (the baseline takes 1 s here) exits 1."""
    bench = load_bench()

    def measure(argv: list[str], cwd: Path = REPO_ROOT, env: dict[str, str] | None = None,
                ok: tuple[int, ...] = (0,)) -> Any:
        seconds = 1.0 if "-c" in argv else synth_seconds if "synth" in argv else 0.1
        return bench.Sample(seconds, 100.0)

    monkeypatch.setattr(bench, "measure", measure)
    monkeypatch.setattr(sys, "argv", ["bench/synth.py", "--repeat", "1"])
    assert bench.main() == exit_code
    assert ("MISSED: ratio b/a 0.36" in capsys.readouterr().err) == (exit_code == 1)


@pytest.mark.parametrize(("load", "busy"), [((0.1, 0.2, 0.3), False), ((3.5, 2.0, 1.0), True)], ids=["idle", "busy"])
def test_make_bench_says_the_conditions_it_measured_under_and_each_stage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], load: tuple[float, float, float], busy: bool
) -> None:
    """Load average before/after, CPU count and an idle check in the result; every measurement on stderr."""
    bench = load_bench()
    monkeypatch.setattr(bench, "measure", lambda argv, **_: bench.Sample(1.0 if "-c" in argv else 0.2, 100.0))
    monkeypatch.setattr(bench, "load_average", lambda: load)
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(sys, "argv", ["bench/synth.py", "--repeat", "1"])
    bench.main()
    out, err = capsys.readouterr()
    shown = " / ".join(f"{value:.2f}" for value in load)
    assert f"conditions: 2 CPUs; load average (1/5/15 min) before {shown}, after {shown}; machine " in out
    assert ("machine BUSY: load average 3.50 before (idle: <= 0.50 on 2 CPUs)" in out) == busy
    assert ("WARNING: the machine is busy" in err) == busy and ("WARNING: measured on a busy machine" in err) == busy
    stages = [line for line in err.splitlines() if line.startswith("[") and "s]" in line]
    for label in ("(a) baseline import: 1.00 s", "(b) synth: 0.20 s", "(b') synth without the jsii package cache",
                  "(c) validate", "--help", "(d) check with the render gate", "(d') check --no-render",
                  "scaling: synth of 10 generated environment(s), run 1/1: 0.20 s"):
        assert any(label in line for line in stages), label


def load_review_bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_review", REPO_ROOT / "bench" / "review.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("load", "busy"), [((0.1, 0.2, 0.3), False), ((3.5, 2.0, 1.0), True)], ids=["idle", "busy"])
def test_the_review_bench_says_the_conditions_it_measured_under_and_each_plan(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    load: tuple[float, float, float], busy: bool,
) -> None:
    """bench/review.py (make bench's second half): the same conditions and idle check as bench/synth.py, and
    each plan announced on stderr before it is measured (issue 22, 7)."""
    bench = load_review_bench()
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text("{}")
    monkeypatch.setattr(bench.subprocess, "run",
                        lambda argv, **_: subprocess.CompletedProcess(argv, 0, stdout="", stderr=""))
    monkeypatch.setattr(bench, "load_average", lambda: load)
    monkeypatch.setattr(bench.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(sys, "argv", ["bench/review.py", "--repeat", "1", "--plans", str(tmp_path)])
    assert bench.main() == 0
    out, err = capsys.readouterr()
    shown = " / ".join(f"{value:.2f}" for value in load)
    assert f"conditions: 2 CPUs; load average (1/5/15 min) before {shown}, after {shown}; machine " in out
    assert ("machine BUSY: load average 3.50 before (idle: <= 0.50 on 2 CPUs)" in out) == busy
    assert ("WARNING: the machine is busy" in err) == busy and ("WARNING: measured on a busy machine" in err) == busy
    stages = [line for line in err.splitlines() if STAGE.match(line)]
    assert any("conditions: 2 CPUs" in line for line in stages)
    for number, name in enumerate(("a.json", "b.json"), 1):
        assert any(f"plan {number}/2: haflow review --plan {name}" in line for line in stages), name
