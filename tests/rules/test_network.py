"""Network rules: a compliant and a non-compliant VPC for each, and the unresolvable case."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.config import Environment
from haflow.rules.engine import Status
from tests.rules.fragments import Resources, messages, ref, statuses

VPC = "vpc"


def network(azs: tuple[str, ...] = ("us-east-1a", "us-east-1b"), nat_azs: tuple[str, ...] | None = None,
            traffic_type: str | None = "ALL", private_azs: tuple[str, ...] | None = None) -> Resources:
    """A VPC with public and private subnets per AZ, NAT gateways in ``nat_azs`` and a flow log."""
    nat_azs = azs if nat_azs is None else nat_azs
    subnets: dict[str, Any] = {}
    for az in azs:
        subnets[f"public-{az}"] = {"vpc_id": ref("aws_vpc", VPC), "availability_zone": az,
                                   "tags": {"haflow/tier": "public"}}
    for az in private_azs or azs:
        subnets[f"private-{az}"] = {"vpc_id": ref("aws_vpc", VPC), "availability_zone": az,
                                    "tags": {"haflow/tier": "private"}}
    resources: Resources = {
        "aws_vpc": {VPC: {"cidr_block": "10.0.0.0/16"}},
        "aws_subnet": subnets,
        "aws_nat_gateway": {f"nat-{az}": {"subnet_id": ref("aws_subnet", f"public-{az}")} for az in nat_azs},
        "aws_route_table": {f"private-{az}": {"vpc_id": ref("aws_vpc", VPC)} for az in private_azs or azs},
        "aws_route_table_association": {
            f"private-{az}": {"subnet_id": ref("aws_subnet", f"private-{az}"),
                              "route_table_id": ref("aws_route_table", f"private-{az}")}
            for az in private_azs or azs
        },
        "aws_route": {
            f"private-{az}": {
                "route_table_id": ref("aws_route_table", f"private-{az}"),
                "destination_cidr_block": "0.0.0.0/0",
                "nat_gateway_id": ref("aws_nat_gateway", f"nat-{az if az in nat_azs else nat_azs[0]}"),
            }
            for az in private_azs or azs
        },
    }
    if traffic_type is not None:
        resources["aws_flow_log"] = {"flow": {"vpc_id": ref("aws_vpc", VPC), "traffic_type": traffic_type}}
    return resources


@pytest.mark.parametrize(
    ("rule_id", "compliant", "non_compliant", "expected"),
    [
        ("HA-NET-001", network(), network(private_azs=("us-east-1a",)), "private subnets span 1 AZ"),
        ("HA-NET-002", network(), network(nat_azs=("us-east-1a",)), "egresses through aws_nat_gateway.nat-us-east-1a"),
        ("HA-NET-003", network(), network(traffic_type=None), "no aws_flow_log"),
        ("HA-NET-003", network(), network(traffic_type="REJECT"), "record only REJECT"),
    ],
)
def test_network_rule(rule_id: str, compliant: Resources, non_compliant: Resources, expected: str,
                      environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    assert statuses(rule_id, compliant, env) <= {Status.COMPLIANT, Status.NOT_APPLICABLE}
    assert Status.COMPLIANT in statuses(rule_id, compliant, env)
    assert Status.NON_COMPLIANT in statuses(rule_id, non_compliant, env)
    assert any(expected in message for message in messages(rule_id, non_compliant, env))


def test_an_az_that_is_a_terraform_expression_is_a_finding(environments: dict[str, Environment]) -> None:
    resources = network()
    resources["aws_subnet"]["private-us-east-1b"]["availability_zone"] = "${data.aws_availability_zones.all.names[1]}"
    found = messages("HA-NET-001", resources, environments["prod"])
    assert found == [
        "cannot verify availability_zone: '${data.aws_availability_zones.all.names[1]}' is a Terraform "
        "expression, not a literal"
    ]


def test_a_subnet_without_a_tier_tag_is_a_finding(environments: dict[str, Environment]) -> None:
    resources = network()
    del resources["aws_subnet"]["public-us-east-1a"]["tags"]
    assert messages("HA-NET-001", resources, environments["prod"]) == [
        "cannot verify tags.haflow/tier: the attribute is not set"
    ]
