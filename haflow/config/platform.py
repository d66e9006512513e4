"""Platform sections of an environment: what runs on the cluster, in the order the platform stack builds it.

ingress (ingress-nginx), prefect (server, background services, worker), model_api (the inference
workload), observability (metrics, alerts, logs), secrets (External Secrets Operator).
Cross-field rules over these sections live in ``haflow.config.checks.platform``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator

from haflow.config.limits import MAX_POD_CPU_CORES, MAX_POD_MEMORY_BYTES, MAX_VOLUME_GIB
from haflow.config.section import Section, custom_error

# https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
CPU_QUANTITY = re.compile(r"^(\d+m|\d+(\.\d+)?)$")
MEMORY_QUANTITY = re.compile(r"^\d+(Ki|Mi|Gi|Ti)$")
# RFC 1123 DNS subdomain (Ingress hosts, image repositories' registry part)
IMAGE_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
DNS_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
# RFC 1123 label (namespaces, work pool names used as Kubernetes names)
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# https://docs.aws.amazon.com/acm/latest/userguide/authen-overview.html (certificate ARNs)
ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
# Route 53 hosted zone ids: Z followed by upper-case letters and digits.
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
# TLS 1.3 and 1.2 only: https://docs.aws.amazon.com/elasticloadbalancing/latest/network/describe-ssl-policies.html
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Prometheus / ESO durations
DURATION = re.compile(r"^\d+(s|m|h)$")
SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
# A rotated secret must reach the pods within a day.
MAX_REFRESH_SECONDS = 24 * 3600
# Ten years of samples is beyond what one Prometheus volume can hold.
MAX_PROMETHEUS_RETENTION_SECONDS = 10 * 365 * 86400
# Kubernetes' tested limits are 150,000 pods per cluster and 110 per node
# (https://kubernetes.io/docs/setup/best-practices/cluster-large/); more than 1,000 pods of one
# workload here is a typo.
MAX_REPLICAS = 1000
MEMORY_UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4}


def _image_digest(value: str) -> str:
    if value and not IMAGE_DIGEST.match(value):
        raise custom_error("not an image digest", "write sha256: and 64 lower-case hex digits, as "
                           "`crane digest <image>:<tag>` prints it, or leave it empty")
    return value


def _cpu(value: str) -> str:
    if not CPU_QUANTITY.match(value):
        raise custom_error("not a Kubernetes CPU quantity", "write cores or millicores, e.g. 500m or 2")
    cores = int(value[:-1]) / 1000 if value.endswith("m") else float(value)
    if cores > MAX_POD_CPU_CORES:
        raise custom_error(f"more CPU than the largest EC2 instance has ({MAX_POD_CPU_CORES} cores)",
                           "write cores or millicores a node can give, e.g. 2")
    return value


def _memory(value: str) -> str:
    if not MEMORY_QUANTITY.match(value):
        raise custom_error("not a Kubernetes memory quantity in binary units", "write e.g. 512Mi or 2Gi")
    if int(value[:-2]) * MEMORY_UNITS[value[-2:]] > MAX_POD_MEMORY_BYTES:
        raise custom_error("more memory than the largest EC2 instance has (32Ti)", "write e.g. 2Gi")
    return value


# A Secrets Manager secret name: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
# (a name, not an ARN: the DR platform reads the secret of the same name in the secondary region).
SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")


def _secret_name(value: str | None, example: str) -> str | None:
    if value is None:
        return value
    if value.startswith("arn:"):
        raise custom_error(
            "an ARN, but a secret name is expected (the DR region reads the secret of the same name there)",
            f"write the secret's name, e.g. {example}",
        )
    if not SECRET_NAME.match(value):
        raise custom_error(
            "not a Secrets Manager secret name (1-512 of letters, digits and /_+=.@-)",
            f"write the secret's name, e.g. {example}",
        )
    return value


def _duration_seconds(value: str) -> int:
    return int(value[:-1]) * SECONDS_PER_UNIT[value[-1]]


class Resources(Section):
    """Requests (what the scheduler reserves) and limits (where the kubelet throttles or kills) of a container."""

    cpu_request: str = Field(default="250m", description="CPU reserved per pod; default 250m")
    memory_request: str = Field(default="256Mi", description="Memory reserved per pod; default 256Mi")
    cpu_limit: str = Field(default="1", description="CPU ceiling per pod (throttled above); default 1 core")
    memory_limit: str = Field(default="512Mi", description="Memory ceiling per pod (OOM-killed above); default 512Mi")

    @field_validator("cpu_request", "cpu_limit")
    @classmethod
    def _check_cpu(cls, value: str) -> str:
        return _cpu(value)

    @field_validator("memory_request", "memory_limit")
    @classmethod
    def _check_memory(cls, value: str) -> str:
        return _memory(value)


class Autoscaling(Section):
    """An autoscaling/v2 HorizontalPodAutoscaler on CPU and memory utilisation of the requests."""

    min_replicas: int = Field(
        default=2, ge=1, le=MAX_REPLICAS,
        description="Fewest pods the HPA keeps; must stay above the PDB floor; default 2",
    )
    max_replicas: int = Field(
        default=6, ge=1, le=MAX_REPLICAS, description="Most pods the HPA scales out to; default 6"
    )
    target_cpu_percent: int = Field(
        default=70, ge=10, le=100, description="Average CPU utilisation (of requests) the HPA aims for; default 70"
    )
    target_memory_percent: int = Field(
        default=80, ge=10, le=100, description="Average memory utilisation (of requests) the HPA aims for; default 80"
    )


class Tls(Section):
    """TLS on the NLB's port 443: an existing ACM certificate, or one the foundation requests and validates.

    The NLB terminates TLS (the AWS cloud provider's ``aws-load-balancer-ssl-cert`` annotation) and forwards
    to the controller's plain HTTP port; port 80 is closed, not redirected, so a client never sends its API
    key in clear text before being told to use HTTPS.
    """

    certificate_arn: str | None = Field(
        default=None,
        description="ARN of an issued ACM certificate in the environment's region covering model_api.host; "
        "left out: the foundation requests one when hosted_zone_id is set",
    )
    secondary_certificate_arn: str | None = Field(
        default=None,
        description="ACM certificates are regional: the certificate the DR region's NLB uses, required with "
        "certificate_arn when dr.mode is not none; left out with hosted_zone_id: the DR foundation requests one",
    )
    hosted_zone_id: str | None = Field(
        default=None,
        description="Route 53 public hosted zone of model_api.host: the foundation requests an ACM certificate "
        "for the host and validates it with DNS records in this zone; left out: certificate_arn is used",
    )
    ssl_policy: str = Field(
        default=DEFAULT_SSL_POLICY,
        description=f"Security policy of the NLB's TLS listener; default {DEFAULT_SSL_POLICY} (TLS 1.3 and 1.2)",
    )

    @field_validator("certificate_arn", "secondary_certificate_arn")
    @classmethod
    def _arn(cls, value: str | None) -> str | None:
        if value is not None and not ACM_CERTIFICATE_ARN.match(value):
            raise custom_error(
                "not an ACM certificate ARN",
                "copy it from `aws acm list-certificates --region <region>` "
                "(arn:aws:acm:<region>:<account>:certificate/<id>)",
            )
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not HOSTED_ZONE_ID.match(value):
            raise custom_error("not a Route 53 hosted zone id (Z followed by letters and digits)",
                               "copy it from `aws route53 list-hosted-zones`")
        return value

    @field_validator("ssl_policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        if not value.startswith("ELBSecurityPolicy-"):
            raise custom_error("not an ELB security policy name",
                               f"use e.g. {DEFAULT_SSL_POLICY} (`aws elbv2 describe-ssl-policies` lists them)")
        return value

    @property
    def enabled(self) -> bool:
        return self.certificate_arn is not None or self.hosted_zone_id is not None

    def certificate_region(self) -> str | None:
        return self.certificate_arn.split(":")[3] if self.certificate_arn else None


class Ingress(Section):
    """ingress-nginx: the cluster's HTTP entry point behind an AWS Network Load Balancer."""

    controller_replicas: int = Field(
        default=2, ge=2, le=MAX_REPLICAS,
        description="Controller pods (spread over zones and hosts); at least 2; default 2",
    )
    pdb_min_available: int = Field(
        default=1, ge=1, le=MAX_REPLICAS,
        description="Controller pods a voluntary disruption (drain) must leave running; default 1",
    )
    autoscaling: Autoscaling = Field(
        default_factory=Autoscaling, description="Controller HPA; default 2-6 pods at 70% CPU / 80% memory",
    )
    load_balancer_scheme: Literal["internet-facing", "internal"] = Field(
        default="internal",
        description="internet-facing: a public NLB (needs ingress.tls and model_api.host); internal: reachable "
        "from the VPC only; default internal",
    )
    load_balancer_source_ranges: list[str] = Field(
        default_factory=list,
        description="Client CIDRs the NLB admits (the Service's loadBalancerSourceRanges: the cloud provider "
        "opens the nodes' security group to these only); empty (default): any address",
    )
    tls: Tls = Field(
        default_factory=Tls,
        description="TLS termination on the NLB with an ACM certificate; default none (plain HTTP, allowed only "
        "on an internal load balancer)",
    )

    @field_validator("load_balancer_source_ranges")
    @classmethod
    def _source_ranges(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError as err:
                raise custom_error(f"{cidr!r} is not a CIDR block ({err})",
                                   "write each range like 203.0.113.0/24 (host bits zero)") from None
        if len(set(value)) != len(value):
            raise custom_error("lists a range twice", "list each CIDR once")
        return value


class PrefectServer(Section):
    """The Prefect API/UI deployment (stateless: state is in Aurora, events and locks in Redis)."""

    replicas: int = Field(default=2, ge=2, le=MAX_REPLICAS, description="API pods; at least 2 for HA; default 2")
    pdb_min_available: int = Field(
        default=1, ge=1, le=MAX_REPLICAS, description="API pods a drain must leave running; default 1"
    )
    resources: Resources = Field(
        default_factory=lambda: Resources(
            cpu_request="500m", memory_request="512Mi", cpu_limit="1", memory_limit="1Gi"
        ),
        description="Per API pod; default 500m/512Mi requested, 1 core/1Gi limit",
    )


class PrefectWorker(Section):
    """The Prefect worker polling a Kubernetes work pool and starting flow runs as Jobs."""

    replicas: int = Field(
        default=2, ge=2, le=MAX_REPLICAS, description="Worker pods; at least 2 so a lost node keeps polling; default 2"
    )
    pdb_min_available: int = Field(
        default=1, ge=1, le=MAX_REPLICAS, description="Worker pods a drain must leave running; default 1"
    )
    work_pool: str = Field(default="kubernetes", description="Name of the Kubernetes work pool; default kubernetes")

    @field_validator("work_pool")
    @classmethod
    def _work_pool(cls, value: str) -> str:
        if not DNS_LABEL.match(value):
            raise custom_error(
                "work pool names here are lowercase letters, digits and hyphens (up to 63)", "e.g. kubernetes"
            )
        return value


class Prefect(Section):
    """Self-hosted Prefect: server (API + background services) on Aurora and Redis, and workers."""

    server: PrefectServer = Field(default_factory=PrefectServer, description="API deployment; default 2 pods")
    background_services_replicas: int = Field(
        default=2, ge=1, le=MAX_REPLICAS,
        description="Pods of the separate background-services deployment (scheduler, late runs, "
        "automations; coordinated through Redis, so they share the work); default 2",
    )
    worker: PrefectWorker = Field(default_factory=PrefectWorker, description="Worker deployment; default 2 pods")
    flow_run_namespace: str = Field(
        default="prefect-flows",
        description="Namespace of the workers and of the flow-run Jobs they start; default prefect-flows",
    )

    @field_validator("flow_run_namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not DNS_LABEL.match(value):
            raise custom_error("not a valid Kubernetes namespace name", "use lowercase letters, digits and hyphens")
        return value


class Canary(Section):
    """A second Deployment taking a weighted share of traffic through ingress-nginx canary annotations."""

    enabled: bool = Field(default=False, description="false: no canary Deployment or Ingress; default false")
    image_tag: str = Field(default="", description="Image tag of the canary; empty: the stable tag")
    image_digest: str = Field(
        default="", description="Digest (sha256:...) the canary's image is pinned to; empty: the stable digest when "
        "the canary runs the stable tag, none otherwise",
    )
    weight_percent: int = Field(
        default=10, json_schema_extra={"minimum": 0, "maximum": 100},
        description="Share of requests (0-100) routed to the canary; default 10",
    )
    replicas: int = Field(default=1, ge=1, le=MAX_REPLICAS, description="Canary pods; default 1")

    @field_validator("image_digest")
    @classmethod
    def _digest(cls, value: str) -> str:
        return _image_digest(value)


class ModelApiAuth(Section):
    """Who may call model-api: HTTP basic auth checked by ingress-nginx, the credentials in Secrets Manager.

    Each client gets its own user name and a random key (the password); the secret holds their htpasswd
    lines (bcrypt), External Secrets syncs it into the Secret ingress-nginx reads (``auth-type: basic``,
    ``auth-secret-type: auth-file``), so a key is added or revoked by editing the secret, with no deploy.
    """

    basic_auth_secret: str | None = Field(
        default=None,
        description="Secrets Manager secret (name) whose value is htpasswd lines, one per client (`htpasswd -nbB "
        "<client> <key>`): requests without a listed user and key get 401; left out: no authentication",
    )

    @field_validator("basic_auth_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return _secret_name(value, "haflow/prod/model-api-clients")

    @property
    def enabled(self) -> bool:
        return self.basic_auth_secret is not None


class RateLimit(Section):
    """Per-client-address limits ingress-nginx enforces on model-api (limit-rps, limit-connections).

    ingress-nginx counts in each controller pod separately: with N controllers a client may reach N times
    these figures. Requests over the limit get 503 (the controller's limit-req-status-code).
    """

    requests_per_second: int = Field(
        default=50, ge=0, le=100_000,
        description="Requests per second one client address may send (nginx limit_req, burst 5x); "
        "0: no request limit; default 50",
    )
    connections: int = Field(
        default=50, ge=0, le=100_000,
        description="Concurrent connections one client address may hold (nginx limit_conn); 0: no limit; default 50",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.requests_per_second or self.connections)


class ModelApi(Section):
    """The model-serving HTTP API: Deployment, Service, Ingress, HPA and PDB in its own namespace."""

    image: str = Field(
        default="public.ecr.aws/haflow/model-api",
        description="Container image repository; default public.ecr.aws/haflow/model-api",
    )
    image_tag: str = Field(default="1.0.0", description="Image tag (immutable tags only); default 1.0.0")
    image_digest: str = Field(
        default="", description="Digest (sha256:...) the image is pinned to, rendered as image:tag@digest so every "
        "node runs the same bytes whatever the tag points at later; empty: the tag alone (rule HA-SEC-066 warns)",
    )
    container_port: int = Field(default=8080, ge=1024, le=65535, description="Port the API listens on; default 8080")
    host: str = Field(
        default="", description="Ingress host name; empty: match any host (the NLB's DNS name)"
    )
    replicas: int = Field(
        default=2, ge=1, le=MAX_REPLICAS, description="Pods the Deployment starts with (the HPA takes over); default 2"
    )
    pdb_min_available: int = Field(
        default=1, ge=1, le=MAX_REPLICAS, description="Pods a drain must leave running; default 1"
    )
    autoscaling: Autoscaling = Field(
        default_factory=Autoscaling, description="HPA; default 2-6 pods at 70% CPU / 80% memory"
    )
    resources: Resources = Field(
        default_factory=lambda: Resources(cpu_request="500m", memory_request="1Gi", cpu_limit="2", memory_limit="2Gi"),
        description="Per pod; default 500m/1Gi requested, 2 cores/2Gi limit",
    )
    gpu_count: int = Field(
        default=0, ge=0, le=8,
        description="NVIDIA GPUs per pod; 0 (default) runs on the general node groups, more than 0 "
        "needs the GPU node group (scheduled there by node selector and taint toleration)",
    )
    canary: Canary = Field(default_factory=Canary, description="Canary release; default off")
    auth: ModelApiAuth = Field(
        default_factory=ModelApiAuth,
        description="Authentication at the ingress; default none (an internet-facing model-api needs it, rule "
        "HA-SEC-052)",
    )
    rate_limit: RateLimit = Field(
        default_factory=RateLimit,
        description="Per-client limits at the ingress; default 50 requests/s and 50 connections per address",
    )

    @field_validator("image_digest")
    @classmethod
    def _digest(cls, value: str) -> str:
        return _image_digest(value)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if value and not DNS_NAME.match(value):
            raise custom_error("not a DNS host name", "write it like api.example.com, without scheme or path")
        return value




class Alerts(Section):
    """Thresholds of the PrometheusRule alerts the platform ships, and where Alertmanager delivers them.

    Every alert reaches the region's SNS topic (critical and warning, told apart by the ``severity``
    message attribute); the receivers below are optional extras whose URL or key is read from
    Secrets Manager by External Secrets and mounted into Alertmanager as a file, never put in values.
    """

    model_api_error_rate_percent: float = Field(
        default=5.0, gt=0, le=100, description="Alert when more than this % of model-api requests are 5xx; default 5"
    )
    model_api_p95_latency_seconds: float = Field(
        default=1.0, gt=0, le=600,
        description="Alert when model-api p95 latency exceeds this (at most 600 s); default 1 second",
    )
    pod_restarts_per_hour: int = Field(
        default=3, ge=1, le=100,
        description="Alert when a container restarts more often than this in an hour (kubelet's crash-loop "
        "back-off allows about a dozen); default 3",
    )
    slack_webhook_url_secret: str | None = Field(
        default=None,
        description="Secrets Manager secret (name) whose value is a Slack incoming-webhook URL: critical and "
        "warning alerts are posted there; left out: no Slack",
    )
    pagerduty_routing_key_secret: str | None = Field(
        default=None,
        description="Secrets Manager secret (name) whose value is a PagerDuty Events API v2 routing key: critical "
        "alerts open incidents; left out: no PagerDuty",
    )
    webhook_url_secret: str | None = Field(
        default=None,
        description="Secrets Manager secret (name) whose value is a URL that receives critical and warning alerts "
        "as Alertmanager's webhook JSON; left out: no webhook",
    )
    heartbeat_url_secret: str | None = Field(
        default=None,
        description="Secrets Manager secret (name) whose value is the URL of an external dead-man's switch "
        "(e.g. a healthchecks.io or Dead Man's Snitch check), pinged with the always-firing Watchdog alert; left "
        "out: the Watchdog reaches only the region's heartbeat SNS topic and its CloudWatch alarm",
    )

    @field_validator(
        "slack_webhook_url_secret", "pagerduty_routing_key_secret", "webhook_url_secret", "heartbeat_url_secret"
    )
    @classmethod
    def _secret_name(cls, value: str | None) -> str | None:
        return _secret_name(value, "haflow/prod/slack-webhook-url")

    @property
    def receiver_secrets(self) -> dict[str, str]:
        """The optional receivers' secrets, by the file name Alertmanager reads them from."""
        named = {
            "slack-webhook-url": self.slack_webhook_url_secret,
            "pagerduty-routing-key": self.pagerduty_routing_key_secret,
            "webhook-url": self.webhook_url_secret,
            "heartbeat-url": self.heartbeat_url_secret,
        }
        return {key: secret for key, secret in named.items() if secret}


class Observability(Section):
    """metrics-server, kube-prometheus-stack with alert rules, and fluent-bit to CloudWatch Logs."""

    prometheus_replicas: int = Field(
        default=2, ge=1, le=MAX_REPLICAS, description="Prometheus pods (each scrapes everything); default 2"
    )
    alertmanager_replicas: int = Field(
        default=2, ge=1, le=MAX_REPLICAS, description="Alertmanager pods (clustered, deduplicating); default 2"
    )
    prometheus_retention: str = Field(
        default="15d", description="How long Prometheus keeps samples, e.g. 15d; default 15d"
    )
    prometheus_storage_gib: int = Field(
        default=50, ge=1, le=MAX_VOLUME_GIB,
        description="Persistent volume per Prometheus pod in GiB (gp3: at most 16384); default 50",
    )
    alerts: Alerts = Field(
        default_factory=Alerts,
        description="Alert thresholds and optional receivers; defaults as listed (SNS only)",
    )

    @field_validator("prometheus_retention")
    @classmethod
    def _retention(cls, value: str) -> str:
        if not re.match(r"^\d+(h|d|w|y)$", value):
            raise custom_error("not a Prometheus retention duration", "write e.g. 15d or 2w")
        if _duration_seconds(value) > MAX_PROMETHEUS_RETENTION_SECONDS:
            raise custom_error("longer than 10 years", "write e.g. 30d or 1y")
        return value


class Secrets(Section):
    """External Secrets Operator: Secrets Manager secrets synced into Kubernetes Secrets."""

    operator_replicas: int = Field(
        default=2, ge=1, le=MAX_REPLICAS, description="External Secrets controller pods (leader-elected); default 2"
    )
    refresh_interval: str = Field(
        default="1m",
        description="How often synced secrets are re-read from Secrets Manager; a rotated Aurora password reaches "
        "the pods (Reloader rolls them) within this; default 1m",
    )

    @field_validator("refresh_interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        if not DURATION.match(value):
            raise custom_error("not a duration", "write seconds, minutes or hours, e.g. 15m or 1h")
        if _duration_seconds(value) > MAX_REFRESH_SECONDS:
            raise custom_error("longer than 24h: a rotated password would take too long to reach the pods",
                               "write e.g. 1h")
        return value
