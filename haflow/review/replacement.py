"""Which resources hold data, and which of their attributes force Terraform to replace them.

Replacement-forcing ("ForceNew") attributes per type, from the AWS provider's resource docs
(https://registry.terraform.io/providers/hashicorp/aws/latest/docs, "Argument Reference"; an argument
whose change forces a new resource). A change to any of them destroys the resource and creates a
new one: for a stateful resource, its data goes with the old one unless it is restored.
Nested attributes are matched on their top-level argument (``s3_import.bucket_name`` -> ``s3_import``).
"""

from __future__ import annotations

REPLACEMENT_ATTRIBUTES: dict[str, frozenset[str]] = {
    "aws_rds_cluster": frozenset({
        "cluster_identifier", "cluster_identifier_prefix", "engine", "engine_mode", "database_name",
        "master_username", "availability_zones", "storage_encrypted", "kms_key_id", "db_subnet_group_name",
        "snapshot_identifier", "source_region", "s3_import", "restore_to_point_in_time",
    }),
    "aws_rds_cluster_instance": frozenset({
        "identifier", "identifier_prefix", "cluster_identifier", "engine", "availability_zone",
        "db_subnet_group_name",
    }),
    "aws_db_instance": frozenset({
        "identifier", "identifier_prefix", "availability_zone", "db_name", "username", "storage_encrypted",
        "kms_key_id", "snapshot_identifier", "character_set_name", "timezone", "restore_to_point_in_time",
        "s3_import",
    }),
    "aws_elasticache_replication_group": frozenset({
        "replication_group_id", "at_rest_encryption_enabled", "kms_key_id", "subnet_group_name",
        "snapshot_arns", "snapshot_name", "port", "network_type", "global_replication_group_id",
    }),
    "aws_elasticache_cluster": frozenset({
        "cluster_id", "engine", "port", "subnet_group_name", "availability_zone", "snapshot_arns",
        "snapshot_name",
    }),
    "aws_s3_bucket": frozenset({"bucket", "bucket_prefix", "object_lock_enabled"}),
    "aws_kms_key": frozenset({"customer_master_key_spec", "key_usage", "multi_region", "custom_key_store_id",
                              "xks_key_id"}),
    "aws_secretsmanager_secret": frozenset({"name", "name_prefix"}),
    "aws_efs_file_system": frozenset({"creation_token", "encrypted", "kms_key_id", "performance_mode",
                                      "availability_zone_name"}),
    "aws_ebs_volume": frozenset({"availability_zone", "encrypted", "kms_key_id", "snapshot_id"}),
    "aws_dynamodb_table": frozenset({"name"}),
    "aws_cloudwatch_log_group": frozenset({"name", "name_prefix"}),
    "kubernetes_persistent_volume_claim_v1": frozenset({"metadata", "spec"}),
    "kubernetes_persistent_volume_claim": frozenset({"metadata", "spec"}),
}

# Resources whose destruction loses data (or, for keys and secrets, the means to read it).
STATEFUL_TYPES: frozenset[str] = frozenset(REPLACEMENT_ATTRIBUTES) | frozenset({
    "aws_db_snapshot", "aws_db_cluster_snapshot", "aws_efs_access_point", "aws_backup_vault",
})

# Metadata and tag changes never touch data (tags are updated in place).
NEUTRAL_ATTRIBUTES = frozenset({"//", "tags", "tags_all", "depends_on", "provider"})


def is_stateful(rtype: str) -> bool:
    return rtype in STATEFUL_TYPES


def forces_replacement(rtype: str, path: str) -> bool:
    return top_level(path) in REPLACEMENT_ATTRIBUTES.get(rtype, frozenset())


def top_level(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]
