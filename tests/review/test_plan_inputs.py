"""haflow review over the shared real plans of other projects (../shared/reference/plans), and each bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from haflow.commands import review as command
from haflow.review.planformat import to_json, to_markdown
from haflow.review.planreview import PlanReview
from haflow.review.tfplan import read
from tests.conftest import CONFIG_DIR
from tests.review.conftest import shared_plan

runner = CliRunner()

MODIFY = "borchero_terraform-plan-comment__tests_fixtures_basic_1-modify_plan.json"
REMOVE = "borchero_terraform-plan-comment__tests_fixtures_basic_3-remove_plan.json"
SUMMARIZE = "dineshba_tf-summarize__example_tfplan.json"
DELETE_CREATE = "fautom_tfplan-validator__test_fixtures_delete-create_plan.json"
TAINTED = "hashicorp_terraform-json__testdata_action_reason_plan.json"
SENSITIVE = "ovsds_tf-plan-format__tests_data_plans_sensitive_terraform.tfplan.json"
COMPLIANCE = "terraform-compliance_cli__tests_functional_test_issue_522_plan.out.json"


def test_replacements_with_replace_paths_and_reasons_in_words() -> None:
    plan = read(shared_plan(MODIFY), "demo")
    assert [(c.address, c.replace_paths, c.reason) for c in plan.of("replace")] == [
        ("local_file.test", ("content",), "an attribute that cannot be updated in place changed"),
        ("local_file.test3", ("content",), "an attribute that cannot be updated in place changed")]
    assert plan.risks == []  # local_file holds no data haflow calls stateful
    assert read(shared_plan(DELETE_CREATE), "demo").of("replace")[0].replace_paths == ("content",)
    tainted = read(shared_plan(TAINTED), "demo").of("replace")[0]
    assert (tainted.replace_paths, tainted.reason) == ((), "the object is tainted (a failed apply or `terraform taint`)")


def test_a_forget_is_listed_as_forgotten_not_destroyed() -> None:
    plan = read(shared_plan(REMOVE), "demo")
    assert [(c.address, c.action) for c in plan.changes] == [("local_file.test2", "forget")]
    assert plan.of("destroy") == [] and plan.risks == []


def test_format_0_1_drift_without_addresses_outputs_and_count_deletes() -> None:
    plan = read(shared_plan(COMPLIANCE), "demo")
    assert plan.format_version == "0.1"
    assert [c.address for c in plan.of("destroy")] == [
        "aws_cloudwatch_event_rule.Metricos_custom_alert_schedule_frequent[0]",
        "aws_cloudwatch_event_target.Metricos_custom_alert_event_target_frequent[0]"]
    assert len(plan.drift) == 15 and all(c.address.startswith("aws_") for c in plan.drift)  # rebuilt from parts
    assert not plan.drift_filtered
    assert {(o.name, o.action, o.after) for o in plan.outputs} >= {("lambda_function_arn", "update", "(known after apply)")}


def test_module_addresses_drift_and_a_no_op_with_an_action_reason() -> None:
    plan = read(shared_plan(SUMMARIZE), "demo")
    assert len(plan.of("create")) == 7
    assert [c.action for c in plan.drift] == ["destroy", "destroy", "destroy"]
    assert "deleted `module.github[\"terraform-plan-summary\"].github_branch.demo`" in to_markdown(PlanReview([plan]))


def test_sensitive_values_in_clear_in_the_plan_are_not_printed() -> None:
    path = shared_plan(SENSITIVE)
    document = json.loads(path.read_text())
    change = document["resource_changes"][0]["change"]
    secrets = [change["before"][key] for key, marked in change["before_sensitive"].items() if marked is True]
    assert secrets and all(isinstance(s, str) and s for s in secrets)
    plan = read(path, "demo")
    for text in (to_markdown(PlanReview([plan])), to_json(PlanReview([plan]))):
        assert not any(secret in text for secret in secrets)


@pytest.mark.parametrize("name", [MODIFY, REMOVE, SUMMARIZE, DELETE_CREATE, TAINTED, SENSITIVE, COMPLIANCE])
def test_every_shared_plan_reviews_through_the_command(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run([f"demo={shared_plan(name)}"], [], CONFIG_DIR, "json", "any") in (0, 1)
    assert json.loads(capsys.readouterr().out)["stacks"][0]["stack"] == "demo"


def derived(tmp_path: Path, name: str, edit: Any) -> Path:
    document = json.loads(shared_plan(name).read_text())
    edit(document)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    return path


def test_unknown_keys_and_action_reasons_are_tolerated(tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        document["format_version"] = "1.9"
        document["a_key_from_the_future"] = {"x": 1}
        document["resource_changes"][0]["action_reason"] = "replace_because_of_the_moon"
        document["resource_changes"][0]["change"]["another_new_key"] = True

    plan = read(derived(tmp_path, MODIFY, edit), "demo")
    assert plan.of("replace")[0].reason == "replace_because_of_the_moon (a reason haflow does not know)"


def test_drift_is_filtered_by_relevant_attributes(tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        document["relevant_attributes"] = [
            {"resource": 'module.github["terraform-plan-summary"].github_branch.main', "attribute": ["sha"]}]

    plan = read(derived(tmp_path, SUMMARIZE, edit), "demo")
    assert plan.drift_filtered
    assert [c.address for c in plan.drift] == ['module.github["terraform-plan-summary"].github_branch.main']


def bad_inputs(tmp_path: Path, scenario: tuple[dict[str, Any], Path]) -> dict[str, tuple[Path, str]]:
    real = shared_plan(MODIFY).read_text()
    cases = {
        "format 2.x": ("plan2.json", json.dumps({**json.loads(real), "format_version": "2.0"}),
                       "format_version 2.0: haflow reads the JSON plan format 0.x and 1.x"),
        "truncated": ("cut.json", real[: len(real) // 2], "truncated JSON"),
        "another tool": ("report.json", json.dumps({"check_type": "terraform_plan", "results": {"failed_checks": []}}),
                         "JSON without format_version (a scanner's report"),
        "a list": ("list.json", "[]", "a JSON list, not a plan object"),
        "empty": ("empty.json", "", "empty"),
    }
    made = {key: (tmp_path / file, message) for key, (file, _, message) in cases.items()}
    for file, text, _ in cases.values():
        (tmp_path / file).write_text(text)
    workdir = scenario[1].parent
    made["text plan"] = (workdir / "scenarios.txt", "a text plan (the output of `terraform plan`)")
    made["binary planfile"] = (workdir / "scenarios.tfplan", "a binary planfile")
    made["a state"] = (workdir / "terraform.tfstate", "JSON without format_version (a raw Terraform state file)")
    return made


@pytest.mark.slow
@pytest.mark.parametrize("case", ["format 2.x", "truncated", "another tool", "a list", "empty", "text plan",
                                  "binary planfile", "a state"])
def test_each_bad_input_exits_2_saying_what_was_given_and_what_is_expected(
        case: str, tmp_path: Path, scenario_plan: tuple[dict[str, Any], Path]) -> None:
    path, message = bad_inputs(tmp_path, scenario_plan)[case]
    result = runner.invoke(app, ["review", "--plan", f"prod-foundation={path}", "--config-dir", str(CONFIG_DIR)])
    assert result.exit_code == 2, result.output
    assert message in result.output and str(path) in result.output
    assert "terraform show -json" in result.output or "0.x and 1.x" in result.output
    assert "Traceback" not in result.output
