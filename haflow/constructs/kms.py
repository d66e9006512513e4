"""Customer-managed KMS keys for the foundation's stateful services, and the prevent_destroy switch."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from haflow.constructs.state_bucket import KMS_DELETION_WINDOW_DAYS


def prevent_destroy(protect: bool) -> TerraformResourceLifecycle | None:
    """``lifecycle { prevent_destroy = true }`` when ``protect``; otherwise no lifecycle block."""
    return TerraformResourceLifecycle(prevent_destroy=True) if protect else None


class EncryptionKey(Construct):
    """A symmetric KMS key with yearly rotation and an alias ``alias/haflow/<alias>``.

    The default key policy (the account may delegate use through IAM) is kept: RDS, ElastiCache,
    EKS and S3 use the key through grants or the caller's IAM permissions.
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    """

    def __init__(self, scope: Construct, id_: str, *, alias: str, description: str, protect: bool) -> None:
        """``protect``: prevent_destroy on the key (data encrypted with a deleted key is lost)."""
        super().__init__(scope, id_)
        self.key = KmsKey(
            self, "key", description=description, enable_key_rotation=True,
            deletion_window_in_days=KMS_DELETION_WINDOW_DAYS, lifecycle=prevent_destroy(protect),
        )
        KmsAlias(self, "alias", name=f"alias/haflow/{alias}", target_key_id=self.key.key_id)
        self.arn = self.key.arn
