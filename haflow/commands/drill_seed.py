"""haflow drill seed: put an environment's planned resources into a local endpoint (moto_server), so
`drill verify` and `drill failover` can be tried without an AWS account."""

from __future__ import annotations

from pathlib import Path

from botocore.exceptions import ClientError

from haflow import progress
from haflow.commands.common import EXIT_BAD_INPUT, EXIT_OK, load_or_report, plan_stack, print_error
from haflow.drill.clients import EndpointError, aws_clients, translate_errors
from haflow.drill.plan import Plan
from haflow.drill.seed import NotLocal, seed_global_clusters, seed_plan


def run(env_name: str, config_dir: Path, plan_dir: Path, endpoint_url: str | None) -> int:
    environments = load_or_report([env_name], config_dir)
    if environments is None:
        return EXIT_BAD_INPUT
    env = environments[0]
    try:
        aws = aws_clients(env.region, endpoint_url)
        if aws.endpoint is None:
            raise NotLocal("seeding runs against a local endpoint only: pass --endpoint-url "
                           "http://127.0.0.1:5000 (or set LOCALSTACK_HOST); a real account is deployed with cdktf")
        with translate_errors(aws):
            account = aws("sts").get_caller_identity()["Account"]
            with progress.stage(f"reading the plan of {env.foundation_stack_name}"):
                stack, source = plan_stack(env, plan_dir, env.foundation_stack_name)
            plan = Plan(stack, account_id=account)
            dr_plan, global_cluster = None, None
            if env.dr.enabled:
                # The secondary region's share, where `drill verify` looks for it. Its global database is
                # made first: the primary cluster joins it as the writer, as after a deploy.
                secondary = aws_clients(env.dr.secondary_region, endpoint_url)
                with progress.stage(f"reading the plan of {env.dr_foundation_stack_name}"):
                    dr_stack, dr_source = plan_stack(env, plan_dir, env.dr_foundation_stack_name)
                dr_plan = Plan(dr_stack, account_id=account)
                with translate_errors(secondary):
                    global_cluster = next(iter(seed_global_clusters(dr_plan, secondary)), None)
            with progress.stage(f"seeding {aws.where}"):
                seed_plan(plan, aws, global_cluster=global_cluster)
            if dr_plan is not None:
                with translate_errors(secondary), progress.stage(f"seeding {secondary.where}"):
                    seed_plan(dr_plan, secondary)
                source = f"{source} and {dr_source}"
    except (NotLocal, EndpointError) as err:
        print_error(f"haflow drill seed: {err}")
        return EXIT_BAD_INPUT
    except ClientError as err:
        print_error(f"haflow drill seed: the endpoint refused a call: {err}; seeded already? restart it "
                    "(or POST /moto-api/reset) and seed again")
        return EXIT_BAD_INPUT
    print(f"{env.name}: seeded {aws.where} with the resources of {source}; now run "
          f"haflow drill verify --env {env.name} --endpoint-url {endpoint_url or 'http://' + str(aws.endpoint)}")
    return EXIT_OK
