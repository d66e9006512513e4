"""The `haflow` command line. Commands live one per module in haflow/commands and return exit codes.

Nothing heavy is imported here: `haflow --help` and `haflow validate` never load a provider binding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haflow.defaults import CONFIG_DIR as DEFAULT_CONFIG_DIR
from haflow.defaults import OUT_DIR

app = typer.Typer(
    help="haflow: synthesize, check and drill a high-availability AI workflow platform on AWS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

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


FromOption = Annotated[
    Path | None,
    typer.Option("--from", help="Read stacks already synthesized in DIR instead of synthesizing"),
]


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


def main() -> None:
    app()

