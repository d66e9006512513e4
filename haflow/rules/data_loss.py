"""Data-loss rules: stateful resources survive a `terraform destroy` or an accidental replacement.

These apply to every environment; an environment whose data is disposable (dev) says so with a
suppression and a reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from haflow.rules.engine import ERROR, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment

# Resources whose destruction loses data that exists nowhere else.
STATEFUL = ("aws_rds_cluster", "aws_s3_bucket", "aws_efs_file_system", "aws_dynamodb_table")


@rule(
    id="HA-DL-001",
    level=ERROR,
    title="Stateful resources have lifecycle.prevent_destroy",
    rationale="prevent_destroy makes Terraform refuse any plan that destroys the resource, including a "
    "replacement forced by a changed attribute: the last guard before data loss.",
    fix="Set lifecycle { prevent_destroy = true } on the resource (cdktf: lifecycle={'prevent_destroy': True}).",
    subjects=STATEFUL,
)
def prevent_destroy(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not resource.boolean("lifecycle.prevent_destroy", False):
        return ["lifecycle.prevent_destroy is not set"]
    return []


@rule(
    id="HA-DL-002",
    level=ERROR,
    title="Aurora takes a final snapshot when destroyed",
    rationale="skip_final_snapshot = true destroys the cluster with its automated backups and nothing "
    "left to restore from.",
    fix="Set skip_final_snapshot = false and a final_snapshot_identifier.",
    subjects=("aws_rds_cluster",),
)
def final_snapshot(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if cluster.boolean("skip_final_snapshot", False):
        return ["skip_final_snapshot is true"]
    if not cluster.has("final_snapshot_identifier"):
        return ["final_snapshot_identifier is not set, so the destroy fails half-way"]
    return []


@rule(
    id="HA-DL-003",
    level=ERROR,
    title="S3 buckets are not force-destroyed",
    rationale="force_destroy = true lets Terraform delete a bucket with all its objects and versions.",
    fix="Remove force_destroy (it defaults to false).",
    subjects=("aws_s3_bucket",),
)
def no_force_destroy(bucket: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if bucket.boolean("force_destroy", False):
        return ["force_destroy is true"]
    return []
