"""The artifacts bucket: flow results and model files. Versioned, SSE-KMS, never public, TLS only."""

from __future__ import annotations

from constructs import Construct

from haflow.config.artifacts import Artifacts as ArtifactsConfig
from haflow.constructs.bucket import (
    AccessLogBucket,
    abort_incomplete_multipart_uploads,
    expire_noncurrent_versions,
    secure_bucket,
)
from haflow.constructs.irsa import GrantableRole
from haflow.constructs.kms import EncryptionKey

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

    def __init__(
        self, scope: Construct, id_: str, *, name: str, config: ArtifactsConfig, access_log_bucket: AccessLogBucket
    ) -> None:
        """Server access logs of the bucket go to ``access_log_bucket``."""
        super().__init__(scope, id_)
        protect = config.protect_from_destroy
        bucket_name = config.bucket_for(name)
        self.key = EncryptionKey(
            self, "key", alias=f"{name}/artifacts", protect=protect, description=f"Encrypts s3://{bucket_name}"
        )
        self.bucket = secure_bucket(
            self, bucket_name=bucket_name, kms_key_arn=self.key.arn, protect=protect,
            access_log_bucket=access_log_bucket,
            lifecycle_rules=[
                expire_noncurrent_versions(config.noncurrent_version_expiration_days),
                abort_incomplete_multipart_uploads(config.abort_incomplete_multipart_upload_days),
            ],
        )
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn

    def grant_read(self, grantee: GrantableRole) -> None:
        """List the bucket and read objects (any version)."""
        grantee.attach_policy("artifacts-read", *self._statements(OBJECT_READ_ACTIONS, KMS_READ_ACTIONS))

    def grant_read_write(self, grantee: GrantableRole) -> None:
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
