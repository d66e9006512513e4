"""Aurora PostgreSQL: a writer and readers pinned to different AZs, for Prefect's database.

Failover promotes a reader (lowest promotion tier first), typically within 30-60 s, and the cluster
endpoint follows the new writer:
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html
"""

from __future__ import annotations

from cdktf import Token
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from constructs import Construct

from haflow.config.foundation import Database as DatabaseConfig
from haflow.constructs.iam import assume_role_policy
from haflow.constructs.irsa import ServiceAccountRole
from haflow.constructs.kms import EncryptionKey, prevent_destroy
from haflow.constructs.security_group import admit_only_eks

ENGINE = "aurora-postgresql"
POSTGRES_PORT = 5432
# rds.force_ssl = 1 refuses unencrypted connections:
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Security.html#AuroraPostgreSQL.Security.SSL.RequiringSSL
FORCE_SSL_PARAMETER = "rds.force_ssl"
# Log DDL and any statement slower than a second: an audit trail of schema changes and the slow
# queries behind a struggling writer, without logging every query's data.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_LogAccess.Concepts.PostgreSQL.html
QUERY_LOGGING = {"log_statement": "ddl", "log_min_duration_statement": "1000"}
# Enhanced Monitoring granularity (allowed: 0, 1, 5, 10, 15, 30, 60 s) and the AWS-managed policy its role needs.
MONITORING_INTERVAL_SECONDS = 60
MONITORING_POLICY = "service-role/AmazonRDSEnhancedMonitoringRole"
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")


class Database(Construct):
    """The Aurora cluster, its instances (one per AZ), a TLS-only parameter group and a security group."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        region: str,
        availability_zones: list[str],
        config: DatabaseConfig,
        vpc_id: str,
        subnet_group_name: str,
        client_security_group_id: str,
        log_kms_key_arn: str,
    ) -> None:
        """Instance i goes to ``availability_zones[i]``; only ``client_security_group_id`` may connect.
        ``log_kms_key_arn`` encrypts the exported logs' groups (a key CloudWatch Logs may use)."""
        super().__init__(scope, id_)
        self.region = region
        protect = config.protect_from_destroy
        self.key = EncryptionKey(
            self, "key", alias=f"{name}/aurora", protect=protect,
            description=f"Aurora storage, Performance Insights and master secret of {name}",
        )
        self.security_group = admit_only_eks(
            self, name=f"{name}-aurora",
            description=f"Aurora PostgreSQL of {name}: PostgreSQL from the EKS nodes only",
            service="PostgreSQL", vpc_id=vpc_id, port=POSTGRES_PORT,
            client_security_group_id=client_security_group_id,
        )
        parameter_group = RdsClusterParameterGroup(
            self, "parameter-group", name=f"{name}-aurora-postgresql{config.engine_major}",
            family=f"aurora-postgresql{config.engine_major}", description=f"{name}: TLS-only connections",
            parameter=[
                RdsClusterParameterGroupParameter(name=FORCE_SSL_PARAMETER, value="1"),
                *(RdsClusterParameterGroupParameter(name=key, value=value) for key, value in QUERY_LOGGING.items()),
            ],
        )
        # Enhanced Monitoring: OS metrics of each instance, for diagnosing a failover or a slow writer.
        # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Monitoring.OS.Enabling.html
        monitoring_role = IamRole(
            self, "monitoring-role", name=f"{name}-rds-monitoring",
            assume_role_policy=assume_role_policy("monitoring.rds.amazonaws.com"),
        )
        IamRolePolicyAttachment(
            self, "monitoring-role-policy", role=monitoring_role.name,
            policy_arn=f"arn:{DataAwsPartition(self, 'partition').partition}:iam::aws:policy/{MONITORING_POLICY}",
        )
        cluster_identifier = f"{name}-aurora"
        # RDS would create these groups itself on first export, unencrypted and kept forever; creating them
        # first sets the key and the retention. https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.CloudWatch.html
        self.log_groups = [
            CloudwatchLogGroup(
                self, f"log-group-{export}", name=f"/aws/rds/cluster/{cluster_identifier}/{export}",
                retention_in_days=config.log_retention_days, kms_key_id=log_kms_key_arn,
            )
            for export in config.log_exports
        ]
        self.cluster = RdsCluster(
            self, "cluster", cluster_identifier=cluster_identifier, engine=ENGINE, engine_version=config.engine_version,
            database_name=config.database_name, master_username=config.master_username,
            manage_master_user_password=True, master_user_secret_kms_key_id=self.key.arn,
            port=POSTGRES_PORT, db_subnet_group_name=subnet_group_name,
            vpc_security_group_ids=[self.security_group.id],
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
            lifecycle=prevent_destroy(protect),
            depends_on=list(self.log_groups) or None,
        )
        self.instances: dict[str, RdsClusterInstance] = {}
        for index, az in enumerate(availability_zones[: config.instances]):
            self.instances[az] = RdsClusterInstance(
                self, f"instance-{az}", identifier=f"{name}-aurora-{az}", cluster_identifier=self.cluster.id,
                engine=ENGINE, engine_version=self.cluster.engine_version, instance_class=config.instance_class,
                availability_zone=az, promotion_tier=config.tier_of(index),
                db_subnet_group_name=subnet_group_name, publicly_accessible=False,
                auto_minor_version_upgrade=True, copy_tags_to_snapshot=True,
                performance_insights_enabled=True, performance_insights_kms_key_id=self.key.arn,
                performance_insights_retention_period=config.performance_insights_retention_days,
                monitoring_interval=MONITORING_INTERVAL_SECONDS, monitoring_role_arn=monitoring_role.arn,
                lifecycle=prevent_destroy(protect),
            )

        self.endpoint = self.cluster.endpoint
        self.reader_endpoint = self.cluster.reader_endpoint
        self.port = Token.as_string(self.cluster.port)
        self.database_name = config.database_name
        self.master_username = config.master_username
        # The secret RDS creates and rotates for manage_master_user_password (JSON: username, password).
        self.secret_arn = self.cluster.master_user_secret.get(0).secret_arn

    def grant_read_master_secret(self, grantee: ServiceAccountRole) -> None:
        """Read the master user secret (and decrypt it through Secrets Manager only)."""
        grantee.attach_policy(
            "aurora-secret-read",
            {"Effect": "Allow", "Action": list(SECRET_READ_ACTIONS), "Resource": self.secret_arn},
            {
                "Effect": "Allow", "Action": "kms:Decrypt", "Resource": self.key.arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{self.region}.amazonaws.com"}},
            },
        )
