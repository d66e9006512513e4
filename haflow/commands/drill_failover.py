"""haflow drill failover aurora|redis: fail over, measure the recovery time, compare it with the RTO, log it.

Without --yes nothing is changed: the command looks the target up (read-only), says what it would do
and exits 2, so a script that forgot --yes never mistakes a dry run for a passed drill.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from haflow.commands.common import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, load_or_report, plan_stack, print_error
from haflow.config.model import Environment
from haflow.drill import log as drill_log
from haflow.drill.clients import AwsClients, EndpointError, aws_clients, translate_errors
from haflow.drill.failover import (
    DrillRefused,
    FailoverResult,
    NotImplementedByEndpoint,
    aurora_failover,
    aurora_preflight,
    redis_failover,
    redis_preflight,
)
from haflow.drill.plan import Plan, Unresolved


@dataclass(frozen=True)
class Kind:
    """What differs between the Aurora and the Redis drill."""

    name: str
    noun: str
    leader: str
    plan_type: str
    id_option: str


AURORA = Kind("aurora", "Aurora cluster", "writer", "aws_rds_cluster", "--cluster-id")
REDIS = Kind("redis", "replication group", "primary", "aws_elasticache_replication_group", "--replication-group-id")
KINDS = {kind.name: kind for kind in (AURORA, REDIS)}


@dataclass(frozen=True)
class Request:
    kind: str
    env_name: str | None
    target_id: str | None
    config_dir: Path
    plan_dir: Path
    endpoint_url: str | None
    region: str | None
    yes: bool
    timeout_seconds: float
    rto_seconds: int | None
    output: str
    log: Path


class BadRequest(Exception):
    pass


def run(request: Request) -> int:
    kind = KINDS[request.kind]
    command = f"haflow drill failover {kind.name}"
    try:
        drill_log.check_log(request.log)
        env = _environment(request)
        rto_seconds = _rto(request, env)
        aws = aws_clients(request.region or (env.region if env else None), request.endpoint_url)
        with translate_errors(aws):
            target = request.target_id or _target_from_plan(kind, env, request.plan_dir)
            preflight = aurora_preflight if kind is AURORA else redis_preflight
            if not request.yes:
                # Say what would happen before anything needs credentials or a reachable endpoint.
                print(
                    f"dry run: would fail over {kind.noun} {target} in {aws.where}, timed against an RTO of "
                    f"{rto_seconds} s and logged to {request.log}. Nothing was changed; re-run with --yes to run "
                    "the drill."
                )
                state = preflight(aws, target)
                others = [m for m in state.members if m != state.leader]
                print(f"would fail over {kind.noun} {target}: {kind.leader} {state.leader} -> one of "
                      f"{', '.join(others)}")
                return EXIT_BAD_INPUT
            drill = aurora_failover if kind is AURORA else redis_failover
            result = drill(aws, target, rto_seconds=rto_seconds, timeout_seconds=request.timeout_seconds)
    except (BadRequest, DrillRefused, EndpointError, NotImplementedByEndpoint) as err:
        print_error(f"{command}: {err}")
        return EXIT_BAD_INPUT
    except ClientError as err:
        print_error(f"{command}: AWS refused the call: {err}")
        return EXIT_BAD_INPUT
    drill_log.append(
        request.log,
        f"failover-{kind.name}",
        {"environment": env.name if env else None, "where": aws.where, **result.to_json()},
    )
    if request.output == "json":
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(render(kind, result, aws))
    return EXIT_OK if result.met else EXIT_FINDINGS


def _environment(request: Request) -> Environment | None:
    if request.env_name is None:
        if request.target_id is None:
            raise BadRequest(f"say which one: --env ENV or {KINDS[request.kind].id_option} ID")
        return None
    environments = load_or_report([request.env_name], request.config_dir)
    if environments is None:
        raise BadRequest(f"environment {request.env_name!r} cannot be loaded (see above)")
    return environments[0]


def _rto(request: Request, env: Environment | None) -> int:
    if request.rto_seconds is not None:
        return request.rto_seconds
    if env is None:
        raise BadRequest("no RTO to compare with: pass --env ENV (its slo.rto_seconds) or --rto-seconds N")
    return env.slo.rto_seconds


def _target_from_plan(kind: Kind, env: Environment | None, plan_dir: Path) -> str:
    assert env is not None  # _environment() demands --env when no id is given
    stack, source = plan_stack(env, plan_dir, env.foundation_stack_name)
    plan = Plan(stack)
    planned = list(plan.resources(kind.plan_type))
    if len(planned) != 1:
        found = ", ".join(resource.address for resource in planned) or "none"
        raise BadRequest(
            f"the plan ({source}) should hold exactly one {kind.plan_type}, found {found}; "
            f"pass {kind.id_option} ID to pick one"
        )
    attribute = "cluster_identifier" if kind is AURORA else "replication_group_id"
    try:
        identifier = plan.literal(planned[0].body.get(attribute))
    except Unresolved as err:
        raise BadRequest(f"{planned[0].address}.{attribute}: {err}; pass {kind.id_option} ID") from None
    if not identifier:
        raise BadRequest(f"{planned[0].address} has no literal {attribute}; pass {kind.id_option} ID")
    return str(identifier)


def render(kind: Kind, result: FailoverResult, aws: AwsClients) -> str:
    verdict = "within" if result.met else "over"
    if not result.completed:
        return (
            f"{kind.noun} {result.target} in {aws.where}: no new {kind.leader} after {result.seconds:.1f} s "
            f"(old {kind.leader} {result.old_leader}); RTO {result.rto_seconds} s not met"
        )
    return (
        f"{kind.noun} {result.target} in {aws.where}: {kind.leader} {result.old_leader} -> {result.new_leader} "
        f"in {result.seconds:.2f} s, {verdict} the RTO of {result.rto_seconds} s"
    )
