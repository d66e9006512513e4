"""What the producers of a plan (stacks, constructs) and its readers (rules, report, review, drill,
render) must agree on, stated once, at the bottom of the package: it imports nothing of haflow.

- stack names: ``bootstrap`` and, per environment ``<env>``, ``<env>-foundation``, ``<env>-platform`` and,
  with disaster recovery, ``<env>-dr-foundation`` and ``<env>-dr-platform``, and with DNS failover
  (``dr.dns``) ``<env>-dns-alarms`` (the health checks' alarms, in us-east-1); ``stack_owner`` reads the
  environment back out of a name. An environment name ending in ``-dr`` would make ``<env>-foundation``
  another environment's DR stack, so config validation refuses it (``RESERVED_ENV_SUFFIX``);
- the tags haflow puts on every AWS resource;
- the Kubernetes keys the foundation's node groups and IAM roles and the platform's workloads must spell
  alike (zone topology key, IRSA annotation, GPU label and taint), and each workload's service account;
- the ports of the database and the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# --- stacks -------------------------------------------------------------------------------------------

BOOTSTRAP_STACK = "bootstrap"
RESERVED_ENV_SUFFIX = "-dr"


class StackRole(Enum):
    """The stacks one environment synthesizes, by the suffix its stack names carry."""

    FOUNDATION = "foundation"
    PLATFORM = "platform"
    DR_FOUNDATION = "dr-foundation"
    DR_PLATFORM = "dr-platform"
    # The CloudWatch alarms on the DR foundation's Route 53 health checks: only with dr.dns.
    DNS_ALARMS = "dns-alarms"

    @property
    def is_dr(self) -> bool:
        return self in (StackRole.DR_FOUNDATION, StackRole.DR_PLATFORM)

    @property
    def is_aws_only(self) -> bool:
        """The foundation stacks hold only AWS resources; the platform stacks install into a cluster."""
        return self in (StackRole.FOUNDATION, StackRole.DR_FOUNDATION, StackRole.DNS_ALARMS)


# Longest suffix first: "prod-dr-foundation" is prod's DR foundation, not a foundation of "prod-dr".
_ROLES_BY_SUFFIX = sorted(StackRole, key=lambda role: -len(role.value))


def stack_name(env: str, role: StackRole) -> str:
    return f"{env}-{role.value}"


def environment_stacks(env: str, *, dr: bool, dns: bool = False) -> tuple[str, ...]:
    """The stacks of environment ``env``: foundation and platform, the DR pair when ``dr``, and the health
    checks' alarms when ``dr`` and ``dns`` (DNS failover)."""
    return tuple(
        stack_name(env, role) for role in StackRole
        if (dr or not role.is_dr) and (role is not StackRole.DNS_ALARMS or (dr and dns))
    )


def stack_role(stack: str) -> StackRole | None:
    """Which of its environment's stacks ``stack`` is; None for the bootstrap stack or a name haflow never makes."""
    return _split(stack)[1]


def stack_owner(stack: str) -> str | None:
    """The environment a stack belongs to; None for the shared bootstrap stack or a name haflow never makes."""
    return _split(stack)[0]


def _split(stack: str) -> tuple[str | None, StackRole | None]:
    for role in _ROLES_BY_SUFFIX:
        suffix = f"-{role.value}"
        if stack.endswith(suffix) and len(stack) > len(suffix):
            return stack[: -len(suffix)], role
    return None, None


# Route 53 publishes health-check metrics (AWS/Route53 HealthCheckStatus) in us-east-1 only, so the alarms on
# them, and the topic they notify, live there.
# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-checks.html
ROUTE53_METRICS_REGION = "us-east-1"

# --- tags ---------------------------------------------------------------------------------------------

TAG_ENVIRONMENT = "haflow/environment"
TAG_STACK = "haflow/stack"
# Only on the DR stacks' providers: "secondary".
TAG_REGION_ROLE = "haflow/region-role"
REGION_ROLE_SECONDARY = "secondary"

# --- Kubernetes keys ----------------------------------------------------------------------------------

# The well-known label every node carries with its AZ: https://kubernetes.io/docs/reference/labels-annotations-taints/
ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone"
# IRSA: the service-account annotation the EKS pod identity webhook reads
# (https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html)
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
# The extended resource the NVIDIA device plugin advertises and the model-api requests.
GPU_RESOURCE = "nvidia.com/gpu"
# The GPU node group's label: a term of the NVIDIA device plugin chart's required node affinity.
GPU_PRESENT_LABEL_KEY = "nvidia.com/gpu.present"
GPU_PRESENT_LABEL_VALUE = "true"
# The GPU node group's taint (key=value:NoSchedule); EKS spells the effect NO_SCHEDULE, Kubernetes NoSchedule.
GPU_TAINT_KEY = GPU_RESOURCE
GPU_TAINT_VALUE = "true"
GPU_TAINT_EFFECT_EKS = "NO_SCHEDULE"
GPU_TAINT_EFFECT = "NoSchedule"
# What a pod that may run on the GPU node group tolerates.
GPU_TOLERATION = {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": GPU_TAINT_EFFECT}


@dataclass(frozen=True)
class ServiceAccount:
    """A Kubernetes service account: what an IRSA role's trust policy names and the platform creates."""

    namespace: str
    name: str

    @property
    def subject(self) -> str:
        """The OIDC ``sub`` claim of the account's tokens."""
        return f"system:serviceaccount:{self.namespace}:{self.name}"


# Each workload's service account. The Prefect worker and its flow runs live in the environment's
# prefect.flow_run_namespace, so only their names are fixed here. The worker's account holds the chart's RBAC
# (create Jobs, read pod logs in that namespace) and no AWS role; the flow runs' account holds the flow IRSA
# role and no RBAC (docs/security-cluster.md).
PREFECT_WORKER_SERVICE_ACCOUNT_NAME = "prefect-worker"
PREFECT_FLOW_RUN_SERVICE_ACCOUNT_NAME = "prefect-flow-run"


def prefect_worker_service_account(flow_run_namespace: str) -> ServiceAccount:
    """The account the Prefect worker runs as: it creates the flow-run Jobs, and assumes no AWS role."""
    return ServiceAccount(flow_run_namespace, PREFECT_WORKER_SERVICE_ACCOUNT_NAME)


def prefect_flow_run_service_account(flow_run_namespace: str) -> ServiceAccount:
    """The account every flow-run pod runs as: the only one the flow IRSA role trusts."""
    return ServiceAccount(flow_run_namespace, PREFECT_FLOW_RUN_SERVICE_ACCOUNT_NAME)


MODEL_API_SERVICE_ACCOUNT = ServiceAccount("model-api", "model-api")
CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = ServiceAccount("kube-system", "cluster-autoscaler")
FLUENT_BIT_SERVICE_ACCOUNT = ServiceAccount("logging", "fluent-bit")
EXTERNAL_SECRETS_SERVICE_ACCOUNT = ServiceAccount("external-secrets", "external-secrets")
# kube-prometheus-stack's Alertmanager pods: they publish to the region's SNS topics with SigV4 (IRSA).
ALERTMANAGER_SERVICE_ACCOUNT = ServiceAccount("monitoring", "alertmanager")

# Reloader rolls a Deployment carrying this annotation when a Secret it names changes; the namespaces of the
# Deployments that carry it are the ones Reloader watches (rule HA-SEC-064).
RELOADER_SECRET_ANNOTATION = "secret.reloader.stakater.com/reload"

# kube-prometheus-stack's value keys of the control-plane components EKS runs out of the cluster's reach
# (https://docs.aws.amazon.com/eks/latest/best-practices/control-plane.html): the platform turns their scraping
# and alerts off, rule HA-OBS-003 checks that it did.
EKS_MANAGED_MONITORING_COMPONENTS = ("kubeControllerManager", "kubeScheduler", "kubeEtcd")


def workload_service_accounts(flow_run_namespace: str) -> dict[str, ServiceAccount]:
    """Every platform workload with an IRSA role, keyed by the name its role carries (``<name>-<key>``): the
    primary's foundation and the DR foundation create one role per entry."""
    return {
        "prefect-flow-run": prefect_flow_run_service_account(flow_run_namespace),
        "model-api": MODEL_API_SERVICE_ACCOUNT,
        "cluster-autoscaler": CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
        "fluent-bit": FLUENT_BIT_SERVICE_ACCOUNT,
        "external-secrets": EXTERNAL_SECRETS_SERVICE_ACCOUNT,
        "alertmanager": ALERTMANAGER_SERVICE_ACCOUNT,
    }

# External Secrets reads Secrets Manager through one ClusterSecretStore per namespace it syncs into, each with a
# role of its own (``<name>-secrets-<key>``, assumed from the controller's IRSA role) that reads only the secrets
# synced into that namespace: an ExternalSecret in model-api cannot name the Aurora master secret.
PREFECT_NAMESPACE = "prefect"
SECRET_STORE_PREFIX = "aws-secrets-manager-"


def secret_store_namespaces(flow_run_namespace: str) -> dict[str, str]:
    """The namespace each secret store serves, keyed by the name its IAM role carries (``<name>-secrets-<key>``)."""
    return {
        "prefect": PREFECT_NAMESPACE,
        "flow-runs": flow_run_namespace,
        "model-api": MODEL_API_SERVICE_ACCOUNT.namespace,
        "monitoring": ALERTMANAGER_SERVICE_ACCOUNT.namespace,
    }


def secret_store_name(namespace: str) -> str:
    """The ClusterSecretStore the ExternalSecrets of ``namespace`` use (the only namespace its conditions allow)."""
    return f"{SECRET_STORE_PREFIX}{namespace}"


# --- Prefect's credentials ---------------------------------------------------------------------------

# The user of the Prefect API's basic auth (the auth string is "<user>:<password from Secrets Manager>")
PREFECT_API_USER = "haflow"
# Prefect's database roles (haflow.in_image.prefect_database creates them): a NOLOGIN role that owns Prefect's
# database and everything in it, and the two login roles Secrets Manager's alternating-users rotation switches
# between (its clone is "<username>_clone"). Each login session runs as the owner (ALTER ROLE ... SET role).
PREFECT_DATABASE_OWNER = "prefect_owner"
PREFECT_DATABASE_ROLES = ("prefect", "prefect_clone")
# How a plan names the Aurora master secret: RDS's managed secret (aws_rds_cluster.master_user_secret), haflow's
# own for a global database (resource id master-secret) and its replica in the secondary region (by name).
MASTER_SECRET_MARKERS = ("master_user_secret", "master-secret", "/aurora-master")
# haflow's rotation function of Prefect's database secret (haflow.constructs.prefect_rotation, the code in
# haflow.in_image.prefect_rotation, packaged as haflow_in_image): the rules recognise it by its handler.
PREFECT_ROTATION_HANDLER = "haflow_in_image.prefect_rotation.lambda_handler"


def prefect_database_secret_name(env: str) -> str:
    """Secrets Manager's name of the login role Prefect signs in to Aurora as (constructs.prefect_credentials)."""
    return f"haflow/{env}/prefect-database"


def names_master_secret(reference: str) -> bool:
    """Whether a secret reference in a plan (an ARN expression or a secret name) is the Aurora master secret."""
    return any(marker in reference for marker in MASTER_SECRET_MARKERS)


# --- ports --------------------------------------------------------------------------------------------

# Aurora PostgreSQL's default port; ElastiCache Redis's.
POSTGRES_PORT = 5432
REDIS_PORT = 6379

# FIS experiment templates (haflow.constructs.fault_injection) and the drills that start them
# (haflow drill az / node) find each other by these tags: the drill kind, and the AZ a zonal template hits.
TAG_DRILL = "haflow/drill"
TAG_DRILL_AZ = "haflow/drill-az"
DRILL_AZ = "az"
DRILL_NODE = "node"


def fis_template_name(name: str, drill: str, az: str | None = None) -> str:
    """The Name tag of an environment's FIS experiment template for ``drill`` (and ``az``, for the AZ drill)."""
    return f"{name}-{drill}-power-interruption-{az}" if drill == DRILL_AZ else f"{name}-{drill}-termination"

# --- the edge: annotations the load balancer's controller and ingress-nginx read ------------------------

# The AWS cloud provider's service controller (cloud-provider-aws, which makes the NLB of a LoadBalancer
# Service on EKS): https://kubernetes.io/docs/reference/labels-annotations-taints/
NLB_INTERNAL_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-internal"
NLB_SSL_CERT_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-ssl-cert"
NLB_SSL_PORTS_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-ssl-ports"
NLB_SSL_POLICY_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"
NLB_BACKEND_PROTOCOL_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-backend-protocol"
# ingress-nginx: https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/
INGRESS_CANARY_ANNOTATION = "nginx.ingress.kubernetes.io/canary"
INGRESS_AUTH_TYPE_ANNOTATION = "nginx.ingress.kubernetes.io/auth-type"
INGRESS_AUTH_SECRET_ANNOTATION = "nginx.ingress.kubernetes.io/auth-secret"
INGRESS_AUTH_URL_ANNOTATION = "nginx.ingress.kubernetes.io/auth-url"
INGRESS_LIMIT_RPS_ANNOTATION = "nginx.ingress.kubernetes.io/limit-rps"
INGRESS_LIMIT_RPM_ANNOTATION = "nginx.ingress.kubernetes.io/limit-rpm"
INGRESS_LIMIT_CONNECTIONS_ANNOTATION = "nginx.ingress.kubernetes.io/limit-connections"
INGRESS_RATE_LIMIT_ANNOTATIONS = (
    INGRESS_LIMIT_RPS_ANNOTATION, INGRESS_LIMIT_RPM_ANNOTATION, INGRESS_LIMIT_CONNECTIONS_ANNOTATION,
)
