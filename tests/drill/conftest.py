"""A real moto_server for the drill tests: one process per session on 127.0.0.1, stopped whatever happens.

The server is the session's ``moto_endpoint`` (tests/moto.py; the Terraform gate's tests share it).
Tests reach it the way a user reaches a local endpoint (``--endpoint-url``, through localstack-client),
reset it between tests through moto's own reset API, and deploy into it what the synthesized plan of an
environment describes (``deployed``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from haflow.config import Environment
from haflow.drill.clients import AwsClients, aws_clients
from haflow.drill.motoserver import reset
from haflow.drill.plan import Plan
from haflow.drill.seed import seed_plan
from haflow.plan import STACK_FILE, StackJson

ENV = "prod"


@pytest.fixture
def aws(moto_endpoint: str, environments: dict[str, Environment]) -> AwsClients:
    """Clients against a freshly reset moto_server, built the way the drill commands build them."""
    reset(moto_endpoint)
    return aws_clients(environments[ENV].region, moto_endpoint)


@pytest.fixture(scope="session")
def plan_dir(tmp_path_factory: pytest.TempPathFactory, synthesized: dict[str, StackJson]) -> Path:
    """The session's synthesized stacks laid out as `haflow synth` writes them (for --from)."""
    root = tmp_path_factory.mktemp("plans") / "cdktf.out"
    for name, stack in synthesized.items():
        path = root / "stacks" / name / STACK_FILE
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(stack), encoding="utf-8")
    return root


@pytest.fixture
def plan(synthesized: dict[str, StackJson], aws: AwsClients) -> Plan:
    account = aws("sts").get_caller_identity()["Account"]
    return Plan(synthesized[f"{ENV}-foundation"], account_id=account)


@pytest.fixture
def dr_plan(synthesized: dict[str, StackJson], plan: Plan) -> Plan:
    return Plan(synthesized[f"{ENV}-dr-foundation"], account_id=plan.account_id)


@pytest.fixture
def deployed(plan: Plan, dr_plan: Plan, aws: AwsClients, moto_endpoint: str,
             environments: dict[str, Environment]) -> Plan:
    """moto holds what the plans of ENV describe (primary and secondary region); returns the primary's plan."""
    seed_plan(plan, aws)
    seed_plan(dr_plan, aws_clients(environments[ENV].dr.secondary_region, moto_endpoint))
    return plan


@pytest.fixture
def drill_log(tmp_path: Path) -> Path:
    return tmp_path / "drills.jsonl"

