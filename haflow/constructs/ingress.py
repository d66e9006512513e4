"""ingress-nginx behind an AWS Network Load Balancer: HA controller pods, PDB, HPA, metrics.

The controller faces the internet, so it reaches into the cluster only where it serves: it watches one namespace
(``controller.scope``, the model-api's), and with ``rbac.scope`` the chart creates no ClusterRole (the chart's
ClusterRole lists and watches Secrets in every namespace even when the controller is scoped:
templates/clusterrole.yaml at 4.15.1). What the controller reads in the served namespace comes from a Role there,
and the IngressClass (cluster-scoped) from a ClusterRole naming nothing else; both ship as a release of the local
manifests chart (``scoped_rbac_objects``). docs/security-cluster.md.

Upstream retired ingress-nginx in March 2026 (no further releases or security fixes); 4.15.1 is the
last chart. It stays because it is what the platform's users asked for; the migration path is the
Gateway API (see docs/platform.md, "ingress-nginx is retired upstream").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from haflow import contract, images
from haflow.config.platform import Ingress
from haflow.constructs.helm import (
    INGRESS_NGINX,
    helm_release,
    manifests_release,
    requests,
    spread_across_zones_and_hosts,
)

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


# The chart's fullname and the controller's service account (serviceAccount.name left empty: the fullname).
FULLNAME = RELEASE_NAME
CONTROLLER_SERVICE_ACCOUNT = FULLNAME
SCOPED_RBAC_RELEASE = "ingress-nginx-scope"
RBAC_API = "rbac.authorization.k8s.io/v1"
# What the controller reads and writes in the namespace it serves: the chart's ClusterRole and Role
# (templates/clusterrole.yaml, controller-role.yaml at 4.15.1) less what only its own namespace holds (its
# ConfigMap, its leader-election Lease) and less nodes (read only when publishService is off; the chart's default
# publishes the controller Service's address).
SERVED_NAMESPACE_RULES = [
    {"apiGroups": [""], "resources": ["configmaps", "endpoints", "pods", "secrets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses/status"], "verbs": ["update"]},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"]},
]


def ingress_class_rules(served_namespace: str) -> list[dict[str, Any]]:
    """The cluster-scoped reads the controller needs: IngressClasses, and the one namespace it serves."""
    return [
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingressclasses"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": [served_namespace], "verbs": ["get"]},
    ]


def scoped_rbac_objects(served_namespace: str) -> list[dict[str, Any]]:
    """The Role + RoleBinding in the served namespace and the IngressClass-only ClusterRole + binding."""
    name = f"{FULLNAME}-scoped"
    subject = [{"kind": "ServiceAccount", "name": CONTROLLER_SERVICE_ACCOUNT, "namespace": NAMESPACE}]
    labels = {"app.kubernetes.io/part-of": "haflow", "app.kubernetes.io/instance": RELEASE_NAME}
    return [
        {"apiVersion": RBAC_API, "kind": "Role",
         "metadata": {"name": name, "namespace": served_namespace, "labels": labels},
         "rules": SERVED_NAMESPACE_RULES},
        {"apiVersion": RBAC_API, "kind": "RoleBinding",
         "metadata": {"name": name, "namespace": served_namespace, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": subject},
        {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": {"name": name, "labels": labels},
         "rules": ingress_class_rules(served_namespace)},
        {"apiVersion": RBAC_API, "kind": "ClusterRoleBinding", "metadata": {"name": name, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": subject},
    ]


# The admission webhook's certificate Jobs (kube-webhook-certgen): the chart sets no requests.
CERTGEN_JOB_REQUESTS = requests("10m", "32Mi")


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


def _image_values(image: images.Image) -> dict[str, str]:
    """The chart's ``image.tag`` and ``image.digest`` from the image lock (haflow.images); an empty digest (none
    locked) renders the image by tag, which HA-SEC-066 reports."""
    pin = images.pinned(image)
    return {"tag": pin.tag, "digest": pin.digest or ""}


def ingress_nginx_values(config: Ingress, served_namespace: str, certificate_arn: str | None = None) -> dict[str, Any]:
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
            # --watch-namespace=<served>: Ingresses, Services and Secrets elsewhere are never read.
            "scope": {"enabled": True, "namespace": served_namespace},
            "admissionWebhooks": {
                "createSecretJob": {"resources": CERTGEN_JOB_REQUESTS},
                "patchWebhookJob": {"resources": CERTGEN_JOB_REQUESTS},
                "patch": {"image": _image_values(images.INGRESS_NGINX_CERTGEN)},
            },
            "image": _image_values(images.INGRESS_NGINX_CONTROLLER),
        },
        # No ClusterRole from the chart: scoped_rbac_objects grants what the scoped controller reads.
        "rbac": {"scope": True},
    }


class IngressNginx(Construct):
    """The ingress-nginx release, scoped to ``served_namespace`` (which must exist: pass its resource in
    ``depends_on``), and the RBAC the scoped controller reads it with; ``ingress_class`` is what Ingress objects
    name."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Ingress,
        served_namespace: str,
        certificate_arn: str | None,
        provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        """``certificate_arn``: the ACM certificate of the NLB's TLS listener (None: plain HTTP, internal only)."""
        super().__init__(scope, construct_id)
        self.ingress_class = INGRESS_CLASS
        self.scoped_rbac = manifests_release(
            self, "scoped-rbac", name=SCOPED_RBAC_RELEASE, namespace=NAMESPACE, create_namespace=True,
            values={"objects": scoped_rbac_objects(served_namespace)}, provider=provider, depends_on=depends_on,
        )
        self.release = helm_release(
            self, "release", chart=INGRESS_NGINX, release_name=RELEASE_NAME, namespace=NAMESPACE,
            values=ingress_nginx_values(config, served_namespace, certificate_arn), provider=provider,
            depends_on=[*depends_on, self.scoped_rbac],
        )
