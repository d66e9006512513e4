"""haflow check: the rule pack, the render gate (and optionally checkov) over each environment's stacks.

With ``--terraform`` the Terraform gate (haflow/review/tfgate.py) runs too: its verdicts are findings of
HA-TF-001/002 and its report (plan counts, what Terraform could not check) goes to stderr.

Exit 0 when no unsuppressed error remains, 1 otherwise, 2 on bad input (environments, --from, skips), when
the Terraform gate was asked for and cannot run (no terraform, no AWS provider mirror, no moto_server), and
when the render gate cannot run (no Helm engine, a chart missing or not the locked package): a gate
that cannot run is never a pass; ``--no-render`` skips it explicitly.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from haflow import contract, progress
from haflow.commands.common import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, guarded, load_or_report, print_error
from haflow.config import Environment
from haflow.config.placeholders import placeholder_messages
from haflow.plan import STACK_FILE, STACKS_DIR, read_stacks
from haflow.reader import MAX_JSON_BYTES, display, read_text
from haflow.rules import evaluate
from haflow.rules.checkov_gate import (
    CheckovOutcome,
    RenderedManifests,
    load_skips,
    run_checkov,
    skips_file_for,
)
from haflow.rules.engine import Finding, stacks_of
from haflow.rules.format import FORMATS, CheckReport, format_report
from haflow.rules.rendered import RENDERED_RULE_IDS, evaluate_rendered
from haflow.rules.terraform import RULE_IDS as TERRAFORM_RULE_IDS
from haflow.synthesis import synthesize

# Where `haflow synth` and `cdktf synth` put stacks: SARIF locations point there when haflow
# synthesizes into a temporary directory of its own.
DEFAULT_STACKS_DIR = "cdktf.out/stacks"


@dataclass(frozen=True)
class RenderOptions:
    """The render gate: on unless ``enabled`` is False (--no-render); charts from ``charts_dir`` when given."""

    enabled: bool = True
    charts_dir: Path | None = None


def run(envs: list[str], config_dir: Path, from_dir: Path | None, output_format: str, checkov: bool,
        skips_file: Path | None = None, rendering: RenderOptions | None = None, as_of: str | None = None,
        deploy: bool = False, terraform: bool = False) -> int:
    if output_format not in FORMATS:
        print_error(f"--format {output_format!r}: choose one of {', '.join(FORMATS)}")
        return EXIT_BAD_INPUT
    day = parse_day(as_of)
    if day is None:
        print_error(f"--as-of {as_of!r}: not a date; write it as YYYY-MM-DD, e.g. {date.today().isoformat()}")
        return EXIT_BAD_INPUT
    rendering = rendering or RenderOptions()
    if rendering.charts_dir is not None and not rendering.charts_dir.is_dir():
        print_error(f"--charts-dir {display(rendering.charts_dir)}: no such directory; give a directory holding the "
                    f"pinned chart packages (charts.lock), or leave it out to use the chart cache")
        return EXIT_BAD_INPUT
    if terraform:
        missing = terraform_gate_missing()
        if missing:
            print_error(f"haflow check --terraform: the Terraform gate cannot run: {missing}")
            return EXIT_BAD_INPUT
    environments = load_or_report(envs, config_dir)
    if environments is None:
        return EXIT_BAD_INPUT
    if deploy:
        examples = placeholder_messages(environments)
        if examples:
            print_error(f"haflow check --deploy: {len(examples)} example value(s) shipped in environments/ "
                        f"would be deployed; refusing (nothing checked):")
            for message in examples:
                print_error(f"  - {message}")
            return EXIT_BAD_INPUT
    if skips_file is None:
        skips_file = skips_file_for(config_dir)
        if checkov and not skips_file.exists():
            print_error(f"warning: {display(skips_file)} not found (looked at the root of the configuration's "
                        "repository): no checkov skip applies, every checkov failure counts. Pass "
                        "--checkov-skips FILE to use another file")
    elif not skips_file.is_file():
        print_error(f"--checkov-skips {display(skips_file)}: file not found")
        return EXIT_BAD_INPUT
    return guarded(lambda: _check(environments, config_dir, from_dir, output_format, checkov, skips_file,
                                  rendering, day, terraform))


def parse_day(text: str | None) -> date | None:
    """The day ``--as-of`` names (today when it is left out), or None when it is not a YYYY-MM-DD date."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text) if len(text) == len("YYYY-MM-DD") else None
    except ValueError:
        return None


def terraform_gate_missing() -> str:
    """What the Terraform gate lacks here (terraform, the AWS provider mirror, moto_server), or ""."""
    from haflow.drill.motoserver import moto_command
    from haflow.review.tfgate import GateUnavailable, available_aws_version

    try:
        available_aws_version()
    except GateUnavailable as err:
        return str(err)
    if moto_command(0) is None:
        return "no moto_server beside this Python or on PATH: install haflow's dev extra (pip install -e '.[dev]')"
    return ""


def _check(environments: list[Environment], config_dir: Path, from_dir: Path | None, output_format: str,
           checkov: bool, skips_file: Path, rendering: RenderOptions, day: date, terraform: bool) -> int:
    skips = load_skips(skips_file) if checkov else []
    if from_dir is not None:
        stacks = read_stacks(from_dir)
        missing = [name for env in environments for name in (env.foundation_stack_name, env.platform_stack_name)
                   if name not in stacks]
        if missing:
            print_error(
                f"{display(from_dir / 'stacks')}: no {STACK_FILE} for {', '.join(missing)}; "
                f"synthesize first (`haflow synth` or `cdktf synth`) or drop --from"
            )
            return EXIT_BAD_INPUT
        return _report(environments, stacks, from_dir, display(from_dir / "stacks"), config_dir, output_format,
                       checkov, skips, skips_file, rendering, day, terraform)
    with tempfile.TemporaryDirectory(prefix="haflow-check-") as scratch:
        outdir = Path(scratch) / "cdktf.out"
        with progress.stage(f"synthesizing {len(environments)} environment(s)"):
            stacks = synthesize(environments, outdir)
        return _report(environments, stacks, outdir, DEFAULT_STACKS_DIR, config_dir, output_format, checkov,
                       skips, skips_file, rendering, day, terraform)


def rendered_findings(environments: list[Environment], stacks: dict[str, Any],
                      rendering: RenderOptions, objects: RenderedManifests | None = None
                      ) -> dict[str, list[Finding]] | None:
    """Each environment's render-gate findings; None (after saying why, loudly) when the gate cannot run. Given
    ``objects``, each rendered platform stack's objects are put there (address, manifest) for checkov."""
    if not rendering.enabled:
        progress.say("render gate SKIPPED (--no-render): the Helm releases were not rendered or validated")
        return {}
    from haflow.render import RenderUnavailable, render_environment

    found: dict[str, list[Finding]] = {}
    for env in environments:
        found[env.name] = []
        for secondary in (False, True) if env.dr.enabled else (False,):
            where = f"{env.name}-dr" if secondary else env.name
            progress.say(f"rendering {where}")
            try:
                result = render_environment(stacks, env, rendering.charts_dir, secondary=secondary)
            except RenderUnavailable as err:
                print_error(f"render gate cannot run for {where}: {err}")
                print_error("haflow check refuses to pass without it; fix the above, or pass --no-render to skip "
                            "the render gate explicitly")
                return None
            found[env.name].extend(evaluate_rendered(result, env))
            if objects is not None:
                objects[result.platform_stack] = [(item.address, item.manifest) for item in result.objects]
            progress.say(f"rendered {where}: {len(result.releases)} releases, {len(result.objects)} objects with "
                         f"{result.engine} for Kubernetes {result.kube_version} in {result.seconds:.1f}s")
    return found


def terraform_findings(environments: list[Environment], stacks: dict[str, Any], stacks_dir: Path
                       ) -> dict[str, list[Finding]] | None:
    """Each environment's findings of the Terraform gate over its stacks (the gate's report on stderr); None
    (after saying why) when it cannot run."""
    from haflow.drill.motoserver import MotoUnavailable, moto_server
    from haflow.review.terraform import TerraformError
    from haflow.review.tfgate import GateUnavailable, findings, format_gate, run_gate

    names = list(dict.fromkeys(name for env in environments for name in stacks_of(env, stacks)))
    progress.say(f"Terraform gate on {len(names)} stack(s)")
    try:
        with tempfile.TemporaryDirectory(prefix="haflow-tfgate-") as scratch, \
                moto_server(Path(scratch) / "moto_server.log") as endpoint:
            report = run_gate({name: stacks[name] for name in names}, Path(scratch), endpoint,
                              stacks_dir=stacks_dir)
    except (GateUnavailable, MotoUnavailable, TerraformError) as err:
        print_error(f"the Terraform gate cannot run: {err}")
        return None
    for line in format_gate(report):
        print_error(line)
    return {env.name: findings(report, env.name, stacks_of(env, stacks)) for env in environments}


def _report(environments: list[Environment], stacks: dict[str, Any], root: Path, stacks_dir: str,
            config_dir: Path, output_format: str, checkov: bool, skips: list[Any], skips_file: Path,
            rendering: RenderOptions, day: date, terraform: bool = False) -> int:
    manifests: RenderedManifests = {}
    rendered = rendered_findings(environments, stacks, rendering, manifests)
    if rendered is None:
        return EXIT_BAD_INPUT
    gated = terraform_findings(environments, stacks, root / STACKS_DIR) if terraform else {}
    if gated is None:
        return EXIT_BAD_INPUT
    not_run = (frozenset() if rendering.enabled else RENDERED_RULE_IDS) | (
        frozenset() if terraform else TERRAFORM_RULE_IDS)
    with progress.stage("running the rule pack"):
        evaluations = [evaluate(stacks, env, extra=rendered.get(env.name, []) + gated.get(env.name, []),
                                not_run=not_run, as_of=day)
                       for env in environments]
    names = list(dict.fromkeys(name for env in environments for name in stacks_of(env, stacks)))
    outcome: CheckovOutcome | None = None
    if checkov:
        env_of = {name: env.name for env in environments for name in stacks_of(env, stacks)
                  if name != contract.BOOTSTRAP_STACK}
        progress.say(f"running checkov on {len(names)} stack(s)"
                     + (f" and the rendered objects of {len(manifests)} platform(s)" if manifests else ""))
        try:
            outcome = run_checkov({name: stacks[name] for name in names}, skips, env_of, manifests)
        except Exception as err:  # checkov is a third-party parser of the plan: report, never a traceback
            print_error(f"checkov failed on the synthesized stacks: {type(err).__name__}: {err}")
            return EXIT_BAD_INPUT
        for problem in outcome.parsing_errors:
            print_error(f"checkov could not parse {problem}")
    report = CheckReport(evaluations, outcome, stacks_dir, display(config_dir), display(skips_file))
    lines = {name: _resource_lines(root / "stacks" / name / STACK_FILE) for name in names}
    sys.stdout.write(format_report(report, output_format, lines))
    return EXIT_FINDINGS if report.errors else EXIT_OK


def _resource_lines(path: Path) -> dict[str, int]:
    """Line of each resource's logical id in a synthesized file (cdktf writes one key per line)."""
    found: dict[str, int] = {}
    if not path.exists():
        return found
    for number, line in enumerate(read_text(path, max_bytes=MAX_JSON_BYTES).splitlines(), start=1):
        stripped = line.strip()
        if stripped.endswith("{") and stripped.startswith('"'):
            key = json.loads(stripped[: stripped.rindex(":")])
            found.setdefault(key, number)
    return found
