"""<env>-foundation: the AWS half of an environment (network, EKS, Aurora, Redis, artifacts, IAM)."""

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
from haflow.constructs.artifacts import Artifacts
from haflow.constructs.bucket import AccessLogBucket
from haflow.constructs.cache import Cache
from haflow.constructs.certificate import EdgeCertificate
from haflow.constructs.database import Database
from haflow.constructs.deploy_runner import DeployRunner
from haflow.constructs.eks import Eks
from haflow.constructs.fault_injection import FaultInjection, FisTargets
from haflow.constructs.grafana import GrafanaAdminSecret
from haflow.constructs.irsa import ServiceAccountRole, secret_store_roles, workload_roles
from haflow.constructs.kms import EncryptionKey, cloudwatch_logs_use, key_policy, s3_log_delivery_use
from haflow.constructs.network import Network
from haflow.constructs.platform_inputs import PlatformInputs
from haflow.constructs.prefect_credentials import PrefectCredentials
from haflow.constructs.prefect_rotation import PrefectPasswordRotation
from haflow.fis import MAX_STOP_CONDITIONS
from haflow.stacks.backend import use_s3_backend
from haflow.stacks.dr_common import replicate_artifacts


def default_tags(env: Environment, stack_name: str) -> dict[str, str]:
    """Tags the AWS provider puts on every resource of the stack."""
    return {**env.tags, contract.TAG_ENVIRONMENT: env.name, contract.TAG_STACK: stack_name}


class FoundationStack(TerraformStack):
    """Everything AWS-side of one environment; ``platform_inputs`` and the outputs feed the platform stack."""

    def __init__(self, scope: Construct, *, env: Environment) -> None:
        super().__init__(scope, env.foundation_stack_name)
        self.env = env
        use_s3_backend(self, env.state, env.foundation_stack_name)
        AwsProvider(self, "aws", region=env.region,
                    default_tags=[{"tags": default_tags(env, env.foundation_stack_name)}])

        account = DataAwsCallerIdentity(self, "account")
        partition = DataAwsPartition(self, "partition")
        # One key for the audit trails: VPC flow logs, EKS logs, container logs and S3 access logs.
        self.logs_key = EncryptionKey(
            self, "logs-key", alias=f"{env.name}/logs", protect=env.artifacts.protect_from_destroy,
            description=f"Encrypts the CloudWatch Logs groups and S3 access logs of {env.name}",
            policy=key_policy(
                f"arn:{partition.partition}:iam::{account.account_id}:root",
                cloudwatch_logs_use(env.region, account.account_id, partition.partition),
                s3_log_delivery_use(account.account_id),
            ),
        )
        self.access_logs = AccessLogBucket(
            self, "access-logs", bucket_name=f"{env.artifacts.bucket_for(env.name)}-access-logs",
            kms_key_arn=self.logs_key.arn, account_id=account.account_id,
            protect=env.artifacts.protect_from_destroy,
        )

        self.network = Network(
            self, "network", name=env.name, region=env.region,
            availability_zones=env.availability_zones, config=env.network, kms_key_arn=self.logs_key.arn,
            account_id=account.account_id, partition=partition.partition,
        )
        self.eks = Eks(
            self, "eks", name=env.name, config=env.eks, private_subnet_ids_by_az=self.network.private_subnets.ids_by_az,
            log_kms_key_arn=self.logs_key.arn,
        )
        self.deploy_runner = (
            DeployRunner(
                self, "deploy-runner", name=env.name, environment=env.name, stack_name=env.platform_stack_name,
                config=env.eks.deploy_access, state=env.state,
                region=env.region, account_id=account.account_id, partition=partition.partition,
                vpc_id=self.network.vpc_id, subnet_ids=self.network.private_subnets.ids,
                subnet_arns=self.network.private_subnets.arns, cluster_arn=self.eks.cluster.arn,
                cluster_security_group_id=self.eks.cluster_security_group_id, log_kms_key_arn=self.logs_key.arn,
                log_retention_days=env.eks.control_plane_log_retention_days,
            )
            if env.eks.deploy_access.mode == "runner" else None
        )
        if self.deploy_runner is not None:
            self.eks.grant_cluster_admin(self.deploy_runner.role_arn, entry_id="deploy-runner-access-entry",
                                         policy_id="deploy-runner-access-policy")
        self.database = Database(
            self, "database", name=env.name, region=env.region, availability_zones=env.availability_zones,
            config=env.database, vpc_id=self.network.vpc_id, subnet_group_name=self.network.db_subnet_group_name,
            client_security_group_id=self.eks.cluster_security_group_id, log_kms_key_arn=self.logs_key.arn,
            replica_region=env.dr.secondary_region if env.dr.enabled else None,
        )
        self.cache = Cache(
            self, "cache", name=env.name, region=env.region, availability_zones=env.availability_zones,
            config=env.cache, vpc_id=self.network.vpc_id, subnet_group_name=self.network.cache_subnet_group_name,
            client_security_group_id=self.eks.cluster_security_group_id,
        )
        self.prefect_credentials = PrefectCredentials(
            self, "prefect-credentials", name=env.name, region=env.region,
            protect=env.database.protect_from_destroy, database_endpoint=self.database.endpoint,
            database_port=self.database.port, database_name=self.database.database_name,
            master_secret_arn=self.database.secret_arn,
            replica_region=env.dr.secondary_region if env.dr.enabled else None,
        )
        self.prefect_password_rotation = PrefectPasswordRotation(
            self, "prefect-password-rotation", name=env.name, region=env.region, account_id=account.account_id,
            vpc_id=self.network.vpc_id, subnet_ids=self.network.private_subnets.ids,
            database_security_group_id=self.database.security_group.id, database_port=contract.POSTGRES_PORT,
            database_endpoint=self.database.endpoint, secret_arn=self.prefect_credentials.database_secret_arn,
            secret_key_arn=self.prefect_credentials.key.arn, master_secret_arn=self.database.secret_arn,
            master_secret_key_arn=self.database.key.arn, rotation_days=env.database.prefect_password_rotation_days,
            log_kms_key_arn=self.logs_key.arn, log_retention_days=env.database.log_retention_days,
        )
        self.artifacts = Artifacts(
            self, "artifacts", name=env.name, config=env.artifacts, access_log_bucket=self.access_logs
        )
        replication = (
            replicate_artifacts(self, env, self.artifacts, partition=partition.partition, account_id=account.account_id)
            if env.dr.enabled else None
        )

        self.alerts = AlertTopics(
            self, "alerts", name=env.name, account_id=account.account_id, partition=partition.partition,
            protect=env.artifacts.protect_from_destroy,
        )
        self.grafana_admin = GrafanaAdminSecret(
            self, "grafana-admin", name=env.name, region=env.region, kms_key_arn=self.alerts.key.arn,
            protect=env.artifacts.protect_from_destroy,
        )
        self.account_id, self.partition = account.account_id, partition.partition
        self.alarms = RegionAlarms(self, "alarms", name=env.name, topic_arn=self.alerts.topic_arn)
        self.alarms.watch_aurora(AuroraTarget(
            cluster_identifier=f"{env.name}-aurora",
            instance_identifiers=[f"{env.name}-aurora-{az}" for az in self.database.instances],
            instance_class=env.database.instance_class,
        ))
        self.alarms.watch_redis(f"{env.name}-redis", env.cache.num_cache_clusters)
        self.alarms.watch_nat_gateways(self.network.nat_gateway_ids)
        if replication is not None:
            self.alarms.watch_replication(source_bucket=replication.source_bucket_name,
                                          destination_bucket=replication.destination_bucket_name,
                                          rule_id=replication.rule_id)
        self.fault_injection = FaultInjection(
            self, "fault-injection", name=env.name,
            targets=FisTargets(
                region=env.region, account_id=account.account_id, partition=partition.partition,
                cluster_name=self.eks.cluster_name,
                node_group_arns=[group.arn for group in self.eks.node_groups.values()],
                node_volume_name=self.eks.node_volume_name,
                subnet_arns_by_az={
                    az: [self.network.private_subnets.arns_by_az[az], self.network.data_subnets.arns_by_az[az]]
                    for az in env.availability_zones
                },
                vpc_arn=self.network.vpc.arn, aurora_cluster_arn=self.database.cluster.arn,
                cache_replication_group_arn=self.cache.replication_group.arn,
                stack_tag={contract.TAG_STACK: env.foundation_stack_name},
            ),
            stop_alarm_arns=[alarm.arn for alarm in self.alarms.stop_condition_alarms][:MAX_STOP_CONDITIONS],
        )
        tls = env.ingress.tls
        self.certificate = (
            EdgeCertificate(self, "ingress-certificate", name=env.name, domain_name=env.model_api.host,
                            hosted_zone_id=tls.hosted_zone_id)
            if tls.hosted_zone_id else None
        )

        roles = self._service_account_roles()
        self.platform_inputs = PlatformInputs(
            region=env.region,
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
            database_endpoint=self.database.endpoint,
            database_reader_endpoint=self.database.reader_endpoint,
            database_port=self.database.port,
            database_name=self.database.database_name,
            database_username=self.database.master_username,
            database_secret_arn=self.database.secret_arn,
            cache_primary_endpoint=self.cache.primary_endpoint,
            cache_port=self.cache.port,
            cache_prefect_secret_arn=self.cache.user_secret_arn(PREFECT.consumer),
            cache_model_api_secret_arn=self.cache.user_secret_arn(MODEL_API.consumer),
            prefect_api_auth_secret_arn=self.prefect_credentials.api_auth_secret_arn,
            prefect_database_secret_arn=self.prefect_credentials.database_secret_arn,
            artifacts_bucket_name=self.artifacts.bucket_name,
            container_log_group_name=self.eks.container_log_group.name,
            alerts_topic_arn=self.alerts.topic_arn,
            alerts_heartbeat_topic_arn=self.alerts.heartbeat_topic_arn,
            certificate_arn=self.certificate.arn if self.certificate else tls.certificate_arn,
            grafana_admin_secret_arn=self.grafana_admin.arn,
        )
        self._outputs()

    def _service_account_roles(self) -> dict[str, ServiceAccountRole]:
        """One IRSA role per platform workload, each granted only what that workload does."""
        env = self.env
        roles = workload_roles(self, name=env.name, oidc=self.eks.oidc,
                               flow_run_namespace=env.prefect.flow_run_namespace)
        self.artifacts.grant_read_write(roles["prefect-flow-run"])
        self.artifacts.grant_read(roles["model-api"])
        self.eks.grant_node_group_scaling(roles["cluster-autoscaler"])
        self.eks.grant_write_container_logs(roles["fluent-bit"])
        self.alerts.grant_publish(roles["alertmanager"])
        # External Secrets reads through one role per namespace it syncs into (contract.secret_store_namespaces).
        stores = secret_store_roles(self, name=env.name, controller=roles["external-secrets"],
                                    flow_run_namespace=env.prefect.flow_run_namespace)
        self.secret_store_roles = stores
        self.database.grant_read_master_secret(stores["prefect"])  # the bootstrap hook's, while it runs
        self.prefect_credentials.grant_read(stores["prefect"])
        self.cache.grant_read_user_secret(stores["prefect"], PREFECT.consumer)
        self.prefect_credentials.grant_read(stores["flow-runs"], database=False)
        self.cache.grant_read_user_secret(stores["model-api"], MODEL_API.consumer)
        if env.model_api.auth.basic_auth_secret:
            grant_read_receiver_secrets(
                stores["model-api"], [env.model_api.auth.basic_auth_secret], region=env.region,
                account_id=self.account_id, partition=self.partition, policy_id="model-api-clients-secret-read",
            )
        self.grafana_admin.grant_read(stores["monitoring"])
        grant_read_receiver_secrets(
            stores["monitoring"], list(env.observability.alerts.receiver_secrets.values()), region=env.region,
            account_id=self.account_id, partition=self.partition,
        )
        return roles

    def _outputs(self) -> None:
        """Section order: network, EKS, IRSA roles, database, cache, artifacts, logging, alerting, dashboards."""
        inputs = self.platform_inputs
        TerraformOutput(self, "vpc_id", value=self.network.vpc_id)
        TerraformOutput(self, "private_subnet_ids", value=self.network.private_subnets.ids)
        TerraformOutput(self, "data_subnet_ids", value=self.network.data_subnets.ids)
        if self.deploy_runner is not None:
            TerraformOutput(self, "deploy_runner_project", value=self.deploy_runner.project_name,
                            description="aws codebuild start-build --project-name <this> deploys the platform stack")
        outputs = {
            "cluster_name": inputs.cluster_name,
            "cluster_endpoint": inputs.cluster_endpoint,
            "cluster_certificate_authority_data": inputs.cluster_certificate_authority_data,
            "oidc_provider_arn": inputs.oidc_provider_arn,
            "node_role_arn": self.eks.node_role_arn,
            "prefect_flow_run_role_arn": inputs.prefect_flow_run_role_arn,
            "model_api_role_arn": inputs.model_api_role_arn,
            "cluster_autoscaler_role_arn": inputs.cluster_autoscaler_role_arn,
            "fluent_bit_role_arn": inputs.fluent_bit_role_arn,
            "external_secrets_role_arn": inputs.external_secrets_role_arn,
            "alertmanager_role_arn": inputs.alertmanager_role_arn,
            "prefect_secrets_role_arn": inputs.prefect_secrets_role_arn,
            "flow_run_secrets_role_arn": inputs.flow_run_secrets_role_arn,
            "model_api_secrets_role_arn": inputs.model_api_secrets_role_arn,
            "monitoring_secrets_role_arn": inputs.monitoring_secrets_role_arn,
            "database_endpoint": inputs.database_endpoint,
            "database_reader_endpoint": inputs.database_reader_endpoint,
            "database_port": inputs.database_port,
            "database_secret_arn": inputs.database_secret_arn,
            "cache_primary_endpoint": inputs.cache_primary_endpoint,
            "cache_port": inputs.cache_port,
            "cache_prefect_secret_arn": inputs.cache_prefect_secret_arn,
            "cache_model_api_secret_arn": inputs.cache_model_api_secret_arn,
            "prefect_api_auth_secret_arn": inputs.prefect_api_auth_secret_arn,
            "prefect_database_secret_arn": inputs.prefect_database_secret_arn,
            "artifacts_bucket_name": inputs.artifacts_bucket_name,
            "container_log_group_name": inputs.container_log_group_name,
            "alerts_topic_arn": inputs.alerts_topic_arn,
            "alerts_heartbeat_topic_arn": inputs.alerts_heartbeat_topic_arn,
            "grafana_admin_secret_arn": inputs.grafana_admin_secret_arn,
        }
        if self.certificate is not None:
            outputs["certificate_arn"] = self.certificate.arn
        for output_id, value in outputs.items():
            TerraformOutput(self, output_id, value=value)
