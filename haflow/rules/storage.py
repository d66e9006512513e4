"""Storage rules (S3): versioned, KMS-encrypted, never public, TLS only.

The AWS provider (v4+) configures a bucket through companion resources that reference it
(aws_s3_bucket_versioning, ..._server_side_encryption_configuration, ..._public_access_block,
..._policy); each rule looks for the companion of every aws_s3_bucket.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from haflow.rules.engine import ERROR, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack, Unverifiable

if TYPE_CHECKING:
    from haflow.config.model import Environment

BUCKET = ("aws_s3_bucket",)
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
PUBLIC_ACCESS_SETTINGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


def companion(bucket: LiteralResource, stack: Stack, rtype: str) -> LiteralResource | None:
    found = stack.referencing(bucket, rtype, "bucket")
    return found[0] if found else None


@rule(
    id="HA-S3-001",
    level=ERROR,
    title="S3 buckets are versioned",
    rationale="Versioning keeps every overwritten or deleted object recoverable: the RPO of an artifact "
    "or a Terraform state file against mistakes and bad writes.",
    fix="Add aws_s3_bucket_versioning with versioning_configuration.status = Enabled.",
    subjects=BUCKET,
)
def versioning(bucket: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    found = companion(bucket, stack, "aws_s3_bucket_versioning")
    if found is None:
        return ["the bucket has no aws_s3_bucket_versioning"]
    status = found.string("versioning_configuration.status")
    if status != "Enabled":
        return [f"{found.address} sets versioning status {status!r}"]
    return []


@rule(
    id="HA-S3-002",
    level=ERROR,
    title="S3 buckets are encrypted with KMS",
    rationale="SSE-KMS puts every read under a key policy and CloudTrail; the S3-managed default (SSE-S3) "
    "has neither.",
    fix="Add aws_s3_bucket_server_side_encryption_configuration with sse_algorithm = aws:kms and a key.",
    subjects=BUCKET,
)
def kms_encryption(bucket: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    found = companion(bucket, stack, "aws_s3_bucket_server_side_encryption_configuration")
    if found is None:
        return ["the bucket has no server-side encryption configuration (S3 defaults to SSE-S3)"]
    algorithm = found.string("rule.apply_server_side_encryption_by_default.sse_algorithm")
    if algorithm not in KMS_ALGORITHMS:
        return [f"{found.address} uses sse_algorithm {algorithm!r}, not {' or '.join(KMS_ALGORITHMS)}"]
    return []


@rule(
    id="HA-S3-003",
    level=ERROR,
    title="S3 buckets block all public access",
    rationale="The four public-access-block settings stop a later ACL or policy from making the bucket "
    "public by mistake.",
    fix=f"Add aws_s3_bucket_public_access_block with {', '.join(PUBLIC_ACCESS_SETTINGS)} all true.",
    subjects=BUCKET,
)
def public_access_block(bucket: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    found = companion(bucket, stack, "aws_s3_bucket_public_access_block")
    if found is None:
        return ["the bucket has no aws_s3_bucket_public_access_block"]
    off = [setting for setting in PUBLIC_ACCESS_SETTINGS if not found.boolean(setting, False)]
    if off:
        return [f"{found.address} leaves {', '.join(off)} off"]
    return []


def denies_insecure_transport(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition", {})
    secure = condition.get("Bool", {}).get("aws:SecureTransport")
    actions = statement.get("Action")
    return (
        statement.get("Effect") == "Deny"
        and statement.get("Principal") in ("*", {"AWS": "*"})
        and (actions == "s3:*" or (isinstance(actions, list) and "s3:*" in actions))
        and str(secure).lower() in ("false", "['false']")
    )


@rule(
    id="HA-S3-004",
    level=ERROR,
    title="S3 buckets refuse requests without TLS",
    rationale="Only a bucket policy denying aws:SecureTransport = false stops clients from reading or "
    "writing objects over plain HTTP.",
    fix="Add a bucket policy statement: Deny s3:* to * when aws:SecureTransport is false.",
    subjects=BUCKET,
)
def tls_only(bucket: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    found = companion(bucket, stack, "aws_s3_bucket_policy")
    if found is None:
        return ["the bucket has no aws_s3_bucket_policy"]
    raw = found.body.get("policy")
    try:
        # A policy rendered to JSON by the project may contain references inside its strings (ARNs);
        # the JSON around them is literal.
        document = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        raise Unverifiable("policy", f"{raw!r} is not a literal JSON policy document")
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    if not any(denies_insecure_transport(statement) for statement in statements):
        return [f"{found.address} has no statement denying aws:SecureTransport = false"]
    return []
