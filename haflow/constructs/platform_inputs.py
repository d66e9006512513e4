"""What the platform stack needs from the foundation stack.

The foundation stack fills one PlatformInputs with attributes of its resources (Terraform tokens);
the platform stack uses them, and cdktf turns each use into a cross-stack reference
(an output of <env>-foundation read through terraform_remote_state in <env>-platform).
Fields follow the section order: network, EKS, IRSA roles, database, cache, Prefect's credentials, artifacts, logging,
alerting, dashboards, ingress.
"""

from __future__ import annotations

from dataclasses import dataclass

from haflow import contract


@dataclass(frozen=True)
class PlatformInputs:
    region: str
    vpc_id: str
    vpc_cidr: str
    # EKS
    cluster_name: str
    cluster_endpoint: str
    cluster_certificate_authority_data: str
    oidc_provider_arn: str
    # IAM roles for service accounts (IRSA)
    prefect_flow_run_role_arn: str
    model_api_role_arn: str
    cluster_autoscaler_role_arn: str
    fluent_bit_role_arn: str
    external_secrets_role_arn: str
    alertmanager_role_arn: str
    # The roles External Secrets' stores assume, one per namespace it syncs into (contract.secret_store_namespaces)
    prefect_secrets_role_arn: str
    flow_run_secrets_role_arn: str
    model_api_secrets_role_arn: str
    monitoring_secrets_role_arn: str
    # Aurora PostgreSQL
    database_endpoint: str
    database_reader_endpoint: str
    database_port: str
    database_name: str
    database_username: str
    database_secret_arn: str
    # ElastiCache Redis
    cache_primary_endpoint: str
    cache_port: str
    # Prefect's own credentials: the API's basic-auth password and the database login role (not the master)
    prefect_api_auth_secret_arn: str
    prefect_database_secret_arn: str
    # each consumer's Redis password (ElastiCache RBAC user prefect / model-api), a secret of its own
    cache_prefect_secret_arn: str
    cache_model_api_secret_arn: str
    # S3 artifacts
    artifacts_bucket_name: str
    # CloudWatch Logs group that fluent-bit ships container logs to
    container_log_group_name: str
    # SNS topics Alertmanager publishes to: every alert, and the Watchdog heartbeat
    alerts_topic_arn: str
    alerts_heartbeat_topic_arn: str
    # Secrets Manager secret holding Grafana's admin password (External Secrets syncs it)
    grafana_admin_secret_arn: str
    # ACM certificate of the ingress NLB's TLS listener (ingress.tls); None: no TLS (an internal NLB)
    certificate_arn: str | None = None

    def secret_store_roles(self, flow_run_namespace: str) -> dict[str, str]:
        """The role each secret store assumes, by the namespace it serves."""
        by_key = {"prefect": self.prefect_secrets_role_arn, "flow-runs": self.flow_run_secrets_role_arn,
                  "model-api": self.model_api_secrets_role_arn, "monitoring": self.monitoring_secrets_role_arn}
        return {namespace: by_key[key]
                for key, namespace in contract.secret_store_namespaces(flow_run_namespace).items()}
