"""StateBucket: where Terraform state lives. Versioned (recover an overwritten state), KMS-encrypted,
never public, TLS only."""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
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

# KMS deletes a scheduled key after 7-30 days; the maximum gives the longest window to cancel.
# https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
KMS_DELETION_WINDOW_DAYS = 30


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


class StateBucket(Construct):
    def __init__(self, scope: Construct, id_: str, *, bucket_name: str, provider: TerraformProvider) -> None:
        super().__init__(scope, id_)
        key = KmsKey(
            self, "key", description=f"Encrypts Terraform state in {bucket_name}", enable_key_rotation=True,
            deletion_window_in_days=KMS_DELETION_WINDOW_DAYS, provider=provider,
        )
        bucket = S3Bucket(self, "bucket", bucket=bucket_name, provider=provider, lifecycle={"prevent_destroy": True})
        S3BucketVersioningA(
            self, "versioning", bucket=bucket.id, provider=provider,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", bucket=bucket.id, provider=provider,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    bucket_key_enabled=True,
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="aws:kms", kms_master_key_id=key.arn
                        )
                    ),
                )
            ],
        )
        S3BucketPublicAccessBlock(
            self, "public-access-block", bucket=bucket.id, provider=provider, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self, "ownership", bucket=bucket.id, provider=provider,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketPolicy(
            self, "policy", bucket=bucket.id, provider=provider,
            policy=policy_document(deny_insecure_transport(bucket.arn)),
        )
        self.bucket_arn = bucket.arn
