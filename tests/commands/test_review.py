"""haflow review's command line: bad arguments exit 2 with the fix, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from haflow.commands.review import parse_plan_argument, stack_owner
from tests.conftest import CONFIG_DIR, ENVIRONMENT_NAMES
from tests.review.conftest import shared_plan
from tests.review.test_plan_inputs import MODIFY

runner = CliRunner()


@pytest.mark.parametrize(("arguments", "message"), [
    (["--plan", "plan.json"], "cannot tell which stack this plan is of"),
    (["--plan", "a=x.json", "--plan", "a=y.json"], "stack a is already given"),
    (["--plan", "a=x.json", "--format", "html"], "--format 'html': choose one of markdown, json"),
    (["--plan", "a=x.json", "--fail-on", "everything"], "--fail-on 'everything'"),
    (["--plan", "a=missing.json"], "missing.json: cannot read it"),
    (["--plan", "a=x.json", "--env", "nowhere"], "--env nowhere: no such environment"),
])
def test_bad_arguments_exit_2(arguments: list[str], message: str, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.json").write_text(shared_plan(MODIFY).read_text())
    (tmp_path / "y.json").write_text(shared_plan(MODIFY).read_text())
    result = runner.invoke(app, ["review", *arguments, "--config-dir", str(CONFIG_DIR)])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_the_stack_comes_from_the_plans_directory_or_its_name() -> None:
    assert parse_plan_argument("cdktf.out/stacks/prod-foundation/plan.json") == (
        "prod-foundation", Path("cdktf.out/stacks/prod-foundation/plan.json"))
    assert parse_plan_argument("staging-platform=out/plan.json") == ("staging-platform", Path("out/plan.json"))


@pytest.mark.parametrize(("stack", "owner"), [("prod-foundation", "prod"), ("prod-dr-platform", "prod"),
                                              ("staging-platform", "staging"), ("bootstrap", ""),
                                              ("nowhere-foundation", "")])
def test_the_owner_of_a_stack(stack: str, owner: str) -> None:
    assert stack_owner(stack, list(ENVIRONMENT_NAMES)) == owner
