"""S3 hardening every haflow bucket shares, and the bucket that receives S3 server access logs.

``secure_bucket`` adds its resources to the caller's scope (ids: bucket, versioning, encryption,
public-access-block, ownership, policy, lifecycle, access-logging) so the callers' construct ids,
and with them the resources' addresses, stay what they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from haflow.constructs.iam import policy_document
from haflow.constructs.kms import prevent_destroy

# S3 server access logs are delivered by this service principal:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
S3_LOG_DELIVERY_SERVICE = "logging.s3.amazonaws.com"
# Access logs are an audit trail: a year, then they expire.
ACCESS_LOG_RETENTION_DAYS = 365
# An expired log object becomes a noncurrent version; it goes for good a month later.
NONCURRENT_LOG_VERSION_DAYS = 30


def deny_insecure_transport(bucket_arn: str) -> dict[str, object]:
    """Bucket-policy statement refusing any request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def expire_noncurrent_versions(days: int) -> S3BucketLifecycleConfigurationRule:
    return S3BucketLifecycleConfigurationRule(
        id="expire-noncurrent-versions", status="Enabled", filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
        noncurrent_version_expiration=[
            S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=days)
        ],
    )


def expire_old_state_versions(noncurrent_days: int, keep: int) -> S3BucketLifecycleConfigurationRule:
    """Bucket-wide: a noncurrent version expires ``noncurrent_days`` after it became noncurrent, except the
    ``keep`` newest noncurrent versions of each key, and a delete marker left with no versions behind it goes.

    Terraform's S3-native lock (``use_lockfile``) writes ``<state key>.tflock`` at every lock and deletes it at
    unlock: in a versioned bucket each run leaves a noncurrent version and a delete marker. S3 lifecycle filters
    match prefixes and tags, not suffixes, so no filter picks out the lock files; this rule covers the whole
    bucket instead, and does not depend on which environments exist. A state object keeps its ``keep`` newest
    noncurrent versions forever (the recovery path); a lock file's debris is gone after ``noncurrent_days``
    (beyond ``keep`` tiny versions) and its orphaned delete marker with it.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html
    (NewerNoncurrentVersions, ExpiredObjectDeleteMarker), https://developer.hashicorp.com/terraform/language/backend/s3"""
    return S3BucketLifecycleConfigurationRule(
        id="expire-old-noncurrent-versions", status="Enabled",
        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
        noncurrent_version_expiration=[
            S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                noncurrent_days=noncurrent_days, newer_noncurrent_versions=keep)
        ],
        expiration=[S3BucketLifecycleConfigurationRuleExpiration(expired_object_delete_marker=True)],
    )


def abort_incomplete_multipart_uploads(days: int) -> S3BucketLifecycleConfigurationRule:
    return S3BucketLifecycleConfigurationRule(
        id="abort-incomplete-multipart-uploads", status="Enabled",
        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
        abort_incomplete_multipart_upload=[
            S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=days)
        ],
    )


def secure_bucket(
    scope: Construct,
    *,
    bucket_name: str,
    kms_key_arn: str,
    protect: bool,
    lifecycle_rules: Sequence[S3BucketLifecycleConfigurationRule] = (),
    policy_statements: Callable[[str], Sequence[dict[str, Any]]] = lambda _arn: (),
    access_log_bucket: AccessLogBucket | None = None,
    provider: TerraformProvider | None = None,
) -> S3Bucket:
    """A versioned, SSE-KMS (bucket key), BucketOwnerEnforced, never-public, TLS-only bucket.

    ``lifecycle_rules`` left out: no lifecycle configuration. ``access_log_bucket`` left out: no
    server access logging (only for the log bucket itself). ``protect``: prevent_destroy.
    ``policy_statements`` maps the bucket ARN to statements added after the TLS-only one (none by default).
    """
    bucket = S3Bucket(scope, "bucket", bucket=bucket_name, provider=provider, lifecycle=prevent_destroy(protect))
    S3BucketVersioningA(
        scope, "versioning", bucket=bucket.id, provider=provider,
        versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
    )
    # A bucket key cuts KMS requests (and cost) by up to 99%:
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
    S3BucketServerSideEncryptionConfigurationA(
        scope, "encryption", bucket=bucket.id, provider=provider,
        rule=[
            S3BucketServerSideEncryptionConfigurationRuleA(
                bucket_key_enabled=True,
                apply_server_side_encryption_by_default=(
                    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
                    )
                ),
            )
        ],
    )
    S3BucketPublicAccessBlock(
        scope, "public-access-block", bucket=bucket.id, provider=provider, block_public_acls=True,
        block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
    )
    S3BucketOwnershipControls(
        scope, "ownership", bucket=bucket.id, provider=provider,
        rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
    )
    S3BucketPolicy(
        scope, "policy", bucket=bucket.id, provider=provider,
        policy=policy_document(deny_insecure_transport(bucket.arn), *policy_statements(bucket.arn)),
    )
    if lifecycle_rules:
        S3BucketLifecycleConfiguration(scope, "lifecycle", bucket=bucket.id, provider=provider,
                                       rule=list(lifecycle_rules))
    if access_log_bucket is not None:
        S3BucketLoggingA(
            scope, "access-logging", bucket=bucket.id, provider=provider,
            target_bucket=access_log_bucket.bucket.id, target_prefix=f"{bucket_name}/",
        )
    return bucket


class AccessLogBucket(Construct):
    """Receives the S3 server access logs of the other buckets in its stack.

    ``kms_key_arn`` must be a key whose policy lets logging.s3.amazonaws.com generate data keys
    (``kms.s3_log_delivery_use``). Logs expire after ACCESS_LOG_RETENTION_DAYS.
    """

    def __init__(
        self, scope: Construct, id_: str, *, bucket_name: str, kms_key_arn: str, account_id: str, protect: bool,
        provider: TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id_)

        def delivery(bucket_arn: str) -> list[dict[str, Any]]:
            return [
                {
                    "Sid": "AllowS3ServerAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": S3_LOG_DELIVERY_SERVICE},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket_arn}/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ]

        self.bucket = secure_bucket(
            self, bucket_name=bucket_name, kms_key_arn=kms_key_arn, protect=protect, provider=provider,
            policy_statements=delivery,
            lifecycle_rules=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-access-logs", status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=ACCESS_LOG_RETENTION_DAYS)],
                ),
                expire_noncurrent_versions(NONCURRENT_LOG_VERSION_DAYS),
                abort_incomplete_multipart_uploads(7),
            ],
        )
