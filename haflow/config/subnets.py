"""The subnet plan: which CIDR each (tier, AZ) subnet gets, derived from the VPC CIDR.

Pure and provider-free, so config validation and the Network construct share it.
Larger subnets are laid out first (then tier order public, private, data; AZs in config order),
so power-of-two blocks pack with no alignment gaps and the needed VPC size is exact.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

TIERS = ("public", "private", "data")


@dataclass(frozen=True)
class PlannedSubnet:
    tier: str
    az: str
    cidr: str


class SubnetPlanError(ValueError):
    """The VPC CIDR cannot hold the requested subnets."""

    def __init__(self, needed_prefix: int) -> None:
        self.needed_prefix = needed_prefix
        super().__init__(f"needs at least a /{needed_prefix}")


def plan_subnets(vpc_cidr: str, azs: list[str], prefix_lengths: dict[str, int]) -> list[PlannedSubnet]:
    """Allocate one subnet per tier per AZ; raise SubnetPlanError when the VPC is too small."""
    vpc = ipaddress.IPv4Network(vpc_cidr)
    cursor = int(vpc.network_address)
    end = int(vpc.broadcast_address) + 1
    planned: list[PlannedSubnet] = []
    for tier in sorted(TIERS, key=lambda name: (prefix_lengths[name], TIERS.index(name))):
        prefix = prefix_lengths[tier]
        size = 2 ** (32 - prefix)
        for az in azs:
            if prefix < vpc.prefixlen or cursor + size > end:
                raise SubnetPlanError(_needed_prefix(azs, prefix_lengths))
            planned.append(PlannedSubnet(tier, az, str(ipaddress.IPv4Network((cursor, prefix)))))
            cursor += size
    return planned


def _needed_prefix(azs: list[str], prefix_lengths: dict[str, int]) -> int:
    total = sum(2 ** (32 - prefix_lengths[tier]) for tier in TIERS) * len(azs)
    prefix = 32
    while 2 ** (32 - prefix) < total:
        prefix -= 1
    return prefix
