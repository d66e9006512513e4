"""`haflow synth`: writes the stacks and a summary; bad input or a failing synth leaves the previous output as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from haflow.synthesis import synthesize
from tests.commands.conftest import BAD_CONFIGURATIONS, tree_digest
from tests.config.overlays import config_dir_with
from tests.conftest import CONFIG_DIR

runner = CliRunner()


@BAD_CONFIGURATIONS
def test_bad_input_exits_2_without_traceback(tmp_path: Path, args: list[str], files: dict[str, str], message: str) -> None:
    config_dir = config_dir_with(tmp_path, files)
    result = runner.invoke(app, ["synth", *args, "--config-dir", str(config_dir), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_synth_writes_stacks_and_prints_a_summary(tmp_path: Path, synth_dir: Path) -> None:
    out = tmp_path / "cdktf.out"
    result = runner.invoke(app, ["synth", "--env", "prod", "--config-dir", str(CONFIG_DIR), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "prod-foundation:" in result.output and "aws_subnet 9" in result.output
    assert (out / "stacks" / "prod-foundation" / "cdk.tf.json").read_bytes() == (
        synth_dir / "stacks" / "prod-foundation" / "cdk.tf.json"
    ).read_bytes()
    assert not (out / "stacks" / "dev-foundation").exists()


def test_bad_input_leaves_the_previous_output_untouched(tmp_path: Path, synth_dir: Path) -> None:
    out = tmp_path / "cdktf.out"
    runner.invoke(app, ["synth", "--env", "dev", "--config-dir", str(CONFIG_DIR), "--out", str(out)])
    before = tree_digest(out)
    assert before
    broken = config_dir_with(tmp_path, {"dev.yaml": "network:\n  cidr: 300.0.0.0/16\n"})
    result = runner.invoke(app, ["synth", "--config-dir", str(broken), "--out", str(out)])
    assert result.exit_code == 2
    assert tree_digest(out) == before


def test_a_failing_synth_leaves_the_previous_output_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environments: dict[str, object], synth_dir: Path
) -> None:
    out = tmp_path / "cdktf.out"
    runner.invoke(app, ["synth", "--env", "dev", "--config-dir", str(CONFIG_DIR), "--out", str(out)])
    before = tree_digest(out)

    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("construct failed half-way")

    monkeypatch.setattr("haflow.stacks.foundation.Network", explode)
    with pytest.raises(RuntimeError, match="half-way"):
        synthesize([environments["dev"]], out)  # type: ignore[list-item]
    assert tree_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]
