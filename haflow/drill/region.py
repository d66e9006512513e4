"""The region failover drill: make the secondary region's Aurora cluster the writer and time it.

- planned (``--planned``): SwitchoverGlobalCluster, a managed switchover with no data loss; the old
  primary becomes a secondary of the same global database.
- unplanned: detach and promote. RemoveFromGlobalCluster turns the secondary into a standalone
  read-write cluster (what works when the primary region's control plane is unreachable); a headless
  secondary (pilot light) then gets an instance, without which nothing can write.
  https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html

Then it polls until the secondary is the writer (the global cluster's writer member, or detached) and
writable (available, with a writer instance), and reports the seconds against slo.region_rto_seconds.
Everything runs against the secondary region: the drill needs nothing of the primary region.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from haflow.config.model import Environment
from haflow.drill.clients import AwsClients, error_code
from haflow.drill.failover import POLL_SECONDS, DrillRefused, NotImplementedByEndpoint
from haflow.plan import StackJson, resources

UNIMPLEMENTED_CODES = ("InvalidAction", "NotImplemented", "NotImplementedException", "InternalFailure")
PROMOTED_INSTANCE_SUFFIX = "promoted"


@dataclass(frozen=True)
class RegionTarget:
    """What the DR foundation plan names: the global cluster, the secondary cluster, its region and shape."""

    global_cluster: str
    secondary_cluster: str
    region: str
    engine: str
    instance_class: str
    planned_instances: int


@dataclass(frozen=True)
class RegionState:
    member: bool  # the secondary is still a member of the global cluster
    global_writer: bool  # ... and its writer
    status: str
    writer_instance: str | None
    global_writer_cluster: str | None = None  # the global cluster's writer member (its ARN), when there is one

    @property
    def is_writer(self) -> bool:
        return self.global_writer or not self.member

    @property
    def writable(self) -> bool:
        return self.is_writer and self.status == "available" and self.writer_instance is not None


@dataclass(frozen=True)
class RegionResult:
    target: RegionTarget
    method: str
    created_instance: str | None
    seconds: float
    rto_seconds: int
    state: RegionState | None

    @property
    def completed(self) -> bool:
        return self.state is not None and self.state.writable

    @property
    def met(self) -> bool:
        return self.completed and self.seconds <= self.rto_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "global_cluster": self.target.global_cluster,
            "secondary_cluster": self.target.secondary_cluster,
            "secondary_region": self.target.region,
            "method": self.method,
            "created_instance": self.created_instance,
            "writer": self.state.is_writer if self.state else False,
            "writable": self.state.writable if self.state else False,
            "writer_instance": self.state.writer_instance if self.state else None,
            "seconds": round(self.seconds, 3),
            "rto_seconds": self.rto_seconds,
            "met": self.met,
            "completed": self.completed,
        }


def target_from_plan(stack: StackJson, env: Environment) -> RegionTarget:
    """The literal identifiers of the DR foundation plan (DrillRefused when they are not there)."""
    globals_ = [g.body.get("global_cluster_identifier") for g in resources(stack, "aws_rds_global_cluster")]
    members = [c for c in resources(stack, "aws_rds_cluster") if c.body.get("global_cluster_identifier")]
    if len(globals_) != 1 or len(members) != 1 or not isinstance(globals_[0], str):
        raise DrillRefused(f"{env.dr_foundation_stack_name} should hold one aws_rds_global_cluster and one "
                           f"secondary aws_rds_cluster; found {len(globals_)} and {len(members)}")
    regions = [p.get("region") for p in (stack.get("provider") or {}).get("aws", []) if isinstance(p, dict)]
    cluster = members[0].body
    return RegionTarget(
        global_cluster=globals_[0], secondary_cluster=str(cluster["cluster_identifier"]), region=str(regions[0]),
        engine=str(cluster.get("engine")), instance_class=env.database.instance_class,
        planned_instances=len(list(resources(stack, "aws_rds_cluster_instance"))),
    )


def _not_implemented(aws: AwsClients, action: str, detail: str = "") -> NotImplementedByEndpoint:
    return NotImplementedByEndpoint(
        f"{aws.where} does not implement RDS {action}{detail}; run the region drill against a real AWS account"
    )


def _cluster(aws: AwsClients, target: RegionTarget) -> dict[str, Any]:
    try:
        found = aws("rds").describe_db_clusters(DBClusterIdentifier=target.secondary_cluster)["DBClusters"][0]
    except ClientError as err:
        if error_code(err) == "DBClusterNotFoundFault":
            raise DrillRefused(f"secondary cluster {target.secondary_cluster!r} not found in {aws.where}") from None
        raise
    return dict(found)


def region_state(aws: AwsClients, target: RegionTarget) -> RegionState:
    cluster = _cluster(aws, target)
    arn = cluster.get("DBClusterArn")
    try:
        found = aws("rds").describe_global_clusters(GlobalClusterIdentifier=target.global_cluster)["GlobalClusters"]
    except ClientError as err:
        if error_code(err) != "GlobalClusterNotFoundFault":
            raise
        found = []
    members = {m.get("DBClusterArn"): m for g in found for m in g.get("GlobalClusterMembers", [])}
    writer = next((m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", []) if m.get("IsClusterWriter")),
                  None)
    global_writer = next((str(m["DBClusterArn"]) for m in members.values() if m.get("IsWriter")), None)
    return RegionState(member=arn in members, global_writer=bool(members.get(arn, {}).get("IsWriter")),
                       status=str(cluster.get("Status", "")), writer_instance=writer,
                       global_writer_cluster=global_writer)


def planned_steps(target: RegionTarget, state: RegionState, *, planned: bool) -> list[str]:
    """What ``region_failover`` would call, in order, for the dry run to say."""
    if planned:
        steps = [f"SwitchoverGlobalCluster {target.global_cluster} -> {target.secondary_cluster} (the old writer "
                 f"becomes a secondary of the same global database; no data loss)"]
    else:
        steps = [f"RemoveFromGlobalCluster {target.secondary_cluster} (detach it from {target.global_cluster}: "
                 f"a standalone read-write cluster; writes not yet replicated are lost)"]
        if state.writer_instance is None:
            steps.append(f"CreateDBInstance {target.secondary_cluster}-{PROMOTED_INSTANCE_SUFFIX} "
                         f"({target.instance_class}): the secondary is headless, nothing writes without an instance")
    steps.append(f"poll every {POLL_SECONDS:g} s until {target.secondary_cluster} is the writer, available and has a "
                 f"writer instance")
    return steps


def region_preflight(aws: AwsClients, target: RegionTarget) -> RegionState:
    state = region_state(aws, target)
    if not state.member:
        raise DrillRefused(f"{target.secondary_cluster} is not a member of global cluster {target.global_cluster} "
                           f"in {aws.where}: nothing to fail over to (already detached?)")
    if state.global_writer:
        raise DrillRefused(f"{target.secondary_cluster} already is the writer of {target.global_cluster}; "
                           "fail back first (docs/disaster-recovery.md, Runbook)")
    if state.status != "available":
        raise DrillRefused(f"{target.secondary_cluster} is {state.status!r}; wait until it is available")
    return state


def region_failover(
    aws: AwsClients,
    target: RegionTarget,
    *,
    planned: bool,
    rto_seconds: int,
    timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RegionResult:
    before = region_preflight(aws, target)
    arn = _cluster(aws, target)["DBClusterArn"]
    started = clock()
    rds = aws("rds")
    created: str | None = None
    if planned:
        _call(aws, "SwitchoverGlobalCluster", lambda: rds.switchover_global_cluster(
            GlobalClusterIdentifier=target.global_cluster, TargetDbClusterIdentifier=arn))
        method = "switchover"
    else:
        answer = _call(aws, "RemoveFromGlobalCluster", lambda: rds.remove_from_global_cluster(
            GlobalClusterIdentifier=target.global_cluster, DbClusterIdentifier=arn))
        if not answer.get("GlobalCluster") and region_state(aws, target).member:
            raise _not_implemented(aws, "RemoveFromGlobalCluster",
                                   f" for a cluster in {target.region} (it answered without the global cluster "
                                   "and left the member in place)")
        method = "detach-and-promote"
        if before.writer_instance is None and not _cluster(aws, target).get("DBClusterMembers"):
            created = f"{target.secondary_cluster}-{PROMOTED_INSTANCE_SUFFIX}"
            rds.create_db_instance(DBInstanceIdentifier=created, DBClusterIdentifier=target.secondary_cluster,
                                   Engine=target.engine, DBInstanceClass=target.instance_class)
    while True:
        now = region_state(aws, target)
        elapsed = clock() - started
        if now.writable or elapsed >= timeout_seconds:
            return RegionResult(target, method, created, elapsed, rto_seconds, now)
        sleep(min(POLL_SECONDS, max(timeout_seconds - elapsed, 0.0)))


def _call(aws: AwsClients, action: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return call()
    except ResponseParserError:
        # moto_server answers an unimplemented action with an HTML 500 page botocore cannot parse.
        raise _not_implemented(aws, action) from None
    except ClientError as err:
        if error_code(err) in UNIMPLEMENTED_CODES:
            raise _not_implemented(aws, action, f" ({err})") from None
        raise
