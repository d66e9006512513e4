"""`haflow schema`: the committed environments/schema.json is current, and the command writes it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from haflow.cli import app
from haflow.commands.schema import render_schema
from tests.conftest import CONFIG_DIR

runner = CliRunner()


def test_committed_schema_is_current() -> None:
    committed = (CONFIG_DIR / "schema.json").read_text(encoding="utf-8")
    assert committed == render_schema(), "environments/schema.json is stale: run `make schema`"


def test_schema_command_writes_the_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    result = runner.invoke(app, ["schema", "--out", str(target)])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == render_schema()
