"""Failover drills: fail over an Aurora cluster or an ElastiCache replication group and time recovery.

A drill records who leads now (Aurora writer, Redis primary), asks AWS to fail over, then polls
until a different member leads and the cluster or group is available again. The measured seconds
are compared with the environment's RTO. Preflight refuses what cannot fail over (a missing
cluster, fewer than two members) before anything is changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from haflow.drill.clients import AwsClients, error_code

# Aurora usually completes a failover in under 60 s and ElastiCache Multi-AZ in seconds to a few
# minutes (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html,
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html); poll often enough to
# measure that to the second without flooding the API.
POLL_SECONDS = 1.0
MIN_MEMBERS = 2
REDIS_NODE_GROUP = "0001"  # the only node group of a cluster-mode-disabled replication group


class DrillRefused(Exception):
    """The drill cannot or must not run; nothing was changed."""


class NotImplementedByEndpoint(Exception):
    """The endpoint has no implementation of the API the drill needs (moto 5.2 has no TestFailover)."""


@dataclass(frozen=True)
class Leadership:
    """Who leads a cluster or group, as the API describes it right now."""

    target: str
    leader: str | None
    members: list[str]
    status: str


@dataclass(frozen=True)
class FailoverResult:
    kind: str
    target: str
    old_leader: str
    new_leader: str | None
    seconds: float
    rto_seconds: int
    completed: bool

    @property
    def met(self) -> bool:
        return self.completed and self.seconds <= self.rto_seconds

    def to_json(self) -> dict[str, Any]:
        """The issue's shape: cluster/old_writer/new_writer for Aurora, the same words for Redis."""
        names = {
            "aurora": ("cluster", "old_writer", "new_writer"),
            "redis": ("replication_group", "old_primary", "new_primary"),
        }[self.kind]
        return {
            names[0]: self.target,
            names[1]: self.old_leader,
            names[2]: self.new_leader,
            "seconds": round(self.seconds, 3),
            "rto_seconds": self.rto_seconds,
            "met": self.met,
            "completed": self.completed,
        }


# -- Aurora ---------------------------------------------------------------------------------------


def aurora_leadership(aws: AwsClients, cluster_id: str) -> Leadership:
    try:
        cluster = aws("rds").describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
    except ClientError as err:
        if error_code(err) == "DBClusterNotFoundFault":
            raise DrillRefused(f"Aurora cluster {cluster_id!r} not found in {aws.where}") from None
        raise
    members = cluster.get("DBClusterMembers", [])
    writer = next((m["DBInstanceIdentifier"] for m in members if m["IsClusterWriter"]), None)
    return Leadership(cluster_id, writer, [m["DBInstanceIdentifier"] for m in members], cluster.get("Status", ""))


def aurora_preflight(aws: AwsClients, cluster_id: str) -> Leadership:
    state = aurora_leadership(aws, cluster_id)
    if len(state.members) < MIN_MEMBERS:
        raise DrillRefused(
            f"Aurora cluster {cluster_id!r} has {len(state.members)} instance(s) "
            f"({', '.join(state.members) or 'none'}); "
            f"a failover needs at least {MIN_MEMBERS}: add a reader in another AZ first"
        )
    if state.leader is None or state.status != "available":
        raise DrillRefused(
            f"Aurora cluster {cluster_id!r} is {state.status!r} with writer {state.leader or 'none'}; "
            "wait until it is available with a writer"
        )
    return state


def aurora_failover(
    aws: AwsClients,
    cluster_id: str,
    *,
    rto_seconds: int,
    timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> FailoverResult:
    before = aurora_preflight(aws, cluster_id)
    assert before.leader is not None  # preflight guarantees a writer
    started = clock()
    aws("rds").failover_db_cluster(DBClusterIdentifier=cluster_id)
    return _await_new_leader(
        "aurora",
        before,
        lambda: aurora_leadership(aws, cluster_id),
        rto_seconds,
        timeout_seconds,
        started,
        clock,
        sleep,
    )


# -- ElastiCache ----------------------------------------------------------------------------------


def redis_leadership(aws: AwsClients, group_id: str) -> Leadership:
    try:
        group = aws("elasticache").describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
    except ClientError as err:
        if error_code(err) == "ReplicationGroupNotFoundFault":
            raise DrillRefused(f"replication group {group_id!r} not found in {aws.where}") from None
        raise
    members = [m for node_group in group.get("NodeGroups", []) for m in node_group.get("NodeGroupMembers", [])]
    primary = next((m["CacheClusterId"] for m in members if m.get("CurrentRole") == "primary"), None)
    return Leadership(group_id, primary, [m["CacheClusterId"] for m in members], group.get("Status", ""))


def redis_preflight(aws: AwsClients, group_id: str) -> Leadership:
    state = redis_leadership(aws, group_id)
    if len(state.members) < MIN_MEMBERS:
        raise DrillRefused(
            f"replication group {group_id!r} has {len(state.members)} node(s); a failover needs a replica: "
            "set num_cache_clusters >= 2"
        )
    if state.leader is None or state.status != "available":
        raise DrillRefused(
            f"replication group {group_id!r} is {state.status!r} with primary {state.leader or 'none'}; "
            "wait until it is available"
        )
    return state


def redis_failover(
    aws: AwsClients,
    group_id: str,
    *,
    rto_seconds: int,
    timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> FailoverResult:
    before = redis_preflight(aws, group_id)
    started = clock()
    try:
        aws("elasticache").test_failover(ReplicationGroupId=group_id, NodeGroupId=REDIS_NODE_GROUP)
    except ResponseParserError:
        # moto_server answers an unimplemented action with an HTML 500 page that botocore cannot parse.
        raise NotImplementedByEndpoint(_not_implemented(aws)) from None
    except ClientError as err:
        if error_code(err) in ("InvalidAction", "NotImplemented", "NotImplementedException", "InternalFailure"):
            raise NotImplementedByEndpoint(f"{_not_implemented(aws)} ({err})") from None
        raise
    return _await_new_leader(
        "redis",
        before,
        lambda: redis_leadership(aws, group_id),
        rto_seconds,
        timeout_seconds,
        started,
        clock,
        sleep,
    )


def _not_implemented(aws: AwsClients) -> str:
    return (
        f"{aws.where} does not implement ElastiCache TestFailover; "
        "run the Redis drill against a real AWS account"
    )


# -- shared ---------------------------------------------------------------------------------------


def _await_new_leader(
    kind: str,
    before: Leadership,
    describe: Callable[[], Leadership],
    rto_seconds: int,
    timeout_seconds: float,
    started: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> FailoverResult:
    """Poll until another member leads and the target is available, or ``timeout_seconds`` pass."""
    assert before.leader is not None
    while True:
        now = describe()
        elapsed = clock() - started
        if now.leader not in (None, before.leader) and now.status == "available":
            return FailoverResult(kind, before.target, before.leader, now.leader, elapsed, rto_seconds, True)
        if elapsed >= timeout_seconds:
            return FailoverResult(kind, before.target, before.leader, None, elapsed, rto_seconds, False)
        sleep(min(POLL_SECONDS, max(timeout_seconds - elapsed, 0.0)))
