"""`haflow rules`: RULES.md is generated from the rule metadata and the committed copy is current."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from haflow.cli import app
from haflow.rules.docs import rules_markdown
from tests.conftest import REPO_ROOT


def test_committed_rules_md_is_current() -> None:
    committed = (REPO_ROOT / "RULES.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(), "RULES.md is stale: run `haflow rules`"


def test_the_command_writes_what_the_metadata_says(tmp_path: Path) -> None:
    target = tmp_path / "RULES.md"
    result = CliRunner().invoke(app, ["rules", "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == rules_markdown()
