"""haflow review on a real plan this machine's terraform makes (tests/review/conftest.py: SCENARIO_BASE, then
scenario_change()): every verdict is about what Terraform itself planned."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from haflow.commands import review as command
from haflow.review.planformat import GITHUB_COMMENT_LIMIT, to_json, to_markdown
from haflow.review.planreview import PlanReview
from haflow.review.tfplan import StackPlan, read
from tests.conftest import CONFIG_DIR
from tests.review.conftest import AFTER_SECRETS, BEFORE_SECRETS, SCENARIO_BASE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plan(scenario_plan: tuple[dict[str, Any], Path]) -> StackPlan:
    return read(scenario_plan[1], "scenarios")


def change(plan: StackPlan, address: str) -> Any:
    return next(c for c in plan.changes if c.address == address)


def risks(plan: StackPlan, address: str) -> list[tuple[str, str]]:
    return [(r.kind, r.reason) for r in plan.risks if r.address == address]


def test_a_stateful_destroy_seen_only_in_resource_changes_is_data_loss(
        scenario_plan: tuple[dict[str, Any], Path], plan: StackPlan) -> None:
    document = scenario_plan[0]
    planned = {r["address"] for r in document["planned_values"]["root_module"].get("resources", [])}
    assert "aws_s3_bucket.old_artifacts" not in planned  # Terraform leaves pure deletes out of planned_values
    assert change(plan, "aws_s3_bucket.old_artifacts").action == "destroy"
    [(kind, reason)] = risks(plan, "aws_s3_bucket.old_artifacts")
    assert kind == "destroyed" and "no longer in the configuration" in reason


def test_a_replaced_cluster_replaces_its_instance_and_both_are_data_loss(plan: StackPlan) -> None:
    cluster, instance = change(plan, "aws_rds_cluster.db"), change(plan, "aws_rds_cluster_instance.db_1")
    assert (cluster.action, cluster.replace_paths) == ("replace", ("database_name",))
    # the cascade: the new cluster's id is known only after apply, and cluster_identifier forces a new instance
    assert (instance.action, instance.replace_paths) == ("replace", ("cluster_identifier",))
    assert any(a.path == "cluster_identifier" and a.after == "(known after apply)" for a in instance.attributes)
    assert [kind for kind, _ in risks(plan, "aws_rds_cluster_instance.db_1")] == ["replaced"]
    [(kind, reason)] = risks(plan, "aws_rds_cluster.db")
    assert kind == "replaced" and "cannot be updated in place" in reason and "database_name" in reason
    markdown = to_markdown(PlanReview([plan]))
    assert "`aws_rds_cluster_instance.db_1` (an attribute that cannot be updated in place changed; replaced " \
           "because of `cluster_identifier`)" in markdown


def test_protection_turned_off_in_change_after_is_data_loss(plan: StackPlan) -> None:
    assert change(plan, "aws_rds_cluster.keep").action == "update"
    assert sorted(risks(plan, "aws_rds_cluster.keep")) == [
        ("protection-off", "deletion_protection turned off"),
        ("protection-off", "skip_final_snapshot set: destroying it keeps no final snapshot")]
    assert risks(plan, "aws_s3_bucket.logs") == [
        ("protection-off", "force_destroy set: destroying the bucket deletes every object")]
    assert risks(plan, "aws_secretsmanager_secret.token") == [
        ("protection-off", "recovery_window_in_days 0: the secret is deleted without a recovery window")]


def test_a_forget_is_not_data_loss(plan: StackPlan) -> None:
    forgotten = change(plan, "aws_s3_bucket.handed_over")
    assert forgotten.action == "forget" and not forgotten.destroys
    assert risks(plan, "aws_s3_bucket.handed_over") == []
    assert "**Forgotten (left in place, no longer managed)**\n\n- `aws_s3_bucket.handed_over`" in to_markdown(
        PlanReview([plan]))


def test_a_moved_resource_is_moved_not_destroyed(plan: StackPlan) -> None:
    moved = change(plan, "aws_cloudwatch_log_group.flows")
    assert (moved.action, moved.previous_address) == ("no-op", "aws_cloudwatch_log_group.old_name")
    assert not any(c.address == "aws_cloudwatch_log_group.old_name" for c in plan.changes)
    assert [c.address for c in plan.moved] == ["aws_cloudwatch_log_group.flows"]
    assert "moved from `aws_cloudwatch_log_group.old_name`" in to_markdown(PlanReview([plan]))


def test_sensitive_values_are_never_printed(scenario_plan: tuple[dict[str, Any], Path], plan: StackPlan) -> None:
    raw = scenario_plan[1].read_text()
    assert all(secret in raw for secret in BEFORE_SECRETS + AFTER_SECRETS)  # the JSON holds them in clear
    outputs = [to_markdown(PlanReview([plan])), to_json(PlanReview([plan]))]
    for text in outputs:
        for secret in BEFORE_SECRETS + AFTER_SECRETS:
            assert secret not in text
    version = change(plan, "aws_secretsmanager_secret_version.token")
    assert [(a.path, a.before, a.after) for a in version.attributes if a.path == "secret_string"] == [
        ("secret_string", "(sensitive)", "(sensitive)")]
    token = next(o for o in plan.outputs if o.name == "token")
    assert (token.before, token.after) == ("(sensitive)", "(sensitive)")


def test_known_after_apply_is_said(plan: StackPlan) -> None:
    endpoint = next(o for o in plan.outputs if o.name == "db_endpoint")
    assert endpoint.after == "(known after apply)"
    assert "endpoint" in change(plan, "aws_rds_cluster.db").unknown_after


def test_prevent_destroy_is_checked_against_the_synthesized_stack(
        scenario_plan: tuple[dict[str, Any], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack_dir = tmp_path / "cdktf.out" / "stacks" / "prod-foundation"
    stack_dir.mkdir(parents=True)
    shutil.copy(scenario_plan[1], stack_dir / "plan.json")
    synthesized = {"resource": {
        "aws_rds_cluster": {name: {**body, "lifecycle": {"prevent_destroy": True}}
                            for name, body in SCENARIO_BASE["aws_rds_cluster"].items()},
        "aws_rds_cluster_instance": SCENARIO_BASE["aws_rds_cluster_instance"],
    }}
    (stack_dir / "cdk.tf.json").write_text(json.dumps(synthesized))
    code = command.run([str(stack_dir / "plan.json")], [], CONFIG_DIR, "json", "data-loss")
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    reasons = {(r["address"], r["kind"]): r["reason"] for r in document["data_loss"]}
    assert reasons[("aws_s3_bucket.old_artifacts", "destroyed")].endswith(
        "not in the synthesized stack: its prevent_destroy went with it")
    assert "the synthesized stack sets prevent_destroy" in reasons[("aws_rds_cluster.db", "replaced")]
    assert reasons[("aws_rds_cluster_instance.db_1", "replaced")].endswith("prevent_destroy not set in the synthesized stack")
    assert document["stacks"][0]["environment"] == "prod"  # the owner, from the stack's name


def test_without_a_synthesized_stack_the_plan_says_prevent_destroy_was_not_checked(
        scenario_plan: tuple[dict[str, Any], Path]) -> None:
    assert any("prevent_destroy not checked" in note for note in read(scenario_plan[1], "x").notes)


@pytest.mark.parametrize(("fail_on", "code"), [(None, 0), ("data-loss", 1), ("ha-regression", 0), ("any", 1)])
def test_fail_on(scenario_plan: tuple[dict[str, Any], Path], fail_on: str | None, code: int,
                 capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run([f"scenarios={scenario_plan[1]}"], [], CONFIG_DIR, "markdown", fail_on) == code
    assert capsys.readouterr().out.startswith("## haflow review of the Terraform plan")


def test_a_plan_of_a_few_hundred_resources_fits_a_github_comment_and_says_it_was_cut(
        scenario_plan: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    """The real scenario plan's changes, 40 times over under distinct names (360 resources)."""
    document = json.loads(scenario_plan[1].read_text())
    document["resource_changes"] = [
        {**entry, "address": f"{entry['address']}_{copy}", "name": f"{entry['name']}_{copy}"}
        for copy in range(40) for entry in document["resource_changes"]]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(document))
    plan = read(path, "big")
    assert len(plan.changes) == 360 and len(plan.risks) > 200
    text = to_markdown(PlanReview([plan]))
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert text.index("### Data-loss risks") < text.index("<details>")  # summary and risks first
    assert "- ... and " in text  # the risk list is capped, and says by how much
    assert text.splitlines()[-1].startswith("**Truncated to fit a GitHub comment")
    assert len(to_json(PlanReview([plan]))) > GITHUB_COMMENT_LIMIT  # the JSON has all of it


def test_ha_regressions_are_the_rule_findings_new_in_the_planned_values(
        scenario_plan: tuple[dict[str, Any], Path], capsys: pytest.CaptureFixture[str]) -> None:
    """Named as prod's foundation, the plan is judged by prod's rule pack: before vs planned values."""
    code = command.run([f"prod-foundation={scenario_plan[1]}"], [], CONFIG_DIR, "json", "ha-regression")
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    found = {(r["rule_id"], r["address"]) for r in document["ha_regressions"]}
    assert {("HA-DL-002", "aws_rds_cluster.keep"),  # skip_final_snapshot turned on
            ("HA-DL-003", "aws_s3_bucket.logs"),  # force_destroy turned on
            ("HA-DB-002", "aws_rds_cluster.keep")} <= found  # deletion_protection turned off
    # the other cluster never had deletion protection: not a regression of this plan
    assert ("HA-DB-002", "aws_rds_cluster.db") not in found
    assert not any(r["message"].startswith("cannot verify") for r in document["ha_regressions"])
