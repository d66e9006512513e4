"""haflow review: the real plan of each stack (``terraform show -json``) reviewed for data loss, HA
regressions, drift and output changes."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from haflow import contract, progress
from haflow.commands.common import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, load_or_report, print_error
from haflow.config import ConfigError, Environment

FORMATS = ("markdown", "json")
FAIL_ON = ("data-loss", "ha-regression", "any")
STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def stack_owner(stack: str, env_names: list[str]) -> str:
    """The environment of ``env_names`` that owns ``stack`` (haflow.contract.stack_owner); "" for none: the
    shared bootstrap stack, or a stack of an environment this configuration does not have."""
    owner = contract.stack_owner(stack)
    return owner if owner in env_names else ""


def parse_plan_argument(argument: str) -> tuple[str, Path]:
    """``STACK=PLAN.json`` or a plan inside ``cdktf.out/stacks/<stack>/``; ValueError with the fix otherwise."""
    name, sep, rest = argument.partition("=")
    if sep and STACK_NAME.fullmatch(name) and not Path(argument).exists():
        return name, Path(rest)
    path = Path(argument)
    if path.parent.parent.name == "stacks" and path.parent.name:
        return path.parent.name, path
    raise ValueError(f"--plan {argument}: cannot tell which stack this plan is of (a plan JSON names none); "
                     f"put it in cdktf.out/stacks/<stack>/ or name the stack: --plan prod-foundation={argument}")


def run(plan_arguments: list[str], envs: list[str], config_dir: Path, output_format: str, fail_on: str | None,
        synth_dir: Path | None = None, base: str | None = None) -> int:
    if output_format not in FORMATS:
        print_error(f"--format {output_format!r}: choose one of {', '.join(FORMATS)}")
        return EXIT_BAD_INPUT
    if fail_on is not None and fail_on not in FAIL_ON:
        print_error(f"--fail-on {fail_on!r}: choose one of {', '.join(FAIL_ON)}")
        return EXIT_BAD_INPUT
    if not plan_arguments:
        print_error("--plan: give at least one plan (terraform show -json PLANFILE > plan.json), "
                    "STACK=PLAN.json or cdktf.out/stacks/<stack>/plan.json")
        return EXIT_BAD_INPUT
    if len(envs) > 1:
        print_error(f"--env {' '.join(envs)}: give at most one; without it each stack's environment comes from "
                    "its name")
        return EXIT_BAD_INPUT
    named: dict[str, Path] = {}
    for argument in plan_arguments:
        try:
            stack, path = parse_plan_argument(argument)
        except ValueError as err:
            print_error(str(err))
            return EXIT_BAD_INPUT
        if stack in named:
            print_error(f"--plan {argument}: stack {stack} is already given by --plan {named[stack]}; "
                        "one plan per stack")
            return EXIT_BAD_INPUT
        named[stack] = path

    from haflow.review.planformat import to_json, to_markdown
    from haflow.review.planreview import PlanReview
    from haflow.review.tfplan import PlanError, read

    try:
        env_names = _environment_names(config_dir)
    except ConfigError as err:
        print_error(err.render())
        return EXIT_BAD_INPUT
    if envs and env_names and envs[0] not in env_names:
        print_error(f"--env {envs[0]}: no such environment in {config_dir} (there: {', '.join(env_names)})")
        return EXIT_BAD_INPUT
    plans = []
    with progress.stage(f"reading {len(named)} plan(s)"):
        for stack, path in named.items():
            try:
                plans.append(read(path, stack, _synthesized(stack, path, synth_dir)))
            except PlanError as err:
                print_error(str(err))
                return EXIT_BAD_INPUT
    result = PlanReview(plans)
    result.owners = {plan.stack: envs[0] if envs else stack_owner(plan.stack, env_names) for plan in plans}
    if not env_names:
        result.notes.append(f"no environment configuration at {config_dir}: HA regressions not assessed")
    owners = sorted({owner for owner in result.owners.values() if owner})
    environments = load_or_report(owners, config_dir) if owners else []
    if environments is None:
        return EXIT_BAD_INPUT
    _plan_regressions(result, environments)
    if base is not None:
        code = _synthesized_regressions(result, base, environments, config_dir)
        if code != EXIT_OK:
            return code
    print(to_json(result) if output_format == "json" else to_markdown(result), end="")
    failed = {
        "data-loss": bool(result.risks),
        "ha-regression": bool(result.regressions),
        "any": bool(result.risks or result.regressions),
    }
    return EXIT_FINDINGS if fail_on is not None and failed[fail_on] else EXIT_OK


def _environment_names(config_dir: Path) -> list[str]:
    from haflow.config import environment_names

    return environment_names(config_dir) if config_dir.is_dir() else []


def _synthesized(stack: str, plan: Path, synth_dir: Path | None) -> dict[str, Any] | None:
    """The stack's cdk.tf.json: from --synth-dir, else beside the plan (cdktf.out/stacks/<stack>/)."""
    from haflow.plan import STACK_FILE
    from haflow.reader import read_json

    candidate = (synth_dir / "stacks" / stack / STACK_FILE) if synth_dir else plan.parent / STACK_FILE
    if not candidate.is_file():
        return None
    document = read_json(candidate)
    return document if isinstance(document, dict) else None


def _plan_regressions(result: Any, environments: list[Environment]) -> None:
    from haflow.review.planreview import plan_regressions

    for env in environments:
        own = [plan for plan in result.stacks if result.owners.get(plan.stack) == env.name]
        with progress.stage(f"running the rule pack over {env.name}'s planned values"):
            regressions, note = plan_regressions(own, env)
        result.regressions += regressions
        if note:
            result.notes.append(note)


def _synthesized_regressions(result: Any, base: str, environments: list[Environment], config_dir: Path) -> int:
    """With --base: the synthesized diff's HA regressions (haflow diff) next to the plan's."""
    from haflow.review import review
    from haflow.review.baseref import BaseRefError, repo_root, synth_ref
    from haflow.synthesis import synthesize

    if not environments:
        result.notes.append(f"--base {base}: no plan of an environment's stack, nothing to compare")
        return EXIT_OK
    every = load_or_report([], config_dir)
    if every is None:
        return EXIT_BAD_INPUT
    names = [env.name for env in environments]
    try:
        root = repo_root(config_dir)
        config_rel = config_dir.resolve().relative_to(root.resolve())
        with progress.stage(f"synthesizing --base {base} with its own code in a temporary worktree"):
            base_stacks = synth_ref(root, base, config_rel, names)
    except (BaseRefError, ValueError) as err:
        print_error(f"--base {base}: {err}")
        return EXIT_BAD_INPUT
    with (progress.stage("synthesizing the working tree"),
          tempfile.TemporaryDirectory(prefix="haflow-review-head-") as tmp):
        head_stacks = synthesize(environments, Path(tmp) / "cdktf.out", bootstrap_from=every)
    diff = review(base, base_stacks, head_stacks, environments, names)
    known = {(r.rule_id, r.stack, r.address) for r in result.regressions}
    result.regressions += [r for r in diff.regressions if (r.rule_id, r.stack, r.address) not in known]
    result.notes.append(f"HA regressions include the synthesized diff against {base} (haflow diff)")
    return EXIT_OK
