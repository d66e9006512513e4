"""A newcomer adds an environment exactly as docs/environments.md says, and every command it lists is green.

The overlay and the commands are read from the "Add an environment" section of docs/environments.md, so the test
follows the documented steps word for word, in a copy of environments/ (another region: eu-west-1).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from tests.conftest import CONFIG_DIR, REPO_ROOT

pytestmark = pytest.mark.slow
SECTION = "## Add an environment"


def readme_steps() -> tuple[str, str, list[list[str]]]:
    """(overlay file name, overlay YAML, haflow commands) from the add-an-environment section of docs/environments.md."""
    readme = (REPO_ROOT / "docs" / "environments.md").read_text(encoding="utf-8")
    section = readme[readme.index(SECTION):]
    section = section[: section.index("\n## ")]
    overlay = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    name = re.search(r"Create `environments/([a-z0-9-]+\.yaml)`", section)
    assert overlay and name, "docs/environments.md: the add-an-environment section lost its overlay"
    commands = [shlex.split(line.split("#", 1)[0])[1:] for line in section.splitlines()
                if line.strip().startswith(".venv/bin/haflow ")]
    return name.group(1), re.sub(r"^ {3}", "", overlay.group(1), flags=re.MULTILINE), commands


def test_the_readme_names_region_azs_cidr_and_tags() -> None:
    _, overlay, commands = readme_steps()
    for key in ("region:", "availability_zones:", "cidr:", "environment:"):
        assert key in overlay
    assert [command[0] for command in commands] == ["validate", "synth", "check", "report"]


def test_a_new_environment_in_another_region_passes_check_and_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, synth_dir: Path
) -> None:
    file_name, overlay, commands = readme_steps()
    checkout = tmp_path / "clone"
    shutil.copytree(CONFIG_DIR, checkout / "environments")
    shutil.copy(REPO_ROOT / "checkov-skips.yaml", checkout / "checkov-skips.yaml")
    (checkout / "environments" / file_name).write_text(overlay, encoding="utf-8")
    monkeypatch.chdir(checkout)
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, command)
        assert result.exit_code == 0, f"haflow {' '.join(command)}:\n{result.output}"
        assert "Traceback" not in result.output
        if "--checkov" in command:
            assert " 0 failed" in result.stdout and "skipped with a reason" in result.stdout, result.stdout
        if command[0] == "report":
            assert "(meets its SLO)" in result.stdout
    env = Path(file_name).stem
    assert (checkout / "cdktf.out" / "stacks" / f"{env}-foundation" / "cdk.tf.json").is_file()
