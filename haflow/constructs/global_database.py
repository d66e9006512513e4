"""Aurora Global Database: the global cluster made from the primary cluster, and the secondary cluster.

The secondary cluster lives in the secondary region, encrypted with a key of that region. Pilot light
keeps it headless (storage replicated, no instance to pay for); warm standby adds readers, so a
promotion needs no instance to be created first.
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.html

The global cluster is created from the primary cluster by its ARN (``source_db_cluster_identifier``):
a literal, so the stack holding this construct reads nothing from the primary region at plan time.

``force_destroy`` is required with ``source_db_cluster_identifier`` (the provider's schema: RequiredWith) and
is false: true lets the provider detach every member, the primary cluster this stack does not manage
included (``RemoveFromGlobalCluster``), when the global cluster is destroyed or replaced, which silently
ends replication to the secondary region. False leaves ``DeleteGlobalCluster`` to refuse while members
remain ("The primary and secondary clusters must already be detached or destroyed first",
https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteGlobalCluster.html): taking the global
database apart is a deliberate step of its own (docs/terraform-gate.md).
"""

from __future__ import annotations

from cdktf import Token
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_global_cluster import RdsGlobalCluster
from constructs import Construct

from haflow.config.database import Database as DatabaseConfig
from haflow.constructs.database import (
    ENGINE,
    MINOR_UPGRADES_OWN_THE_VERSION,
    aurora_instances,
    exported_log_groups,
    tls_parameter_group,
)
from haflow.constructs.kms import EncryptionKey, prevent_destroy
from haflow.constructs.security_group import admit_only_eks
from haflow.contract import POSTGRES_PORT


def global_cluster_identifier(environment: str) -> str:
    return f"{environment}-global"


class GlobalDatabase(Construct):
    """The global cluster (from ``primary_cluster_arn``) and its secondary cluster in this stack's region."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        name: str,
        primary_cluster_arn: str,
        config: DatabaseConfig,
        instances: int,
        availability_zones: list[str],
        vpc_id: str,
        subnet_group_name: str,
        client_security_group_id: str,
        log_kms_key_arn: str,
    ) -> None:
        """``name`` prefixes the secondary's resources (the environment's secondary name, e.g. prod-dr);
        ``instances`` 0 keeps the secondary headless; instance i goes to ``availability_zones[i]``;
        ``log_kms_key_arn`` encrypts the exported logs' groups (a key of this region CloudWatch Logs may use)."""
        super().__init__(scope, id_)
        protect = config.protect_from_destroy
        self.global_cluster = RdsGlobalCluster(
            self, "global-cluster", global_cluster_identifier=global_cluster_identifier(environment),
            source_db_cluster_identifier=primary_cluster_arn, force_destroy=False,
            deletion_protection=config.deletion_protection, lifecycle=prevent_destroy(protect),
        )
        self.key = EncryptionKey(
            self, "key", alias=f"{name}/aurora", protect=protect,
            description=f"Aurora storage and Performance Insights of the {name} secondary cluster",
        )
        self.security_group = admit_only_eks(
            self, name=f"{name}-aurora", description=f"Aurora PostgreSQL of {name}: PostgreSQL from the EKS nodes only",
            service="PostgreSQL", vpc_id=vpc_id, port=POSTGRES_PORT, client_security_group_id=client_security_group_id,
        )
        parameter_group = tls_parameter_group(self, name=name, engine_major=config.engine_major)
        self.log_groups = exported_log_groups(
            self, cluster_identifier=f"{name}-aurora", config=config, kms_key_arn=log_kms_key_arn,
        )
        # A secondary cluster takes no master user or database name: both come with the replicated storage.
        self.cluster = RdsCluster(
            self, "cluster", cluster_identifier=f"{name}-aurora", engine=ENGINE, engine_version=config.engine_version,
            global_cluster_identifier=self.global_cluster.id, port=POSTGRES_PORT,
            db_subnet_group_name=subnet_group_name, vpc_security_group_ids=[self.security_group.id],
            db_cluster_parameter_group_name=parameter_group.name,
            storage_encrypted=True, kms_key_id=self.key.arn,
            backup_retention_period=config.backup_retention_days,
            preferred_backup_window=config.preferred_backup_window,
            preferred_maintenance_window=config.preferred_maintenance_window,
            copy_tags_to_snapshot=True, deletion_protection=config.deletion_protection,
            skip_final_snapshot=not config.final_snapshot,
            final_snapshot_identifier=f"{name}-aurora-final" if config.final_snapshot else None,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=list(config.log_exports),
            depends_on=list(self.log_groups) or None,
            # AWS sets the replication source of a secondary itself:
            # https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/rds_global_cluster
            # After an unplanned failover that detaches this cluster (RemoveFromGlobalCluster), its membership is
            # empty; the provider cannot add an existing cluster back to a global cluster ("existing RDS Clusters
            # cannot be added to an existing RDS Global Cluster"), so the membership is set at creation only
            # (docs/dr-plans-after-failover.md); the minor version belongs to AWS's automatic minor upgrades.
            lifecycle={"prevent_destroy": protect,
                       "ignore_changes": ["replication_source_identifier", "global_cluster_identifier",
                                          *MINOR_UPGRADES_OWN_THE_VERSION]},
        )
        # The monitoring role exists in pilot light too: adding instances at failover (dr.mode: warm_standby)
        # then creates no IAM resource, which could not be created while us-east-1 is down.
        self.instances = aurora_instances(
            self, name=name, cluster=self.cluster, config=config, availability_zones=availability_zones[:instances],
            subnet_group_name=subnet_group_name, kms_key_arn=self.key.arn, monitoring_role_when_headless=True,
        )
        self.endpoint = self.cluster.endpoint
        self.reader_endpoint = self.cluster.reader_endpoint
        self.port = Token.as_string(self.cluster.port)
