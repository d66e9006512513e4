"""haflow drill az|node: run the environment's FIS experiment, verify recovery, time it against the RTO, log it.

Without --yes nothing is changed: the command finds the experiment template and checks the platform's
health (read-only), says what it would do and exits 2, like the failover drills.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from haflow import contract
from haflow.commands.common import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, load_or_report, plan_stack, print_error
from haflow.config.model import Environment
from haflow.drill import log as drill_log
from haflow.drill.clients import AwsClients, EndpointError, aws_clients, translate_errors
from haflow.drill.failover import DrillRefused
from haflow.drill.plan import Plan, Unresolved
from haflow.drill.zonal import DrillResult, Targets, find_template, health, run_drill


@dataclass(frozen=True)
class ZonalRequest:
    drill: str  # contract.DRILL_AZ or contract.DRILL_NODE
    env_name: str
    az: str | None
    config_dir: Path
    plan_dir: Path
    endpoint_url: str | None
    kube_context: str | None
    yes: bool
    timeout_seconds: float
    rto_seconds: int | None
    output: str
    log: Path


class BadRequest(Exception):
    pass


def run(request: ZonalRequest) -> int:
    command = f"haflow drill {request.drill}"
    try:
        drill_log.check_log(request.log)
        environments = load_or_report([request.env_name], request.config_dir)
        if environments is None:
            raise BadRequest(f"environment {request.env_name!r} cannot be loaded (see above)")
        env = environments[0]
        if request.drill == contract.DRILL_AZ and request.az not in env.availability_zones:
            raise BadRequest(f"--az {request.az}: not an AZ of {env.name}; allowed: "
                             f"{', '.join(env.availability_zones)} (availability_zones in its environment file)")
        rto_seconds = request.rto_seconds if request.rto_seconds is not None else env.slo.rto_seconds
        targets = _targets(env.foundation_stack_name, env, request)
        name = contract.fis_template_name(env.name, request.drill, request.az)
        aws = aws_clients(env.region, request.endpoint_url)
        with translate_errors(aws):
            template = find_template(aws, name)
            if not request.yes:
                return _dry_run(aws, request, template.name, template.actions, template.stop_alarms, targets,
                                rto_seconds)
            result = run_drill(aws, request.drill, template, targets, rto_seconds=rto_seconds,
                               timeout_seconds=request.timeout_seconds)
    except (BadRequest, DrillRefused, EndpointError) as err:
        print_error(f"{command}: {err}")
        return EXIT_BAD_INPUT
    except ClientError as err:
        print_error(f"{command}: AWS refused the call: {err}")
        return EXIT_BAD_INPUT
    drill_log.append(request.log, request.drill,
                     {"environment": env.name, "where": aws.where, "az": request.az, **result.to_json()})
    if request.output == "json":
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(render(result, aws))
    return EXIT_OK if result.met else EXIT_FINDINGS


def _targets(stack_name: str, env: Environment, request: ZonalRequest) -> Targets:
    stack, source = plan_stack(env, request.plan_dir, stack_name)
    plan = Plan(stack)
    found = {}
    for rtype, attribute in (("aws_eks_cluster", "name"), ("aws_rds_cluster", "cluster_identifier")):
        resources = list(plan.resources(rtype))
        if len(resources) != 1:
            raise BadRequest(f"the plan ({source}) should hold exactly one {rtype}, found {len(resources)}")
        try:
            found[rtype] = str(plan.literal(resources[0].body.get(attribute)))
        except Unresolved as err:
            raise BadRequest(f"{resources[0].address}.{attribute}: {err}") from None
    return Targets(cluster_name=found["aws_eks_cluster"], database_cluster=found["aws_rds_cluster"],
                   kube_context=request.kube_context)


def _dry_run(aws: AwsClients, request: ZonalRequest, name: str, actions: list[str], stop_alarms: list[str],
             targets: Targets, rto_seconds: int) -> int:
    where = f" in {request.az}" if request.az else ""
    print(f"dry run: would start FIS experiment template {name}{where} ({aws.where}), follow it, verify recovery "
          f"and time it against an RTO of {rto_seconds} s, logged to {request.log}. Nothing was changed; re-run "
          "with --yes to run the drill.")
    print(f"  actions: {', '.join(actions)}")
    print(f"  stops on: {', '.join(stop_alarms) or 'no alarm'}")
    now = health(aws, targets)
    pods = "" if now.pods_checked else " (pods not checked: pass --kube-context)"
    print(f"  platform now: {'healthy' if now.healthy else '; '.join(now.problems)}{pods}")
    return EXIT_BAD_INPUT


def render(result: DrillResult, aws: AwsClients) -> str:
    lines = [f"{result.template} in {aws.where}: experiment {result.experiment_id} "
             f"{' -> '.join(result.states)} ({result.experiment_reason})"]
    if result.recovered:
        verdict = "within" if result.met else "over"
        lines.append(f"recovered in {result.seconds:.1f} s from the start, {verdict} the RTO of {result.rto_seconds} s")
    else:
        lines.append(f"not recovered after {result.seconds:.1f} s: {'; '.join(result.unrecovered)}")
    if result.experiment_status != "completed":
        lines.append(f"the experiment ended {result.experiment_status}: the drill fails")
    if not result.pods_checked:
        lines.append("pods not checked (pass --kube-context to ask the Kubernetes API)")
    return "\n".join(lines)
