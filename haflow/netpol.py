"""NetworkPolicy semantics: would a connection be allowed by these policies, as the Kubernetes API defines them?

No CNI runs where haflow's checks run, so this module stands in for one: it decides a connection from the
NetworkPolicy objects the way https://kubernetes.io/docs/concepts/services-networking/network-policies/
(and the API reference, networking.k8s.io/v1 NetworkPolicy) define it:

- a pod is *isolated* for a direction when a policy of its namespace selects it (``podSelector``; ``{}``
  selects every pod) with that direction among its ``policyTypes``; a pod no policy isolates allows
  everything in that direction. ``policyTypes`` left out means ``Ingress``, plus ``Egress`` when the
  policy has egress rules (what the API server defaults it to);
- a connection needs both sides: the source's egress and the destination's ingress. Policies are
  additive: any rule of any selecting policy allowing it is enough; there are no deny rules;
- a rule without ``from``/``to`` (or with an empty list) matches every peer; without ``ports`` (or an
  empty list) every port. A missing ``ingress``/``egress`` field and an empty list are the same: no rule,
  so an isolated pod allows nothing; ``[{}]`` is one rule that allows everything;
- a peer is ``ipBlock`` (``cidr`` minus ``except``), or ``namespaceSelector`` and/or ``podSelector``:
  both in one peer means the pod must match both (AND); in two peers either (OR); ``podSelector`` alone
  means pods of the policy's own namespace, ``namespaceSelector`` alone every pod of the selected
  namespaces. Selectors never match an address outside the pod network;
- a port is a number (with ``endPort``: the range ``port``-``endPort``) or a container port's name,
  resolved on the destination pod; ``protocol`` defaults to TCP; a port entry without ``port`` matches
  every port of its protocol.

Where the API leaves the behaviour to the implementation, this module follows the Amazon VPC CNI that
enforces haflow's policies on EKS: ``ipBlock`` matches pod IPs too (pods have VPC addresses), and a
host-network pod (the node's own address) is never selected by a policy. The node's own traffic to its pods
(kubelet probes) is always allowed by that CNI and is not modelled here.

Bottom layer: imports only ``haflow.kube``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from haflow.kube import expression_holds

INGRESS = "Ingress"
EGRESS = "Egress"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"  # set by the API server on every namespace (1.22+)
DEFAULT_PROTOCOL = "TCP"


class PolicyError(ValueError):
    """A NetworkPolicy the API server would refuse (its message names the policy and the field)."""


@dataclass(frozen=True)
class Pod:
    """A pod: its namespace (and that namespace's labels), labels, address and named container ports.

    ``ports`` maps a container port's name to (number, protocol); ``host_network`` pods have the node's
    address and are outside every policy's reach.
    """

    namespace: str
    labels: Mapping[str, str]
    ip: str
    ports: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    namespace_labels: Mapping[str, str] | None = None
    host_network: bool = False
    name: str = ""

    @property
    def namespace_labels_or_default(self) -> Mapping[str, str]:
        return self.namespace_labels if self.namespace_labels is not None else {NAMESPACE_NAME_LABEL: self.namespace}

    def __str__(self) -> str:
        return self.name or f"pod {self.namespace}/{dict(self.labels)}"


@dataclass(frozen=True)
class Address:
    """An address outside the pod network: a node, the API server's ENIs, a database, the internet."""

    ip: str
    name: str = ""

    def __str__(self) -> str:
        return self.name or self.ip


Endpoint = Pod | Address


@dataclass(frozen=True)
class Side:
    """One direction's verdict: whether it allows the connection, and why."""

    allowed: bool
    isolated: bool
    reason: str


@dataclass(frozen=True)
class Decision:
    egress: Side
    ingress: Side

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed

    def __str__(self) -> str:
        return f"egress: {self.egress.reason}; ingress: {self.ingress.reason}"


# --- label selectors (an empty selector selects everything) -------------------------------------------


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector as NetworkPolicy uses it: ``{}`` (or null where the field is optional) matches all."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(str(key)) != str(value):
            return False
    return all(expression_holds(expression, labels) for expression in selector.get("matchExpressions") or [])


# --- policies -------------------------------------------------------------------------------------------


def policy_types(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """``spec.policyTypes``, or what the API server defaults it to when left out."""
    declared = spec.get("policyTypes")
    if declared:
        return tuple(str(item) for item in declared)
    return (INGRESS, EGRESS) if spec.get("egress") else (INGRESS,)


def _name(policy: Mapping[str, Any]) -> str:
    metadata = policy.get("metadata") or {}
    return f"NetworkPolicy {metadata.get('namespace', '')}/{metadata.get('name', '')}"


def _namespace(policy: Mapping[str, Any]) -> str:
    return str((policy.get("metadata") or {}).get("namespace") or "default")


def selecting(policies: Sequence[Mapping[str, Any]], pod: Pod, direction: str) -> Iterator[Mapping[str, Any]]:
    """The policies that isolate ``pod`` for ``direction``."""
    if pod.host_network:
        return
    for policy in policies:
        spec = policy.get("spec") or {}
        if _namespace(policy) != pod.namespace or direction not in policy_types(spec):
            continue
        if "podSelector" not in spec:
            raise PolicyError(f"{_name(policy)}: spec.podSelector is required ({{}} selects every pod)")
        if selector_matches(spec.get("podSelector"), pod.labels):
            yield policy


def peer_matches(peer: Mapping[str, Any], other: Endpoint, policy_namespace: str, where: str) -> bool:
    """One ``from``/``to`` entry against the endpoint at the other end of the connection."""
    has_block = "ipBlock" in peer
    has_selector = "namespaceSelector" in peer or "podSelector" in peer
    if has_block == has_selector:
        raise PolicyError(f"{where}: a peer sets exactly one of ipBlock or namespaceSelector/podSelector")
    if has_block:
        block = peer["ipBlock"] or {}
        try:
            cidr = ipaddress.ip_network(str(block.get("cidr", "")), strict=False)
            excepted = [ipaddress.ip_network(str(item), strict=False) for item in block.get("except") or []]
        except ValueError as err:
            raise PolicyError(f"{where}: ipBlock {block!r} is not valid: {err}") from None
        if any(not item.subnet_of(cidr) for item in excepted if item.version == cidr.version):  # type: ignore[arg-type]
            raise PolicyError(f"{where}: ipBlock.except {block.get('except')} must lie inside {cidr}")
        address = ipaddress.ip_address(other.ip)
        return address in cidr and not any(address in item for item in excepted)
    if not isinstance(other, Pod) or other.host_network:
        return False
    if "namespaceSelector" in peer:
        if not selector_matches(peer.get("namespaceSelector"), other.namespace_labels_or_default):
            return False
    elif other.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or selector_matches(peer.get("podSelector"), other.labels)


def port_matches(entry: Mapping[str, Any], destination: Endpoint, port: int, protocol: str, where: str) -> bool:
    """One ``ports`` entry against the destination port (a named port resolves on the destination pod)."""
    if str(entry.get("protocol") or DEFAULT_PROTOCOL) != protocol:
        return False
    if "port" not in entry or entry["port"] is None:
        if "endPort" in entry:
            raise PolicyError(f"{where}: endPort needs a numeric port")
        return True
    wanted = entry["port"]
    if isinstance(wanted, str) and not wanted.isdigit():
        if "endPort" in entry:
            raise PolicyError(f"{where}: endPort cannot go with the named port {wanted!r}")
        if not isinstance(destination, Pod):
            return False
        named = destination.ports.get(wanted)
        return named is not None and named == (port, protocol)
    first = int(wanted)
    last = int(entry.get("endPort", first))
    if last < first:
        raise PolicyError(f"{where}: endPort {last} is below port {first}")
    return first <= port <= last


def _rule_allows(rule: Mapping[str, Any], peers_key: str, other: Endpoint, destination: Endpoint, port: int,
                 protocol: str, policy_namespace: str, where: str) -> bool:
    peers = rule.get(peers_key) or []
    if peers and not any(peer_matches(peer, other, policy_namespace, f"{where}.{peers_key}[{index}]")
                         for index, peer in enumerate(peers)):
        return False
    ports = rule.get("ports") or []
    return not ports or any(port_matches(entry, destination, port, protocol, f"{where}.ports[{index}]")
                            for index, entry in enumerate(ports))


def _side(policies: Sequence[Mapping[str, Any]], pod: Endpoint, other: Endpoint, destination: Endpoint, port: int,
          protocol: str, direction: str) -> Side:
    if not isinstance(pod, Pod):
        return Side(True, False, f"{pod} is outside the pod network (no policy applies)")
    if pod.host_network:
        return Side(True, False, f"{pod} uses the host network (no policy selects it)")
    isolating = list(selecting(policies, pod, direction))
    if not isolating:
        return Side(True, False, f"no {direction} policy selects {pod}")
    rules_key, peers_key = ("ingress", "from") if direction == INGRESS else ("egress", "to")
    for policy in isolating:
        for index, rule in enumerate((policy.get("spec") or {}).get(rules_key) or []):
            where = f"{_name(policy)} spec.{rules_key}[{index}]"
            if _rule_allows(rule or {}, peers_key, other, destination, port, protocol, _namespace(policy), where):
                return Side(True, True, f"allowed by {where}")
    names = ", ".join(_name(policy) for policy in isolating)
    return Side(False, True, f"{pod} is isolated for {direction} by {names} and no rule allows {other} on "
                             f"{port}/{protocol}")


def decide(policies: Sequence[Mapping[str, Any]], source: Endpoint, destination: Endpoint, port: int,
           protocol: str = DEFAULT_PROTOCOL) -> Decision:
    """Whether ``source`` may open a connection to ``destination`` on ``port``/``protocol`` (numeric port:
    what the destination listens on), under ``policies`` (NetworkPolicy manifests of every namespace)."""
    network_policies = [policy for policy in policies if policy.get("kind", "NetworkPolicy") == "NetworkPolicy"]
    egress = _side(network_policies, source, destination, destination, port, protocol, EGRESS)
    ingress = _side(network_policies, destination, source, destination, port, protocol, INGRESS)
    return Decision(egress, ingress)
