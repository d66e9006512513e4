"""NetworkPolicy rules: enforcement on, every namespace closed by default, every intended flow open.

The flow table is haflow/flows.py; the verdicts are haflow/netpol.py's, the Kubernetes API's semantics
evaluated over the *rendered* NetworkPolicies (no CNI runs here: the evaluator stands in for the VPC CNI's
network policy agent). The endpoints of a flow are the rendered pods its selector selects (Deployments,
StatefulSets, DaemonSets, Jobs including Helm hooks, and the pods prometheus-operator makes), plus the pods
haflow does not render: CoreDNS (an EKS add-on) and the flow runs' Jobs (the worker creates them).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from haflow import flows, netpol
from haflow.config.network_flows import flow_inputs
from haflow.flows import Addresses, Flow, FlowInputs, ForbiddenFlow, Pods, Port
from haflow.rules.engine import ERROR, NOT_APPLICABLE, RENDERED, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack, Unverifiable

if TYPE_CHECKING:
    from haflow.config.model import Environment
    from haflow.render.model import RenderedObject, RenderResult
    from haflow.rules.rendered import Cluster

POD_TEMPLATES = ("Deployment", "StatefulSet", "DaemonSet", "Job")
# The container ports prometheus-operator gives the pods it makes (its StatefulSet templates).
OPERATED_PORTS: dict[str, dict[str, tuple[int, str]]] = {
    "Prometheus": {"http-web": (9090, "TCP"), "reloader-web": (8080, "TCP")},
    "Alertmanager": {"http-web": (9093, "TCP"), "reloader-web": (8080, "TCP"), "mesh-tcp": (9094, "TCP"),
                     "mesh-udp": (9094, "UDP")},
}


@dataclass(frozen=True)
class PodNetwork:
    """One rendered platform's pods (with stand-in addresses in the pod subnets) and its NetworkPolicies."""

    inputs: FlowInputs
    pods: tuple[netpol.Pod, ...]
    policies: tuple[Mapping[str, Any], ...]

    def resolve(self, endpoint: flows.Endpoint) -> list[netpol.Endpoint]:
        """The concrete endpoints a flow's endpoint stands for (every CIDR's sample address)."""
        if isinstance(endpoint, Addresses):
            return [netpol.Address(sample_address(cidr, endpoint.except_cidrs), f"{endpoint.name} ({cidr})")
                    for cidr in endpoint.cidrs]
        return [pod for pod in self.pods if pod.namespace == endpoint.namespace
                and netpol.selector_matches(endpoint.selector, pod.labels)]

    def verdicts(self, flow: Flow | ForbiddenFlow) -> Iterator[tuple[str, netpol.Decision | None]]:
        """(what was tried, the decision; None when the port does not resolve on the destination)."""
        for source in self.resolve(flow.source):
            for destination in self.resolve(flow.destination):
                for port in flow.ports:
                    number = resolve_port(port, destination)
                    tried = f"{source} -> {destination} port {port}"
                    if number is None:
                        yield tried, None
                    else:
                        yield tried, netpol.decide(self.policies, source, destination, number, port.protocol)


def sample_address(cidr: str, except_cidrs: Sequence[str] = ()) -> str:
    """An address of ``cidr`` outside ``except_cidrs`` (its first host, or the first after an excepted range)."""
    network = ipaddress.ip_network(cidr)
    excepted = [ipaddress.ip_network(item) for item in except_cidrs]
    candidate = network.network_address + (1 if network.num_addresses > 1 else 0)
    while any(candidate in item for item in excepted):
        candidate = max(item.broadcast_address for item in excepted if candidate in item) + 1
    return str(candidate)


def resolve_port(port: Port, destination: netpol.Endpoint) -> int | None:
    if isinstance(port.port, int):
        return port.port
    if isinstance(destination, netpol.Pod):
        named = destination.ports.get(port.port)
        return named[0] if named and named[1] == port.protocol else None
    return None


def _container_ports(pod_spec: Mapping[str, Any]) -> dict[str, tuple[int, str]]:
    ports: dict[str, tuple[int, str]] = {}
    for container in [*(pod_spec.get("containers") or []), *(pod_spec.get("initContainers") or [])]:
        for port in container.get("ports") or []:
            if port.get("name"):
                ports[str(port["name"])] = (int(port["containerPort"]), str(port.get("protocol") or "TCP"))
    return ports


def rendered_pods(objects: Sequence[RenderedObject]) -> Iterator[tuple[str, str, dict[str, str],
                                                                         dict[str, tuple[int, str]], bool]]:
    """(name, namespace, labels, named ports, host network) of each pod template the objects describe."""
    # Imported here: haflow.rules.rendered lists the rendered rules once every family has registered its own.
    from haflow.rules.rendered import _operated_labels

    for item in objects:
        spec = item.manifest.get("spec") or {}
        if item.kind in OPERATED_PORTS:
            yield str(item), item.namespace, _operated_labels(item), dict(OPERATED_PORTS[item.kind]), False
        elif item.kind in POD_TEMPLATES:
            template = spec.get("template") or {}
            labels = {str(k): str(v) for k, v in ((template.get("metadata") or {}).get("labels") or {}).items()}
            pod_spec = template.get("spec") or {}
            if item.kind == "Job":
                labels.setdefault(flows.JOB_NAME_LABEL, item.name)
            yield str(item), item.namespace, labels, _container_ports(pod_spec), bool(pod_spec.get("hostNetwork"))


def pod_network(result: RenderResult, inputs: FlowInputs, *, intruders: bool = False) -> PodNetwork:
    """The rendered pods, CoreDNS and a flow-run pod (and, with ``intruders``, a stranger pod in every
    namespace haflow closes), each at its own address in the pod subnets (the VPC CNI gives pods VPC
    addresses); host-network pods at a node address."""
    pod_subnet = ipaddress.ip_network(inputs.private_cidrs[0])
    found: list[netpol.Pod] = []

    def add(name: str, namespace: str, labels: Mapping[str, str], ports: Mapping[str, tuple[int, str]],
            host_network: bool = False) -> None:
        address = pod_subnet.network_address + 10 + len(found)
        found.append(netpol.Pod(namespace, dict(labels), str(address), dict(ports), host_network=host_network,
                                name=name))

    for name, namespace, labels, ports, host_network in rendered_pods(result.objects):
        add(name, namespace, labels, ports, host_network)
    add("CoreDNS (EKS add-on)", flows.SYSTEM_NAMESPACE, flows.COREDNS.selector["matchLabels"], flows.COREDNS_PORTS)
    add("a Prefect flow run (a Job's pod)", inputs.flow_run_namespace, {flows.JOB_NAME_LABEL: "flow-run"}, {})
    if intruders:
        for namespace in flows.governed_namespaces(inputs.flow_run_namespace):
            intruder = flows.intruder(namespace)
            add(intruder.name, namespace, intruder.selector["matchLabels"], {"http": (8080, "TCP")})
    policies = tuple(item.manifest for item in result.objects if item.kind == "NetworkPolicy")
    return PodNetwork(inputs, tuple(found), policies)


def _inputs(cluster: Cluster, env: Environment) -> FlowInputs:
    return flow_inputs(env, secondary=cluster.result.platform_stack == env.dr_platform_stack_name)


def flow_problems(network: PodNetwork, flow: Flow) -> list[str]:
    """Why an intended flow is not open: an endpoint no rendered pod matches, or a connection denied."""
    problems = []
    for side, endpoint in (("source", flow.source), ("destination", flow.destination)):
        if isinstance(endpoint, Pods) and not network.resolve(endpoint):
            problems.append(f"{flow.name}: its {side} {endpoint.name} ({endpoint.namespace}, "
                            f"{json.dumps(endpoint.selector, sort_keys=True)}) selects no rendered pod")
    for destination in network.resolve(flow.destination):
        for port in flow.ports:
            if port.name and isinstance(destination, netpol.Pod) and isinstance(port.port, int):
                found = destination.ports.get(port.name)
                if found != (port.port, port.protocol):
                    shown = f"{found[0]}/{found[1]}" if found else "absent"
                    problems.append(f"{flow.name}: {destination} serves {port.name!r} on {shown}, "
                                    f"the flow opens {port.port}/{port.protocol}")
    for tried, decision in network.verdicts(flow):
        if decision is None:
            problems.append(f"{flow.name}: {tried}: the destination has no container port of that name")
        elif not decision.allowed:
            problems.append(f"{flow.name}: {tried} is denied ({decision})")
    return problems


def default_deny_gaps(policies: Sequence[Mapping[str, Any]], closed: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The namespaces (of ``closed``: namespace -> pods) without a policy that selects those pods for ingress and
    egress and allows nothing."""
    gaps = []
    for namespace, pods in closed.items():
        if not any(_is_default_deny(policy, namespace, pods) for policy in policies):
            gaps.append(namespace)
    return gaps


def unclosed_pods(objects: Sequence[RenderedObject], closed: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Rendered pods (not on the host network) that no namespace's default-deny covers: a release installing into a
    namespace the table does not close, or into kube-system outside haflow's selector there."""
    problems = []
    for name, namespace, labels, _, host_network in rendered_pods(objects):
        if host_network:
            continue
        if namespace not in closed:
            problems.append(f"{name} runs in namespace {namespace}, which haflow does not close by default")
        elif not netpol.selector_matches(closed[namespace], labels):
            problems.append(f"{name}: the default-deny of {namespace} does not select its pods")
    return problems


def _is_default_deny(policy: Mapping[str, Any], namespace: str, pods: Mapping[str, Any]) -> bool:
    spec = policy.get("spec") or {}
    metadata = policy.get("metadata") or {}
    return (metadata.get("namespace") == namespace
            and spec.get("podSelector") == dict(pods)
            and set(netpol.policy_types(spec)) >= {netpol.INGRESS, netpol.EGRESS}
            and not spec.get("ingress") and not spec.get("egress"))


# --- the rules ----------------------------------------------------------------------------------------


@rule(
    id="HA-SEC-020",
    level=ERROR,
    title="The VPC CNI enforces NetworkPolicies (vpc-cni add-on enableNetworkPolicy)",
    rationale="Without the network policy agent the API server stores NetworkPolicies and nothing enforces them: "
    "every pod reaches Aurora, Redis, the Prefect API and every admission webhook.",
    fix='Set the vpc-cni add-on\'s configuration_values to {"enableNetworkPolicy": "true"} '
    "(haflow/flows.py VPC_CNI_CONFIGURATION, set by haflow/constructs/eks.py).",
    subjects=("aws_eks_addon",),
)
def vpc_cni_enforces_policies(addon: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if addon.value("addon_name", "") != flows.VPC_CNI_ADDON:
        return NOT_APPLICABLE
    raw = addon.value("configuration_values", None)
    if raw is None:
        return [f"configuration_values is not set, so {flows.VPC_CNI_NETWORK_POLICY_KEY} is off"]
    if not isinstance(raw, str):
        raise Unverifiable("configuration_values", f"{raw!r} is not a literal JSON string")
    try:
        document = json.loads(raw)
    except ValueError as err:
        return [f"configuration_values is not JSON ({err})"]
    value = document.get(flows.VPC_CNI_NETWORK_POLICY_KEY) if isinstance(document, dict) else None
    if str(value).lower() != "true":
        return [f"configuration_values {flows.VPC_CNI_NETWORK_POLICY_KEY} = {value!r}: policies are not enforced"]
    return []


@rule(
    id="HA-SEC-021",
    level=ERROR,
    title="Every namespace haflow installs into is closed by default (a default-deny NetworkPolicy)",
    rationale="A pod no policy selects accepts and opens any connection: one pod with a vulnerable dependency "
    "reaches the database, the cache and every webhook. A policy selecting every pod for ingress and egress "
    "with no rule closes the namespace; allow rules then open only the intended flows.",
    fix="List the namespace in haflow/flows.py governed_namespaces (a release in kube-system: SYSTEM_RELEASES), "
    "so the platform stack's network-policies release gives it a default-deny, and open the flows its pods need.",
    subjects=("aws_eks_cluster",),
    reads=RENDERED,
)
def namespaces_closed_by_default(cluster_resource: Any, cluster: Cluster, env: Environment) -> Outcome:
    inputs = _inputs(cluster, env)
    policies = [item.manifest for item in cluster.result.objects if item.kind == "NetworkPolicy"]
    closed = flows.closed_by_default(inputs.flow_run_namespace)
    return [*(f"namespace {namespace} has no default-deny NetworkPolicy (podSelector "
              f"{json.dumps(closed[namespace], sort_keys=True)}, policyTypes Ingress and Egress, no rules)"
              for namespace in default_deny_gaps(policies, closed)),
            *unclosed_pods(cluster.result.objects, closed)]


@rule(
    id="HA-SEC-022",
    level=ERROR,
    title="Every intended flow is allowed by the rendered NetworkPolicies",
    rationale="With every namespace closed by default, a flow the policies do not open is an outage: a "
    "webhook the API server cannot call fails every install, a Prefect API the worker cannot reach runs "
    "nothing. The flow table (haflow/flows.py) is evaluated over the rendered policies and pods with the "
    "Kubernetes API's semantics (haflow/netpol.py), and so is every flow the rendered objects imply: the API "
    "server to each admission webhook and aggregated API, Prometheus to each ServiceMonitor's endpoints.",
    fix="Open the flow in haflow/flows.py intended_flows (or fix the selector or port the message names).",
    subjects=("aws_eks_cluster",),
    reads=RENDERED,
)
def intended_flows_allowed(cluster_resource: Any, cluster: Cluster, env: Environment) -> Outcome:
    inputs = _inputs(cluster, env)
    network = pod_network(cluster.result, inputs)
    try:
        return [*(problem for flow in flows.intended_flows(inputs) for problem in flow_problems(network, flow)),
                *implied_flow_problems(cluster.result, inputs, network)]
    except netpol.PolicyError as err:
        return [f"a NetworkPolicy the API server would refuse, so no flow can be judged: {err}"]


# --- flows the rendered objects imply ------------------------------------------------------------------


def _service_target(service: RenderedObject, port: Any) -> tuple[Pods, Port] | None:
    """The pods behind a Service and the container port its ``port`` (a number, or a port's name) forwards to."""
    spec = service.manifest.get("spec") or {}
    selector = spec.get("selector") or {}
    for entry in spec.get("ports") or []:
        if entry.get("port") == port or (isinstance(port, str) and entry.get("name") == port):
            target = entry.get("targetPort", entry.get("port"))
            protocol = str(entry.get("protocol") or "TCP")
            if not selector:
                return None
            return (Pods(f"Service {service.namespace}/{service.name}", service.namespace, {"matchLabels": selector}),
                    Port(target if isinstance(target, str) and not target.isdigit() else int(target), protocol))
    return None


def webhook_flows(result: RenderResult, inputs: FlowInputs) -> tuple[list[Flow], list[str]]:
    """API server -> the pods of every admission webhook and aggregated API the objects register."""
    found: list[Flow] = []
    problems: list[str] = []
    references: list[tuple[RenderedObject, Mapping[str, Any]]] = []
    for item in result.objects:
        if item.kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            references += [(item, (hook.get("clientConfig") or {}).get("service") or {})
                           for hook in item.manifest.get("webhooks") or []]
        elif item.kind == "APIService":
            references.append((item, (item.manifest.get("spec") or {}).get("service") or {}))
    for item, reference in references:
        if not reference:
            continue  # a URL webhook or a local APIService: not a pod
        name, namespace, port = reference.get("name"), reference.get("namespace"), reference.get("port", 443)
        service = result.find("Service", str(name), str(namespace))
        target = _service_target(service, port) if service else None
        if target is None:
            problems.append(f"{item.address} calls Service {namespace}/{name} port {port}, which the render does "
                            f"not have (or has no selector)")
            continue
        pods, pod_port = target
        found.append(Flow(f"api-server-to-{item.kind}/{item.name}", flows.api_server_callers(inputs), pods,
                          (pod_port,), f"the API server calls {item.address}"))
    return found, problems


def scrape_flows(result: RenderResult, inputs: FlowInputs) -> tuple[list[Flow], list[str]]:
    """Prometheus -> every endpoint of every ServiceMonitor (the Services it selects, their pods and ports)."""
    found: list[Flow] = []
    problems: list[str] = []
    services = result.by_kind("Service")
    for monitor in result.by_kind("ServiceMonitor"):
        spec = monitor.manifest.get("spec") or {}
        scope = spec.get("namespaceSelector") or {}
        namespaces = None if scope.get("any") else set(scope.get("matchNames") or [monitor.namespace])
        suffix = next((key for key in (*flows.NODE_SCRAPE_TARGETS, flows.API_SERVER_SCRAPE_TARGET,
                                       *flows.NO_TARGETS_ON_EKS) if monitor.name.endswith(f"-{key}")), None)
        if suffix in flows.NO_TARGETS_ON_EKS:
            continue
        if suffix in flows.NODE_SCRAPE_TARGETS:
            found.append(Flow(f"prometheus-to-{monitor.name}", flows.PROMETHEUS, flows.nodes(inputs),
                              (Port(flows.NODE_SCRAPE_TARGETS[suffix]),), f"{monitor.address} (node addresses)"))
            continue
        if suffix == flows.API_SERVER_SCRAPE_TARGET:
            found.append(Flow(f"prometheus-to-{monitor.name}", flows.PROMETHEUS, flows.api_server(inputs),
                              (Port(flows.HTTPS),), f"{monitor.address} (the API server)"))
            continue
        selected = [service for service in services
                    if (namespaces is None or service.namespace in namespaces)
                    and netpol.selector_matches(spec.get("selector"), _labels(service))]
        if not selected:
            problems.append(f"{monitor.address} selects no rendered Service: its targets cannot be checked")
        for endpoint in spec.get("endpoints") or []:
            port = endpoint.get("port") or endpoint.get("targetPort")
            # Prometheus keeps only the selected Services that have the endpoint's port.
            targets = [target for target in (_service_target(service, port) for service in selected) if target]
            if selected and not targets:
                problems.append(f"{monitor.address}: no selected Service has a port {port!r} with a pod selector")
            found += [Flow(f"prometheus-to-{monitor.name}", flows.PROMETHEUS, pods, (pod_port,), monitor.address)
                      for pods, pod_port in targets]
    return found, problems


def _labels(item: RenderedObject) -> dict[str, str]:
    return {str(k): str(v) for k, v in ((item.manifest.get("metadata") or {}).get("labels") or {}).items()}


def implied_flow_problems(result: RenderResult, inputs: FlowInputs, network: PodNetwork) -> list[str]:
    """Every webhook and scrape target the rendered objects imply, checked like the table's flows."""
    webhooks, webhook_problems = webhook_flows(result, inputs)
    scrapes, scrape_problems = scrape_flows(result, inputs)
    return [*webhook_problems, *scrape_problems,
            *(problem for flow in (*webhooks, *scrapes) for problem in flow_problems(network, flow))]
