"""What a regional failover takes and what it can lose, by the published AWS figures.

A bottom module (it imports nothing of haflow): validation refuses a region RTO or RPO the DR mode
cannot meet (haflow.config.checks.dr), the region report adds up the same steps (haflow.report.region),
the DNS failover construct builds its health checks from the same figures, and haflow.report.sources
cites each with its quote.
"""

from __future__ import annotations

from typing import Protocol

# S3 Replication Time Control replicates 99.99% of new objects within 15 minutes:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html
S3_RTC_REPLICATION_SECONDS = 900
# Aurora Global Database replicates to secondary regions with typical latency under one second:
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.html
AURORA_GLOBAL_LAG_SECONDS = 1
# A secondary region is promoted to full read/write in less than a minute (managed failover, or
# detach and promote): https://disaster-recovery.workshop.aws/en/services/databases/aurora/global-database.html
AURORA_GLOBAL_PROMOTION_SECONDS = 60
# Route 53 health checks: every 30 s (standard) by default, unhealthy after 3 consecutive failures:
# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html
HEALTH_CHECK_INTERVAL_SECONDS = 30
HEALTH_CHECK_FAILURE_THRESHOLD = 3
# Assumptions (AWS documents the mechanism, not a duration); the report marks them as assumed.
AURORA_INSTANCE_CREATE_SECONDS = 900  # add an instance to a headless secondary (pilot light)
NODE_SCALE_UP_SECONDS = 300  # cluster autoscaler adds nodes and the pods start
# The DR platform runs no Prefect pod before promotion (a global-database secondary is read-only and Prefect
# writes on start); the runbook then sets dr.serving and applies <env>-dr-platform: first image pulls in the
# region, the migration Job (a no-op on the replicated schema) and the wait for Ready pods. The smoke measures
# 61-83 s for the tier on loopback without image pulls (tests/smoke/test_region_failover.py).
PREFECT_START_AFTER_PROMOTION_SECONDS = 300
# A human decides a regional failover (the runbook's "decide" step); the default is what the
# runbook budgets for it.
DEFAULT_DECISION_SECONDS = 900
DEFAULT_DNS_TTL_SECONDS = 60


class DnsRecords(Protocol):
    @property
    def ttl_seconds(self) -> int: ...


class RegionFailover(Protocol):
    """What a regional failover depends on: the `dr` section (haflow.config.dr.Dr) is one."""

    @property
    def mode(self) -> str: ...

    @property
    def decision_seconds(self) -> int: ...

    @property
    def dns(self) -> DnsRecords | None: ...

    @property
    def serving(self) -> bool: ...

    def secondary_database_instances(self) -> int: ...


def region_recovery_seconds(dr: RegionFailover) -> dict[str, int]:
    """The steps of a regional failover and their seconds, by the published figures above."""
    steps = {
        "detection": HEALTH_CHECK_INTERVAL_SECONDS * HEALTH_CHECK_FAILURE_THRESHOLD,
        "decision": dr.decision_seconds,
        "database promotion": AURORA_GLOBAL_PROMOTION_SECONDS,
        "DNS TTL": dr.dns.ttl_seconds if dr.dns else DEFAULT_DNS_TTL_SECONDS,
    }
    if dr.secondary_database_instances() == 0:
        steps["database instance creation"] = AURORA_INSTANCE_CREATE_SECONDS
    if dr.mode == "pilot_light":
        steps["node scale-up"] = NODE_SCALE_UP_SECONDS
    if not dr.serving:
        steps["Prefect start after promotion"] = PREFECT_START_AFTER_PROMOTION_SECONDS
    return steps


def region_data_loss_seconds() -> dict[str, int]:
    """What a region loss can lose, per store of record (Redis holds no records: not counted)."""
    return {"Aurora (global database lag)": AURORA_GLOBAL_LAG_SECONDS, "S3 (RTC)": S3_RTC_REPLICATION_SECONDS}
