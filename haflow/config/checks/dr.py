"""Cross-field rules of the `dr` section and the region objectives.

They refuse contradictions: a secondary region equal to the primary, AZs of another region, a VPC
that overlaps the primary's, objectives for a region loss without DR (or DR without objectives),
a region RPO the replication cannot meet, a region RTO the chosen mode cannot meet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from haflow.config.checks.environment import MIN_AZS
from haflow.config.checks.violation import Check, Violation
from haflow.config.model import Environment
from haflow.config.subnets import SubnetPlanError, plan_subnets
from haflow.region_recovery import region_data_loss_seconds, region_recovery_seconds


def check_dr_objectives(env: Environment) -> Iterator[Violation]:
    slo, dr = env.slo, env.dr
    objectives = {"slo.region_rto_seconds": slo.region_rto_seconds, "slo.region_rpo_seconds": slo.region_rpo_seconds}
    for path, value in objectives.items():
        if dr.enabled and value is None:
            yield Violation(path, value, f"dr.mode {dr.mode} needs an objective for the loss of the primary region",
                            f"set {path} (the region report shows what {dr.mode} achieves)")
        if not dr.enabled and value is not None:
            yield Violation(path, value, "an objective for the loss of a region needs a secondary region; "
                            "with dr.mode none the platform is down until the region returns",
                            "set dr.mode: pilot_light or warm_standby, or remove the objective")
    if dr.enabled and slo.region_rpo_seconds is not None:
        worst = max(region_data_loss_seconds().items(), key=lambda item: item[1])
        if slo.region_rpo_seconds < worst[1]:
            yield Violation(
                "slo.region_rpo_seconds", slo.region_rpo_seconds,
                f"the replication cannot meet it: {worst[0]} replicates 99.99% of objects within {worst[1]} s",
                f"set slo.region_rpo_seconds: {worst[1]} or more",
            )
    if dr.enabled and slo.region_rto_seconds is not None:
        steps = region_recovery_seconds(dr)
        needed = sum(steps.values())
        if slo.region_rto_seconds < needed:
            parts = " + ".join(f"{name} {seconds} s" for name, seconds in steps.items())
            fix = (f"set slo.region_rto_seconds: {needed} or more, or lower dr.decision_seconds"
                   if dr.mode == "warm_standby"
                   else f"use dr.mode: warm_standby (a reader is ready), or set slo.region_rto_seconds: {needed}")
            yield Violation("slo.region_rto_seconds", slo.region_rto_seconds,
                            f"dr.mode {dr.mode} recovers in {needed} s ({parts})", fix)


def check_secondary_region(env: Environment) -> Iterator[Violation]:
    dr = env.dr
    if not dr.enabled:
        return
    region = dr.secondary_region
    if region is None:
        yield Violation("dr.secondary_region", None, f"dr.mode {dr.mode} needs a secondary region",
                        "set dr.secondary_region, e.g. us-west-2")
        return
    if region == env.region:
        yield Violation("dr.secondary_region", region,
                        f"is the primary region: losing {env.region} would lose both copies",
                        "choose another region, e.g. us-west-2 for us-east-1")
    azs = dr.availability_zones
    if len(set(azs)) < MIN_AZS:
        yield Violation("dr.availability_zones", azs,
                        f"needs at least {MIN_AZS} distinct availability zones of {region}",
                        f"list two or more AZs of {region}, e.g. [{region}a, {region}b]")
    seen: set[str] = set()
    for index, az in enumerate(azs):
        suffix = az[len(region):]
        if not az.startswith(region) or not (len(suffix) == 1 and suffix.isalpha() and suffix.islower()):
            yield Violation(f"dr.availability_zones[{index}]", az,
                            f"is not an availability zone of region {region} (allowed: {region}a, {region}b, ...)",
                            f"use an AZ of {region} or change dr.secondary_region")
        if az in seen:
            yield Violation(f"dr.availability_zones[{index}]", az, "is listed twice",
                            "list each availability zone once")
        seen.add(az)
    if dr.state_bucket_for(env.state.bucket) == env.state.bucket:
        yield Violation("dr.state_bucket", dr.state_bucket, "is the primary state bucket: losing its region "
                        "would leave the DR stacks without state", "name a bucket of its own")


def check_secondary_network(env: Environment) -> Iterator[Violation]:
    dr = env.dr
    if not dr.enabled:
        return
    if dr.network_cidr is None:
        yield Violation("dr.network_cidr", None, f"dr.mode {dr.mode} needs a VPC CIDR in the secondary region",
                        "set dr.network_cidr to a range that overlaps no other VPC, e.g. 10.31.0.0/16")
        return
    if ipaddress.IPv4Network(dr.network_cidr).overlaps(ipaddress.IPv4Network(env.network.cidr)):
        yield Violation("dr.network_cidr", dr.network_cidr,
                        f"overlaps the primary VPC {env.network.cidr}; the regions could never be peered",
                        "use a range outside the primary VPC, e.g. the next /16")
    if ipaddress.IPv4Network(dr.network_cidr).overlaps(ipaddress.IPv4Network(env.eks.service_ipv4_cidr)):
        yield Violation("dr.network_cidr", dr.network_cidr,
                        f"overlaps the Kubernetes service CIDR {env.eks.service_ipv4_cidr}",
                        "use a range outside it, e.g. 10.31.0.0/16")
    if len(set(dr.availability_zones)) >= MIN_AZS:
        lengths = env.network.subnet_prefix_lengths.model_dump()
        try:
            plan_subnets(dr.network_cidr, dr.availability_zones, lengths)
        except SubnetPlanError as err:
            yield Violation("dr.network_cidr", dr.network_cidr,
                            f"is too small for {len(dr.availability_zones)} AZs x 3 tiers of subnets",
                            f"use a /{err.needed_prefix} or larger")


def check_secondary_database(env: Environment) -> Iterator[Violation]:
    dr = env.dr
    if not dr.enabled:
        return
    instances = dr.secondary_database_instances()
    if dr.mode == "pilot_light" and instances > 0:
        yield Violation("dr.database_instances", instances,
                        "pilot_light keeps the secondary cluster headless (no instance); a reader is warm standby",
                        "remove dr.database_instances, or set dr.mode: warm_standby")
    if dr.mode == "warm_standby" and instances == 0:
        yield Violation("dr.database_instances", instances,
                        "warm_standby keeps a reader in the secondary cluster to promote; 0 is pilot light",
                        "set dr.database_instances: 1 or more, or dr.mode: pilot_light")
    if instances > len(dr.availability_zones) >= MIN_AZS:
        yield Violation("dr.database_instances", instances,
                        f"instances are placed one per AZ and dr.availability_zones lists {len(dr.availability_zones)}",
                        f"set dr.database_instances: {len(dr.availability_zones)} or list more AZs")


CHECKS: tuple[Check, ...] = (
    check_dr_objectives,
    check_secondary_region,
    check_secondary_network,
    check_secondary_database,
)
