"""StateBucket: where Terraform state lives. Versioned (recover an overwritten state), KMS-encrypted,
never public, TLS only, access-logged, and never destroyed by Terraform. StateReplication: the primary
stacks' state of an environment with DR, copied into its DR state bucket in the secondary region."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import S3BucketReplicationConfigurationA
from constructs import Construct

from haflow.constructs.bucket import (
    AccessLogBucket,
    abort_incomplete_multipart_uploads,
    expire_old_state_versions,
    secure_bucket,
)
from haflow.constructs.iam import assume_role_policy, policy_document
from haflow.constructs.kms import KMS_DELETION_WINDOW_DAYS, key_policy, s3_log_delivery_use
from haflow.constructs.replication import (
    DELETE_MARKER_ACTION,
    DESTINATION_OBJECT_ACTIONS,
    read_for_replication,
    rtc_rule,
    write_replicas,
)

# Incomplete multipart uploads of state are debris after a crashed apply; a week is plenty to resume.
ABORT_INCOMPLETE_UPLOAD_DAYS = 7
# Noncurrent versions (state history and .tflock debris alike) expire this many days after they became
# noncurrent: a month to notice a bad apply and roll the state back...
NONCURRENT_STATE_DAYS = 30
# ...except each key's newest this-many noncurrent versions, kept forever: the last states before the current
# one survive however long an environment goes without an apply. Lock files keep as many tiny versions too.
KEEP_NONCURRENT_STATE_VERSIONS = 10


class StateBucket(Construct):
    """The state bucket, its KMS key (named by ``key_alias``, which the environments' S3 backend uses) and
    the bucket receiving its access logs (``<name>-access-logs``)."""

    def __init__(
        self, scope: Construct, id_: str, *, bucket_name: str, key_alias: str, provider: TerraformProvider,
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
        self.bucket = bucket = secure_bucket(
            self, bucket_name=bucket_name, kms_key_arn=key.arn, protect=True, provider=provider,
            lifecycle_rules=[abort_incomplete_multipart_uploads(ABORT_INCOMPLETE_UPLOAD_DAYS),
                             expire_old_state_versions(NONCURRENT_STATE_DAYS, KEEP_NONCURRENT_STATE_VERSIONS)],
            access_log_bucket=access_logs,
        )
        self.bucket_arn = bucket.arn
        self.key = key
        self.provider = provider
        # replication needs versioning on at both ends before S3 accepts its configuration
        self.versioning = cast(ITerraformDependable, self.node.find_child("versioning"))


@dataclass(frozen=True)
class StateCopy:
    """State objects (by key) of ``source`` replicated to ``destination`` in ``destination_region``."""

    keys: tuple[str, ...]
    destination: StateBucket
    destination_region: str


class StateReplication(Construct):
    """Replicate the given state objects of ``source`` with Replication Time Control.

    One rule per state key (its prefix also covers the key's ``.tflock``). Delete markers are replicated:
    S3-native locking deletes the lock file at unlock, and a replica that kept it would look locked
    forever; a deleted state stays recoverable from the versions in both buckets.
    """

    def __init__(self, scope: Construct, id_: str, *, source: StateBucket, source_bucket: str,
                 source_region: str, copies: list[StateCopy]) -> None:
        super().__init__(scope, id_)
        provider = source.provider
        role = IamRole(
            self, "role", name=f"{source_bucket}-replication"[:64], provider=provider,
            assume_role_policy=assume_role_policy("s3.amazonaws.com"),
            description=f"S3 replicates Terraform state from s3://{source_bucket} to the DR regions",
        )
        statements = read_for_replication(source.bucket_arn, source.key.arn, source_region)
        for copy in copies:
            destination = copy.destination.bucket_arn
            statements += [
                {"Effect": "Allow", "Action": [*DESTINATION_OBJECT_ACTIONS, DELETE_MARKER_ACTION],
                 "Resource": f"{destination}/*"},
                write_replicas(destination, copy.destination.key.arn, copy.destination_region),
            ]
        IamRolePolicy(self, "policy", name="replicate-state", role=role.id, provider=provider,
                      policy=policy_document(*statements))
        rules = [
            rtc_rule(f"{key}-to-{copy.destination_region}", priority=priority, prefix=key,
                     destination_arn=copy.destination.bucket_arn, replica_key=copy.destination.key.arn,
                     replicate_delete_markers=True)
            for priority, (copy, key) in enumerate(
                ((copy, key) for copy in copies for key in copy.keys), start=1)
        ]
        S3BucketReplicationConfigurationA(
            self, "configuration", bucket=source.bucket.id, role=role.arn, rule=rules, provider=provider,
            depends_on=[source.versioning, *(copy.destination.versioning for copy in copies)],
        )
