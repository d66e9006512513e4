"""`haflow validate`: the real environments pass; bad configuration is exit 2 with the message; no provider loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from haflow.cli import app
from tests.commands.conftest import BAD_CONFIGURATIONS
from tests.config.overlays import config_dir_with
from tests.conftest import CONFIG_DIR, REPO_ROOT

runner = CliRunner()


def test_validate_accepts_the_real_environments() -> None:
    result = runner.invoke(app, ["validate", "--config-dir", str(CONFIG_DIR)])
    assert result.exit_code == 0, result.output
    assert "prod: ok" in result.output


@BAD_CONFIGURATIONS
def test_bad_input_exits_2_without_traceback(tmp_path: Path, args: list[str], files: dict[str, str], message: str) -> None:
    result = runner.invoke(app, ["validate", *args, "--config-dir", str(config_dir_with(tmp_path, files))])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_config_dir_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--config-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "configuration directory not found" in result.output


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
