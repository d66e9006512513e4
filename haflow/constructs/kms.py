"""Customer-managed KMS keys, their policies for AWS services that encrypt on our behalf, and prevent_destroy."""

from __future__ import annotations

import json
from typing import Any

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

# KMS deletes a scheduled key after 7-30 days; the maximum gives the longest window to cancel.
# https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
KMS_DELETION_WINDOW_DAYS = 30
DATA_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


def prevent_destroy(protect: bool) -> TerraformResourceLifecycle | None:
    """``lifecycle { prevent_destroy = true }`` when ``protect``; otherwise no lifecycle block."""
    return TerraformResourceLifecycle(prevent_destroy=True) if protect else None


def key_policy(account_root_arn: str, *service_statements: dict[str, Any]) -> str:
    """The default key policy (the account delegates use through IAM) plus statements for AWS services
    that cannot use IAM: https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"""
    root = {"Sid": "AccountAdministersThroughIam", "Effect": "Allow", "Principal": {"AWS": account_root_arn},
            "Action": "kms:*", "Resource": "*"}
    return json.dumps({"Version": "2012-10-17", "Statement": [root, *service_statements]})


def cloudwatch_logs_use(region: str, account_id: str, partition: str) -> dict[str, Any]:
    """Let CloudWatch Logs encrypt this account's log groups in ``region``.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"""
    return {
        "Sid": "CloudWatchLogsEncryptLogGroups",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": list(DATA_KEY_ACTIONS),
        "Resource": "*",
        "Condition": {
            "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:log-group:*"}
        },
    }


def s3_log_delivery_use(account_id: str) -> dict[str, Any]:
    """Let S3 server access log delivery write SSE-KMS objects for this account's buckets.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshooting-server-access-logging.html"""
    return {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }


class EncryptionKey(Construct):
    """A symmetric KMS key with yearly rotation and an alias ``alias/haflow/<alias>``.

    ``policy`` left out: the default key policy (RDS, ElastiCache, EKS and S3 use the key through
    grants or the caller's IAM permissions). Pass ``key_policy(...)`` when a service principal
    (CloudWatch Logs, S3 log delivery) must use the key.
    """

    def __init__(
        self, scope: Construct, id_: str, *, alias: str, description: str, protect: bool, policy: str | None = None,
        provider: TerraformProvider | None = None,
    ) -> None:
        """``protect``: prevent_destroy on the key (data encrypted with a deleted key is lost)."""
        super().__init__(scope, id_)
        self.key = KmsKey(
            self, "key", description=description, enable_key_rotation=True, policy=policy, provider=provider,
            deletion_window_in_days=KMS_DELETION_WINDOW_DAYS, lifecycle=prevent_destroy(protect),
        )
        KmsAlias(self, "alias", name=f"alias/haflow/{alias}", target_key_id=self.key.key_id, provider=provider)
        self.arn = self.key.arn
