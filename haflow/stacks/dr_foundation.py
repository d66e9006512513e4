"""<env>-dr-foundation: the AWS half of the secondary region (disaster recovery).

The same constructs as <env>-foundation (network, EKS with a node group per AZ, Redis, IRSA roles),
parameterized with the secondary region, plus the Aurora Global Database secondary, the artifacts'
replica and, when the environment names a hosted zone, Route 53 failover records.

It must be plannable and deployable while the primary region is down, so at plan time it reads
nothing that lives there: its state is in the secondary region's state bucket, its only provider is
the secondary region's, and everything it needs of the primary (the primary cluster's ARN, the names
of the master secret and of the replica bucket) is derived from the configuration.
"""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from haflow import contract
from haflow.config.model import Environment
from haflow.config.redis_acl import MODEL_API, PREFECT
from haflow.constructs.alarms import AuroraTarget, RegionAlarms
from haflow.constructs.alerting import AlertTopics, grant_read_receiver_secrets
from haflow.constructs.artifacts import (
    BUCKET_READ_ACTIONS,
    KMS_READ_ACTIONS,
    KMS_WRITE_ACTIONS,
    OBJECT_READ_ACTIONS,
    OBJECT_WRITE_ACTIONS,
)
from haflow.constructs.bucket import AccessLogBucket
from haflow.constructs.cache import Cache
from haflow.constructs.certificate import EdgeCertificate
from haflow.constructs.database import SECRET_READ_ACTIONS, master_secret_name
from haflow.constructs.deploy_runner import DeployRunner
from haflow.constructs.dns_failover import DnsFailoverRecords
from haflow.constructs.eks import Eks
from haflow.constructs.global_database import GlobalDatabase
from haflow.constructs.grafana import GrafanaAdminSecret
from haflow.constructs.irsa import ServiceAccountRole, secret_store_roles, workload_roles
from haflow.constructs.kms import EncryptionKey, cloudwatch_logs_use, key_policy, s3_log_delivery_use
from haflow.constructs.network import Network
from haflow.constructs.platform_inputs import PlatformInputs
from haflow.constructs.prefect_credentials import api_auth_secret_name, database_secret_name
from haflow.constructs.replication import ReplicaBucket
from haflow.stacks.backend import use_s3_backend
from haflow.stacks.dr_common import dr_state, replica_bucket, secondary_name, secondary_region
from haflow.stacks.foundation import default_tags


class DrFoundationStack(TerraformStack):
    """The secondary region's AWS resources; ``platform_inputs`` feed <env>-dr-platform."""

    def __init__(self, scope: Construct, *, env: Environment) -> None:
        stack_name = env.dr_foundation_stack_name
        super().__init__(scope, stack_name)
        self.env = env
        region = secondary_region(env)
        name = secondary_name(env)
        dr = env.dr
        use_s3_backend(self, dr_state(env), stack_name)
        AwsProvider(self, "aws", region=region,
                    default_tags=[{"tags": {**default_tags(env, stack_name),
                                             contract.TAG_REGION_ROLE: contract.REGION_ROLE_SECONDARY}}])

        account = DataAwsCallerIdentity(self, "account")
        partition = DataAwsPartition(self, "partition")
        self.partition = partition.partition
        self.account_id = account.account_id
        protect = env.artifacts.protect_from_destroy
        self.logs_key = EncryptionKey(
            self, "logs-key", alias=f"{name}/logs", protect=protect,
            description=f"Encrypts the CloudWatch Logs groups and S3 access logs of {name}",
            policy=key_policy(
                f"arn:{partition.partition}:iam::{account.account_id}:root",
                cloudwatch_logs_use(region, account.account_id, partition.partition),
                s3_log_delivery_use(account.account_id),
            ),
        )
        self.access_logs = AccessLogBucket(
            self, "access-logs", bucket_name=f"{replica_bucket(env)}-access-logs", kms_key_arn=self.logs_key.arn,
            account_id=account.account_id, protect=protect,
        )

        assert dr.network_cidr is not None  # validated: required unless dr.mode is none
        self.network = Network(
            self, "network", name=name, region=region, availability_zones=dr.availability_zones,
            config=env.network.model_copy(update={"cidr": dr.network_cidr}), kms_key_arn=self.logs_key.arn,
            account_id=account.account_id, partition=partition.partition,
        )
        node_floor = dr.secondary_nodes_per_az(env.eks.node_pool.min_size_per_az)
        node_pool = env.eks.node_pool.model_copy(update={
            "min_size_per_az": node_floor, "desired_size_per_az": node_floor,
            "max_size_per_az": max(env.eks.node_pool.max_size_per_az, node_floor),
        })
        self.eks = Eks(
            self, "eks", name=name, config=env.eks.model_copy(update={"node_pool": node_pool}),
            private_subnet_ids_by_az=self.network.private_subnets.ids_by_az, log_kms_key_arn=self.logs_key.arn,
        )
        # The primary's deploy path, in this region: a runner in this VPC, admitted to this cluster's API,
        # with rights on this region's state bucket only, so <env>-dr-platform deploys while the primary is down.
        self.deploy_runner = (
            DeployRunner(
                self, "deploy-runner", name=name, environment=env.name, stack_name=env.dr_platform_stack_name,
                config=env.eks.deploy_access, state=dr_state(env), region=region, account_id=account.account_id,
                partition=partition.partition, vpc_id=self.network.vpc_id,
                subnet_ids=self.network.private_subnets.ids, subnet_arns=self.network.private_subnets.arns,
                cluster_arn=self.eks.cluster.arn, cluster_security_group_id=self.eks.cluster_security_group_id,
                log_kms_key_arn=self.logs_key.arn, log_retention_days=env.eks.control_plane_log_retention_days,
            )
            if env.eks.deploy_access.mode == "runner" else None
        )
        if self.deploy_runner is not None:
            self.eks.grant_cluster_admin(self.deploy_runner.role_arn, entry_id="deploy-runner-access-entry",
                                         policy_id="deploy-runner-access-policy")
        self.database = GlobalDatabase(
            self, "global-database", environment=env.name, name=name,
            primary_cluster_arn=f"arn:{partition.partition}:rds:{env.region}:{account.account_id}:cluster:"
            f"{env.name}-aurora",
            config=env.database, instances=dr.secondary_database_instances(),
            availability_zones=dr.availability_zones, vpc_id=self.network.vpc_id,
            subnet_group_name=self.network.db_subnet_group_name,
            client_security_group_id=self.eks.cluster_security_group_id, log_kms_key_arn=self.logs_key.arn,
        )
        # A fresh Redis, not a Global Datastore: Prefect keeps messaging and leases there, not records,
        # and a Global Datastore's secondary is read-only until promoted, a second manual failover for
        # data Prefect rebuilds itself (see docs/disaster-recovery.md).
        self.cache = Cache(
            self, "cache", name=name, region=region, availability_zones=dr.availability_zones, config=env.cache,
            vpc_id=self.network.vpc_id, subnet_group_name=self.network.cache_subnet_group_name,
            client_security_group_id=self.eks.cluster_security_group_id,
        )
        self.replica = ReplicaBucket(
            self, "artifacts-replica", name=name, bucket_name=replica_bucket(env), config=env.artifacts,
            access_log_bucket=self.access_logs,
        )
        self.dns = (DnsFailoverRecords(self, "dns-failover", name=env.name, config=dr.dns, tls=env.ingress.tls.enabled)
                    if dr.dns else None)
        # This region's NLB needs a certificate of this region (ACM certificates are regional).
        tls = env.ingress.tls
        self.certificate = (
            EdgeCertificate(self, "ingress-certificate", name=name, domain_name=env.model_api.host,
                            hosted_zone_id=tls.hosted_zone_id)
            if tls.hosted_zone_id else None
        )

        # The secondary region's own topics: its alerts must arrive while the primary region is down.
        self.alerts = AlertTopics(
            self, "alerts", name=name, account_id=account.account_id, partition=partition.partition, protect=protect,
        )
        # This region's alarms to this region's topic. A headless secondary (pilot light) has no instance to
        # watch until it is promoted; its replication lag is watched either way.
        self.alarms = RegionAlarms(self, "alarms", name=name, topic_arn=self.alerts.topic_arn)
        if self.database.instances:
            self.alarms.watch_aurora(AuroraTarget(
                cluster_identifier=f"{name}-aurora",
                instance_identifiers=[f"{name}-aurora-{az}" for az in self.database.instances],
                instance_class=env.database.instance_class,
            ))
        self.alarms.watch_global_database_lag(f"{name}-aurora", env.slo.region_rpo_seconds)
        self.alarms.watch_redis(f"{name}-redis", env.cache.num_cache_clusters)
        self.alarms.watch_nat_gateways(self.network.nat_gateway_ids)
        self.grafana_admin = GrafanaAdminSecret(
            self, "grafana-admin", name=name, region=region, kms_key_arn=self.alerts.key.arn, protect=protect,
        )

        roles = self._service_account_roles(name)
        self.platform_inputs = PlatformInputs(
            region=region,
            vpc_id=self.network.vpc_id,
            vpc_cidr=self.network.cidr,
            cluster_name=self.eks.cluster_name,
            cluster_endpoint=self.eks.endpoint,
            cluster_certificate_authority_data=self.eks.certificate_authority_data,
            oidc_provider_arn=self.eks.oidc.provider_arn,
            prefect_flow_run_role_arn=roles["prefect-flow-run"].arn,
            model_api_role_arn=roles["model-api"].arn,
            cluster_autoscaler_role_arn=roles["cluster-autoscaler"].arn,
            fluent_bit_role_arn=roles["fluent-bit"].arn,
            external_secrets_role_arn=roles["external-secrets"].arn,
            alertmanager_role_arn=roles["alertmanager"].arn,
            prefect_secrets_role_arn=self.secret_store_roles["prefect"].arn,
            flow_run_secrets_role_arn=self.secret_store_roles["flow-runs"].arn,
            model_api_secrets_role_arn=self.secret_store_roles["model-api"].arn,
            monitoring_secrets_role_arn=self.secret_store_roles["monitoring"].arn,
            # The secondary cluster's own endpoints: they serve writes once it is promoted.
            database_endpoint=self.database.endpoint,
            database_reader_endpoint=self.database.reader_endpoint,
            database_port=self.database.port,
            database_name=env.database.database_name,
            database_username=env.database.master_username,
            # The replica of the master secret in this region, by name (External Secrets accepts a name
            # or an ARN; the replica's ARN carries a suffix only the primary stack knows).
            database_secret_arn=master_secret_name(env.name),
            cache_primary_endpoint=self.cache.primary_endpoint,
            cache_port=self.cache.port,
            cache_prefect_secret_arn=self.cache.user_secret_arn(PREFECT.consumer),
            cache_model_api_secret_arn=self.cache.user_secret_arn(MODEL_API.consumer),
            # The replicas of Prefect's credentials in this region, by name (as the master secret's)
            prefect_api_auth_secret_arn=api_auth_secret_name(env.name),
            prefect_database_secret_arn=database_secret_name(env.name),
            artifacts_bucket_name=self.replica.bucket_name,
            container_log_group_name=self.eks.container_log_group.name,
            alerts_topic_arn=self.alerts.topic_arn,
            alerts_heartbeat_topic_arn=self.alerts.heartbeat_topic_arn,
            certificate_arn=self.certificate.arn if self.certificate else tls.secondary_certificate_arn,
            grafana_admin_secret_arn=self.grafana_admin.arn,
        )
        if self.deploy_runner is not None:
            TerraformOutput(self, "deploy_runner_project", value=self.deploy_runner.project_name,
                            description="aws codebuild start-build --region <secondary> --project-name <this> "
                            "deploys the DR platform stack")
        for output_id, value in {
            "cluster_name": self.eks.cluster_name,
            "cluster_endpoint": self.eks.endpoint,
            "database_endpoint": self.database.endpoint,
            "database_reader_endpoint": self.database.reader_endpoint,
            "global_cluster_identifier": self.database.global_cluster.global_cluster_identifier,
            "cache_primary_endpoint": self.cache.primary_endpoint,
            "artifacts_replica_bucket_name": self.replica.bucket_name,
            "alerts_topic_arn": self.alerts.topic_arn,
        }.items():
            TerraformOutput(self, output_id, value=value)

    def _service_account_roles(self, name: str) -> dict[str, ServiceAccountRole]:
        """The same IRSA roles as the primary's, granted on this region's copies."""
        env = self.env
        roles = workload_roles(self, name=name, oidc=self.eks.oidc,
                               flow_run_namespace=env.prefect.flow_run_namespace)
        replica_arn, key_arn = self.replica.bucket_arn, self.replica.key.arn
        roles["prefect-flow-run"].attach_policy(
            "artifacts-read-write",
            {"Effect": "Allow", "Action": list(BUCKET_READ_ACTIONS), "Resource": replica_arn},
            {"Effect": "Allow", "Action": [*OBJECT_READ_ACTIONS, *OBJECT_WRITE_ACTIONS],
             "Resource": f"{replica_arn}/*"},
            {"Effect": "Allow", "Action": list(KMS_WRITE_ACTIONS), "Resource": key_arn},
        )
        roles["model-api"].attach_policy(
            "artifacts-read",
            {"Effect": "Allow", "Action": list(BUCKET_READ_ACTIONS), "Resource": replica_arn},
            {"Effect": "Allow", "Action": list(OBJECT_READ_ACTIONS), "Resource": f"{replica_arn}/*"},
            {"Effect": "Allow", "Action": list(KMS_READ_ACTIONS), "Resource": key_arn},
        )
        self.eks.grant_node_group_scaling(roles["cluster-autoscaler"])
        self.eks.grant_write_container_logs(roles["fluent-bit"])
        self.alerts.grant_publish(roles["alertmanager"])
        # External Secrets reads through one role per namespace it syncs into, as in the primary region. The
        # master secret's replica and Prefect's (Secrets Manager appends six characters to a secret's ARN) are
        # encrypted with this region's aws/secretsmanager key, which Secrets Manager uses on the caller's behalf.
        region = secondary_region(env)
        stores = secret_store_roles(self, name=name, controller=roles["external-secrets"],
                                    flow_run_namespace=env.prefect.flow_run_namespace)
        self.secret_store_roles = stores

        def replica_arns(*secrets: str) -> list[str]:
            return [f"arn:{self.partition}:secretsmanager:{region}:{self.account_id}:secret:{secret}-??????"
                    for secret in secrets]

        stores["prefect"].attach_policy(
            "aurora-secret-read",
            {"Effect": "Allow", "Action": list(SECRET_READ_ACTIONS),
             "Resource": replica_arns(master_secret_name(env.name))},
        )
        stores["prefect"].attach_policy(
            "prefect-credentials-read",
            {"Effect": "Allow", "Action": list(SECRET_READ_ACTIONS),
             "Resource": replica_arns(api_auth_secret_name(env.name), database_secret_name(env.name))},
        )
        stores["flow-runs"].attach_policy(
            "prefect-credentials-read",
            {"Effect": "Allow", "Action": list(SECRET_READ_ACTIONS),
             "Resource": replica_arns(api_auth_secret_name(env.name))},
        )
        self.cache.grant_read_user_secret(stores["prefect"], PREFECT.consumer)
        self.cache.grant_read_user_secret(stores["model-api"], MODEL_API.consumer)
        if env.model_api.auth.basic_auth_secret:
            grant_read_receiver_secrets(
                stores["model-api"], [env.model_api.auth.basic_auth_secret], region=region,
                account_id=self.account_id, partition=self.partition, policy_id="model-api-clients-secret-read",
            )
        self.grafana_admin.grant_read(stores["monitoring"])
        grant_read_receiver_secrets(
            stores["monitoring"], list(env.observability.alerts.receiver_secrets.values()), region=region,
            account_id=self.account_id, partition=self.partition,
        )
        return roles
