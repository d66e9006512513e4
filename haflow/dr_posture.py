"""What happens to each stateful resource of a primary stack when the primary region is lost.

replicated: a copy in the secondary region is kept current (Aurora Global Database, S3 CRR, secret replicas);
rebuilt: the secondary has its own, empty or regenerated (Redis, its users' passwords);
lost: nothing in the secondary holds it, and that is accepted for the reason given.

Provider-free (read from the synthesized JSON); the HA-DR rules and the region report share it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from haflow import plan

REPLICATED = "replicated"
REBUILT = "rebuilt"
LOST = "lost"
STATEFUL_TYPES = (
    "aws_rds_cluster", "aws_s3_bucket", "aws_elasticache_replication_group", "aws_secretsmanager_secret",
)
S3_LOG_DELIVERY = "logging.s3.amazonaws.com"


@dataclass(frozen=True)
class Posture:
    kind: str | None  # None: neither a copy nor a stated loss
    how: str


def posture(resource: plan.Resource, stack: dict[str, Any]) -> Posture:
    """The DR posture of one stateful resource of a primary stack, from the plan."""
    body = resource.body
    if resource.type == "aws_rds_cluster":
        ignored = (body.get("lifecycle") or {}).get("ignore_changes") or []
        if "global_cluster_identifier" in ignored:
            return Posture(REPLICATED, "joins the Aurora global database the DR stack creates from it; "
                           "storage-level replication to the secondary cluster")
        return Posture(None, "not prepared for a global database (no cross-region copy)")
    if resource.type == "aws_s3_bucket":
        if _replicated_bucket(resource, stack):
            return Posture(REPLICATED, "S3 Cross-Region Replication with Replication Time Control")
        if _receives_access_logs(resource, stack):
            return Posture(LOST, "S3 server access logs stay in their region (an audit trail, not platform data); "
                           "the secondary logs its own buckets from the failover on")
        return Posture(None, "no replication configuration")
    if resource.type == "aws_elasticache_replication_group":
        return Posture(REBUILT, "the secondary runs a fresh Redis: Prefect's messages in flight and its leases "
                       "are lost and rebuilt by Prefect; no records live there")
    if resource.type == "aws_secretsmanager_secret":
        if plan.as_list(body.get("replica")):
            return Posture(REPLICATED, "Secrets Manager replica in the secondary region")
        return Posture(REBUILT, "the secondary generates its own (its Redis has its own users' passwords)")
    return Posture(None, f"{resource.type} has no DR posture")


def _replicated_bucket(bucket: plan.Resource, stack: dict[str, Any]) -> bool:
    for configuration in plan.resources(stack, "aws_s3_bucket_replication_configuration"):
        target = plan.reference(configuration.body.get("bucket"))
        if target is not None and target.address == bucket.address:
            return True
    return False


def _receives_access_logs(bucket: plan.Resource, stack: dict[str, Any]) -> bool:
    for policy in plan.resources(stack, "aws_s3_bucket_policy"):
        target = plan.reference(policy.body.get("bucket"))
        if target is None or target.address != bucket.address or not isinstance(policy.body.get("policy"), str):
            continue
        try:
            document = json.loads(policy.body["policy"])
        except json.JSONDecodeError:
            return False
        principals = [statement.get("Principal", {}) for statement in plan.as_list(document.get("Statement"))]
        return any(isinstance(p, dict) and p.get("Service") == S3_LOG_DELIVERY for p in principals)
    return False
