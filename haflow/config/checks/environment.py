"""Cross-field rules over the general keys: availability zones, the subnet plan, suppressions."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from haflow.config import zones
from haflow.config.checks.violation import Check, Violation
from haflow.config.model import Environment
from haflow.config.subnets import SubnetPlanError, plan_subnets
from haflow.config.zones import zones_of
from haflow.rule_ids import RULE_IDS

MIN_AZS = 2
RESOURCE_ADDRESS = re.compile(r"^[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+$")
# A rendered Kubernetes object, as the render gate names it: Kind/namespace/name (Kind/name when cluster-scoped).
OBJECT_ADDRESS = re.compile(r"^[A-Z][A-Za-z0-9]*/([a-z0-9][a-z0-9.-]*/)?[a-z0-9][a-z0-9.-]*$")


def check_availability_zones(env: Environment) -> Iterator[Violation]:
    azs = env.availability_zones
    if len(set(azs)) < MIN_AZS:
        yield Violation(
            "availability_zones",
            azs,
            f"needs at least {MIN_AZS} distinct availability zones for high availability",
            f"list two or more AZs of {env.region}, e.g. [{env.region}a, {env.region}b]",
        )
    known = zones_of(env.region)
    if known is None:
        yield Violation(
            "region", env.region,
            f"haflow does not know the availability zones of this region (table retrieved {zones.RETRIEVED})",
            f"use one of {', '.join(sorted(zones.ZONE_LETTERS))}, or add the region to haflow/config/zones.py",
        )
    seen: set[str] = set()
    for index, az in enumerate(azs):
        if known is not None and az not in known:
            yield Violation(
                f"availability_zones[{index}]",
                az,
                f"is not an availability zone of region {env.region} (its zones: {', '.join(known)})",
                f"use one of those, or change region (`aws ec2 describe-availability-zones --region {env.region}` "
                "lists your account's)",
            )
        if az in seen:
            yield Violation(
                f"availability_zones[{index}]", az, "is listed twice", "list each availability zone once"
            )
        seen.add(az)


def check_subnet_plan(env: Environment) -> Iterator[Violation]:
    lengths = env.network.subnet_prefix_lengths.model_dump()
    try:
        plan_subnets(env.network.cidr, env.availability_zones, lengths)
    except SubnetPlanError as err:
        yield Violation(
            "network.cidr",
            env.network.cidr,
            f"is too small for {len(env.availability_zones)} AZs x 3 tiers of subnets "
            f"(public /{lengths['public']}, private /{lengths['private']}, data /{lengths['data']}); "
            f"it needs at least a /{err.needed_prefix}",
            f"use a /{err.needed_prefix} or larger, or lengthen network.subnet_prefix_lengths",
        )


def check_suppressions(env: Environment) -> Iterator[Violation]:
    """A suppression must name a rule of the pack (haflow.rule_ids, generated from it) and resource addresses."""
    for index, suppression in enumerate(env.suppressions):
        if suppression.rule not in RULE_IDS:
            close = difflib.get_close_matches(suppression.rule, sorted(RULE_IDS), n=1)
            yield Violation(
                f"suppressions[{index}].rule",
                suppression.rule,
                "is not a rule id of the haflow rule pack",
                f"did you mean {close[0]}? (RULES.md lists every rule)" if close else "see RULES.md for the rule ids",
            )
        for position, address in enumerate(suppression.resources):
            if not (RESOURCE_ADDRESS.match(address) or OBJECT_ADDRESS.match(address)):
                yield Violation(
                    f"suppressions[{index}].resources[{position}]",
                    address,
                    "is neither a resource address <type>.<logical id> nor a rendered object Kind/namespace/name",
                    "copy the address from `haflow check` output, e.g. aws_rds_cluster.database_cluster_FAF2FB92",
                )


CHECKS: tuple[Check, ...] = (
    check_availability_zones,
    check_subnet_plan,
    check_suppressions,
)
