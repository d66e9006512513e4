"""S3 Cross-Region Replication of the artifacts bucket, with Replication Time Control.

Two halves, one per stack:

- ``ReplicaBucket`` (the DR foundation, secondary region): a versioned, SSE-KMS, private, TLS-only
  bucket with a key of its own region.
- ``ArtifactsReplication`` (the primary foundation): the replication role and configuration of the
  source bucket. It names the destination by bucket name and key alias, literals both stacks derive
  from the environment, so neither stack reads the other's state.

Replication Time Control replicates 99.99% of new objects within 15 minutes and publishes metrics:
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html

Delete markers are not replicated by default (``dr.replicate_delete_markers``): a delete in the primary,
by mistake or by an attacker with the workload's credentials, leaves the object readable in the
secondary, at the price of objects deleted on purpose staying there until the replica's noncurrent-
version lifecycle removes them. Deletes of a specific version are never replicated (S3 does not).
https://docs.aws.amazon.com/AmazonS3/latest/userguide/delete-marker-replication.html
"""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleDestinationMetrics,
    S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold,
    S3BucketReplicationConfigurationRuleDestinationReplicationTime,
    S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from constructs import Construct

from haflow.config.artifacts import Artifacts as ArtifactsConfig
from haflow.constructs.artifacts import Artifacts
from haflow.constructs.bucket import (
    AccessLogBucket,
    abort_incomplete_multipart_uploads,
    expire_noncurrent_versions,
    secure_bucket,
)
from haflow.constructs.iam import assume_role_policy, policy_document
from haflow.constructs.kms import EncryptionKey

# RTC's threshold is 15 minutes, the only value S3 accepts.
RTC_MINUTES = 15
# What a replication role needs, and nothing more:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
SOURCE_BUCKET_ACTIONS = ("s3:GetReplicationConfiguration", "s3:ListBucket")
SOURCE_OBJECT_ACTIONS = ("s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging")
DESTINATION_OBJECT_ACTIONS = ("s3:ReplicateObject", "s3:ReplicateTags")
DELETE_MARKER_ACTION = "s3:ReplicateDelete"
REPLICA_KEY_ACTIONS = ("kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt")


def replica_bucket_name(source_bucket: str, region: str) -> str:
    """The replica's name, derived from the source's (both stacks compute it the same way)."""
    return f"{source_bucket}-{region}"[:63].rstrip("-.")


def replica_key_alias(secondary_name: str) -> str:
    return f"{secondary_name}/artifacts"


class ReplicaBucket(Construct):
    """The destination of the artifacts' replication, in this stack's (the secondary) region."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, bucket_name: str, config: ArtifactsConfig,
        access_log_bucket: AccessLogBucket,
    ) -> None:
        """``name`` is the secondary's name (e.g. prod-dr): the key's alias is ``haflow/<name>/artifacts``."""
        super().__init__(scope, id_)
        protect = config.protect_from_destroy
        self.key = EncryptionKey(
            self, "key", alias=replica_key_alias(name), protect=protect,
            description=f"Encrypts s3://{bucket_name}, the replica of the artifacts",
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


def rtc_rule(
    rule_id: str, *, priority: int, prefix: str, destination_arn: str, replica_key: str,
    replicate_delete_markers: bool,
) -> S3BucketReplicationConfigurationRule:
    """A replication rule for SSE-KMS objects under ``prefix``, re-encrypted with ``replica_key`` in the
    destination, with Replication Time Control and its metrics at 15 minutes."""
    return S3BucketReplicationConfigurationRule(
        id=rule_id, status="Enabled", priority=priority,
        filter=S3BucketReplicationConfigurationRuleFilter(prefix=prefix),
        delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
            status="Enabled" if replicate_delete_markers else "Disabled"
        ),
        source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
            sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                status="Enabled"
            )
        ),
        destination=S3BucketReplicationConfigurationRuleDestination(
            bucket=destination_arn, storage_class="STANDARD",
            encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                replica_kms_key_id=replica_key
            ),
            replication_time=S3BucketReplicationConfigurationRuleDestinationReplicationTime(
                status="Enabled",
                time=S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime(minutes=RTC_MINUTES),
            ),
            metrics=S3BucketReplicationConfigurationRuleDestinationMetrics(
                status="Enabled",
                event_threshold=S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold(minutes=RTC_MINUTES),
            ),
        ),
    )


def s3_encryption_context(bucket_arn: str) -> list[str]:
    """The values KMS sees as ``aws:s3:arn`` for objects of ``bucket_arn``: the bucket's ARN when S3 Bucket
    Keys are on (every haflow bucket), the object's ARN for an object written without one.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html (S3 Bucket
    Keys and replication: "the encryption context will be the bucket ARN, not the object ARN")"""
    return [bucket_arn, f"{bucket_arn}/*"]


def read_for_replication(source_bucket_arn: str, source_key_arn: str, source_region: str) -> list[dict[str, Any]]:
    """The replication role's statements on the source side: its configuration and object versions, and
    decrypting them only through S3 on the source bucket's objects."""
    return [
        {"Effect": "Allow", "Action": list(SOURCE_BUCKET_ACTIONS), "Resource": source_bucket_arn},
        {"Effect": "Allow", "Action": list(SOURCE_OBJECT_ACTIONS), "Resource": f"{source_bucket_arn}/*"},
        {
            "Effect": "Allow", "Action": "kms:Decrypt", "Resource": source_key_arn,
            "Condition": {"StringLike": {"kms:ViaService": f"s3.{source_region}.amazonaws.com",
                                         "kms:EncryptionContext:aws:s3:arn": s3_encryption_context(source_bucket_arn)}},
        },
    ]


def write_replicas(destination_bucket_arn: str, key_resource: str, destination_region: str) -> dict[str, Any]:
    """The replication role's statement on the replica key: encrypt replicas only through S3 in the
    destination region and for the destination bucket. With S3 Bucket Keys on the replica bucket, S3 also
    decrypts the bucket-level key it made with GenerateDataKey when it reuses it (kms:Decrypt)."""
    return {
        "Effect": "Allow", "Action": list(REPLICA_KEY_ACTIONS), "Resource": key_resource,
        "Condition": {"StringLike": {
            "kms:ViaService": f"s3.{destination_region}.amazonaws.com",
            "kms:EncryptionContext:aws:s3:arn": s3_encryption_context(destination_bucket_arn),
        }},
    }


class ArtifactsReplication(Construct):
    """Replicate every object of ``source`` to the replica bucket in ``destination_region`` with RTC."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, source: Artifacts, source_region: str, destination_region: str,
        destination_bucket: str, destination_key_alias: str, replicate_delete_markers: bool,
        partition: str, account_id: str,
    ) -> None:
        """``destination_key_alias`` (without ``alias/``) names the replica's key in its region."""
        super().__init__(scope, id_)
        destination_arn = f"arn:{partition}:s3:::{destination_bucket}"
        alias_arn = f"arn:{partition}:kms:{destination_region}:{account_id}:alias/haflow/{destination_key_alias}"
        self.role = IamRole(
            self, "role", name=f"{name}-artifacts-replication",
            assume_role_policy=assume_role_policy("s3.amazonaws.com"),
            description=f"S3 replicates s3://{source.bucket.bucket} to {destination_bucket}",
        )
        destination_actions = [*DESTINATION_OBJECT_ACTIONS]
        if replicate_delete_markers:
            destination_actions.append(DELETE_MARKER_ACTION)
        source_statements = read_for_replication(source.bucket_arn, source.key.arn, source_region)
        # Encrypt replicas with the key the replica's alias names (its key ARN is the DR stack's).
        replica = write_replicas(destination_arn, f"arn:{partition}:kms:{destination_region}:{account_id}:key/*",
                                 destination_region)
        replica["Condition"]["ForAnyValue:StringEquals"] = {
            "kms:ResourceAliases": f"alias/haflow/{destination_key_alias}"}
        statements: list[dict[str, Any]] = [
            *source_statements[:2],
            {"Effect": "Allow", "Action": destination_actions, "Resource": f"{destination_arn}/*"},
            source_statements[2],
            replica,
        ]
        IamRolePolicy(self, "policy", name="replicate-artifacts", role=self.role.id,
                      policy=policy_document(*statements))
        # What S3's replication metrics are dimensioned by (SourceBucket, DestinationBucket, RuleId).
        self.source_bucket_name = source.bucket_name
        self.destination_bucket_name = destination_bucket
        self.rule_id = f"artifacts-to-{destination_region}"
        self.configuration = S3BucketReplicationConfigurationA(
            self, "configuration", bucket=source.bucket.id, role=self.role.arn,
            rule=[rtc_rule(self.rule_id, priority=1, prefix="",
                           destination_arn=destination_arn, replica_key=alias_arn,
                           replicate_delete_markers=replicate_delete_markers)],
            # S3 refuses a replication configuration on a bucket whose versioning is not on yet.
            depends_on=[source.node.find_child("versioning")],
        )
