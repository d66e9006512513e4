"""The `haflow` command line. Commands live one per module in haflow/commands and return exit codes.

Nothing heavy is imported here: `haflow --help` and `haflow validate` never load a provider binding.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup, _click  # typer 0.2x vendors click; its Context is this one

from haflow import progress
from haflow.commands.drill_cli import drill_app
from haflow.defaults import CONFIG_DIR as DEFAULT_CONFIG_DIR
from haflow.defaults import OUT_DIR

EXIT_BAD_INPUT = 2
EXIT_INTERNAL_ERROR = 3
EXIT_BROKEN_PIPE = 1  # as click itself exits when its pipe's reader is gone (`haflow --help | head`)
DEBUG_VARIABLE = "HAFLOW_DEBUG"
BUG_REPORT = (
    "this is a bug in haflow: please report it with the command you ran, the output of the same command "
    "with --debug (haflow --debug ...), and `git rev-parse HEAD`"
)


class GuardedGroup(TyperGroup):
    """The one guard at the top: bad input is exit 2 with its message, anything unexpected exit 3 with a
    one-line message and what to put in a bug report. The traceback shows only with --debug."""

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            _quiet_after_broken_pipe()
        except Exception as err:
            from haflow.errors import ConfigError
            from haflow.output import OutputError

            if ctx.params.get("debug") or os.environ.get(DEBUG_VARIABLE):
                traceback.print_exc()
            if isinstance(err, ConfigError):
                print(err.render(), file=sys.stderr)
                raise typer.Exit(EXIT_BAD_INPUT) from None
            if isinstance(err, OutputError):
                print(f"haflow: {err}", file=sys.stderr)
                raise typer.Exit(EXIT_BAD_INPUT) from None
            summary = " ".join(str(err).split())[:300]
            print(f"haflow: internal error: {type(err).__name__}: {summary}; {BUG_REPORT}", file=sys.stderr)
            raise typer.Exit(EXIT_INTERNAL_ERROR) from None


app = typer.Typer(
    cls=GuardedGroup,
    help="haflow: synthesize, check and drill a high-availability AI workflow platform on AWS. "
    "Exit codes: 0 ok, 1 findings, 2 bad input, 3 internal error (a bug: rerun with --debug).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def options(
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress messages on stderr")] = False,
) -> None:
    """haflow: synthesize, check and drill a high-availability AI workflow platform on AWS."""
    progress.configure(quiet=quiet)

EnvOption = Annotated[
    list[str] | None, typer.Option("--env", "-e", help="Environment name; repeat for several (default: all)")
]
ConfigDirOption = Annotated[
    Path, typer.Option("--config-dir", help="Directory holding base.yaml and <env>.yaml overlays")
]
OutOption = Annotated[Path, typer.Option("--out", help="Directory for the synthesized stacks")]


@app.command()
def synth(env: EnvOption = None, config_dir: ConfigDirOption = DEFAULT_CONFIG_DIR,
          out: OutOption = OUT_DIR) -> None:
    """Synthesize Terraform JSON for every (or each --env) environment into OUT/stacks, atomically."""
    from haflow.commands import synth as command

    raise typer.Exit(command.run(env or [], config_dir, out))


@app.command()
def validate(env: EnvOption = None, config_dir: ConfigDirOption = DEFAULT_CONFIG_DIR) -> None:
    """Validate environment overlays (no provider is loaded); exit 2 with every problem found."""
    from haflow.commands import validate as command

    raise typer.Exit(command.run(env or [], config_dir))


@app.command()
def schema(
    out: Annotated[Path, typer.Option("--out", help="Where to write the schema")] = DEFAULT_CONFIG_DIR
    / "schema.json",
) -> None:
    """Write the JSON Schema of an environment file (editors use it for completion and checks)."""
    from haflow.commands import schema as command

    raise typer.Exit(command.run(out))


ChartsDirOption = Annotated[
    Path | None,
    typer.Option("--charts-dir", help="Directory of the pinned chart packages (default: the chart cache, "
                 "$HAFLOW_CHARTS_DIR or ~/.cache/haflow/charts, then ../shared/reference/charts)"),
]
FromOption = Annotated[
    Path | None,
    typer.Option("--from", help="Read stacks already synthesized in DIR instead of synthesizing"),
]


@app.command()
def check(
    env: EnvOption = None,
    config_dir: ConfigDirOption = DEFAULT_CONFIG_DIR,
    from_dir: FromOption = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json, sarif or markdown")] = "table",
    checkov: Annotated[
        bool, typer.Option("--checkov", help="Also run checkov on the stacks (skips: checkov-skips.yaml)")
    ] = False,
    no_render: Annotated[
        bool, typer.Option("--no-render", help="Skip the render gate (Helm releases rendered and validated)")
    ] = False,
    charts_dir: ChartsDirOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Judge support windows and dated facts on this day, YYYY-MM-DD (default today)"),
    ] = None,
    checkov_skips: Annotated[
        Path | None,
        typer.Option("--checkov-skips", help="checkov skips file; default checkov-skips.yaml at the root of the "
                     "repository holding --config-dir"),
    ] = None,
    deploy: Annotated[
        bool, typer.Option("--deploy", help="Also refuse (exit 2) the example values shipped in environments/ "
                           "(state bucket, deploy runner repository, model-api host and hosted zone): run it before "
                           "any cdktf deploy")
    ] = False,
    terraform: Annotated[
        bool, typer.Option("--terraform", help="Also run the Terraform gate: terraform validate and plan (against "
                           "a local moto_server) of every AWS-only stack with the mirror's AWS provider")
    ] = False,
) -> None:
    """Resilience and security rules (RULES.md) on the synthesized plan and on the rendered Helm releases.

    Exit 1 on unsuppressed errors, 2 on bad input, when the render gate cannot run, when --terraform is given
    and the Terraform gate cannot run (what is missing is named), or (--deploy) when an example value
    shipped in environments/ is still set.
    """
    from haflow.commands import check as command

    rendering = command.RenderOptions(enabled=not no_render, charts_dir=charts_dir)
    raise typer.Exit(
        command.run(env or [], config_dir, from_dir, output_format, checkov, checkov_skips, rendering=rendering,
                    as_of=as_of, deploy=deploy, terraform=terraform)
    )


charts_app = typer.Typer(help="The pinned chart packages the render gate uses (charts.lock).", no_args_is_help=True)


@charts_app.command("pull")
def charts_pull(charts_dir: ChartsDirOption = None) -> None:
    """Download every chart package in charts.lock into the chart cache (or --charts-dir), verifying digests.

    Exit 0 when every package is there with its locked digest, 2 when one could not be fetched or differs.
    """
    from haflow.commands import charts as command

    raise typer.Exit(command.pull(charts_dir))


app.add_typer(charts_app, name="charts")


images_app = typer.Typer(help="The chart images and their digests (haflow/images.lock.json).", no_args_is_help=True)
LockFileOption = Annotated[
    Path | None,
    typer.Option("--lock-file", help="The image lock (default: $HAFLOW_IMAGES_LOCK or haflow/images.lock.json)"),
]


@images_app.command("list")
def images_list(lock_file: LockFileOption = None) -> None:
    """Each image a chart runs: reference, locked digest (or none), the day it was read, where it came from.

    Exit 0, or 2 when the lock file is not valid.
    """
    from haflow.commands import images as command

    raise typer.Exit(command.list_images(lock_file))


@images_app.command("lock")
def images_lock(
    check: Annotated[bool, typer.Option("--check", help="Write nothing: compare each image's registry digest with "
                                        "the lock (the gate before cdktf deploy)")] = False,
    mirror: Annotated[
        list[str] | None,
        typer.Option("--mirror", help="Read the images through another registry: PREFIX for every image "
                     "(PREFIX/<registry>/<path>:<tag>) or REGISTRY=PREFIX for one registry's (PREFIX/<path>:<tag>); "
                     "repeat for several (default: $HAFLOW_IMAGE_MIRRORS, space-separated)"),
    ] = None,
    tls_verify: Annotated[str, typer.Option("--tls-verify", help="true, or false for a registry on the loopback "
                                            "only (a test's)")] = "true",
    image: Annotated[
        list[str] | None,
        typer.Option("--image", help="Only this image (repository:tag, as `haflow images list` shows it); repeat "
                     "for several; the other entries are kept"),
    ] = None,
    lock_file: LockFileOption = None,
) -> None:
    """Lock each image's digest from its registry: sha256 of `skopeo inspect --raw` (the multi-arch index).

    Writes the lock atomically, and only when every image was read. Exit 0 ok; with --check, 1 when a digest
    differs from the registry's or an image has none; 2 when skopeo is missing (`make image-tools`), an image
    cannot be read, or on bad input.
    """
    from haflow.commands import images as command

    raise typer.Exit(command.lock(lock_file, check=check, mirror=mirror or [], tls_verify=tls_verify,
                                  only=image or []))


app.add_typer(images_app, name="images")


@app.command()
def rules(
    out: Annotated[Path, typer.Option("--out", help="Where to write the rule reference")] = Path("RULES.md"),
    ids_out: Annotated[Path, typer.Option("--ids-out", help="Where to write the rule ids config validates with")]
    = Path("haflow/rule_ids.py"),
) -> None:
    """Write RULES.md, the reference of every rule, and haflow/rule_ids.py, from the rules' metadata."""
    from haflow.commands import rules as command

    raise typer.Exit(command.run(out, ids_out))


@app.command()
def docs(
    root: Annotated[Path, typer.Option("--root", help="The repository whose README.md and docs/*.md to update")]
    = Path("."),
    config_dir: Annotated[Path | None, typer.Option("--config-dir", help="Environment overlays (default: ROOT/"
                                                    "environments)")] = None,
    check_only: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 when a page is stale")] = False,
) -> None:
    """Regenerate the figures code can produce (chart table, rule count, DR figures) in README.md and docs/.

    Exit 1 with --check when a page is stale, 2 when a page's generated block cannot be read.
    """
    from haflow.commands import docs as command

    raise typer.Exit(command.run(root, config_dir, check_only))


@app.command()
def report(
    env: Annotated[str, typer.Option("--env", "-e", help="Environment name")],
    config_dir: ConfigDirOption = DEFAULT_CONFIG_DIR,
    output_format: Annotated[str, typer.Option("--format", help="markdown or json")] = "markdown",
    from_dir: FromOption = None,
) -> None:
    """SLO report: per-component AZs, replicas, failover, RTO/RPO and composite availability vs the SLO.

    Exit 1 when the estimate misses the environment's SLO, 2 on bad input.
    """
    from haflow.commands import report as command

    raise typer.Exit(command.run(env, config_dir, output_format, from_dir))


app.add_typer(drill_app, name="drill")


@app.command()
def diff(
    base: Annotated[str, typer.Option("--base", help="Git ref to compare with, e.g. origin/main")],
    env: EnvOption = None,
    config_dir: ConfigDirOption = DEFAULT_CONFIG_DIR,
    output_format: Annotated[str, typer.Option("--format", help="markdown or json")] = "markdown",
    fail_on: Annotated[
        str | None, typer.Option("--fail-on", help="Exit 1 on: data-loss, ha-regression or any")
    ] = None,
) -> None:
    """PR plan review: resources added/removed/changed per stack against --base, data-loss risks, HA regressions.

    The base ref is synthesized by its own code in a temporary git worktree.
    """
    from haflow.commands import diff as command

    raise typer.Exit(command.run(base, env or [], config_dir, output_format, fail_on))


@app.command("review")
def review_plan(
    plan: Annotated[
        list[str],
        typer.Option("--plan", help="A stack's `terraform show -json` output: cdktf.out/stacks/<stack>/PLAN.json or "
                     "STACK=PLAN.json; repeat for several stacks"),
    ],
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", help="The environment whose config judges the plans (default: each stack's owner)"),
    ] = None,
    config_dir: ConfigDirOption = DEFAULT_CONFIG_DIR,
    output_format: Annotated[str, typer.Option("--format", help="markdown or json")] = "markdown",
    fail_on: Annotated[
        str | None, typer.Option("--fail-on", help="Exit 1 on: data-loss, ha-regression or any")
    ] = None,
    synth_dir: Annotated[
        Path | None,
        typer.Option("--synth-dir", help="cdktf.out holding stacks/<stack>/cdk.tf.json, to check prevent_destroy "
                     "(default: the cdk.tf.json beside each plan)"),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option("--base", help="Also list the HA regressions of the synthesized diff against this git ref"),
    ] = None,
) -> None:
    """Review the real plans: created/updated/replaced/destroyed/forgotten/moved/imported per stack, data-loss
    risks from the plans' actions, HA regressions from the rule pack over the planned values, drift, outputs.

    Exit 1 when --fail-on matches, 2 on bad input (a file that is not a JSON plan of format 0.x or 1.x).
    """
    from haflow.commands import review as command

    raise typer.Exit(command.run(plan, env or [], config_dir, output_format, fail_on, synth_dir, base))


def _quiet_after_broken_pipe() -> None:
    """The reader of stdout went away (`haflow check --help | head`): end quietly, as `cat` does, instead of
    reporting a bug. stdout points at /dev/null so the interpreter's last flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise typer.Exit(EXIT_BROKEN_PIPE)


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # raised while click prints help or a result outside a command's invoke
        try:
            _quiet_after_broken_pipe()
        except typer.Exit as done:
            sys.exit(done.exit_code)

