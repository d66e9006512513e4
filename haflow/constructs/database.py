"""Aurora PostgreSQL: a writer and readers pinned to different AZs, for Prefect's database.

Failover promotes a reader (lowest promotion tier first), typically within 30-60 s, and the cluster
endpoint follows the new writer:
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html
"""

from __future__ import annotations

from typing import Any

from cdktf import Fn, TerraformLocal, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import DataAwsSecretsmanagerRandomPassword
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret, SecretsmanagerSecretReplica
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from haflow.config.database import Database as DatabaseConfig
from haflow.constructs.iam import assume_role_policy
from haflow.constructs.irsa import GrantableRole
from haflow.constructs.kms import EncryptionKey, prevent_destroy
from haflow.constructs.security_group import admit_only_eks
from haflow.contract import POSTGRES_PORT

ENGINE = "aurora-postgresql"
# engine_version pins the minor a cluster is created with; auto_minor_version_upgrade (on, for security
# fixes) then moves it on in a maintenance window, and a plan holding the old minor would be a downgrade,
# which RDS refuses. The provider's engine_version takes "MAJOR.MINOR" for Aurora PostgreSQL (a bare major
# such as "16" is not an Aurora version; engine_version_actual reports what runs), so the version is left to
# AWS after creation: https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/rds_cluster
MINOR_UPGRADES_OWN_THE_VERSION = ("engine_version",)
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
# A cluster in an Aurora global database cannot have its master password managed by Secrets Manager
# (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html#rds-secrets-manager-limitations):
# haflow then generates it into a secret of its own, replicated to the secondary region, and passes
# it to RDS as a write-only argument (never stored in the cluster's state; Terraform >= 1.11).
MASTER_PASSWORD_LENGTH = 40
MASTER_PASSWORD_VERSION = 1
SECRET_RECOVERY_WINDOW_DAYS = 30


def master_secret_name(name: str) -> str:
    """Name of the master-user secret of a global database (the same in every region it is replicated to)."""
    return f"haflow/{name}/aurora-master"


def tls_parameter_group(scope: Construct, *, name: str, engine_major: int) -> RdsClusterParameterGroup:
    """The cluster parameter group every haflow Aurora cluster uses: TLS only, DDL and slow queries logged."""
    return RdsClusterParameterGroup(
        scope, "parameter-group", name=f"{name}-aurora-postgresql{engine_major}",
        family=f"aurora-postgresql{engine_major}", description=f"{name}: TLS-only connections",
        parameter=[
            RdsClusterParameterGroupParameter(name=FORCE_SSL_PARAMETER, value="1"),
            *(RdsClusterParameterGroupParameter(name=key, value=value) for key, value in QUERY_LOGGING.items()),
        ],
    )

def exported_log_groups(
    scope: Construct, *, cluster_identifier: str, config: DatabaseConfig, kms_key_arn: str
) -> list[CloudwatchLogGroup]:
    """The log groups of ``config.log_exports``, created before the cluster exports to them.

    RDS would create them itself on first export, unencrypted and kept forever; creating them first sets
    the key and the retention. https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.CloudWatch.html
    """
    return [
        CloudwatchLogGroup(
            scope, f"log-group-{export}", name=f"/aws/rds/cluster/{cluster_identifier}/{export}",
            retention_in_days=config.log_retention_days, kms_key_id=kms_key_arn,
        )
        for export in config.log_exports
    ]


def aurora_instances(
    scope: Construct, *, name: str, cluster: RdsCluster, config: DatabaseConfig, availability_zones: list[str],
    subnet_group_name: str, kms_key_arn: str, monitoring_role_when_headless: bool = False,
) -> dict[str, RdsClusterInstance]:
    """One instance of ``cluster`` per AZ in ``availability_zones`` (instance i gets promotion tier i), with
    Enhanced Monitoring: OS metrics of each instance, for diagnosing a failover or a slow writer.
    https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Monitoring.OS.Enabling.html
    No AZ, no instance and no monitoring role (a headless secondary cluster), unless
    ``monitoring_role_when_headless``: a secondary given instances during a failover then needs no new IAM
    role, whose API is served from us-east-1 (docs/dr-plans-after-failover.md)."""
    if not availability_zones and not monitoring_role_when_headless:
        return {}
    protect = config.protect_from_destroy
    monitoring_role = IamRole(
        scope, "monitoring-role", name=f"{name}-rds-monitoring",
        assume_role_policy=assume_role_policy("monitoring.rds.amazonaws.com"),
    )
    IamRolePolicyAttachment(
        scope, "monitoring-role-policy", role=monitoring_role.name,
        policy_arn=f"arn:{DataAwsPartition(scope, 'partition').partition}:iam::aws:policy/{MONITORING_POLICY}",
    )
    return {
        az: RdsClusterInstance(
            scope, f"instance-{az}", identifier=f"{name}-aurora-{az}", cluster_identifier=cluster.id,
            engine=ENGINE, engine_version=cluster.engine_version, instance_class=config.instance_class,
            availability_zone=az, promotion_tier=config.tier_of(index),
            db_subnet_group_name=subnet_group_name, publicly_accessible=False,
            auto_minor_version_upgrade=True, copy_tags_to_snapshot=True,
            performance_insights_enabled=True, performance_insights_kms_key_id=kms_key_arn,
            performance_insights_retention_period=config.performance_insights_retention_days,
            monitoring_interval=MONITORING_INTERVAL_SECONDS, monitoring_role_arn=monitoring_role.arn,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=protect,
                                                 ignore_changes=list(MINOR_UPGRADES_OWN_THE_VERSION)),
        )
        for index, az in enumerate(availability_zones)
    }



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
        replica_region: str | None = None,
    ) -> None:
        """Instance i goes to ``availability_zones[i]``; only ``client_security_group_id`` may connect.

        ``log_kms_key_arn`` encrypts the exported logs' groups (a key CloudWatch Logs may use).
        ``replica_region`` left out: RDS manages the master password. Given (the environment has a
        secondary region), the cluster is ready to be the primary of an Aurora global database: its
        master password lives in a secret replicated to ``replica_region``.
        """
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
        parameter_group = tls_parameter_group(self, name=name, engine_major=config.engine_major)
        cluster_identifier = f"{name}-aurora"
        self.log_groups = exported_log_groups(
            self, cluster_identifier=cluster_identifier, config=config, kms_key_arn=log_kms_key_arn,
        )
        self.cluster = RdsCluster(
            self, "cluster", cluster_identifier=cluster_identifier, engine=ENGINE, engine_version=config.engine_version,
            database_name=config.database_name, master_username=config.master_username,
            **self._master_password(name, config, protect, replica_region),
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
            depends_on=list(self.log_groups) or None,
            # A global cluster made from this one (haflow.constructs.global_database) sets the membership, and
            # after a switchover (or a managed failover) this cluster is a secondary whose replication source AWS
            # sets: left unignored, the next apply would remove it, which the provider does with
            # PromoteReadReplicaDBCluster (docs/dr-plans-after-failover.md). engine_version: AWS's automatic minor
            # upgrades move the cluster past the pinned minor (see MINOR_UPGRADES_OWN_THE_VERSION).
            lifecycle=TerraformResourceLifecycle(
                prevent_destroy=protect,
                ignore_changes=[*MINOR_UPGRADES_OWN_THE_VERSION,
                                *(["global_cluster_identifier", "replication_source_identifier"]
                                  if replica_region else [])],
            ),
        )
        self.instances = aurora_instances(
            self, name=name, cluster=self.cluster, config=config,
            availability_zones=availability_zones[: config.instances], subnet_group_name=subnet_group_name,
            kms_key_arn=self.key.arn,
        )

        self.endpoint = self.cluster.endpoint
        self.reader_endpoint = self.cluster.reader_endpoint
        self.port = Token.as_string(self.cluster.port)
        self.database_name = config.database_name
        self.master_username = config.master_username
        # The secret RDS creates and rotates for manage_master_user_password, or haflow's own for a global
        # database; the same JSON either way (username, password).
        self.secret_arn = (
            self.master_secret.arn if self.master_secret else self.cluster.master_user_secret.get(0).secret_arn
        )

    def _master_password(
        self, name: str, config: DatabaseConfig, protect: bool, replica_region: str | None
    ) -> dict[str, Any]:
        """Cluster arguments for the master password: managed by RDS, or generated into a replicated secret."""
        self.master_secret: SecretsmanagerSecret | None = None
        if replica_region is None:
            return {"manage_master_user_password": True, "master_user_secret_kms_key_id": self.key.arn}
        # The replica in the secondary region uses that region's aws/secretsmanager key: the secondary's
        # own keys live in the DR stacks, which are deployed after this one.
        self.master_secret = SecretsmanagerSecret(
            self, "master-secret", name=master_secret_name(name), kms_key_id=self.key.arn,
            description=f"Master user of the {name} Aurora global database (replicated to {replica_region})",
            replica=[SecretsmanagerSecretReplica(region=replica_region)],
            recovery_window_in_days=SECRET_RECOVERY_WINDOW_DAYS if protect else 0,
            lifecycle=prevent_destroy(protect),
        )
        generated = DataAwsSecretsmanagerRandomPassword(
            self, "master-password-generator", password_length=MASTER_PASSWORD_LENGTH, exclude_punctuation=True,
            include_space=False,
        )
        # The version keeps the first password (the data source yields a new one on every plan).
        # A local keeps the secret's JSON a plain reference in secret_string.
        document = TerraformLocal(
            self, "master-secret-document",
            Fn.jsonencode({"username": config.master_username, "password": generated.random_password}),
        )
        version = SecretsmanagerSecretVersion(
            self, "master-secret-version", secret_id=self.master_secret.id, secret_string=document.as_string,
            lifecycle={"ignore_changes": ["secret_string"]},
        )
        return {
            "master_password_wo": Fn.lookup(Fn.jsondecode(version.secret_string), "password"),
            "master_password_wo_version": MASTER_PASSWORD_VERSION,
        }

    def grant_read_master_secret(self, grantee: GrantableRole) -> None:
        """Read the master user secret (and decrypt it through Secrets Manager only)."""
        grantee.attach_policy(
            "aurora-secret-read",
            {"Effect": "Allow", "Action": list(SECRET_READ_ACTIONS), "Resource": self.secret_arn},
            {
                "Effect": "Allow", "Action": "kms:Decrypt", "Resource": self.key.arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{self.region}.amazonaws.com"}},
            },
        )
