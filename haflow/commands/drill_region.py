"""haflow drill failover region: promote the secondary region, time it against slo.region_rto_seconds, log it.

Without --yes nothing is changed: the command looks the global database up (read-only), says what it
would do and exits 2, like the other failover drills.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from haflow.commands.common import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, load_or_report, plan_stack, print_error
from haflow.drill import log as drill_log
from haflow.drill.clients import EndpointError, aws_clients, translate_errors
from haflow.drill.failover import DrillRefused, NotImplementedByEndpoint
from haflow.drill.region import RegionResult, planned_steps, region_failover, region_preflight, target_from_plan

COMMAND = "haflow drill failover region"


@dataclass(frozen=True)
class RegionRequest:
    env_name: str
    planned: bool
    config_dir: Path
    plan_dir: Path
    endpoint_url: str | None
    yes: bool
    timeout_seconds: float
    rto_seconds: int | None
    output: str
    log: Path


def run(request: RegionRequest) -> int:
    environments = load_or_report([request.env_name], request.config_dir)
    if environments is None:
        return EXIT_BAD_INPUT
    env = environments[0]
    if not env.dr.enabled:
        print_error(f"{COMMAND}: environment {env.name} has dr.mode none: there is no secondary region to fail "
                    "over to; set dr.mode (pilot_light or warm_standby)")
        return EXIT_BAD_INPUT
    rto_seconds = request.rto_seconds or env.slo.region_rto_seconds
    assert rto_seconds is not None  # validation requires slo.region_rto_seconds with DR
    kind = "planned switchover (no data loss)" if request.planned else "unplanned failover (detach and promote)"
    try:
        stack, source = plan_stack(env, request.plan_dir, env.dr_foundation_stack_name)
        target = target_from_plan(stack, env)
        aws = aws_clients(target.region, request.endpoint_url)
        with translate_errors(aws):
            if not request.yes:
                # Say what would happen before anything needs credentials or a reachable endpoint.
                print(f"dry run: would run the {kind} of global cluster {target.global_cluster}, making "
                      f"{target.secondary_cluster} ({target.region}, {aws.where}) the writer (plan: {source}), timed "
                      f"against a region RTO of {rto_seconds} s and logged to {request.log}. Nothing was changed; "
                      f"re-run with --yes to run the drill.")
                state = region_preflight(aws, target)
                writer = state.global_writer_cluster.rsplit(":", 1)[-1] if state.global_writer_cluster else "none"
                print(f"would fail over global cluster {target.global_cluster}: writer {writer} -> "
                      f"{target.secondary_cluster} (now {state.status}, "
                      f"{'writer instance ' + state.writer_instance if state.writer_instance else 'headless'})")
                for number, step in enumerate(planned_steps(target, state, planned=request.planned), 1):
                    print(f"  {number}. {step}")
                return EXIT_BAD_INPUT
            result = region_failover(aws, target, planned=request.planned, rto_seconds=rto_seconds,
                                     timeout_seconds=request.timeout_seconds)
    except (DrillRefused, EndpointError, NotImplementedByEndpoint) as err:
        print_error(f"{COMMAND}: {err}")
        return EXIT_BAD_INPUT
    except ClientError as err:
        print_error(f"{COMMAND}: AWS refused the call: {err}")
        return EXIT_BAD_INPUT
    drill_log.append(request.log, "failover-region",
                     {"environment": env.name, "where": aws.where, "planned": request.planned, **result.to_json()})
    print(json.dumps(result.to_json(), indent=2) if request.output == "json" else render(result, aws.where))
    return EXIT_OK if result.met else EXIT_FINDINGS


def render(result: RegionResult, where: str) -> str:
    target = result.target
    if not result.completed:
        return (f"{target.secondary_cluster} in {where}: not the writable writer after {result.seconds:.1f} s "
                f"({result.method}); region RTO {result.rto_seconds} s not met")
    verdict = "within" if result.met else "over"
    created = f", created writer instance {result.created_instance}" if result.created_instance else ""
    return (f"{target.secondary_cluster} in {where} is the writer and writable ({result.method}{created}) after "
            f"{result.seconds:.2f} s, {verdict} the region RTO of {result.rto_seconds} s")
