"""`haflow rules`: RULES.md and haflow/rule_ids.py are generated from the rule metadata; the committed copies are current."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from haflow import rule_ids
from haflow.cli import app
from haflow.rules import RULE_IDS
from haflow.rules.docs import rule_ids_module, rules_markdown
from tests.conftest import REPO_ROOT


def test_committed_rules_md_is_current() -> None:
    committed = (REPO_ROOT / "RULES.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(), "RULES.md is stale: run `haflow rules`"


def test_the_command_writes_what_the_metadata_says(tmp_path: Path) -> None:
    target = tmp_path / "RULES.md"
    result = CliRunner().invoke(app, ["rules", "--out", str(target), "--ids-out", str(tmp_path / "rule_ids.py")])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == rules_markdown()


def test_committed_rule_ids_are_current() -> None:
    """Config validates suppressions with haflow/rule_ids.py (it may not import the pack): the pack's ids, exactly."""
    committed = (REPO_ROOT / "haflow" / "rule_ids.py").read_text(encoding="utf-8")
    assert committed == rule_ids_module(), "haflow/rule_ids.py is stale: run `haflow rules`"
    assert rule_ids.RULE_IDS == RULE_IDS


def test_rules_command_writes_the_rule_ids_module(tmp_path: Path) -> None:
    ids_out = tmp_path / "rule_ids.py"
    result = CliRunner().invoke(app, ["rules", "--out", str(tmp_path / "RULES.md"), "--ids-out", str(ids_out)])
    assert result.exit_code == 0, result.output
    assert ids_out.read_text(encoding="utf-8") == rule_ids_module()
