"""NetworkPolicies: every namespace haflow installs into closed by default, each intended flow opened.

The flows are the table in haflow/flows.py. For each namespace in ``closed_by_default``, one policy selects
the namespace's pods (haflow's pods only in the shared kube-system) for ingress and egress and allows
nothing; each flow then gets an egress policy on its source's side and an ingress policy on its
destination's side, wherever that side is a pod haflow closes (a CIDR, or CoreDNS, which haflow does not
own, has no side to open). Enforcement is the vpc-cni add-on's network policy agent
(haflow.flows.VPC_CNI_CONFIGURATION, set on the add-on by the foundation).

The policies ship as one release of the local chart haflow/charts/manifests, so each namespace's
default-deny and its allow rules land together (an atomic release: all or none), after the releases that
create the namespaces.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from haflow.constructs.helm import manifests_release
from haflow.flows import (
    SYSTEM_NAMESPACE,
    Addresses,
    Endpoint,
    Flow,
    FlowInputs,
    Pods,
    Port,
    closed_by_default,
    intended_flows,
)
from haflow.netpol import EGRESS, INGRESS, NAMESPACE_NAME_LABEL

RELEASE_NAME = "network-policies"
RELEASE_NAMESPACE = SYSTEM_NAMESPACE
DEFAULT_DENY = "default-deny"
FLOW_LABEL = "haflow/flow"
WHY_ANNOTATION = "haflow/why"
PART_OF = {"app.kubernetes.io/part-of": "haflow"}


def _policy(name: str, namespace: str, selector: dict[str, Any], types: list[str],
            rules: dict[str, list[dict[str, Any]]], labels: dict[str, str],
            annotations: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {**PART_OF, **labels}}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": {"podSelector": selector, "policyTypes": types, **rules},
    }


def peers(endpoint: Endpoint) -> list[dict[str, Any]]:
    """``from``/``to`` entries for an endpoint: namespace AND pod selector in one peer, or one ipBlock a CIDR."""
    if isinstance(endpoint, Pods):
        return [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: endpoint.namespace}},
                 "podSelector": endpoint.selector}]
    return [{"ipBlock": _block(cidr, endpoint)} for cidr in endpoint.cidrs]


def _block(cidr: str, addresses: Addresses) -> dict[str, Any]:
    network = ipaddress.ip_network(cidr)
    excepted = [item for item in addresses.except_cidrs if ipaddress.ip_network(item).subnet_of(network)]  # type: ignore[arg-type]
    return {"cidr": cidr, "except": excepted} if excepted else {"cidr": cidr}


def _ports(ports: Sequence[Port]) -> list[dict[str, Any]]:
    return [{"protocol": port.protocol, "port": port.port} for port in ports]


def closes(endpoint: Endpoint, inputs: FlowInputs) -> bool:
    """Whether haflow's default-deny selects the endpoint's pods (so the flow needs a policy on that side)."""
    if not isinstance(endpoint, Pods):
        return False
    closed = closed_by_default(inputs.flow_run_namespace)
    if endpoint.namespace not in closed:
        return False
    return endpoint.namespace != SYSTEM_NAMESPACE or endpoint.owned


def flow_policies(flow: Flow, inputs: FlowInputs) -> list[dict[str, Any]]:
    labels, annotations = {FLOW_LABEL: flow.name}, {WHY_ANNOTATION: flow.why}
    found = []
    if closes(flow.source, inputs):
        assert isinstance(flow.source, Pods)
        found.append(_policy(f"{flow.name}-egress", flow.source.namespace, flow.source.selector, [EGRESS],
                             {"egress": [{"to": peers(flow.destination), "ports": _ports(flow.ports)}]},
                             labels, annotations))
    if closes(flow.destination, inputs):
        assert isinstance(flow.destination, Pods)
        found.append(_policy(f"{flow.name}-ingress", flow.destination.namespace, flow.destination.selector,
                             [INGRESS], {"ingress": [{"from": peers(flow.source), "ports": _ports(flow.ports)}]},
                             labels, annotations))
    return found


def network_policies(inputs: FlowInputs) -> list[dict[str, Any]]:
    """Every namespace's default-deny, then each flow's policies."""
    objects = [
        _policy(DEFAULT_DENY, namespace, selector, [INGRESS, EGRESS], {}, {})
        for namespace, selector in closed_by_default(inputs.flow_run_namespace).items()
    ]
    for flow in intended_flows(inputs):
        objects.extend(flow_policies(flow, inputs))
    # A copy without shared sub-objects, so the values' YAML has no anchors and aliases to read through.
    fresh: list[dict[str, Any]] = json.loads(json.dumps(objects))
    return fresh


class NetworkPolicies(Construct):
    """The policies, as one release of the local manifests chart."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        inputs: FlowInputs,
        provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        """``depends_on``: whatever creates the namespaces the policies go into."""
        super().__init__(scope, construct_id)
        self.release = manifests_release(
            self, "release", name=RELEASE_NAME, namespace=RELEASE_NAMESPACE,
            values={"objects": network_policies(inputs)}, provider=provider, depends_on=depends_on,
        )
