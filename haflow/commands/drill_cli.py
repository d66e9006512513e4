"""The `haflow drill` command group: verify the live posture, run failover drills.

Kept apart from haflow/cli.py so that module stays a list of one-line commands; nothing heavy is
imported until a command runs.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from haflow.defaults import CONFIG_DIR, OUT_DIR
from haflow.drill import DEFAULT_TIMEOUT_SECONDS
from haflow.drill.log import DEFAULT_LOG


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


drill_app = typer.Typer(
    help="Post-deploy drills: verify the live HA posture against the plan, run failovers and time them.",
    no_args_is_help=True,
)
failover_app = typer.Typer(
    help="Fail over Aurora, Redis or the whole region, measure recovery time against the RTO, "
    "append the result to the drill log.",
    no_args_is_help=True,
)
drill_app.add_typer(failover_app, name="failover")

ConfigDirOption = Annotated[
    Path, typer.Option("--config-dir", help="Directory holding base.yaml and <env>.yaml overlays")
]
PlanDirOption = Annotated[
    Path,
    typer.Option("--from", help="Synthesized stacks to read <env>-foundation from; synthesized when absent there"),
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Local AWS endpoint (moto_server, LocalStack), e.g. http://127.0.0.1:5000; "
        "default $LOCALSTACK_HOST, else the real AWS APIs",
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table for people, json for tools")]
RegionOption = Annotated[str | None, typer.Option("--region", help="AWS region; default the environment's")]
YesOption = Annotated[bool, typer.Option("--yes", help="Really fail over; without it nothing is changed (exit 2)")]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", min=1, help="Seconds to wait for a new leader before giving up (exit 1)")
]
RtoOption = Annotated[
    int | None, typer.Option("--rto-seconds", min=1, help="RTO to compare with; default the environment's slo")
]
LogOption = Annotated[Path, typer.Option("--log", help="Drill log, one JSON line per drill (appended)")]
FailoverEnvOption = Annotated[
    str | None, typer.Option("--env", "-e", help="Environment whose plan names the target and gives the RTO")
]


@drill_app.command("verify")
def verify(
    env: Annotated[str, typer.Option("--env", "-e", help="Environment to verify")],
    config_dir: ConfigDirOption = CONFIG_DIR,
    plan_dir: PlanDirOption = OUT_DIR,
    endpoint_url: EndpointOption = None,
    output: FormatOption = OutputFormat.table,
) -> None:
    """Compare the live account with the plan: exit 0 match, 1 drift, 2 bad input or unreachable endpoint."""
    from haflow.commands import drill_verify as command

    raise typer.Exit(command.run(env, config_dir, plan_dir, endpoint_url, output.value))


@drill_app.command("seed")
def seed(
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose plan to seed")],
    endpoint_url: EndpointOption = None,
    config_dir: ConfigDirOption = CONFIG_DIR,
    plan_dir: PlanDirOption = OUT_DIR,
) -> None:
    """Create an environment's planned resources in a local endpoint (moto_server) to try the drills."""
    from haflow.commands import drill_seed as command

    raise typer.Exit(command.run(env, config_dir, plan_dir, endpoint_url))


@failover_app.command("aurora")
def aurora(
    env: FailoverEnvOption = None,
    cluster_id: Annotated[str | None, typer.Option("--cluster-id", help="Aurora cluster identifier")] = None,
    yes: YesOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rto_seconds: RtoOption = None,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    config_dir: ConfigDirOption = CONFIG_DIR,
    plan_dir: PlanDirOption = OUT_DIR,
    output: FormatOption = OutputFormat.table,
    log: LogOption = DEFAULT_LOG,
) -> None:
    """Fail over the Aurora writer: exit 0 within the RTO, 1 late or timed out, 2 bad input or refused."""
    from haflow.commands import drill_failover as command

    request = command.Request(
        kind="aurora",
        env_name=env,
        target_id=cluster_id,
        config_dir=config_dir,
        plan_dir=plan_dir,
        endpoint_url=endpoint_url,
        region=region,
        yes=yes,
        timeout_seconds=timeout,
        rto_seconds=rto_seconds,
        output=output.value,
        log=log,
    )
    raise typer.Exit(command.run(request))


@failover_app.command("redis")
def redis(
    env: FailoverEnvOption = None,
    replication_group_id: Annotated[
        str | None, typer.Option("--replication-group-id", help="ElastiCache replication group id")
    ] = None,
    yes: YesOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rto_seconds: RtoOption = None,
    endpoint_url: EndpointOption = None,
    region: RegionOption = None,
    config_dir: ConfigDirOption = CONFIG_DIR,
    plan_dir: PlanDirOption = OUT_DIR,
    output: FormatOption = OutputFormat.table,
    log: LogOption = DEFAULT_LOG,
) -> None:
    """Fail over the Redis primary (TestFailover): exit 0 within the RTO, 1 late or timed out, 2 otherwise."""
    from haflow.commands import drill_failover as command

    request = command.Request(
        kind="redis",
        env_name=env,
        target_id=replication_group_id,
        config_dir=config_dir,
        plan_dir=plan_dir,
        endpoint_url=endpoint_url,
        region=region,
        yes=yes,
        timeout_seconds=timeout,
        rto_seconds=rto_seconds,
        output=output.value,
        log=log,
    )
    raise typer.Exit(command.run(request))


@failover_app.command("region")
def region(
    env: Annotated[str, typer.Option("--env", "-e", help="Environment with dr.mode pilot_light or warm_standby")],
    planned: Annotated[
        bool, typer.Option("--planned", help="Managed switchover without data loss; default: unplanned "
                           "failover (detach and promote the secondary, accepting the replication lag)")
    ] = False,
    yes: YesOption = False,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_SECONDS,
    rto_seconds: Annotated[
        int | None, typer.Option("--rto-seconds", min=1, help="RTO to compare with; default slo.region_rto_seconds")
    ] = None,
    endpoint_url: EndpointOption = None,
    config_dir: ConfigDirOption = CONFIG_DIR,
    plan_dir: Annotated[
        Path,
        typer.Option("--from", help="Synthesized stacks to read <env>-dr-foundation from; synthesized when absent"),
    ] = OUT_DIR,
    output: FormatOption = OutputFormat.table,
    log: LogOption = DEFAULT_LOG,
) -> None:
    """Make the secondary region the writer: exit 0 within the region RTO, 1 late or not writable, 2 otherwise."""
    from haflow.commands import drill_region as command

    request = command.RegionRequest(
        env_name=env, planned=planned, config_dir=config_dir, plan_dir=plan_dir, endpoint_url=endpoint_url, yes=yes,
        timeout_seconds=timeout, rto_seconds=rto_seconds, output=output.value, log=log,
    )
    raise typer.Exit(command.run(request))


KubeContextOption = Annotated[
    str | None,
    typer.Option("--kube-context", help="kubeconfig context of the cluster: also wait for every pod to be Ready "
                 "(kubectl get pods -A); without it pods are not checked"),
]
DrillTimeoutOption = Annotated[
    float, typer.Option("--timeout", min=1, help="Seconds to wait for the experiment to end and the platform to "
                        "recover before giving up (exit 1)")
]
# The AZ experiment holds the zone down for 10 minutes (haflow.constructs.fault_injection.AZ_OUTAGE_DURATION).
ZONAL_TIMEOUT_SECONDS = 1800


@drill_app.command("az")
def az(
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose AZ to lose")],
    zone: Annotated[str, typer.Option("--az", help="Availability zone to lose, one of the environment's")],
    yes: Annotated[bool, typer.Option("--yes", help="Really start the experiment; without it nothing is changed "
                                      "(exit 2)")] = False,
    timeout: DrillTimeoutOption = ZONAL_TIMEOUT_SECONDS,
    rto_seconds: RtoOption = None,
    kube_context: KubeContextOption = None,
    endpoint_url: EndpointOption = None,
    config_dir: ConfigDirOption = CONFIG_DIR,
    plan_dir: PlanDirOption = OUT_DIR,
    output: FormatOption = OutputFormat.table,
    log: LogOption = DEFAULT_LOG,
) -> None:
    """Lose an AZ (FIS AZ Availability: Power Interruption): exit 0 recovered within the RTO, 1 not, 2 otherwise."""
    from haflow import contract
    from haflow.commands import drill_zonal as command

    raise typer.Exit(command.run(command.ZonalRequest(
        drill=contract.DRILL_AZ, env_name=env, az=zone, config_dir=config_dir, plan_dir=plan_dir,
        endpoint_url=endpoint_url, kube_context=kube_context, yes=yes, timeout_seconds=timeout,
        rto_seconds=rto_seconds, output=output.value, log=log,
    )))


@drill_app.command("node")
def node(
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose nodes to terminate")],
    yes: Annotated[bool, typer.Option("--yes", help="Really start the experiment; without it nothing is changed "
                                      "(exit 2)")] = False,
    timeout: DrillTimeoutOption = ZONAL_TIMEOUT_SECONDS,
    rto_seconds: RtoOption = None,
    kube_context: KubeContextOption = None,
    endpoint_url: EndpointOption = None,
    config_dir: ConfigDirOption = CONFIG_DIR,
    plan_dir: PlanDirOption = OUT_DIR,
    output: FormatOption = OutputFormat.table,
    log: LogOption = DEFAULT_LOG,
) -> None:
    """Terminate part of a node group (FIS): exit 0 recovered within the RTO, 1 not, 2 otherwise."""
    from haflow import contract
    from haflow.commands import drill_zonal as command

    raise typer.Exit(command.run(command.ZonalRequest(
        drill=contract.DRILL_NODE, env_name=env, az=None, config_dir=config_dir, plan_dir=plan_dir,
        endpoint_url=endpoint_url, kube_context=kube_context, yes=yes, timeout_seconds=timeout,
        rto_seconds=rto_seconds, output=output.value, log=log,
    )))
