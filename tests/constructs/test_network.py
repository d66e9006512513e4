"""Properties of the synthesized network of every environment, and of the subnet plan itself."""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haflow.config import Environment
from haflow.config.subnets import TIERS, SubnetPlanError, plan_subnets
from tests.conftest import ENVIRONMENT_NAMES
from tests.plan import address, referenced, resources


def foundation(synthesized: dict[str, Any], env: str) -> dict[str, Any]:
    stack: dict[str, Any] = synthesized[f"{env}-foundation"]
    return stack


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_one_subnet_per_tier_per_az(synthesized: dict[str, Any], environments: dict[str, Environment], env: str) -> None:
    subnets = resources(foundation(synthesized, env), "aws_subnet").values()
    per_tier_az = Counter((s["tags"]["haflow/tier"], s["availability_zone"]) for s in subnets)
    azs = environments[env].availability_zones
    assert per_tier_az == Counter({(tier, az): 1 for tier in TIERS for az in azs})


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_subnets_do_not_overlap_and_sit_in_the_vpc(synthesized: dict[str, Any], env: str) -> None:
    stack = foundation(synthesized, env)
    (vpc,) = resources(stack, "aws_vpc").values()
    networks = [ipaddress.IPv4Network(s["cidr_block"]) for s in resources(stack, "aws_subnet").values()]
    assert all(n.subnet_of(ipaddress.IPv4Network(vpc["cidr_block"])) for n in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_nat_gateways_match_the_nat_mode(synthesized: dict[str, Any], environments: dict[str, Environment], env: str) -> None:
    config = environments[env]
    nats = resources(foundation(synthesized, env), "aws_nat_gateway")
    expected = len(config.availability_zones) if config.network.nat_gateways == "per_az" else 1
    assert len(nats) == expected


def nat_az_of_private_subnets(stack: dict[str, Any]) -> dict[str, str]:
    """For each private subnet's AZ: the AZ of the NAT gateway its default route uses."""
    subnets = resources(stack, "aws_subnet")
    result: dict[str, str] = {}
    for association in resources(stack, "aws_route_table_association").values():
        _, _, subnet = referenced(stack, association["subnet_id"])
        if subnet["tags"]["haflow/tier"] != "private":
            continue
        _, table_id, _ = referenced(stack, association["route_table_id"])
        (route,) = [
            r for r in resources(stack, "aws_route").values()
            if r["route_table_id"] == address("aws_route_table", table_id) and r["destination_cidr_block"] == "0.0.0.0/0"
        ]
        _, _, nat = referenced(stack, route["nat_gateway_id"])
        if nat.get("availability_mode") == "regional":
            result[subnet["availability_zone"]] = "regional"
            continue
        _, nat_subnet_id, _ = referenced(stack, nat["subnet_id"])
        result[subnet["availability_zone"]] = subnets[nat_subnet_id]["availability_zone"]
    return result


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_private_subnets_route_through_a_nat(synthesized: dict[str, Any], environments: dict[str, Environment], env: str) -> None:
    config = environments[env]
    routes = nat_az_of_private_subnets(foundation(synthesized, env))
    assert sorted(routes) == sorted(config.availability_zones)
    if config.network.nat_gateways == "per_az":
        assert all(subnet_az == nat_az for subnet_az, nat_az in routes.items())
    elif config.network.nat_gateways == "regional":
        assert set(routes.values()) == {"regional"}
    else:
        assert set(routes.values()) == {config.availability_zones[0]}


def test_prod_has_a_nat_gateway_per_az(environments: dict[str, Environment]) -> None:
    assert environments["prod"].network.nat_gateways == "per_az"


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_data_subnets_have_no_internet_route(synthesized: dict[str, Any], env: str) -> None:
    stack = foundation(synthesized, env)
    data_tables = {
        association["route_table_id"]
        for association in resources(stack, "aws_route_table_association").values()
        if referenced(stack, association["subnet_id"])[2]["tags"]["haflow/tier"] == "data"
    }
    assert data_tables
    assert not [r for r in resources(stack, "aws_route").values() if r["route_table_id"] in data_tables]


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_flow_logs_and_s3_endpoint(synthesized: dict[str, Any], environments: dict[str, Environment], env: str) -> None:
    stack = foundation(synthesized, env)
    (flow_log,) = resources(stack, "aws_flow_log").values()
    _, _, group = referenced(stack, flow_log["log_destination"].replace(".arn}", ".id}"))
    assert group["retention_in_days"] == environments[env].network.flow_log_retention_days
    (endpoint,) = resources(stack, "aws_vpc_endpoint").values()
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    private_and_data_tables = len(environments[env].availability_zones) + 1
    assert len(endpoint["route_table_ids"]) == private_and_data_tables


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_load_balancer_subnet_tags(synthesized: dict[str, Any], env: str) -> None:
    for subnet in resources(foundation(synthesized, env), "aws_subnet").values():
        tier = subnet["tags"]["haflow/tier"]
        assert ("kubernetes.io/role/elb" in subnet["tags"]) == (tier == "public")
        assert ("kubernetes.io/role/internal-elb" in subnet["tags"]) == (tier == "private")


@given(
    prefix=st.integers(min_value=16, max_value=20),
    azs=st.integers(min_value=2, max_value=6),
    lengths=st.fixed_dictionaries({tier: st.integers(min_value=20, max_value=28) for tier in TIERS}),
)
def test_subnet_plan_packs_without_overlap(prefix: int, azs: int, lengths: dict[str, int]) -> None:
    vpc = ipaddress.IPv4Network(f"10.0.0.0/{prefix}")
    zones = [f"us-east-1{chr(ord('a') + i)}" for i in range(azs)]
    needed = sum(2 ** (32 - length) for length in lengths.values()) * azs
    try:
        plan = plan_subnets(str(vpc), zones, lengths)
    except SubnetPlanError as err:
        assert needed > vpc.num_addresses
        assert 2 ** (32 - err.needed_prefix) >= needed
        return
    networks = [ipaddress.IPv4Network(p.cidr) for p in plan]
    assert len(plan) == 3 * azs
    assert all(n.subnet_of(vpc) for n in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])


# The VPC User Guide's policy for the flow-log role ("IAM role for publishing flow logs to CloudWatch Logs",
# https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html), read 2026-12-07.
DOCUMENTED_FLOW_LOG_ACTIONS = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                               "logs:DescribeLogGroups", "logs:DescribeLogStreams"}


def test_every_flow_log_role_may_do_what_the_vpc_user_guide_lists_and_no_more_nor_wider(
    synthesized: dict[str, Any],
) -> None:
    """Every flow log's role (primary and DR foundations) has exactly the documented actions; the group-level
    ones only on its flow-log group and streams, DescribeLogGroups (a list call) on the account's groups in
    the region, never on ``*``."""
    checked = 0
    for name, stack in synthesized.items():
        for flow_log in resources(stack, "aws_flow_log").values():
            role_ref = flow_log["iam_role_arn"].replace(".arn}", "")
            group_ref = flow_log["log_destination"].replace(".arn}", "")
            [policy] = [json.loads(p["policy"]) for p in resources(stack, "aws_iam_role_policy").values()
                        if p["role"] == f"{role_ref}.id}}"]
            actions: dict[str, list[str]] = {}
            for statement in policy["Statement"]:
                assert statement["Effect"] == "Allow"
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                assert "*" not in targets, (name, statement)
                for action in statement["Action"]:
                    actions.setdefault(action, []).extend(targets)
            assert set(actions) == DOCUMENTED_FLOW_LOG_ACTIONS, name
            for action, targets in actions.items():
                if action == "logs:DescribeLogGroups":
                    assert targets == ["arn:${data.aws_partition.partition.partition}:logs:"
                                       f"{json.loads(json.dumps(stack['provider']['aws'][0]['region']))}:"
                                       "${data.aws_caller_identity.account.account_id}:log-group:*"], name
                else:
                    assert targets == [f"{group_ref}.arn}}", f"{group_ref}.arn}}:*"], (name, action)
            checked += 1
    assert checked >= len(ENVIRONMENT_NAMES)
