"""The artifacts bucket: flow results and model files. Versioned, SSE-KMS, never public, TLS only."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
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

from haflow.config.foundation import Artifacts as ArtifactsConfig
from haflow.constructs.iam import policy_document
from haflow.constructs.irsa import ServiceAccountRole
from haflow.constructs.kms import EncryptionKey, prevent_destroy
from haflow.constructs.state_bucket import deny_insecure_transport

# Least-privilege S3 and KMS actions. With SSE-KMS, reading needs kms:Decrypt and writing
# kms:GenerateDataKey (multipart uploads also kms:Decrypt):
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#require-sse-kms
BUCKET_READ_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")
OBJECT_READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
OBJECT_WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")
KMS_READ_ACTIONS = ("kms:Decrypt",)
KMS_WRITE_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


class Artifacts(Construct):
    """An S3 bucket with its own KMS key; grant access with ``grant_read`` / ``grant_read_write``."""

    def __init__(self, scope: Construct, id_: str, *, name: str, config: ArtifactsConfig) -> None:
        super().__init__(scope, id_)
        protect = config.protect_from_destroy
        bucket_name = config.bucket_for(name)
        self.key = EncryptionKey(
            self, "key", alias=f"{name}/artifacts", protect=protect, description=f"Encrypts s3://{bucket_name}"
        )
        self.bucket = S3Bucket(self, "bucket", bucket=bucket_name, lifecycle=prevent_destroy(protect))
        S3BucketVersioningA(
            self, "versioning", bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        # A bucket key cuts KMS requests (and cost) by up to 99%:
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html
        S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    bucket_key_enabled=True,
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="aws:kms", kms_master_key_id=self.key.arn
                        )
                    ),
                )
            ],
        )
        S3BucketPublicAccessBlock(
            self, "public-access-block", bucket=self.bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self, "ownership", bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketPolicy(
            self, "policy", bucket=self.bucket.id, policy=policy_document(deny_insecure_transport(self.bucket.arn))
        )
        S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-noncurrent-versions", status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=config.noncurrent_version_expiration_days
                        )
                    ],
                ),
                S3BucketLifecycleConfigurationRule(
                    id="abort-incomplete-multipart-uploads", status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=config.abort_incomplete_multipart_upload_days
                        )
                    ],
                ),
            ],
        )
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn

    def grant_read(self, grantee: ServiceAccountRole) -> None:
        """List the bucket and read objects (any version)."""
        grantee.attach_policy("artifacts-read", *self._statements(OBJECT_READ_ACTIONS, KMS_READ_ACTIONS))

    def grant_read_write(self, grantee: ServiceAccountRole) -> None:
        """Read, write and delete objects; nothing on the bucket's own configuration."""
        grantee.attach_policy(
            "artifacts-read-write",
            *self._statements((*OBJECT_READ_ACTIONS, *OBJECT_WRITE_ACTIONS), KMS_WRITE_ACTIONS),
        )

    def _statements(self, object_actions: tuple[str, ...], kms_actions: tuple[str, ...]) -> list[dict[str, object]]:
        return [
            {"Effect": "Allow", "Action": list(BUCKET_READ_ACTIONS), "Resource": self.bucket_arn},
            {"Effect": "Allow", "Action": list(object_actions), "Resource": f"{self.bucket_arn}/*"},
            {"Effect": "Allow", "Action": list(kms_actions), "Resource": self.key.arn},
        ]
