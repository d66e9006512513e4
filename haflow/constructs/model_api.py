"""The model-api workload: namespace, Deployment, Service, Ingress, HPA and PDB (+ optional canary).

Pods are spread over zones (hard) and nodes (best effort), run non-root on a read-only root
filesystem, are started behind a startup probe (model loading can be slow) and then watched by
liveness (/health) and readiness (/ready) probes. The HPA owns the replica count after creation
(Terraform ignores it). A canary is a second Deployment and Service, with an Ingress carrying the
ingress-nginx canary annotations, taking ``canary.weight_percent`` of the requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.deployment_v1 import DeploymentV1
from cdktf_cdktf_provider_kubernetes.horizontal_pod_autoscaler_v2 import HorizontalPodAutoscalerV2
from cdktf_cdktf_provider_kubernetes.ingress_v1 import IngressV1
from cdktf_cdktf_provider_kubernetes.pod_disruption_budget_v1 import PodDisruptionBudgetV1
from cdktf_cdktf_provider_kubernetes.service_account_v1 import ServiceAccountV1
from cdktf_cdktf_provider_kubernetes.service_v1 import ServiceV1
from constructs import Construct

from haflow import contract
from haflow.config.platform import ModelApi
from haflow.config.redis_acl import MODEL_API as MODEL_API_REDIS_USER
from haflow.config.redis_acl import MODEL_API_KEY_PREFIX
from haflow.constructs.eks import POOL_LABEL
from haflow.constructs.platform_inputs import PlatformInputs
from haflow.constructs.secrets import CACHE_USER_SECRET_PROPERTY, SyncedSecret
from haflow.constructs.structs import struct_kwargs

NAME = "model-api"
NAMESPACE = contract.MODEL_API_SERVICE_ACCOUNT.namespace
SERVICE_PORT = 80
HEALTH_PATH = "/health"
READY_PATH = "/ready"
RUN_AS_USER = 10001
REDIS_SECRET = "model-api-redis"
REDIS_URL_KEY = "redis-url"
# The foundation's GPU node group: labelled POOL_LABEL=gpu and tainted so only GPU pods land there.
GPU_NODE_SELECTOR = {POOL_LABEL: "gpu"}
# ingress-nginx canary annotations: https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#canary
CANARY_ANNOTATION = contract.INGRESS_CANARY_ANNOTATION
CANARY_WEIGHT_ANNOTATION = "nginx.ingress.kubernetes.io/canary-weight"
# Access at the edge, checked by ingress-nginx (annotations of risk Low/Medium, below the controller's default
# annotations-risk-level High; no snippet: the chart runs with allowSnippetAnnotations false); the names are
# in haflow/contract.py (the edge rules read them too).
AUTH_SECRET_TYPE_ANNOTATION = "nginx.ingress.kubernetes.io/auth-secret-type"
AUTH_REALM_ANNOTATION = "nginx.ingress.kubernetes.io/auth-realm"
# The Secret ingress-nginx reads the clients' htpasswd lines from (key "auth": an auth-file).
CLIENTS_SECRET = "model-api-clients"
CLIENTS_SECRET_KEY = "auth"
# Give a scaled-out fleet five minutes of calm before the HPA removes pods.
SCALE_DOWN_STABILIZATION_SECONDS = 300


def labels(track: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "haflow", "haflow/track": track}


def edge_annotations(config: ModelApi) -> dict[str, str]:
    """The stable Ingress' authentication and rate-limit annotations (a canary Ingress inherits them)."""
    annotations: dict[str, str] = {}
    if config.auth.enabled:
        annotations.update({
            contract.INGRESS_AUTH_TYPE_ANNOTATION: "basic",
            contract.INGRESS_AUTH_SECRET_ANNOTATION: CLIENTS_SECRET,
            AUTH_SECRET_TYPE_ANNOTATION: "auth-file",
            AUTH_REALM_ANNOTATION: NAME,
        })
    if config.rate_limit.requests_per_second:
        annotations[contract.INGRESS_LIMIT_RPS_ANNOTATION] = str(config.rate_limit.requests_per_second)
    if config.rate_limit.connections:
        annotations[contract.INGRESS_LIMIT_CONNECTIONS_ANNOTATION] = str(config.rate_limit.connections)
    return annotations


def model_api_synced_secrets(inputs: PlatformInputs, config: ModelApi) -> list[SyncedSecret]:
    """model-api's response cache is the environment's Redis: its TLS URL as Redis user ``model-api``, which
    reaches only keys under REDIS_KEY_PREFIX (haflow.config.redis_acl), with a password of its own; with ``auth``,
    the clients' htpasswd lines ingress-nginx checks requests against."""
    clients = [
        SyncedSecret(
            name=CLIENTS_SECRET,
            namespace=NAMESPACE,
            remote={"clients": (config.auth.basic_auth_secret, None)},
            template={CLIENTS_SECRET_KEY: "{{ .clients }}"},
        )
    ] if config.auth.basic_auth_secret else []
    return [
        *clients,
        SyncedSecret(
            name=REDIS_SECRET,
            namespace=NAMESPACE,
            remote={"password": (inputs.cache_model_api_secret_arn, CACHE_USER_SECRET_PROPERTY)},
            template={
                REDIS_URL_KEY: f"rediss://{MODEL_API_REDIS_USER.user_name}:{{{{ .password | urlquery }}}}@"
                f"{inputs.cache_primary_endpoint}:{inputs.cache_port}/1",
            },
        )
    ]


def _probe(path: str, port: int, *, period: int, failures: int, timeout: int = 3) -> dict[str, Any]:
    return {
        "http_get": {"path": path, "port": str(port)},
        "period_seconds": period,
        "timeout_seconds": timeout,
        "failure_threshold": failures,
    }


def pod_spec(config: ModelApi, inputs: PlatformInputs, *, track: str, image_tag: str, image_digest: str = ""
             ) -> dict[str, Any]:
    """The pod template spec of a model-api Deployment (stable or canary)."""
    requests = {"cpu": config.resources.cpu_request, "memory": config.resources.memory_request}
    limits = {"cpu": config.resources.cpu_limit, "memory": config.resources.memory_limit}
    if config.gpu_count:
        requests[contract.GPU_RESOURCE] = limits[contract.GPU_RESOURCE] = str(config.gpu_count)
    spec: dict[str, Any] = {
        "service_account_name": contract.MODEL_API_SERVICE_ACCOUNT.name,
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": str(RUN_AS_USER),
            "run_as_group": str(RUN_AS_USER),
            "fs_group": str(RUN_AS_USER),
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        "topology_spread_constraint": [
            {
                "max_skew": 1,
                "topology_key": contract.ZONE_TOPOLOGY_KEY,
                "when_unsatisfiable": "DoNotSchedule",
                "label_selector": [{"match_labels": labels(track)}],
            },
            {
                "max_skew": 1,
                "topology_key": "kubernetes.io/hostname",
                "when_unsatisfiable": "ScheduleAnyway",
                "label_selector": [{"match_labels": labels(track)}],
            },
        ],
        "container": [
            {
                "name": NAME,
                "image": f"{config.image}:{image_tag}" + (f"@{image_digest}" if image_digest else ""),
                "port": [{"name": "http", "container_port": config.container_port}],
                "env": [
                    {"name": "AWS_REGION", "value": inputs.region},
                    {"name": "ARTIFACTS_BUCKET", "value": inputs.artifacts_bucket_name},
                    {
                        "name": "REDIS_URL",
                        "value_from": {"secret_key_ref": {"name": REDIS_SECRET, "key": REDIS_URL_KEY}},
                    },
                    # The only keys its Redis user may touch: every key the app writes starts with this.
                    {"name": "REDIS_KEY_PREFIX", "value": MODEL_API_KEY_PREFIX},
                ],
                "resources": {"requests": requests, "limits": limits},
                # Up to 5 minutes to load the model before liveness checks begin.
                "startup_probe": _probe(HEALTH_PATH, config.container_port, period=10, failures=30),
                "liveness_probe": _probe(HEALTH_PATH, config.container_port, period=10, failures=3),
                "readiness_probe": _probe(READY_PATH, config.container_port, period=5, failures=3),
                "security_context": {
                    "run_as_non_root": True,
                    "read_only_root_filesystem": True,
                    "allow_privilege_escalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volume_mount": [{"name": "tmp", "mount_path": "/tmp"}],
            }
        ],
        "volume": [{"name": "tmp", "empty_dir": {}}],
    }
    if config.gpu_count:
        spec["node_selector"] = dict(GPU_NODE_SELECTOR)
        spec["toleration"] = [dict(contract.GPU_TOLERATION)]
    return spec


class ModelApiWorkload(Construct):
    """Everything model-api needs in its namespace (the namespace itself comes from the stack)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ModelApi,
        inputs: PlatformInputs,
        ingress_class: str,
        ingress_controller: ITerraformDependable,
        provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        """``depends_on``: the namespace and the synced secrets the pods mount. ``ingress_controller``: the
        ingress-nginx release, which the Ingress objects wait for: its admission webhook
        (failurePolicy Fail) refuses every Ingress until the controller serves it."""
        super().__init__(scope, construct_id)
        self._depends_on = list(depends_on)
        self._ingress_controller = ingress_controller
        self.service_account = ServiceAccountV1(
            self, "service-account",
            metadata=_metadata(contract.MODEL_API_SERVICE_ACCOUNT.name,
                               annotations={contract.IRSA_ANNOTATION: inputs.model_api_role_arn}),
            provider=provider,
            depends_on=self._depends_on,
        )
        self.deployment = self._deployment("deployment", config, inputs, track="stable",
                                           replicas=config.replicas, image_tag=config.image_tag,
                                           image_digest=config.image_digest, provider=provider)
        self.service = self._service("service", NAME, "stable", config, provider)
        self.ingress = self._ingress("ingress", NAME, NAME, config, ingress_class, edge_annotations(config), provider)
        self.autoscaler = HorizontalPodAutoscalerV2(
            self, "autoscaler",
            **struct_kwargs(HorizontalPodAutoscalerV2, {"metadata": _metadata(NAME), "spec": {
                "scale_target_ref": {"api_version": "apps/v1", "kind": "Deployment", "name": NAME},
                "min_replicas": config.autoscaling.min_replicas,
                "max_replicas": config.autoscaling.max_replicas,
                "metric": [
                    _utilization("cpu", config.autoscaling.target_cpu_percent),
                    _utilization("memory", config.autoscaling.target_memory_percent),
                ],
                "behavior": {
                    "scale_down": [{
                        "stabilization_window_seconds": SCALE_DOWN_STABILIZATION_SECONDS,
                        "select_policy": "Max",
                        "policy": [{"type": "Pods", "value": 1, "period_seconds": 60}],
                    }]
                },
            }}),
            provider=provider,
            depends_on=[self.deployment],
        )
        self.disruption_budget = PodDisruptionBudgetV1(
            self, "disruption-budget",
            metadata=_metadata(NAME),
            spec={"min_available": str(config.pdb_min_available), "selector": {"match_labels": labels("stable")}},
            provider=provider,
            depends_on=self._depends_on,
        )
        self.canary: DeploymentV1 | None = None
        if config.canary.enabled:
            canary_name = f"{NAME}-canary"
            self.canary = self._deployment(
                "canary-deployment", config, inputs, track="canary", replicas=config.canary.replicas,
                image_tag=config.canary.image_tag or config.image_tag,
                image_digest=config.canary.image_digest or ("" if config.canary.image_tag else config.image_digest),
                provider=provider,
            )
            self._service("canary-service", canary_name, "canary", config, provider)
            self._ingress(
                "canary-ingress", canary_name, canary_name, config, ingress_class,
                {CANARY_ANNOTATION: "true", CANARY_WEIGHT_ANNOTATION: str(config.canary.weight_percent)},
                provider,
            )

    def _deployment(
        self, construct_id: str, config: ModelApi, inputs: PlatformInputs, *, track: str, replicas: int,
        image_tag: str, image_digest: str, provider: TerraformProvider,
    ) -> DeploymentV1:
        name = NAME if track == "stable" else f"{NAME}-{track}"
        return DeploymentV1(
            self, construct_id,
            **struct_kwargs(DeploymentV1, {"metadata": _metadata(name, labels=labels(track)), "spec": {
                "replicas": str(replicas),
                "selector": {"match_labels": labels(track)},
                "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": "0", "max_surge": "25%"}},
                "template": {
                    "metadata": {"labels": labels(track)},
                    "spec": pod_spec(config, inputs, track=track, image_tag=image_tag, image_digest=image_digest),
                },
            }}),
            # The HPA owns the replica count once the Deployment exists.
            lifecycle={"ignore_changes": ["spec[0].replicas"]},
            provider=provider,
            depends_on=[self.service_account, *self._depends_on],
        )

    def _service(
        self, construct_id: str, name: str, track: str, config: ModelApi, provider: TerraformProvider
    ) -> ServiceV1:
        return ServiceV1(
            self, construct_id,
            **struct_kwargs(ServiceV1, {
                "metadata": _metadata(name, labels=labels(track)),
                "spec": {
                    "type": "ClusterIP",
                    "selector": labels(track),
                    "port": [{"name": "http", "port": SERVICE_PORT, "target_port": str(config.container_port)}],
                },
            }),
            provider=provider,
            depends_on=self._depends_on,
        )

    def _ingress(
        self, construct_id: str, name: str, service: str, config: ModelApi, ingress_class: str,
        annotations: dict[str, str], provider: TerraformProvider,
    ) -> IngressV1:
        rule: dict[str, Any] = {
            "http": {
                "path": [
                    {
                        "path": "/",
                        "path_type": "Prefix",
                        "backend": {"service": {"name": service, "port": {"number": SERVICE_PORT}}},
                    }
                ]
            }
        }
        if config.host:
            rule["host"] = config.host
        return IngressV1(
            self, construct_id,
            **struct_kwargs(IngressV1, {
                "metadata": _metadata(name, annotations=annotations),
                "spec": {"ingress_class_name": ingress_class, "rule": [rule]},
            }),
            provider=provider,
            depends_on=[*self._depends_on, self._ingress_controller],
        )


def _metadata(
    name: str, *, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": NAMESPACE}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    return metadata


def _utilization(resource: str, percent: int) -> dict[str, Any]:
    return {
        "type": "Resource",
        "resource": {"name": resource, "target": {"type": "Utilization", "average_utilization": percent}},
    }
