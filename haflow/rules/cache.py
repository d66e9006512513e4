"""Cache rules (ElastiCache Redis for Prefect messaging): a replica to fail over to, in another AZ,
encrypted, and in the standalone (cluster mode disabled) shape Prefect supports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from haflow.rules.engine import ERROR, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment

MIN_NODES = 2
REPLICATION_GROUP = ("aws_elasticache_replication_group",)


@rule(
    id="HA-CACHE-001",
    level=ERROR,
    title="Redis fails over automatically",
    rationale="Without automatic failover a primary failure leaves Redis read-only until someone promotes "
    "a replica; Prefect's messaging stops meanwhile.",
    fix="Set automatic_failover_enabled = true.",
    subjects=REPLICATION_GROUP,
)
def automatic_failover(group: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not group.boolean("automatic_failover_enabled", False):
        return ["automatic_failover_enabled is off"]
    return []


@rule(
    id="HA-CACHE-002",
    level=ERROR,
    title="Redis is Multi-AZ",
    rationale="Multi-AZ places the replicas in other AZs than the primary and lets ElastiCache fail over "
    "across AZs, so an AZ outage costs seconds, not the cache.",
    fix="Set multi_az_enabled = true.",
    subjects=REPLICATION_GROUP,
)
def multi_az(group: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not group.boolean("multi_az_enabled", False):
        return ["multi_az_enabled is off"]
    return []


@rule(
    id="HA-CACHE-003",
    level=ERROR,
    title=f"Redis has at least {MIN_NODES} nodes (a primary and a replica)",
    rationale="Failover promotes a replica; with a single node there is nothing to promote.",
    fix=f"Set num_cache_clusters >= {MIN_NODES}.",
    subjects=REPLICATION_GROUP,
)
def node_count(group: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    nodes = group.integer("num_cache_clusters", 1)
    if nodes < MIN_NODES:
        return [f"num_cache_clusters is {nodes}"]
    return []


@rule(
    id="HA-CACHE-004",
    level=ERROR,
    title="Redis encrypts traffic in transit",
    rationale="Prefect's messages and the users' passwords cross the VPC in clear text without TLS; "
    "ElastiCache RBAC also requires it.",
    fix="Set transit_encryption_enabled = true.",
    subjects=REPLICATION_GROUP,
)
def transit_encryption(group: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not group.boolean("transit_encryption_enabled", False):
        return ["transit_encryption_enabled is off"]
    return []


@rule(
    id="HA-CACHE-005",
    level=ERROR,
    title="Redis encrypts data at rest",
    rationale="Snapshots and swap of an unencrypted replication group hold message payloads in clear; "
    "at-rest encryption can only be chosen when the group is created.",
    fix="Set at_rest_encryption_enabled = true (and kms_key_id to a customer key).",
    subjects=REPLICATION_GROUP,
)
def at_rest_encryption(group: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not group.boolean("at_rest_encryption_enabled", False):
        return ["at_rest_encryption_enabled is off"]
    return []


@rule(
    id="HA-CACHE-006",
    level=ERROR,
    title="Redis runs with cluster mode disabled",
    rationale="Prefect supports standalone Redis only (prefect-helm: 'Prefect currently only supports "
    "standalone Redis deployments'); a cluster-mode endpoint breaks its messaging.",
    fix="Leave cluster_mode unset (or 'disabled'), num_node_groups at 1 and use a non-.cluster.on parameter group.",
    subjects=REPLICATION_GROUP,
)
def cluster_mode_disabled(group: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    problems = []
    mode = group.string("cluster_mode", "disabled")
    if mode != "disabled":
        problems.append(f"cluster_mode is {mode!r}")
    shards = group.integer("num_node_groups", 1)
    if shards != 1:
        problems.append(f"num_node_groups is {shards}")
    if group.has("parameter_group_name"):
        raw = group.body.get("parameter_group_name")
        if isinstance(raw, str) and raw.endswith(".cluster.on"):
            problems.append(f"parameter_group_name {raw!r} enables cluster mode")
    return problems
