"""Network rules: subnets in several AZs, egress that survives an AZ outage, flow logs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from haflow.rules.engine import ERROR, NOT_APPLICABLE, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment

MIN_AZS = 2
ANYWHERE = "0.0.0.0/0"
# haflow's Network construct tags every subnet with its tier (public, private, data).
TIER_TAG = "haflow/tier"
# aws_nat_gateway.availability_mode of a NAT gateway AWS spreads over every AZ of the VPC.
REGIONAL_NAT_MODE = "regional"


def subnets_of(vpc: LiteralResource, stack: Stack) -> list[LiteralResource]:
    return stack.referencing(vpc, "aws_subnet", "vpc_id")


@rule(
    id="HA-NET-001",
    level=ERROR,
    title="Every subnet tier spans at least two availability zones",
    rationale="Load balancers, EKS nodes, Aurora and ElastiCache can only fail over to an AZ where their "
    "tier has a subnet; a tier in one AZ makes that AZ a single point of failure.",
    fix="List at least two availability_zones in the environment; the Network construct creates one "
    "subnet per tier per AZ.",
    subjects=("aws_vpc",),
)
def subnet_tiers_span_azs(vpc: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    subnets = subnets_of(vpc, stack)
    if not subnets:
        return [f"the VPC has no subnets (at least {MIN_AZS} AZs per tier are needed)"]
    azs_by_tier: dict[str, set[str]] = {}
    for subnet in subnets:
        tier = subnet.string(f"tags.{TIER_TAG}")
        azs_by_tier.setdefault(tier, set()).add(subnet.string("availability_zone"))
    return [
        f"{tier} subnets span {len(azs)} AZ ({', '.join(sorted(azs))}); at least {MIN_AZS} are needed"
        for tier, azs in sorted(azs_by_tier.items())
        if len(azs) < MIN_AZS
    ]


def default_route(table: LiteralResource, stack: Stack) -> LiteralResource | None:
    routes = [
        route
        for route in stack.referencing(table, "aws_route", "route_table_id")
        if route.value("destination_cidr_block", None) == ANYWHERE
    ]
    return routes[0] if routes else None


@rule(
    id="HA-NET-002",
    level=ERROR,
    title="Private subnets egress through a NAT gateway in their own AZ",
    rationale="A NAT gateway is a zonal resource: when its AZ fails, every subnet routed through it loses "
    "internet egress (image pulls, AWS APIs without endpoints, model downloads). One NAT gateway per AZ "
    "keeps each AZ independent; so does a regional NAT gateway, which AWS runs in every AZ with subnets.",
    fix="Set network.nat_gateways: per_az.",
    subjects=("aws_subnet",),
)
def nat_gateway_per_az(subnet: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    associations = stack.referencing(subnet, "aws_route_table_association", "subnet_id")
    if not associations:
        return NOT_APPLICABLE  # the VPC's main route table: no NAT route in haflow's network
    table = stack.referenced(associations[0], "route_table_id", "aws_route_table")
    route = default_route(table, stack)
    if route is None or not route.has("nat_gateway_id"):
        return NOT_APPLICABLE
    nat = stack.referenced(route, "nat_gateway_id", "aws_nat_gateway")
    if nat.value("availability_mode", "zonal") == REGIONAL_NAT_MODE:
        return []  # AWS runs a regional NAT gateway in every AZ with subnets
    nat_subnet = stack.referenced(nat, "subnet_id", "aws_subnet")
    own_az = subnet.string("availability_zone")
    nat_az = nat_subnet.string("availability_zone")
    if own_az != nat_az:
        return [f"subnet in {own_az} egresses through {nat.address} in {nat_az}; an outage of {nat_az} "
                f"cuts its egress"]
    return []


@rule(
    id="HA-NET-003",
    level=ERROR,
    title="Every VPC has flow logs",
    rationale="Flow logs are the record of who talked to what; without them an incident in the VPC "
    "cannot be investigated after the fact.",
    fix="Create an aws_flow_log for the VPC (the Network construct does; keep it).",
    subjects=("aws_vpc",),
)
def vpc_flow_logs(vpc: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    logs = stack.referencing(vpc, "aws_flow_log", "vpc_id")
    if not logs:
        return ["the VPC has no aws_flow_log"]
    traffic = {log.string("traffic_type") for log in logs}
    if "ALL" not in traffic and not {"ACCEPT", "REJECT"} <= traffic:
        return [f"flow logs record only {', '.join(sorted(traffic))} traffic; record ALL"]
    return []

