"""The real cdktf CLI 0.21.0 receives the deploy commands exactly as they are written (issue 18, fix 2).

The command lines come from where a deployer reads them, so they cannot drift from what is tested:
deploy/buildspec.yml (run by bash as CodeBuild runs it, once per deploy runner the synthesized stacks create,
with that CodeBuild project's own environment variables) and every `cdktf ...` / `make cdktf ARGS=...` line of
README.md and docs/*.md (inline code or a code block, `VAR=value` prefixes kept; `<env>` is an environment with
disaster recovery; a bare `cdktf deploy` in prose and a pattern with "..." are not command lines).

What is real: the cdktf CLI (argument parsing, stack selection by name or glob, its dependency check, the order
it runs stacks in, how it calls Terraform). What stands in: ``terraform`` on PATH is a script that records its
arguments and working directory and succeeds, and the app of cdktf.json (``python main.py``) is replaced by a copy
of the session's synthesized output, which build_app wrote for the same environments (main.py itself, run by
the same CLI, is tests/test_cdktf_cli.py's synth test). Each command then must exit 0 and run
``terraform init`` and ``apply`` (``plan`` for diff) in cdktf.out/stacks/<stack> of exactly the stacks it
names, dependencies first.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import stat
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from haflow.config import Environment
from haflow.plan import StackJson
from tests.cdktf_cli import cdktf_cli
from tests.conftest import REPO_ROOT

BUILDSPEC = REPO_ROOT / "deploy" / "buildspec.yml"
DOCUMENTS = (REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")))
INLINE_CODE = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^\s*```")
ENVIRONMENT_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
TERMINAL_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# What the stand-in answers: cdktf reads `terraform version -json` and, after apply, `terraform output -json`.
TERRAFORM_STANDIN = """#!/bin/sh
printf '%s\\t%s\\n' "$PWD" "$*" >> "$HAFLOW_TERRAFORM_LOG"
case "$1" in
  version) echo '{"terraform_version":"1.11.4","platform":"linux_amd64","provider_selections":{}}' ;;
  output) echo '{}' ;;
esac
"""
PARALLEL_RUNS = 6  # the CLI mostly waits (~7 s a run, ~2 s of CPU)
CLI_TIMEOUT_SECONDS = 300


def documented_lines() -> list[str]:
    """Every cdktf command line of README.md and docs/*.md, in order, without repeats."""
    found: dict[str, None] = {}
    for document in DOCUMENTS:
        in_block = False
        for line in document.read_text(encoding="utf-8").splitlines():
            if FENCE.match(line):
                in_block = not in_block
                continue
            candidates = [line.strip()] if in_block else INLINE_CODE.findall(line)
            for candidate in candidates:
                words = candidate.split()
                while words and ENVIRONMENT_ASSIGNMENT.match(words[0]):  # TF_CLI_ARGS_apply=... cdktf deploy ...
                    words = words[1:]
                # `cdktf deploy` alone names the command in prose ("before any `cdktf deploy`"), and `ARGS="..."`
                # is a pattern; neither is a line to run
                if "..." in candidate:
                    continue
                if (words[:1] == ["cdktf"] and len(words) > 2) or words[:2] == ["make", "cdktf"]:
                    found.setdefault(candidate)
    return list(found)


def buildspec_lines() -> list[str]:
    """The buildspec's commands that run the cdktf CLI."""
    phases = yaml.safe_load(BUILDSPEC.read_text(encoding="utf-8"))["phases"]
    commands = [command for phase in phases.values() for command in phase.get("commands", [])]
    return [command for command in commands if "cdktf" in shlex.split(command)]


DOCUMENTED = documented_lines()


@dataclass(frozen=True)
class Run:
    label: str
    line: str  # what bash runs
    cdktf_args: tuple[str, ...]  # the cdktf part of it, for the expectations
    variables: dict[str, str]


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str
    calls: list[tuple[str, str]]  # (working directory, arguments) of every terraform call, in order
    project: Path


def cdktf_words(line: str, variables: dict[str, str]) -> tuple[str, ...]:
    """The cdktf CLI's arguments in ``line``, with $VARIABLES expanded as bash would."""
    expanded = re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), line)
    words = shlex.split(expanded)
    if words[:2] == ["make", "cdktf"]:
        args = next((word.split("=", 1)[1] for word in words if word.startswith("ARGS=")), "")
        return tuple(shlex.split(args))
    return tuple(words[words.index("cdktf") + 1:])


def documented_run(line: str, env_name: str) -> Run:
    concrete = line.replace("<env>", env_name)
    assert "<" not in concrete, f"{line!r}: a placeholder this test does not know; write <env> or a stack name"
    words = cdktf_words(concrete, {})
    # `make cdktf ARGS=...` is the same CLI with the Makefile's environment, which test_cdktf_cli.py covers;
    # here it runs as the cdktf command it wraps, so it does not synthesize the repository's cdktf.out.
    shell_line = shlex.join(["cdktf", *words]) if concrete.split()[:2] == ["make", "cdktf"] else concrete
    return Run(label=line, line=shell_line, cdktf_args=words, variables={})


def runner_projects(synthesized: dict[str, StackJson]) -> dict[str, dict[str, str]]:
    """Every CodeBuild project that runs deploy/buildspec.yml: its name and environment variables."""
    projects = {}
    for stack in synthesized.values():
        for project in stack.get("resource", {}).get("aws_codebuild_project", {}).values():
            if project["source"]["buildspec"] != "deploy/buildspec.yml":
                continue
            variables = project["environment"]["environment_variable"]
            projects[project["name"]] = {item["name"]: item["value"] for item in variables}
    return projects


def platform_stacks(synthesized: dict[str, StackJson]) -> set[str]:
    """The stacks that talk to a cluster's API (helm or kubernetes provider): the deploy runners' stacks."""
    return {name for name, stack in synthesized.items() if {"helm", "kubernetes"} & set(stack.get("provider", {}))}


def make_project(root: Path, synth_dir: Path, cdktf: Path) -> tuple[Path, Path, Path]:
    """A directory with the repository's cdktf.json (its app copies ``synth_dir``) and a terraform stand-in."""
    project = root / "project"
    project.mkdir(parents=True)
    config = json.loads((REPO_ROOT / "cdktf.json").read_text(encoding="utf-8"))
    config["app"] = f'cp -R {shlex.quote(str(synth_dir))}/. "$CDKTF_OUTDIR"'
    (project / "cdktf.json").write_text(json.dumps(config), encoding="utf-8")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    standin = bin_dir / "terraform"
    standin.write_text(TERRAFORM_STANDIN, encoding="utf-8")
    standin.chmod(standin.stat().st_mode | stat.S_IXUSR)
    (bin_dir / "cdktf").symlink_to(cdktf)
    return project, bin_dir, root / "terraform-calls.log"


def run_cli(run: Run, root: Path, synth_dir: Path, cdktf: Path) -> Outcome:
    project, bin_dir, log = make_project(root, synth_dir, cdktf)
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "TF_CLI_CONFIG_FILE")}
    env.update(run.variables)
    env.update({
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "HAFLOW_TERRAFORM_LOG": str(log),
        # as make and the deploy runner run it (Makefile): no checkpoint call, a CLI configuration that exists
        "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": str(REPO_ROOT / "deploy" / "terraformrc"),
    })
    done = subprocess.run(["bash", "-c", run.line], cwd=project, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT_SECONDS)
    calls = []
    if log.is_file():
        for entry in log.read_text(encoding="utf-8").splitlines():
            cwd, _, args = entry.partition("\t")
            calls.append((cwd, args))
    return Outcome(done.returncode, done.stdout + done.stderr, calls, project)


@pytest.fixture(scope="session")
def dr_environment(environments: dict[str, Environment]) -> str:
    with_dr = [env.name for env in environments.values() if env.dr.enabled]
    assert with_dr, "no environment with disaster recovery: the DR commands cannot be tried"
    return with_dr[0]


@pytest.fixture(scope="session")
def cli_outcomes(
    tmp_path_factory: pytest.TempPathFactory, synth_dir: Path, synthesized: dict[str, StackJson], dr_environment: str,
) -> dict[str, tuple[Run, Outcome]]:
    """Every run, by label: the documented lines and the buildspec's lines once per deploy runner."""
    cdktf = cdktf_cli()
    runs = [documented_run(line, dr_environment) for line in DOCUMENTED]
    for project, variables in runner_projects(synthesized).items():
        for line in buildspec_lines():
            runs.append(Run(label=f"{project}: {line}", line=line, cdktf_args=cdktf_words(line, variables),
                            variables=variables))
    # Lines that are the same command once <env> and `make cdktf` are resolved run once.
    distinct = list({(run.line, tuple(sorted(run.variables.items()))): run for run in runs}.values())
    root = tmp_path_factory.mktemp("cdktf-cli")
    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        outcomes = dict(zip(
            [(run.line, tuple(sorted(run.variables.items()))) for run in distinct],
            pool.map(lambda item: run_cli(item[1], root / str(item[0]), synth_dir, cdktf), enumerate(distinct)),
            strict=True,
        ))
    return {run.label: (run, outcomes[(run.line, tuple(sorted(run.variables.items())))]) for run in runs}


def named_stacks(args: tuple[str, ...], stacks: list[str]) -> list[str]:
    """The stacks cdktf deploy/diff selects: each positional argument is a name or a glob (minimatch)."""
    patterns = [arg for arg in args[1:] if not arg.startswith("-")]
    return [name for name in stacks if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)]


def problems_of(run: Run, outcome: Outcome, synthesized: dict[str, StackJson]) -> Iterator[str]:
    if outcome.returncode != 0:
        lines = [line for line in TERMINAL_CONTROL.sub("", outcome.output).splitlines() if line.strip()]
        tail = "\n".join(lines[-4:])
        yield f"cdktf exited {outcome.returncode}:\n{tail}"
        return
    verb = run.cdktf_args[0]
    stacks_dir = outcome.project / "cdktf.out" / "stacks"
    in_stacks = [(Path(cwd), args) for cwd, args in outcome.calls if Path(cwd).parent == stacks_dir]
    ran = {cwd.name for cwd, _ in in_stacks}
    if verb == "synth":
        if ran:
            yield f"cdktf synth ran terraform in {sorted(ran)}"
        return
    expected = named_stacks(run.cdktf_args, list(synthesized))
    if not expected:
        yield f"names no synthesized stack ({' '.join(run.cdktf_args)})"
    if ran != set(expected):
        yield f"terraform ran in {sorted(ran)}, the command names {sorted(expected)}"
    action = {"deploy": "apply", "diff": "plan", "destroy": "destroy"}.get(verb)
    if action is None:
        yield f"cdktf {verb}: not a deploy command this test knows (deploy, diff, destroy, synth)"
        return
    for stack in expected:
        verbs = [args.split()[0] for cwd, args in in_stacks if cwd.name == stack]
        if "init" not in verbs or action not in verbs:
            yield f"{stack}: terraform ran {verbs}, expected init and {action}"
    auto = "--auto-approve" in run.cdktf_args
    for cwd, args in in_stacks:
        if args.split()[0] == "apply" and ("-auto-approve" in args.split()) != auto:
            yield f"{cwd.name}: terraform {args} (--auto-approve given: {auto})"
    order = [cwd.name for cwd, args in in_stacks if args.split()[0] == action]
    for stack in order:
        for dependency in synthesized_dependencies(outcome.project, stack):
            if dependency in order and order.index(dependency) > order.index(stack):
                yield f"{stack} ran {action} before its dependency {dependency}"


def synthesized_dependencies(project: Path, stack: str) -> list[str]:
    manifest = json.loads((project / "cdktf.out" / "manifest.json").read_text(encoding="utf-8"))
    dependencies: list[str] = manifest["stacks"][stack].get("dependencies", [])
    return dependencies


def test_the_documents_and_the_buildspec_name_deploy_commands() -> None:
    assert any(line.split()[:2] == ["cdktf", "deploy"] for line in DOCUMENTED), \
        f"no `cdktf deploy` line in {', '.join(str(d.relative_to(REPO_ROOT)) for d in DOCUMENTS)}"
    assert any("deploy" in shlex.split(line) for line in buildspec_lines()), "deploy/buildspec.yml runs no cdktf deploy"


@pytest.mark.parametrize("line", DOCUMENTED)
def test_documented_command_is_accepted_and_runs_terraform_in_its_stacks(
    line: str, cli_outcomes: dict[str, tuple[Run, Outcome]], synthesized: dict[str, StackJson],
) -> None:
    run, outcome = cli_outcomes[line]
    problems = list(problems_of(run, outcome, synthesized))
    assert not problems, f"`{run.line}`:\n" + "\n".join(problems)


def test_buildspec_deploys_the_platform_stack_of_each_runner(
    cli_outcomes: dict[str, tuple[Run, Outcome]], synthesized: dict[str, StackJson],
) -> None:
    problems = []
    for label, (run, outcome) in cli_outcomes.items():
        if run.variables:
            problems += [f"{label}: {problem}" for problem in problems_of(run, outcome, synthesized)]
    assert not problems, "\n".join(problems)


def test_every_platform_stack_has_a_deploy_runner(
    cli_outcomes: dict[str, tuple[Run, Outcome]], synthesized: dict[str, StackJson],
    environments: dict[str, Environment],
) -> None:
    """Each platform stack of a runner-mode environment, DR included, is what some runner's buildspec deploys."""
    deployed: dict[str, str] = {}
    for run, outcome in cli_outcomes.values():
        if run.variables and outcome.returncode == 0:
            for stack in named_stacks(run.cdktf_args, list(synthesized)):
                deployed[stack] = run.label
    by_runner = set()
    for env in environments.values():
        if env.eks.deploy_access.mode == "runner":
            by_runner |= {env.platform_stack_name, *([env.dr_platform_stack_name] if env.dr.enabled else [])}
    assert by_runner <= platform_stacks(synthesized)
    missing = sorted(by_runner - set(deployed))
    assert not missing, f"no deploy runner's buildspec deploys {missing}; deployed: {deployed}"


def test_the_stand_in_records_what_the_cli_asks(tmp_path: Path, synth_dir: Path) -> None:
    """The stand-in and the expectations can fail: a stack that does not exist is refused by the CLI."""
    run = Run(label="missing", line="cdktf deploy no-such-stack --auto-approve",
              cdktf_args=("deploy", "no-such-stack", "--auto-approve"), variables={})
    outcome = run_cli(run, tmp_path, synth_dir, cdktf_cli())
    assert outcome.returncode != 0
    assert "Could not find stack for pattern 'no-such-stack'" in outcome.output
    assert [args for _, args in outcome.calls if args.startswith("version")], "the stand-in was never called"
