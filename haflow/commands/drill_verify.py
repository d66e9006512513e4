"""haflow drill verify: the live HA posture of an environment against its synthesized foundation plan."""

from __future__ import annotations

import json
from pathlib import Path

from botocore.exceptions import ClientError

from haflow.commands.common import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, load_or_report, plan_stack, print_error
from haflow.drill.clients import EndpointError, aws_clients, translate_errors
from haflow.drill.plan import Plan
from haflow.drill.verify import Posture, verify


def run(env_name: str, config_dir: Path, plan_dir: Path, endpoint_url: str | None, output: str) -> int:
    environments = load_or_report([env_name], config_dir)
    if environments is None:
        return EXIT_BAD_INPUT
    env = environments[0]
    try:
        aws = aws_clients(env.region, endpoint_url)
        with translate_errors(aws):
            # Ask the account first: an unreachable endpoint fails in seconds, before any synth.
            account = aws("sts").get_caller_identity()["Account"]
            stack, source = plan_stack(env, plan_dir, env.foundation_stack_name)
            findings = verify(Plan(stack, account_id=account), aws)
            if env.dr.enabled:
                # The secondary region's share, checked where it lives.
                dr_stack, dr_source = plan_stack(env, plan_dir, env.dr_foundation_stack_name)
                secondary = aws_clients(env.dr.secondary_region, endpoint_url)
                with translate_errors(secondary):
                    dr_findings = verify(Plan(dr_stack, account_id=account), secondary)
                findings.checked += dr_findings.checked
                findings.drift += dr_findings.drift
                source = f"{source}; {dr_source}"
    except EndpointError as err:
        print_error(f"haflow drill verify: {err}")
        return EXIT_BAD_INPUT
    except ClientError as err:
        print_error(f"haflow drill verify: AWS refused a read-only call: {err}; check the credentials' permissions")
        return EXIT_BAD_INPUT
    posture = Posture(env.name, source, aws.where, findings.checked, findings.drift)
    if output == "json":
        print(json.dumps(posture.to_json(), indent=2))
    else:
        print(render_table(posture))
    return EXIT_OK if posture.matches else EXIT_FINDINGS


def render_table(posture: Posture) -> str:
    head = f"{posture.environment}: {len(posture.checked)} planned resources checked in {posture.where}"
    lines = [head, f"plan: {posture.plan}"]
    if posture.matches:
        lines.append("live posture matches the plan")
        return "\n".join(lines)
    lines.append(f"{len(posture.drift)} drift item{'s' if len(posture.drift) != 1 else ''}:")
    width = max(len(item.resource) for item in posture.drift)
    lines.extend(
        f"  {item.resource:<{width}}  {item.check}: expected {item.expected}, found {item.found}"
        for item in posture.drift
    )
    return "\n".join(lines)
