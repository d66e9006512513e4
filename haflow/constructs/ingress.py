"""ingress-nginx behind an AWS Network Load Balancer: HA controller pods, PDB, HPA, metrics.

Upstream retired ingress-nginx in March 2026 (no further releases or security fixes); 4.15.1 is the
last chart. It stays because it is what the platform's users asked for; the migration path is the
Gateway API (see docs/platform.md, "ingress-nginx is retired upstream").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from haflow.config.platform import Ingress
from haflow.constructs.helm import INGRESS_NGINX, helm_release, spread_across_zones_and_hosts

NAMESPACE = "ingress-nginx"
RELEASE_NAME = "ingress-nginx"
INGRESS_CLASS = "nginx"
CONTROLLER_LABELS = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/instance": RELEASE_NAME,
    "app.kubernetes.io/component": "controller",
}

# Service annotations of the Kubernetes AWS cloud provider (the service controller EKS runs):
# https://kubernetes.io/docs/reference/labels-annotations-taints/#service-beta-kubernetes-io-aws-load-balancer-type
NLB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
}
INTERNAL_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-internal"
# The request metrics carry the Ingress' namespace in a `namespace` label, which Prometheus renames
# exported_namespace because the scrape target's own namespace (ingress-nginx) takes the name. Put it
# back: haflow's model-api alerts select on it, and Alertmanager groups and inhibits by it.
INGRESS_NAMESPACE_RELABELINGS = [
    {"sourceLabels": ["exported_namespace"], "regex": "(.+)", "targetLabel": "namespace", "action": "replace"},
    {"regex": "exported_namespace", "action": "labeldrop"},
]


def ingress_nginx_values(config: Ingress) -> dict[str, Any]:
    """Values for the ingress-nginx chart (every key exists in the chart's values.yaml)."""
    annotations = dict(NLB_ANNOTATIONS)
    if config.load_balancer_scheme == "internal":
        annotations[INTERNAL_ANNOTATION] = "true"
    return {
        "controller": {
            "replicaCount": config.controller_replicas,
            "minAvailable": config.pdb_min_available,
            "autoscaling": {
                "enabled": True,
                "minReplicas": config.autoscaling.min_replicas,
                "maxReplicas": config.autoscaling.max_replicas,
                "targetCPUUtilizationPercentage": config.autoscaling.target_cpu_percent,
                "targetMemoryUtilizationPercentage": config.autoscaling.target_memory_percent,
            },
            "topologySpreadConstraints": spread_across_zones_and_hosts(CONTROLLER_LABELS),
            "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}},
            "ingressClassResource": {"name": INGRESS_CLASS, "enabled": True, "default": False},
            "ingressClass": INGRESS_CLASS,
            # Request metrics also for Ingresses without a host (model-api's, unless model_api.host is
            # set); the controller drops them otherwise, and model-api's alerts could never fire
            # (internal/ingress/metric/collectors/socket.go).
            "extraArgs": {"metrics-per-undefined-host": "true"},
            "allowSnippetAnnotations": False,
            "service": {
                "type": "LoadBalancer",
                "annotations": annotations,
                # Keeps the client source IP and skips the second hop through a node in another AZ.
                "externalTrafficPolicy": "Local",
            },
            "metrics": {
                "enabled": True,
                "serviceMonitor": {"enabled": True, "metricRelabelings": INGRESS_NAMESPACE_RELABELINGS},
            },
        },
    }


class IngressNginx(Construct):
    """The ingress-nginx release; ``ingress_class`` is what Ingress objects name."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Ingress,
        provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.ingress_class = INGRESS_CLASS
        self.release = helm_release(
            self, "release", chart=INGRESS_NGINX, release_name=RELEASE_NAME, namespace=NAMESPACE,
            values=ingress_nginx_values(config), provider=provider, depends_on=depends_on,
        )
