"""Who may talk to whom on the platform's pod network: the one table of intended flows, and the flows that
must stay closed.

The platform stack turns ``intended_flows`` into NetworkPolicies (haflow/constructs/network_policy.py);
the rules (HA-SEC-020..022) and the tests evaluate the *rendered* policies against the same table with
Kubernetes' semantics (haflow/netpol.py): every intended flow allowed, every ``forbidden_flows`` entry
denied. A flow names its endpoints by namespace and label selector (the labels the charts and haflow put
on the pods; the render tests check that each selector selects a rendered pod) or by address range.

Every namespace haflow installs into is closed by default (``GOVERNED_NAMESPACES``: a policy selecting
every pod, for ingress and egress, with no rule); kube-system is shared with EKS's own add-ons (CoreDNS,
the VPC CNI, kube-proxy, the EBS CSI driver) that haflow neither renders nor can vouch for, so there only
haflow's pods are closed (``SYSTEM_PODS``).

Bottom layer: imports only ``haflow.contract``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from haflow import contract

# --- enforcement ----------------------------------------------------------------------------------------

# The vpc-cni add-on's configuration that turns NetworkPolicy enforcement on: the network policy agent in
# the aws-node DaemonSet (eBPF on each node) and the policy controller EKS runs in the control plane. The
# add-on's configuration schema types it as a string ("true"). Needs VPC CNI 1.14+ on Kubernetes 1.25+ and
# Linux nodes (AL2023); no IAM permission beyond the node role's AmazonEKS_CNI_Policy.
# https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html
VPC_CNI_ADDON = "vpc-cni"
VPC_CNI_NETWORK_POLICY_KEY = "enableNetworkPolicy"
VPC_CNI_CONFIGURATION: dict[str, Any] = {VPC_CNI_NETWORK_POLICY_KEY: "true"}

# --- namespaces -----------------------------------------------------------------------------------------

PREFECT_NAMESPACE = contract.PREFECT_NAMESPACE
MODEL_API_NAMESPACE = contract.MODEL_API_SERVICE_ACCOUNT.namespace
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"
LOGGING_NAMESPACE = contract.FLUENT_BIT_SERVICE_ACCOUNT.namespace
EXTERNAL_SECRETS_NAMESPACE = contract.EXTERNAL_SECRETS_SERVICE_ACCOUNT.namespace
RELOADER_NAMESPACE = "reloader"
SYSTEM_NAMESPACE = "kube-system"

# haflow's releases in kube-system (metrics-server, cluster-autoscaler, the NVIDIA device plugin), by the
# app.kubernetes.io/instance label their charts put on the pods (= the release name).
SYSTEM_RELEASES = ("cluster-autoscaler", "metrics-server", "nvidia-device-plugin")
SYSTEM_PODS: dict[str, Any] = {"matchExpressions": [
    {"key": "app.kubernetes.io/instance", "operator": "In", "values": list(SYSTEM_RELEASES)},
]}
EVERY_POD: dict[str, Any] = {}


def governed_namespaces(flow_run_namespace: str) -> tuple[str, ...]:
    """The namespaces haflow installs into and closes by default (every pod in them)."""
    return (PREFECT_NAMESPACE, flow_run_namespace, MODEL_API_NAMESPACE, INGRESS_NAMESPACE, MONITORING_NAMESPACE,
            LOGGING_NAMESPACE, EXTERNAL_SECRETS_NAMESPACE, RELOADER_NAMESPACE)


def closed_by_default(flow_run_namespace: str) -> dict[str, dict[str, Any]]:
    """Namespace -> the pods its default-deny policy selects (every pod, or haflow's pods in kube-system)."""
    closed = {namespace: EVERY_POD for namespace in governed_namespaces(flow_run_namespace)}
    closed[SYSTEM_NAMESPACE] = SYSTEM_PODS
    return closed


# --- endpoints ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pods:
    """Pods of one namespace that a label selector selects (``{}``: every pod of the namespace).

    ``owned``: haflow runs these pods (False for EKS's own add-ons, which haflow never closes).
    """

    name: str
    namespace: str
    selector: dict[str, Any]
    owned: bool = True


@dataclass(frozen=True)
class Addresses:
    """Addresses outside the pod network's selectors: CIDRs, less ``except``."""

    name: str
    cidrs: tuple[str, ...]
    except_cidrs: tuple[str, ...] = ()


Endpoint = Pods | Addresses


@dataclass(frozen=True)
class Port:
    """A destination port: a number (``name``: the destination pods' container port of that number, which the
    render tests check), or a container port's name.

    The policies haflow writes use numbers: the VPC CNI's policy controller has not resolved a named port in an
    ingress rule (https://github.com/aws/amazon-network-policy-controller-k8s/issues/81).
    """

    port: int | str
    protocol: str = "TCP"
    name: str = ""

    def __str__(self) -> str:
        named = f" ({self.name})" if self.name else ""
        return f"{self.port}/{self.protocol}{named}"


@dataclass(frozen=True)
class Flow:
    name: str
    source: Endpoint
    destination: Endpoint
    ports: tuple[Port, ...]
    why: str


def _match(labels: dict[str, str]) -> dict[str, Any]:
    return {"matchLabels": dict(labels)}


INGRESS_CONTROLLER = Pods("ingress-nginx controller", INGRESS_NAMESPACE, _match({
    "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": "ingress-nginx",
    "app.kubernetes.io/component": "controller"}))
INGRESS_ADMISSION_JOBS = Pods("ingress-nginx admission Jobs", INGRESS_NAMESPACE, _match({
    "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "admission-webhook"}))
MODEL_API = Pods("model-api", MODEL_API_NAMESPACE, _match({"app.kubernetes.io/name": "model-api"}))
PREFECT_API = Pods("Prefect API", PREFECT_NAMESPACE, _match({
    "app.kubernetes.io/name": "prefect-server", "app.kubernetes.io/instance": "prefect-server",
    "app.kubernetes.io/component": "server"}))
# The API pods, the background services and the migration Job: everything of the prefect-server release.
PREFECT_SERVER = Pods("Prefect server (API, background services, migrations)", PREFECT_NAMESPACE, _match({
    "app.kubernetes.io/name": "prefect-server", "app.kubernetes.io/instance": "prefect-server"}))
# The Job that creates Prefect's database roles as the master user (haflow/constructs/prefect_database.py).
PREFECT_DATABASE_BOOTSTRAP = Pods("Prefect database bootstrap Job", PREFECT_NAMESPACE, _match({
    "app.kubernetes.io/name": "prefect-database-bootstrap"}))
EXTERNAL_SECRETS = Pods("External Secrets (controller, webhook, cert controller)", EXTERNAL_SECRETS_NAMESPACE,
                        _match({"app.kubernetes.io/instance": "external-secrets"}))
EXTERNAL_SECRETS_CONTROLLER = Pods("External Secrets controller", EXTERNAL_SECRETS_NAMESPACE, _match({
    "app.kubernetes.io/name": "external-secrets", "app.kubernetes.io/instance": "external-secrets"}))
EXTERNAL_SECRETS_WEBHOOK = Pods("External Secrets webhook", EXTERNAL_SECRETS_NAMESPACE, _match({
    "app.kubernetes.io/name": "external-secrets-webhook", "app.kubernetes.io/instance": "external-secrets"}))
RELOADER = Pods("Reloader", RELOADER_NAMESPACE, _match({"app.kubernetes.io/instance": "reloader"}))
FLUENT_BIT = Pods("fluent-bit", LOGGING_NAMESPACE, _match({"app.kubernetes.io/name": "fluent-bit"}))
CLUSTER_AUTOSCALER = Pods("cluster-autoscaler", SYSTEM_NAMESPACE, _match({
    "app.kubernetes.io/name": "aws-cluster-autoscaler", "app.kubernetes.io/instance": "cluster-autoscaler"}))
METRICS_SERVER = Pods("metrics-server", SYSTEM_NAMESPACE, _match({
    "app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": "metrics-server"}))
# prometheus-operator's pods (the labels it puts on the Prometheus and Alertmanager StatefulSets' pods).
PROMETHEUS = Pods("Prometheus", MONITORING_NAMESPACE, _match({"app.kubernetes.io/name": "prometheus"}))
ALERTMANAGER = Pods("Alertmanager", MONITORING_NAMESPACE, _match({"app.kubernetes.io/name": "alertmanager"}))
PROMETHEUS_OPERATOR = Pods("prometheus-operator", MONITORING_NAMESPACE, _match({
    "app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator",
    "app.kubernetes.io/component": "prometheus-operator"}))
OPERATOR_ADMISSION_JOBS = Pods("prometheus-operator admission Jobs", MONITORING_NAMESPACE, _match({
    "app.kubernetes.io/component": "prometheus-operator-webhook"}))
# haflow's Grafana release (haflow.constructs.grafana: release and chart name "grafana").
GRAFANA = Pods("Grafana", MONITORING_NAMESPACE, _match({
    "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana"}))
KUBE_STATE_METRICS = Pods("kube-state-metrics", MONITORING_NAMESPACE, _match({
    "app.kubernetes.io/name": "kube-state-metrics"}))
# EKS's CoreDNS add-on (not rendered by haflow): the label its pods and the kube-dns Service use.
COREDNS = Pods("CoreDNS", SYSTEM_NAMESPACE, _match({"k8s-app": "kube-dns"}), owned=False)
COREDNS_PORTS = {"dns": (53, "UDP"), "dns-tcp": (53, "TCP"), "metrics": (9153, "TCP")}


def prefect_worker(flow_run_namespace: str) -> Pods:
    return Pods("Prefect worker", flow_run_namespace, _match({
        "app.kubernetes.io/name": "prefect-worker", "app.kubernetes.io/instance": "prefect-worker"}))


# The Job controller labels every pod of a Job with its name (Kubernetes 1.27+):
# https://kubernetes.io/docs/reference/labels-annotations-taints/#batchkubernetesiojob-name
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def flow_runs(flow_run_namespace: str) -> Pods:
    """The pods of the flow-run Jobs the worker creates (nothing else in that namespace runs as a Job)."""
    return Pods("Prefect flow runs", flow_run_namespace,
                {"matchExpressions": [{"key": JOB_NAME_LABEL, "operator": "Exists"}]})


# --- ports ----------------------------------------------------------------------------------------------

HTTPS = 443
DNS = (Port(53, "UDP"), Port(53, "TCP"))
PREFECT_API_PORT = 4200  # the prefect-server chart's service.port (= the container port)
KUBELET_PORT = 10250
NODE_EXPORTER_PORT = 9100
KUBE_PROXY_METRICS_PORT = 10249
PROMETHEUS_WEB_PORT = 9090  # kube-prometheus-stack's prometheus.service.port (= the container port)
ALERTMANAGER_MESH_PORT = 9094  # Alertmanager's cluster gossip, TCP and UDP
# The container ports the webhooks and aggregated APIs serve on (the charts' defaults).
INGRESS_WEBHOOK_PORT = Port(8443, name="webhook")
EXTERNAL_SECRETS_WEBHOOK_PORT = Port(10250, name="webhook")
OPERATOR_PORT = Port(10250, name="https")
METRICS_SERVER_PORT = Port(10250, name="https")


# kube-prometheus-stack's ServiceMonitors whose targets are not pods in the pod network, by the end of their
# name: the node addresses (the kubelet's cAdvisor and resource metrics, kube-proxy's metrics), the API server,
# and the control-plane components EKS runs outside the cluster (their Services select no pod: no target).
NODE_SCRAPE_TARGETS = {"kubelet": KUBELET_PORT, "kube-proxy": KUBE_PROXY_METRICS_PORT}
API_SERVER_SCRAPE_TARGET = "apiserver"
NO_TARGETS_ON_EKS = ("kube-controller-manager", "kube-scheduler", "kube-etcd")

# --- the table ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowInputs:
    """What the table needs from the environment: the flow-run namespace, model-api's container port and
    the address plan (VPC, the private subnets of nodes, pods and the EKS control-plane ENIs, the data
    subnets of Aurora and Redis, the Service CIDR whose first address is the ``kubernetes`` Service)."""

    flow_run_namespace: str
    model_api_port: int
    vpc_cidr: str
    private_cidrs: tuple[str, ...]
    data_cidrs: tuple[str, ...]
    service_cidr: str
    # False on a DR platform before promotion (dr.serving): the Prefect releases are not installed there
    # (a global-database secondary is read-only), so none of their flows is opened.
    prefect_installed: bool = True

    @property
    def kubernetes_service_ip(self) -> str:
        return str(next(ipaddress.ip_network(self.service_cidr).hosts()))


def api_server(inputs: FlowInputs) -> Addresses:
    """The Kubernetes API: its ENIs in the cluster's (private) subnets, and the ``kubernetes`` Service address
    (which one a CNI's egress filter sees depends on whether it runs before kube-proxy's DNAT; the API leaves
    that to the implementation, so both are allowed)."""
    return Addresses("Kubernetes API server", (*inputs.private_cidrs, f"{inputs.kubernetes_service_ip}/32"))


def api_server_callers(inputs: FlowInputs) -> Addresses:
    """Where the API server's calls to webhooks and aggregated APIs come from: its ENIs in the private subnets."""
    return Addresses("Kubernetes API server (control-plane ENIs)", inputs.private_cidrs)


def nodes(inputs: FlowInputs) -> Addresses:
    return Addresses("nodes (kubelet, host-network exporters)", inputs.private_cidrs)


def data_subnets(inputs: FlowInputs) -> Addresses:
    return Addresses("data subnets (Aurora, ElastiCache)", inputs.data_cidrs)


def outside_vpc(inputs: FlowInputs) -> Addresses:
    """AWS APIs (STS for IRSA, S3, Secrets Manager, CloudWatch Logs, EC2/Auto Scaling) and the internet,
    through the NAT gateways or the S3 gateway endpoint: every address outside the VPC."""
    return Addresses("AWS APIs and the internet", ("0.0.0.0/0",), (inputs.vpc_cidr,))


CLIENTS = Addresses("clients through the load balancer", ("0.0.0.0/0",))


def intended_flows(inputs: FlowInputs) -> tuple[Flow, ...]:
    """Every connection the platform needs; anything else is closed."""
    flow_ns = inputs.flow_run_namespace
    worker, runs = prefect_worker(flow_ns), flow_runs(flow_ns)
    api, callers, aws = api_server(inputs), api_server_callers(inputs), outside_vpc(inputs)
    https = (Port(HTTPS),)
    prefect_flows = [
        Flow("worker-to-prefect-api", worker, PREFECT_API, (Port(PREFECT_API_PORT),), "polls its work pool"),
        Flow("flow-runs-to-prefect-api", runs, PREFECT_API, (Port(PREFECT_API_PORT),),
             "report state and logs"),
        Flow("worker-to-api-server", worker, api, https, "creates and watches the flow-run Jobs"),
        Flow("prefect-to-aurora", PREFECT_SERVER, data_subnets(inputs), (Port(contract.POSTGRES_PORT),),
             "the API, background services and migrations use Aurora PostgreSQL"),
        Flow("prefect-database-bootstrap-to-aurora", PREFECT_DATABASE_BOOTSTRAP, data_subnets(inputs),
             (Port(contract.POSTGRES_PORT),), "creates Prefect's database roles before the server installs"),
        Flow("prefect-to-redis", PREFECT_SERVER, data_subnets(inputs), (Port(contract.REDIS_PORT),),
             "messaging, events, leases and Docket on ElastiCache"),
        Flow("flow-runs-to-aws", runs, aws, https, "S3 artifacts and STS (IRSA) for the flow role"),
    ]
    flows: list[Flow] = [
        Flow(f"dns-{namespace}", Pods(f"every pod in {namespace}", namespace, EVERY_POD), COREDNS, DNS,
             "name resolution through the cluster DNS")
        for namespace in governed_namespaces(flow_ns)
        if inputs.prefect_installed or namespace != PREFECT_NAMESPACE  # no pod there before promotion
    ]
    flows += [
        Flow("dns-kube-system", Pods("haflow's pods in kube-system", SYSTEM_NAMESPACE, SYSTEM_PODS), COREDNS, DNS,
             "name resolution through the cluster DNS"),
        # The edge.
        Flow("clients-to-ingress", CLIENTS, INGRESS_CONTROLLER, (Port(80, name="http"), Port(443, name="https")),
             "the NLB keeps the client's address (externalTrafficPolicy Local)"),
        Flow("ingress-to-model-api", INGRESS_CONTROLLER, MODEL_API, (Port(inputs.model_api_port, name="http"),),
             "ingress-nginx proxies to the model-api pods (their container port)"),
        Flow("ingress-to-api-server", INGRESS_CONTROLLER, api, https, "watches Ingresses, Services, Secrets"),
        Flow("api-server-to-ingress-webhook", callers, INGRESS_CONTROLLER, (INGRESS_WEBHOOK_PORT,),
             "the ValidatingWebhookConfiguration ingress-nginx-admission"),
        Flow("ingress-admission-jobs-to-api-server", INGRESS_ADMISSION_JOBS, api, https,
             "the hook Jobs create the webhook's certificate and patch the webhook"),
        # Prefect (not on a DR platform before promotion: inputs.prefect_installed).
        *(prefect_flows if inputs.prefect_installed else []),
        # model-api.
        Flow("model-api-to-redis", MODEL_API, data_subnets(inputs), (Port(contract.REDIS_PORT),),
             "its response cache"),
        Flow("model-api-to-aws", MODEL_API, aws, https, "S3 (the model artifacts) and STS (IRSA)"),
        # External Secrets.
        Flow("external-secrets-to-api-server", EXTERNAL_SECRETS, api, https,
             "the controller writes Secrets; the webhook and cert controller keep the webhook's certificate"),
        Flow("external-secrets-to-aws", EXTERNAL_SECRETS_CONTROLLER, aws, https, "Secrets Manager and STS (IRSA)"),
        Flow("api-server-to-external-secrets-webhook", callers, EXTERNAL_SECRETS_WEBHOOK,
             (EXTERNAL_SECRETS_WEBHOOK_PORT,),
             "the ValidatingWebhookConfigurations secretstore-validate and externalsecret-validate"),
        # Cluster services.
        Flow("reloader-to-api-server", RELOADER, api, https, "watches Secrets, patches Deployments"),
        Flow("fluent-bit-to-api-server", FLUENT_BIT, api, https, "the kubernetes filter reads pod metadata"),
        Flow("fluent-bit-to-aws", FLUENT_BIT, aws, https, "CloudWatch Logs and STS (IRSA)"),
        Flow("cluster-autoscaler-to-api-server", CLUSTER_AUTOSCALER, api, https, "watches pods and nodes"),
        Flow("cluster-autoscaler-to-aws", CLUSTER_AUTOSCALER, aws, https, "EC2 Auto Scaling, EC2 and STS (IRSA)"),
        Flow("metrics-server-to-api-server", METRICS_SERVER, api, https, "registers and reads nodes"),
        Flow("metrics-server-to-kubelets", METRICS_SERVER, nodes(inputs), (Port(KUBELET_PORT),),
             "reads resource metrics from each kubelet"),
        Flow("api-server-to-metrics-server", callers, METRICS_SERVER, (METRICS_SERVER_PORT,),
             "the APIService v1beta1.metrics.k8s.io (the HPAs' metrics)"),
        # Monitoring.
        Flow("prometheus-operator-to-api-server", PROMETHEUS_OPERATOR, api, https, "reconciles its resources"),
        Flow("api-server-to-prometheus-operator-webhook", callers, PROMETHEUS_OPERATOR, (OPERATOR_PORT,),
             "the admission webhooks for PrometheusRules and AlertmanagerConfigs"),
        Flow("operator-admission-jobs-to-api-server", OPERATOR_ADMISSION_JOBS, api, https,
             "the hook Jobs create the webhook's certificate and patch the webhooks"),
        Flow("kube-state-metrics-to-api-server", KUBE_STATE_METRICS, api, https, "lists every object it exports"),
        Flow("prometheus-to-api-server", PROMETHEUS, api, https, "service discovery and the apiserver scrape"),
        Flow("prometheus-to-nodes", PROMETHEUS, nodes(inputs),
             (Port(KUBELET_PORT), Port(NODE_EXPORTER_PORT), Port(KUBE_PROXY_METRICS_PORT)),
             "scrapes the kubelets (cAdvisor), node-exporter and kube-proxy on the node addresses"),
        Flow("prometheus-to-ingress-metrics", PROMETHEUS, INGRESS_CONTROLLER, (Port(10254, name="metrics"),),
             "the ServiceMonitor ingress-nginx-controller"),
        Flow("prometheus-to-kube-state-metrics", PROMETHEUS, KUBE_STATE_METRICS, (Port(8080, name="http"),),
             "the ServiceMonitor kube-state-metrics"),
        Flow("prometheus-to-prometheus-operator", PROMETHEUS, PROMETHEUS_OPERATOR, (OPERATOR_PORT,),
             "the ServiceMonitor of the operator"),
        Flow("prometheus-to-prometheus", PROMETHEUS, PROMETHEUS,
             (Port(PROMETHEUS_WEB_PORT, name="http-web"), Port(8080, name="reloader-web")),
             "Prometheus scrapes itself and its config reloader"),
        Flow("prometheus-to-alertmanager", PROMETHEUS, ALERTMANAGER,
             (Port(9093, name="http-web"), Port(8080, name="reloader-web")),
             "sends alerts; scrapes Alertmanager and its config reloader"),
        Flow("prometheus-to-coredns", PROMETHEUS, COREDNS, (Port(9153, name="metrics"),), "the ServiceMonitor coredns"),
        Flow("alertmanager-cluster", ALERTMANAGER, ALERTMANAGER,
             (Port(ALERTMANAGER_MESH_PORT, name="mesh-tcp"), Port(ALERTMANAGER_MESH_PORT, "UDP", name="mesh-udp")),
             "the replicas gossip silences and notifications"),
        Flow("alertmanager-to-receivers", ALERTMANAGER, aws, https, "SNS and the chat/pager receivers"),
        # Grafana (docs/grafana.md): people reach it with kubectl port-forward, which the container runtime
        # connects from inside the pod's network namespace, so no ingress rule admits them.
        Flow("grafana-to-prometheus", GRAFANA, PROMETHEUS, (Port(PROMETHEUS_WEB_PORT, name="http-web"),),
             "the datasource: every dashboard query"),
        Flow("grafana-to-api-server", GRAFANA, api, https, "the dashboard sidecar watches the labelled ConfigMaps"),
    ]
    return tuple(flows)


@dataclass(frozen=True)
class ForbiddenFlow:
    name: str
    source: Endpoint
    destination: Endpoint
    ports: tuple[Port, ...]
    why: str


def intruder(namespace: str) -> Pods:
    """A pod haflow never made, in ``namespace`` (someone's debug pod, a compromised image)."""
    return Pods(f"an arbitrary pod in {namespace}", namespace, _match({"haflow/test": "intruder"}))


def webhook_endpoints() -> tuple[tuple[Pods, Port], ...]:
    """Each admission webhook and aggregated API server, with the port its pods serve it on."""
    return ((INGRESS_CONTROLLER, INGRESS_WEBHOOK_PORT), (EXTERNAL_SECRETS_WEBHOOK, EXTERNAL_SECRETS_WEBHOOK_PORT),
            (PROMETHEUS_OPERATOR, OPERATOR_PORT), (METRICS_SERVER, METRICS_SERVER_PORT))


def forbidden_flows(inputs: FlowInputs) -> tuple[ForbiddenFlow, ...]:
    """Connections that must stay closed, each for a reason the issue names."""
    flow_ns = inputs.flow_run_namespace
    data = data_subnets(inputs)
    flows = [
        ForbiddenFlow("model-api-to-prefect-api", MODEL_API, PREFECT_API, (Port(PREFECT_API_PORT),),
                      "the internet-facing model-api must not create flow runs"),
        ForbiddenFlow("flow-runs-to-redis", flow_runs(flow_ns), data, (Port(contract.REDIS_PORT),),
                      "flow code must not read or write Prefect's messaging"),
        ForbiddenFlow("flow-runs-to-aurora", flow_runs(flow_ns), data, (Port(contract.POSTGRES_PORT),),
                      "flow code must not reach Prefect's database"),
        ForbiddenFlow("model-api-to-aurora", MODEL_API, data, (Port(contract.POSTGRES_PORT),),
                      "model-api has no business with Prefect's database"),
        ForbiddenFlow("ingress-to-prefect-api", INGRESS_CONTROLLER, PREFECT_API, (Port(PREFECT_API_PORT),),
                      "the Prefect API is not published at the edge"),
    ]
    for namespace in governed_namespaces(flow_ns):
        stranger = intruder(namespace)
        flows.append(ForbiddenFlow(f"intruder-in-{namespace}-to-aurora", stranger, data,
                                   (Port(contract.POSTGRES_PORT), Port(contract.REDIS_PORT)),
                                   "only Prefect's and model-api's pods reach the data subnets"))
        flows.append(ForbiddenFlow(f"intruder-in-{namespace}-to-prefect-api", stranger, PREFECT_API,
                                   (Port(PREFECT_API_PORT),), "only the worker and flow runs call the API"))
        for webhook, port in webhook_endpoints():
            flows.append(ForbiddenFlow(
                f"intruder-in-{namespace}-to-{webhook.namespace}-webhook-{port.port}", stranger, webhook,
                (port,), "admission webhooks answer the API server only (CVE-2025-1974's surface)"))
    return tuple(flows)
