"""The CLI: exit codes, messages without tracebacks, atomic output, and no provider load for --help/validate."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from haflow.commands.schema import render_schema
from haflow.synthesis import synthesize
from tests.config.overlays import config_dir_with
from tests.conftest import CONFIG_DIR, REPO_ROOT

runner = CliRunner()


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


def test_validate_accepts_the_real_environments() -> None:
    result = runner.invoke(app, ["validate", "--config-dir", str(CONFIG_DIR)])
    assert result.exit_code == 0, result.output
    assert "prod: ok" in result.output


@pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (["--env", "qa"], {}, "unknown environment 'qa'"),
        (["--env", "dev"], {"dev.yaml": "network: [\n"}, "YAML syntax error"),
        (["--env", "dev"], {"dev.yaml": "availability_zones: [us-east-1a]\n"}, "availability_zones"),
    ],
    ids=["unknown-environment", "yaml-syntax", "validation"],
)
def test_bad_input_exits_2_without_traceback(tmp_path: Path, args: list[str], files: dict[str, str], message: str) -> None:
    config_dir = config_dir_with(tmp_path, files)
    for command in ("validate", "synth"):
        result = runner.invoke(app, [command, *args, "--config-dir", str(config_dir), "--out", str(tmp_path / "out")]
                               if command == "synth" else [command, *args, "--config-dir", str(config_dir)])
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output
        assert not (tmp_path / "out").exists()


def test_missing_config_dir_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--config-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "configuration directory not found" in result.output


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


def test_help_and_validate_load_no_provider() -> None:
    probe = (
        "import sys; from typer.testing import CliRunner; from haflow.cli import app; "
        "r = CliRunner(); assert r.invoke(app, ['--help']).exit_code == 0; "
        f"assert r.invoke(app, ['validate', '--config-dir', {str(CONFIG_DIR)!r}]).exit_code == 0; "
        "heavy = [m for m in sys.modules if m.startswith(('cdktf', 'jsii', 'constructs'))]; "
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True,
                            env=dict(os.environ), timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def test_committed_schema_is_current() -> None:
    committed = (CONFIG_DIR / "schema.json").read_text(encoding="utf-8")
    assert committed == render_schema(), "environments/schema.json is stale: run `make schema`"


def test_schema_command_writes_the_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    result = runner.invoke(app, ["schema", "--out", str(target)])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == render_schema()
