"""StateBucket: where Terraform state lives. Versioned (recover an overwritten state), KMS-encrypted,
never public, TLS only, access-logged, and never destroyed by Terraform."""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from haflow.constructs.bucket import AccessLogBucket, abort_incomplete_multipart_uploads, secure_bucket
from haflow.constructs.kms import KMS_DELETION_WINDOW_DAYS, key_policy, s3_log_delivery_use

# Incomplete multipart uploads of state are debris after a crashed apply; a week is plenty to resume.
ABORT_INCOMPLETE_UPLOAD_DAYS = 7


class StateBucket(Construct):
    """The state bucket, its KMS key (named by ``key_alias``, which the environments' S3 backend uses) and
    the bucket receiving its access logs (``<name>-access-logs``)."""

    def __init__(
        self, scope: Construct, id_: str, *, bucket_name: str, key_alias: str, provider: TerraformProvider
    ) -> None:
        super().__init__(scope, id_)
        account = DataAwsCallerIdentity(self, "account", provider=provider)
        partition = DataAwsPartition(self, "partition", provider=provider)
        key = KmsKey(
            self, "key", description=f"Encrypts Terraform state in {bucket_name}", enable_key_rotation=True,
            deletion_window_in_days=KMS_DELETION_WINDOW_DAYS, provider=provider,
            policy=key_policy(f"arn:{partition.partition}:iam::{account.account_id}:root",
                              s3_log_delivery_use(account.account_id)),
        )
        KmsAlias(self, "key-alias", name=key_alias, target_key_id=key.key_id, provider=provider)
        access_logs = AccessLogBucket(
            self, "access-logs", bucket_name=f"{bucket_name}-access-logs", kms_key_arn=key.arn,
            account_id=account.account_id, protect=True, provider=provider,
        )
        bucket = secure_bucket(
            self, bucket_name=bucket_name, kms_key_arn=key.arn, protect=True, provider=provider,
            lifecycle_rules=[abort_incomplete_multipart_uploads(ABORT_INCOMPLETE_UPLOAD_DAYS)],
            access_log_bucket=access_logs,
        )
        self.bucket_arn = bucket.arn
