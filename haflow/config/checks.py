"""Cross-field rules over a structurally valid environment: a table of checks, all run, all reported.

Each check yields (key path, value, problem, fix). Sections add their checks to CHECKS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from haflow.config.model import Environment
from haflow.config.subnets import SubnetPlanError, plan_subnets


@dataclass(frozen=True)
class Violation:
    path: str
    value: Any
    problem: str
    fix: str


Check = Callable[[Environment], Iterator[Violation]]
MIN_AZS = 2


def check_availability_zones(env: Environment) -> Iterator[Violation]:
    azs = env.availability_zones
    if len(set(azs)) < MIN_AZS:
        yield Violation(
            "availability_zones",
            azs,
            f"needs at least {MIN_AZS} distinct availability zones for high availability",
            f"list two or more AZs of {env.region}, e.g. [{env.region}a, {env.region}b]",
        )
    seen: set[str] = set()
    for index, az in enumerate(azs):
        suffix = az[len(env.region) :]
        if not az.startswith(env.region) or not (len(suffix) == 1 and suffix.isalpha() and suffix.islower()):
            yield Violation(
                f"availability_zones[{index}]",
                az,
                f"is not an availability zone of region {env.region} (allowed: {env.region}a, {env.region}b, ...)",
                f"use an AZ of {env.region} or change region",
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


CHECKS: list[Check] = [
    check_availability_zones,
    check_subnet_plan,
]


def run_checks(env: Environment) -> list[Violation]:
    return [violation for check in CHECKS for violation in check(env)]
