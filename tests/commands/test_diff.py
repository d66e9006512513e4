"""`haflow diff`: the review of what a change does to each environment's plan, its arguments and exit codes.

The base ref is synthesized once per module in a git worktree by a subprocess (the slow part); the
changed plans are synthesized in-process, except for one end-to-end run of the command.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from haflow.commands import diff as command
from haflow.config import Environment
from haflow.plan import StackJson
from haflow.review import Review, review
from haflow.review.baseref import synth_ref
from haflow.review.format import to_markdown
from tests.conftest import CONFIG_DIR, REPO_ROOT

pytestmark = pytest.mark.slow


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository: an empty first commit (tag `empty`), then the project's files (HEAD)."""
    root = tmp_path_factory.mktemp("diff-repo") / "repo"
    listed = git(REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)
    git(root, "init", "--quiet")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "test")
    git(root, "commit", "--quiet", "--allow-empty", "-m", "empty")
    git(root, "tag", "empty")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "base")
    return root


@pytest.fixture(scope="module")
def base_stacks(repo: Path) -> dict[str, StackJson]:
    return synth_ref(repo, "HEAD", Path("environments"), ["prod"])


def prod_review(base_stacks: dict[str, StackJson], synth_variant: Callable[..., dict[str, StackJson]],
                environments: dict[str, Environment], changes: dict[str, Any]) -> Review:
    head = synth_variant("prod", changes)
    changed_env = Environment.model_validate({**environments["prod"].model_dump(), **changes})
    return review("HEAD", base_stacks, head, [changed_env], ["prod"])


def test_base_synth_leaves_no_worktree(repo: Path, base_stacks: dict[str, StackJson]) -> None:
    assert {"prod-foundation", "prod-platform"} <= set(base_stacks)
    assert len(git(repo, "worktree", "list").splitlines()) == 1


def test_an_unchanged_plan_has_nothing_to_report(
    base_stacks: dict[str, StackJson], synth_variant: Callable[..., dict[str, StackJson]],
    environments: dict[str, Environment],
) -> None:
    result = prod_review(base_stacks, synth_variant, environments, {})
    assert result.risks == [] and result.regressions == []
    assert all(stack.empty for env in result.environments for stack in env.stacks if stack.stack != "bootstrap")


def test_adding_a_tag_is_not_data_loss(
    base_stacks: dict[str, StackJson], synth_variant: Callable[..., dict[str, StackJson]],
    environments: dict[str, Environment],
) -> None:
    tags = {**environments["prod"].tags, "cost-center": "ml-platform"}
    result = prod_review(base_stacks, synth_variant, environments, {"tags": tags})
    assert result.risks == [] and result.regressions == []
    # default tags live in the provider block: a provider change, not a changed resource. (The variant's
    # bootstrap stack is built from prod alone, the base's from every environment: not compared here.)
    changed = [c for env in result.environments if env.name == "prod" for stack in env.stacks
               for c in [*stack.changed, *stack.providers]]
    assert changed and all("cost-center" in a.path for c in changed for a in c.attributes)


def test_replacing_the_aurora_cluster_is_data_loss(
    base_stacks: dict[str, StackJson], synth_variant: Callable[..., dict[str, StackJson]],
    environments: dict[str, Environment],
) -> None:
    database = {**environments["prod"].database.model_dump(), "database_name": "flows"}
    result = prod_review(base_stacks, synth_variant, environments, {"database": database})
    replaced = [(r.kind, r.address.split(".")[0]) for r in result.risks]
    assert ("replaced", "aws_rds_cluster") in replaced
    assert "database_name" in to_markdown(result)


def test_fail_on_data_loss_exits_1_end_to_end(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = repo / "environments" / "prod.yaml"
    original = overlay.read_text()
    document = yaml.safe_load(original)
    document.setdefault("database", {})["database_name"] = "flows"
    overlay.write_text(yaml.safe_dump(document))
    try:
        code = command.run("HEAD", ["prod"], repo / "environments", "markdown", "data-loss", repo=repo)
    finally:
        overlay.write_text(original)
    out = capsys.readouterr().out
    assert code == 1
    assert "data-loss risk" in out and "aws_rds_cluster" in out and "<details>" in out
    assert len(git(repo, "worktree", "list").splitlines()) == 1


@pytest.mark.parametrize(("base", "message"), [("empty", "has no haflow package"), ("no-such-ref", "no such commit")])
def test_unusable_base_exits_2(repo: Path, base: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run(base, ["prod"], repo / "environments", "markdown", None, repo=repo) == 2
    assert message in capsys.readouterr().err
    assert len(git(repo, "worktree", "list").splitlines()) == 1


def test_a_single_nat_gateway_is_an_ha_regression(
    base_stacks: dict[str, StackJson], synth_variant: Callable[..., dict[str, StackJson]],
    environments: dict[str, Environment],
) -> None:
    network = {**environments["prod"].network.model_dump(), "nat_gateways": "single"}
    result = prod_review(base_stacks, synth_variant, environments, {"network": network})
    assert result.risks == []
    assert result.regressions, "removing two of three NAT gateways must show as a rule finding new in this change"
    # The secondary region's network takes the same nat_gateways setting.
    assert {r.stack for r in result.regressions} == {"prod-foundation", "prod-dr-foundation"}
    assert "HA regression" in to_markdown(result)


def test_a_new_environment_leaves_the_bootstrap_stack_alone_end_to_end(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`haflow diff --base HEAD --env X` for an X the base does not have: the bootstrap stack is built the same
    way on both sides (from every environment), so it shows no change; X's stacks count resources only."""
    overlay = repo / "environments" / "diffprobe.yaml"
    overlay.write_text("region: eu-west-1\navailability_zones: [eu-west-1a, eu-west-1b, eu-west-1c]\n"
                       "network: {cidr: 10.251.0.0/16}\ntags: {environment: diffprobe}\n", encoding="utf-8")
    try:
        code = command.run("HEAD", ["diffprobe"], repo / "environments", "json", None, repo=repo)
    finally:
        overlay.unlink()
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    stacks = {stack["stack"]: stack for env in document["environments"] for stack in env["stacks"]}
    assert set(stacks) == {"bootstrap", "diffprobe-foundation", "diffprobe-platform"}
    bootstrap = stacks["bootstrap"]
    assert bootstrap["added"] == [] and bootstrap["removed"] == [] and bootstrap["changed"] == []
    added = stacks["diffprobe-foundation"]["added"]
    assert added and not any(address.startswith("provider.") for address in added)


@pytest.mark.parametrize(
    ("envs", "output_format", "fail_on", "message"),
    [
        ([], "yaml", None, "--format"),
        ([], "markdown", "everything", "--fail-on"),
        (["nope"], "markdown", None, "unknown environment 'nope'"),
    ],
)
def test_bad_arguments_exit_2(envs: list[str], output_format: str, fail_on: str | None, message: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run("HEAD", envs, CONFIG_DIR, output_format, fail_on) == 2
    assert message in capsys.readouterr().err


def test_outside_a_git_repository_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert command.run("HEAD", ["prod"], CONFIG_DIR, "markdown", None, repo=tmp_path) == 2
    assert "not inside a git repository" in capsys.readouterr().err


def test_turning_off_the_cache_protection_in_prod_is_twelve_risks_once_each(
    base_stacks: dict[str, StackJson], synth_variant: Callable[..., dict[str, StackJson]],
    environments: dict[str, Environment],
) -> None:
    """Issue 22, 3: cache.protect_from_destroy false in prod. Per region the replication group, its KMS key and
    the password secret of each Redis user (prefect, model-api) lose prevent_destroy, and each secret's recovery
    window becomes 0: 6 risks in prod-foundation and 6 in prod-dr-foundation (never the DR stacks twice)."""
    cache = {**environments["prod"].cache.model_dump(), "protect_from_destroy": False}
    result = prod_review(base_stacks, synth_variant, environments, {"cache": cache})
    found = [(risk.stack, risk.address, risk.reason) for risk in result.risks]
    assert len(found) == len(set(found)) == 12, found
    per_stack = {stack: sorted((address.split(".")[0], reason) for s, address, reason in found if s == stack)
                 for stack in ("prod-foundation", "prod-dr-foundation")}
    assert per_stack["prod-foundation"] == per_stack["prod-dr-foundation"] == [
        ("aws_elasticache_replication_group", "lifecycle.prevent_destroy removed"),
        ("aws_kms_key", "lifecycle.prevent_destroy removed"),
        ("aws_secretsmanager_secret", "lifecycle.prevent_destroy removed"),
        ("aws_secretsmanager_secret", "lifecycle.prevent_destroy removed"),
        ("aws_secretsmanager_secret", "recovery_window_in_days 0: the secret is deleted without a recovery window"),
        ("aws_secretsmanager_secret", "recovery_window_in_days 0: the secret is deleted without a recovery window"),
    ]
    assert "**12 data-loss risk(s)**" in to_markdown(result)


def test_review_base_adds_the_synthesized_diffs_ha_regressions_to_the_plans(
    repo: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """`haflow review --plan ... --base REF` (issue 21): a plan whose planned values show no regression, next
    to a working tree that drops prod to one NAT gateway: the regressions come from the synthesized diff
    against REF, for both of prod's regions, and the note says where they come from."""
    from haflow.commands import review as review_command
    from tests.review.conftest import shared_plan
    from tests.review.test_plan_inputs import MODIFY

    plan = f"prod-foundation={shared_plan(MODIFY)}"
    config_dir = repo / "environments"
    assert review_command.run([plan], [], config_dir, "json", "ha-regression") == 0
    without_base = json.loads(capsys.readouterr().out)
    assert without_base["ha_regressions"] == []

    overlay = config_dir / "prod.yaml"
    original = overlay.read_text()
    document = yaml.safe_load(original)
    document.setdefault("network", {})["nat_gateways"] = "single"
    overlay.write_text(yaml.safe_dump(document))
    try:
        code = review_command.run([plan], [], config_dir, "json", "ha-regression", base="HEAD")
    finally:
        overlay.write_text(original)
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {r["stack"] for r in out["ha_regressions"]} == {"prod-foundation", "prod-dr-foundation"}
    assert "HA regressions include the synthesized diff against HEAD (haflow diff)" in out["notes"]
    assert len(git(repo, "worktree", "list").splitlines()) == 1
