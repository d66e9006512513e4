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

from haflow import contract
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
# TLS on the NLB. haflow installs no AWS Load Balancer Controller, so the Service's NLB is made by the AWS
# cloud provider's service controller (cloud-provider-aws, which EKS runs), and these are the annotations it
# reads for an NLB: the listener of each port in ssl-ports becomes TLS with ssl-cert and
# ssl-negotiation-policy; the targets get plain TCP unless backend-protocol is "ssl"
# (pkg/providers/v1/aws.go, EnsureLoadBalancer). Their names: haflow/contract.py.
HTTPS_PORT = 443
# The request metrics carry the Ingress' namespace in a `namespace` label, which Prometheus renames
# exported_namespace because the scrape target's own namespace (ingress-nginx) takes the name. Put it
# back: haflow's model-api alerts select on it, and Alertmanager groups and inhibits by it.
INGRESS_NAMESPACE_RELABELINGS = [
    {"sourceLabels": ["exported_namespace"], "regex": "(.+)", "targetLabel": "namespace", "action": "replace"},
    {"regex": "exported_namespace", "action": "labeldrop"},
]


def load_balancer_service(config: Ingress, certificate_arn: str | None) -> dict[str, Any]:
    """The chart's ``controller.service``: an NLB, TLS on 443 with ``certificate_arn``, port 80 closed.

    The NLB terminates TLS and forwards to the controller's plain HTTP port (the certificate's key never
    enters the cluster). Port 80 is closed rather than redirected: a redirect would answer only after the
    client had sent its request, API key included, in clear text.
    """
    annotations = dict(NLB_ANNOTATIONS)
    if config.load_balancer_scheme == "internal":
        annotations[contract.NLB_INTERNAL_ANNOTATION] = "true"
    service: dict[str, Any] = {
        "type": "LoadBalancer",
        "annotations": annotations,
        # Keeps the client source IP (what the per-client rate limits count) and skips the second hop
        # through a node in another AZ.
        "externalTrafficPolicy": "Local",
    }
    if certificate_arn:
        annotations.update({
            contract.NLB_SSL_CERT_ANNOTATION: certificate_arn,
            contract.NLB_SSL_PORTS_ANNOTATION: str(HTTPS_PORT),
            contract.NLB_SSL_POLICY_ANNOTATION: config.tls.ssl_policy,
            contract.NLB_BACKEND_PROTOCOL_ANNOTATION: "tcp",
        })
        service["enableHttp"] = False
        service["targetPorts"] = {"https": "http"}
        # The chart would mark port 443 appProtocol https, but the controller receives plain HTTP there.
        service["appProtocol"] = False
    if config.load_balancer_source_ranges:
        service["loadBalancerSourceRanges"] = list(config.load_balancer_source_ranges)
    return service


def ingress_nginx_values(config: Ingress, certificate_arn: str | None = None) -> dict[str, Any]:
    """Values for the ingress-nginx chart (every key exists in the chart's values.yaml)."""
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
            "service": load_balancer_service(config, certificate_arn),
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
        certificate_arn: str | None,
        provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        """``certificate_arn``: the ACM certificate of the NLB's TLS listener (None: plain HTTP, internal only)."""
        super().__init__(scope, construct_id)
        self.ingress_class = INGRESS_CLASS
        self.release = helm_release(
            self, "release", chart=INGRESS_NGINX, release_name=RELEASE_NAME, namespace=NAMESPACE,
            values=ingress_nginx_values(config, certificate_arn), provider=provider, depends_on=depends_on,
        )
