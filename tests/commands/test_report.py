"""`haflow report`: exit 0 when the SLO is met, 1 when it is missed, 2 on bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from haflow.commands import report as command
from tests.conftest import CONFIG_DIR


def overlay_with_slo(tmp_path: Path, name: str, slo: dict[str, float]) -> Path:
    config_dir = tmp_path / "environments"
    shutil.copytree(CONFIG_DIR, config_dir)
    overlay = config_dir / f"{name}.yaml"
    document = yaml.safe_load(overlay.read_text())
    document["slo"] = {**document["slo"], **slo}  # region objectives stay (prod's DR requires them)
    overlay.write_text(yaml.safe_dump(document))
    return config_dir


def test_exit_0_when_the_slo_is_met(tmp_path: Path, synth_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_dir = overlay_with_slo(tmp_path, "prod", {"availability": 99.0, "rto_seconds": 3600, "rpo_seconds": 3600})
    assert command.run("prod", config_dir, "json", synth_dir) == 0
    assert json.loads(capsys.readouterr().out)["meets"]["slo"] is True


def test_exit_1_when_the_slo_is_missed(tmp_path: Path, synth_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_dir = overlay_with_slo(tmp_path, "prod", {"availability": 99.999, "rto_seconds": 10, "rpo_seconds": 0})
    assert command.run("prod", config_dir, "markdown", synth_dir) == 1
    out = capsys.readouterr().out
    assert "MISSES its SLO" in out and "**miss**" in out


@pytest.mark.parametrize(("env", "output_format"), [("nope", "markdown"), ("prod", "yaml")])
def test_exit_2_on_bad_input(env: str, output_format: str, synth_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run(env, CONFIG_DIR, output_format, synth_dir) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nope" in captured.err or "--format" in captured.err
