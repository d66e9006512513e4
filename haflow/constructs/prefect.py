"""Self-hosted Prefect in HA: the server (API pods + a separate background-services deployment) and workers.

State lives outside the pods: the database is Aurora PostgreSQL (the chart's bundled PostgreSQL is
off; Prefect signs in as its own role, not the master user: haflow/constructs/prefect_database.py), and
events, messaging, leases and the Docket scheduler run on ElastiCache Redis over TLS.
Credentials reach the pods only as Kubernetes Secrets that External Secrets builds from Secrets
Manager (``prefect_synced_secrets``): no password is in the values or the Terraform state. Database
migrations run before any API or background-services container starts (an init container, one pod at a time:
haflow/constructs/prefect_migrations.py, docs/prefect-install-order.md) and in the chart's pre-upgrade Job.
The API takes basic auth (``server.basicAuth``) from a password in Secrets Manager; the worker and the flow runs
it starts send it (docs/security-prefect.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_helm.release import Release
from cdktf_cdktf_provider_kubernetes.pod_disruption_budget_v1 import PodDisruptionBudgetV1
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1
from constructs import Construct

from haflow import contract, images
from haflow.config.platform import Prefect, Resources
from haflow.config.redis_acl import PREFECT as PREFECT_REDIS_USER
from haflow.constructs.docket_guard import (
    DocketGuardScript,
    guard_args,
    guard_env,
    guard_pod_annotations,
    guard_volume,
    guard_volume_mount,
)
from haflow.constructs.helm import (
    PREFECT_SERVER,
    PREFECT_WORKER,
    anti_affinity_across_zones_and_hosts,
    helm_release,
)
from haflow.constructs.platform_inputs import PlatformInputs
from haflow.constructs.prefect_database import PrefectDatabaseBootstrap
from haflow.constructs.prefect_migrations import migration_init_container
from haflow.constructs.reloader import reload_on
from haflow.constructs.secrets import CACHE_USER_SECRET_PROPERTY, SyncedSecret
from haflow.constructs.trust import RdsCaBundle, ca_file, ca_volume, ca_volume_mount
from haflow.constructs.work_pool import base_job_template_json

SERVER_NAMESPACE = contract.PREFECT_NAMESPACE
SERVER_RELEASE = "prefect-server"
WORKER_RELEASE = "prefect-worker"
SERVER_PORT = 4200  # the chart's service.port
SERVER_LABELS = {
    "app.kubernetes.io/name": "prefect-server",
    "app.kubernetes.io/instance": SERVER_RELEASE,
    "app.kubernetes.io/component": "server",
}
WORKER_LABELS = {"app.kubernetes.io/name": "prefect-worker", "app.kubernetes.io/instance": WORKER_RELEASE}
BACKGROUND_SERVICES_LABELS = {**SERVER_LABELS, "app.kubernetes.io/component": "background-services"}
# Background services (scheduler, late-run marker, event persister...) coordinate through Redis and the
# database: a drain may take all but one pod.
BACKGROUND_SERVICES_PDB_MIN_AVAILABLE = 1

# The chart reads the auth string from this key of basicAuth.existingSecret (fixed in templates/deployment.yaml of
# both charts): "<user>:<password>"
API_AUTH_SECRET = "prefect-api-auth"
API_AUTH_KEY = "auth-string"
DATABASE_SECRET = "prefect-database"
DATABASE_URL_KEY = "connection-string"
REDIS_SECRET = "prefect-redis"
REDIS_PASSWORD_KEY = "redis-password"
DOCKET_URL_KEY = "docket-url"
REDIS_DB = 0
# Prefect's database secret (haflow.constructs.prefect_credentials) is JSON with these keys, as Aurora's master
# secret is: https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html
DATABASE_SECRET_USERNAME = "username"
DATABASE_SECRET_PASSWORD_FIELD = "password"

# Prefect settings for several API replicas sharing Redis (https://docs.prefect.io/v3/advanced/self-hosted, high
# availability) come from the chart, not from here: with backgroundServices.messaging.broker =
# prefect_redis.messaging, prefect-server 2026.8.18172642 (templates/_helpers.tpl, backgroundServices.envVars) sets
# PREFECT_SERVER_EVENTS_CAUSAL_ORDERING, PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE and
# PREFECT_SERVER_DATABASE_MIGRATE_ON_START=false on the API and background-services containers. Setting them again
# in server.env renders each name twice in one container (HA-RND-013).
# For every Prefect container of the release (API, background services, migration Job): TLS to Aurora,
# verified against the RDS CA bundle (Prefect 3.8.3 SQLAlchemyTLSSettings.ca_file; without it Prefect
# falls back to the image's system store, which holds no RDS CA).
ALL_PREFECT_ENV = {
    "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_ENABLED": "true",
    "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CA_FILE": ca_file(),
}
REDIS_BROKER = "prefect_redis.messaging"
# Roll the API with no pod lost: the chart's schema types rollingUpdate values as strings, and the API
# server takes a string IntOrString only as a percentage. Kubernetes rounds maxUnavailable down (0% -> 0)
# and maxSurge up (25% of 2-12 pods -> 1-3 extra pods).
# https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#max-unavailable
ROLLING_UPDATE = {"maxUnavailable": "0%", "maxSurge": "25%"}

# The background-services container runs haflow's Docket guard (haflow.in_image.docket_guard, shipped as
# ConfigMap prefect-docket-guard: haflow.constructs.docket_guard) in place of the chart's default
# `prefect server services start`: the services stop in order and the process exits 1 (the kubelet restarts
# it) when their Docket worker dies, which pydocket 0.23.1 lets happen after a Redis failover while the
# process lives on; and a dead worker's perpetual task comes back after DOCKET_REDELIVERY_SECONDS rather than
# docket's 5 minutes. Should the orderly stop hang (Redis still away), a hard exit follows after
# GUARD_STOP_SECONDS. The story and when the guard can go: docs/docket-guard.md; shown by scenarios 5, 5b
# and 5c of tests/smoke.
GUARD_STOP_SECONDS = 30
DOCKET_REDELIVERY_SECONDS = 30
BACKGROUND_SERVICES_ARGS = guard_args()
BACKGROUND_SERVICES_ENV = guard_env(redelivery_seconds=DOCKET_REDELIVERY_SECONDS, stop_seconds=GUARD_STOP_SECONDS)


def server_api_url() -> str:
    """The in-cluster URL of the Prefect API (the chart's Service, fullname prefect-server)."""
    return f"http://{SERVER_RELEASE}.{SERVER_NAMESPACE}.svc.cluster.local:{SERVER_PORT}/api"


def _resources(resources: Resources) -> dict[str, dict[str, str]]:
    return {
        "requests": {"cpu": resources.cpu_request, "memory": resources.memory_request},
        "limits": {"cpu": resources.cpu_limit, "memory": resources.memory_limit},
    }


def _env(variables: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in sorted(variables.items())]


def prefect_synced_secrets(inputs: PlatformInputs, flow_run_namespace: str) -> list[SyncedSecret]:
    """The Secrets Prefect reads: the database URL (as Prefect's own role), the Redis password + Docket URL (Redis
    user ``prefect``: Prefect's keys only, haflow.config.redis_acl), and the API's auth string in the server's
    namespace and in the flow-run namespace (the worker and its flow runs)."""
    database_url = (
        "postgresql+asyncpg://{{ .username | urlquery }}:{{ .password | urlquery }}@"
        f"{inputs.database_endpoint}:{inputs.database_port}/{inputs.database_name}"
    )
    docket_url = (
        f"rediss://{PREFECT_REDIS_USER.user_name}:{{{{ .password | urlquery }}}}@"
        f"{inputs.cache_primary_endpoint}:{inputs.cache_port}/{REDIS_DB}"
    )
    api_auth = [
        SyncedSecret(
            name=API_AUTH_SECRET,
            namespace=namespace,
            remote={"password": (inputs.prefect_api_auth_secret_arn, None)},
            template={API_AUTH_KEY: f"{contract.PREFECT_API_USER}:{{{{ .password }}}}"},
        )
        for namespace in sorted({SERVER_NAMESPACE, flow_run_namespace})
    ]
    return [
        SyncedSecret(
            name=DATABASE_SECRET,
            namespace=SERVER_NAMESPACE,
            remote={
                "username": (inputs.prefect_database_secret_arn, DATABASE_SECRET_USERNAME),
                "password": (inputs.prefect_database_secret_arn, DATABASE_SECRET_PASSWORD_FIELD),
            },
            template={DATABASE_URL_KEY: database_url},
        ),
        SyncedSecret(
            name=REDIS_SECRET,
            namespace=SERVER_NAMESPACE,
            remote={"password": (inputs.cache_prefect_secret_arn, CACHE_USER_SECRET_PROPERTY)},
            template={REDIS_PASSWORD_KEY: "{{ .password }}", DOCKET_URL_KEY: docket_url},
        ),
        *api_auth,
    ]


def _migration_init_containers() -> list[dict[str, Any]]:
    return [migration_init_container(
        database_secret=DATABASE_SECRET, connection_url_key=DATABASE_URL_KEY, prefect_env=_env(ALL_PREFECT_ENV),
        volume_mounts=[ca_volume_mount()],
    )]


def prefect_server_values(config: Prefect, inputs: PlatformInputs) -> dict[str, Any]:
    """Values for the prefect-server chart (validated against its values.schema.json in the tests)."""
    return {
        # The chart renders repository:prefectTag (server, background services, migrations): the digest rides in
        # the tag (haflow.images).
        "global": {"prefect": {"env": _env(ALL_PREFECT_ENV),
                               "image": {"prefectTag": images.pinned(images.PREFECT).tag_and_digest}}},
        # Roll the API and background services when a synced credential changes (a rotation).
        "commonAnnotations": reload_on([API_AUTH_SECRET, DATABASE_SECRET, REDIS_SECRET]),
        "server": {
            "replicaCount": config.server.replicas,
            # PREFECT_SERVER_API_AUTH_STRING from the Secret: every API call but /api/health and /api/ready
            # needs it (prefect.server.api.server, token_validation), /api/admin/settings included.
            "basicAuth": {"enabled": True, "existingSecret": API_AUTH_SECRET},
            "resources": _resources(config.server.resources),
            "affinity": anti_affinity_across_zones_and_hosts(SERVER_LABELS),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": dict(ROLLING_UPDATE)},
            "extraInitContainers": _migration_init_containers(),
            "extraVolumes": [ca_volume()],
            "extraVolumeMounts": [ca_volume_mount()],
        },
        "backgroundServices": {
            "runAsSeparateDeployment": True,
            "replicaCount": config.background_services_replicas,
            "args": list(BACKGROUND_SERVICES_ARGS),
            "env": _env(BACKGROUND_SERVICES_ENV),
            "podAnnotations": guard_pod_annotations(),
            "affinity": anti_affinity_across_zones_and_hosts(BACKGROUND_SERVICES_LABELS),
            "extraInitContainers": _migration_init_containers(),
            "extraVolumes": [ca_volume(), guard_volume()],
            "extraVolumeMounts": [ca_volume_mount(), guard_volume_mount()],
            "messaging": {
                "broker": REDIS_BROKER,
                "cache": REDIS_BROKER,
                "redis": {
                    "host": inputs.cache_primary_endpoint,
                    "port": inputs.cache_port,
                    "db": REDIS_DB,
                    "ssl": True,
                    "username": PREFECT_REDIS_USER.user_name,
                    "existingSecret": REDIS_SECRET,
                    "existingSecretPasswordKey": REDIS_PASSWORD_KEY,
                },
                "docket": {"existingSecret": REDIS_SECRET, "existingSecretKey": DOCKET_URL_KEY},
            },
        },
        "migrations": {"enabled": True, "extraVolumes": [ca_volume()], "extraVolumeMounts": [ca_volume_mount()]},
        "externalDatabase": {"existingSecret": DATABASE_SECRET, "connectionStringSecretKey": DATABASE_URL_KEY},
        "secret": {"create": False},
        "postgresql": {"enabled": False},
        "redis": {"enabled": False},
    }


def prefect_worker_values(config: Prefect, inputs: PlatformInputs) -> dict[str, Any]:
    """Values for the prefect-worker chart (validated against its values.schema.json in the tests)."""
    return {
        # Roll the worker when the API password changes (a rotation).
        "commonAnnotations": reload_on([API_AUTH_SECRET]),
        "worker": {
            "replicaCount": config.worker.replicas,
            "image": {"prefectTag": images.pinned(images.PREFECT_KUBERNETES).tag_and_digest},  # (haflow.images)
            "apiConfig": "selfHostedServer",
            # PREFECT_API_AUTH_STRING from the Secret, and PREFECT_INTEGRATIONS_KUBERNETES_WORKER_API_AUTH_STRING_
            # SECRET_NAME/KEY, with which prefect-kubernetes gives each flow-run Job the auth string as a
            # secretKeyRef to the same Secret (in the flow-run namespace) rather than as a value.
            "selfHostedServerApiConfig": {
                "apiUrl": server_api_url(),
                "basicAuth": {"enabled": True, "existingSecret": API_AUTH_SECRET},
            },
            "config": {
                "workPool": config.worker.work_pool,
                "type": "kubernetes",
                "baseJobTemplate": {
                    "configuration": base_job_template_json(
                        namespace=config.flow_run_namespace,
                        service_account=contract.PREFECT_FLOW_RUN_SERVICE_ACCOUNT_NAME,
                    ),
                },
            },
            "podDisruptionBudget": {"minAvailable": config.worker.pdb_min_available},
            "affinity": anti_affinity_across_zones_and_hosts(WORKER_LABELS),
            "livenessProbe": {"enabled": True},
        },
        # The worker keeps the chart's Role (Jobs, pod logs in its namespace) and assumes no AWS role: the flow IRSA
        # role belongs to the flow runs' own account (FlowRunServiceAccount).
        "serviceAccount": {"create": True, "name": contract.PREFECT_WORKER_SERVICE_ACCOUNT_NAME},
    }


class FlowRunServiceAccount(Construct):
    """The service account every flow-run pod runs as: annotated with the flow IRSA role, bound to no Role, and
    with no Kubernetes API token mounted (a flow needs AWS credentials, which the EKS pod identity webhook projects
    as a token of its own, not the API)."""

    def __init__(self, scope: Construct, construct_id: str, *, flow_run_namespace: str, role_arn: str,
                 provider: TerraformProvider, depends_on: Sequence[ITerraformDependable] = ()) -> None:
        super().__init__(scope, construct_id)
        account = contract.prefect_flow_run_service_account(flow_run_namespace)
        self.service_account = ServiceAccountV1(
            self, "service-account",
            metadata={"name": account.name, "namespace": account.namespace,
                      "annotations": {contract.IRSA_ANNOTATION: role_arn}},
            automount_service_account_token=False,
            provider=provider,
            depends_on=list(depends_on) or None,
        )


class PrefectPlatform(Construct):
    """prefect-server (+ a PDB for its API pods, which the chart lacks) and prefect-worker.

    With ``standby`` (a DR cluster whose database is a global-database secondary, read-only until promoted) only
    what the tier needs in place beforehand is created (the RDS CA bundle; the namespaces and synced Secrets come
    from the platform stack): no release, because Prefect writes on start and prefect-server's values schema
    refuses backgroundServices.replicaCount 0. The region failover sets ``dr.serving`` and applies the stack,
    which installs both releases on the promoted cluster (docs/prefect-install-order.md).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Prefect,
        inputs: PlatformInputs,
        provider: TerraformProvider,
        kubernetes_provider: TerraformProvider,
        secrets_refresh_interval: str,
        standby: bool = False,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        """``standby`` left out: the tier is installed. ``secrets_refresh_interval``: External Secrets' refresh
        of the bootstrap's ExternalSecret (haflow/constructs/prefect_database.py)."""
        super().__init__(scope, construct_id)
        self.api_url = server_api_url()
        self.rds_ca = RdsCaBundle(self, "rds-ca", namespace=SERVER_NAMESPACE, provider=kubernetes_provider,
                                  depends_on=depends_on)
        self.docket_guard = DocketGuardScript(self, "docket-guard", namespace=SERVER_NAMESPACE,
                                              provider=kubernetes_provider, depends_on=depends_on)
        # Created in standby too: a promoted cluster's first flow run finds it in place.
        self.flow_run_account = FlowRunServiceAccount(
            self, "flow-run-account", flow_run_namespace=config.flow_run_namespace,
            role_arn=inputs.prefect_flow_run_role_arn, provider=kubernetes_provider, depends_on=depends_on,
        )
        self.server: Release | None = None
        self.server_pdb: PodDisruptionBudgetV1 | None = None
        self.background_services_pdb: PodDisruptionBudgetV1 | None = None
        self.worker: Release | None = None
        self.database_bootstrap: PrefectDatabaseBootstrap | None = None
        if standby:
            return
        # Prefect's database roles exist before any Prefect pod signs in with them.
        self.database_bootstrap = PrefectDatabaseBootstrap(
            self, "database-bootstrap", inputs=inputs, namespace=SERVER_NAMESPACE,
            refresh_interval=secrets_refresh_interval, provider=provider,
            depends_on=[*depends_on, self.rds_ca.config_map],
        )
        self.server = helm_release(
            self, "server", chart=PREFECT_SERVER, release_name=SERVER_RELEASE, namespace=SERVER_NAMESPACE,
            values=prefect_server_values(config, inputs), provider=provider,
            depends_on=[*depends_on, self.rds_ca.config_map, self.docket_guard.config_map,
                        self.database_bootstrap.release],
            create_namespace=False,
        )
        self.server_pdb = PodDisruptionBudgetV1(
            self, "server-pdb",
            metadata={"name": "prefect-server-api", "namespace": SERVER_NAMESPACE},
            spec={
                "min_available": str(config.server.pdb_min_available),
                "selector": {"match_labels": dict(SERVER_LABELS)},
            },
            provider=kubernetes_provider,
            depends_on=[self.server],
        )
        # The chart has no PodDisruptionBudget (and no probe values) for the background services; with one pod
        # a budget would only block drains.
        self.background_services_pdb = None if config.background_services_replicas < 2 else PodDisruptionBudgetV1(
            self, "background-services-pdb",
            metadata={"name": f"{SERVER_RELEASE}-background-services", "namespace": SERVER_NAMESPACE},
            spec={
                "min_available": str(BACKGROUND_SERVICES_PDB_MIN_AVAILABLE),
                "selector": {"match_labels": dict(BACKGROUND_SERVICES_LABELS)},
            },
            provider=kubernetes_provider,
            depends_on=[self.server],
        )
        self.worker = helm_release(
            self, "worker", chart=PREFECT_WORKER, release_name=WORKER_RELEASE, namespace=config.flow_run_namespace,
            values=prefect_worker_values(config, inputs), provider=provider, depends_on=[self.server],
            create_namespace=False,
        )
