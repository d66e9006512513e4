"""haflow.netpol, the NetworkPolicy evaluator, on the examples of the Kubernetes documentation.

No CNI runs here: the evaluator stands in for the one that enforces the policies on EKS (the VPC CNI's
network policy agent). Each case below is an example of
https://kubernetes.io/docs/concepts/services-networking/network-policies/ with the outcome the page states,
plus the API reference's rules on defaults (policyTypes, missing vs empty rule lists, named ports, endPort).
"""

from __future__ import annotations

from typing import Any

import pytest

from haflow.netpol import Address, Pod, PolicyError, decide, policy_types, selector_matches


def policy(namespace: str, spec: dict[str, Any], name: str = "p") -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def pod(namespace: str, ip: str, ns_labels: dict[str, str] | None = None, **labels: str) -> Pod:
    return Pod(namespace, labels, ip, {"redis": (6379, "TCP"), "http": (8080, "TCP")},
               namespace_labels={"kubernetes.io/metadata.name": namespace, **(ns_labels or {})})


# "The NetworkPolicy resource" example: test-network-policy in namespace default.
TEST_NETWORK_POLICY = policy("default", {
    "podSelector": {"matchLabels": {"role": "db"}},
    "policyTypes": ["Ingress", "Egress"],
    "ingress": [{
        "from": [
            {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
            {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
            {"podSelector": {"matchLabels": {"role": "frontend"}}},
        ],
        "ports": [{"protocol": "TCP", "port": 6379}],
    }],
    "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 5978}]}],
}, "test-network-policy")
DB = pod("default", "192.168.5.5", role="db")


@pytest.mark.parametrize(("source", "port", "allowed"), [
    (pod("default", "192.168.1.1", role="frontend"), 6379, True),  # role=frontend in default
    (pod("other", "192.168.1.2", {"project": "myproject"}), 6379, True),  # any pod of a project=myproject ns
    (Address("172.17.0.7"), 6379, True),  # 172.17.0.0-172.17.0.255
    (Address("172.17.2.9"), 6379, True),  # 172.17.2.0-172.17.255.255
    (Address("172.17.1.9"), 6379, False),  # the except range
    (pod("other", "192.168.1.3", role="frontend"), 6379, False),  # podSelector alone: the policy's namespace only
    (pod("default", "192.168.1.4", role="backend"), 6379, False),
    (pod("default", "192.168.1.1", role="frontend"), 6380, False),  # only TCP 6379
])
def test_docs_example_ingress(source: Pod | Address, port: int, allowed: bool) -> None:
    assert decide([TEST_NETWORK_POLICY], source, DB, port).allowed is allowed


@pytest.mark.parametrize(("destination", "port", "protocol", "allowed"), [
    (Address("10.0.0.77"), 5978, "TCP", True),
    (Address("10.0.1.77"), 5978, "TCP", False),
    (Address("10.0.0.77"), 5978, "UDP", False),
    (Address("10.0.0.77"), 443, "TCP", False),
])
def test_docs_example_egress(destination: Address, port: int, protocol: str, allowed: bool) -> None:
    assert decide([TEST_NETWORK_POLICY], DB, destination, port, protocol).allowed is allowed


def test_pods_the_policy_does_not_select_are_not_isolated() -> None:
    web = pod("default", "192.168.9.9", role="web")
    decision = decide([TEST_NETWORK_POLICY], Address("8.8.8.8"), web, 80)
    assert decision.allowed and not decision.ingress.isolated


# "Behavior of to and from selectors": one element with both selectors is AND, two elements are OR.
AND = [{"namespaceSelector": {"matchLabels": {"user": "alice"}}, "podSelector": {"matchLabels": {"role": "client"}}}]
OR = [{"namespaceSelector": {"matchLabels": {"user": "alice"}}}, {"podSelector": {"matchLabels": {"role": "client"}}}]


@pytest.mark.parametrize(("peers", "source", "allowed"), [
    (AND, pod("a", "10.1.0.1", {"user": "alice"}, role="client"), True),
    (AND, pod("a", "10.1.0.2", {"user": "alice"}, role="server"), False),
    (AND, pod("default", "10.1.0.3", role="client"), False),
    (OR, pod("a", "10.1.0.2", {"user": "alice"}, role="server"), True),
    (OR, pod("default", "10.1.0.3", role="client"), True),
    (OR, pod("b", "10.1.0.4", role="client"), False),  # podSelector alone: only the policy's namespace
])
def test_and_versus_or(peers: list[dict[str, Any]], source: Pod, allowed: bool) -> None:
    rule = policy("default", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": peers}]})
    assert decide([rule], source, pod("default", "10.2.0.1", app="x"), 8080).allowed is allowed


# "Default policies": deny all, allow all; ingress and egress.
TARGET = pod("default", "10.2.0.1", app="x")
OTHER = pod("default", "10.2.0.2", app="y")


@pytest.mark.parametrize(("spec", "ingress_allowed", "egress_allowed"), [
    ({"podSelector": {}, "policyTypes": ["Ingress"]}, False, True),  # default deny all ingress
    ({"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]}, True, True),  # allow all ingress
    ({"podSelector": {}, "policyTypes": ["Egress"]}, True, False),  # default deny all egress
    ({"podSelector": {}, "egress": [{}], "policyTypes": ["Egress"]}, True, True),  # allow all egress
    ({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, False, False),  # default deny all
    # A missing rule list and an empty one are the same: nothing allowed.
    ({"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}, False, False),
    # policyTypes left out: Ingress, plus Egress only when there are egress rules.
    ({"podSelector": {}}, False, True),
    ({"podSelector": {}, "egress": []}, False, True),
    ({"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "1.2.3.4/32"}}]}]}, False, False),
    # A rule with no ports and no peers allows everything; an empty selector selects every pod.
    ({"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [], "ports": []}]}, True, True),
])
def test_default_policies(spec: dict[str, Any], ingress_allowed: bool, egress_allowed: bool) -> None:
    policies = [policy("default", spec)]
    assert decide(policies, OTHER, TARGET, 8080).ingress.allowed is ingress_allowed
    assert decide(policies, TARGET, OTHER, 8080).egress.allowed is egress_allowed


def test_policy_types_default() -> None:
    assert policy_types({"podSelector": {}}) == ("Ingress",)
    assert policy_types({"podSelector": {}, "egress": [{}]}) == ("Ingress", "Egress")
    assert policy_types({"podSelector": {}, "policyTypes": ["Egress"], "ingress": [{}]}) == ("Egress",)


# "Targeting a range of ports": TCP 32000-32768 to 10.0.0.0/24 from role=db.
RANGE = policy("default", {
    "podSelector": {"matchLabels": {"role": "db"}}, "policyTypes": ["Egress"],
    "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}]}],
})


@pytest.mark.parametrize(("port", "allowed"), [(31999, False), (32000, True), (32500, True), (32768, True),
                                               (32769, False)])
def test_end_port(port: int, allowed: bool) -> None:
    assert decide([RANGE], DB, Address("10.0.0.9"), port).allowed is allowed


# "Targeting multiple namespaces by label" and "Targeting a Namespace by its name".
@pytest.mark.parametrize(("namespace_selector", "namespace", "allowed"), [
    ({"matchExpressions": [{"key": "namespace", "operator": "In", "values": ["frontend", "backend"]}]},
     "frontend", True),
    ({"matchExpressions": [{"key": "namespace", "operator": "In", "values": ["frontend", "backend"]}]},
     "ops", False),
    ({"matchLabels": {"kubernetes.io/metadata.name": "ops"}}, "ops", True),
    ({"matchLabels": {"kubernetes.io/metadata.name": "ops"}}, "dev", False),
    ({}, "anything", True),  # an empty namespaceSelector: every namespace
])
def test_namespace_selectors(namespace_selector: dict[str, Any], namespace: str, allowed: bool) -> None:
    rule = policy("default", {"podSelector": {}, "policyTypes": ["Egress"],
                              "egress": [{"to": [{"namespaceSelector": namespace_selector}]}]})
    destination = pod(namespace, "10.3.0.1", {"namespace": namespace})
    assert decide([rule], TARGET, destination, 8080).allowed is allowed


def test_named_ports_resolve_on_the_destination_pod() -> None:
    rule = policy("default", {"podSelector": {}, "policyTypes": ["Egress"],
                              "egress": [{"ports": [{"port": "redis"}]}]})
    assert decide([rule], TARGET, pod("db", "10.4.0.1"), 6379).allowed
    assert not decide([rule], TARGET, pod("db", "10.4.0.1"), 6380).allowed
    # An address has no named ports.
    assert not decide([rule], TARGET, Address("10.4.0.9"), 6379).allowed


def test_both_sides_must_allow() -> None:
    deny_ingress = policy("db", {"podSelector": {}, "policyTypes": ["Ingress"]}, "deny")
    allow_egress = policy("default", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}, "allow")
    decision = decide([deny_ingress, allow_egress], TARGET, pod("db", "10.4.0.1"), 6379)
    assert decision.egress.allowed and not decision.ingress.allowed and not decision.allowed
    assert "NetworkPolicy db/deny" in decision.ingress.reason


def test_policies_of_another_namespace_do_not_select() -> None:
    deny = policy("elsewhere", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    assert decide([deny], TARGET, OTHER, 8080).allowed


def test_host_network_pods_are_never_selected() -> None:
    node_exporter = Pod("monitoring", {"app": "node-exporter"}, "10.0.0.5", host_network=True)
    deny = policy("monitoring", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    assert decide([deny], Address("10.0.0.9"), node_exporter, 9100).allowed
    selecting_peer = policy("default", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [
        {"to": [{"namespaceSelector": {}}]}]})
    assert not decide([selecting_peer], TARGET, node_exporter, 9100).allowed  # selectors never match it


def test_selector_semantics() -> None:
    assert selector_matches({}, {"a": "b"}) and selector_matches(None, {})
    assert selector_matches({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": "x"})
    assert not selector_matches({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"a": "x"})
    assert not selector_matches({"matchLabels": {"a": "b"}, "matchExpressions": [
        {"key": "c", "operator": "In", "values": ["d"]}]}, {"a": "b"})


@pytest.mark.parametrize(("peer", "message"), [
    ({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}, "exactly one of"),
    ({}, "exactly one of"),
    ({"ipBlock": {"cidr": "10.0.0.0/24", "except": ["10.1.0.0/24"]}}, "must lie inside"),
    ({"ipBlock": {"cidr": "not-a-cidr"}}, "not valid"),
])
def test_policies_the_api_server_refuses(peer: dict[str, Any], message: str) -> None:
    bad = policy("default", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [peer]}]})
    with pytest.raises(PolicyError, match=message):
        decide([bad], Address("10.0.0.1"), TARGET, 80)


@pytest.mark.parametrize(("entry", "message"), [
    ({"port": "http", "endPort": 9000}, "named port"),
    ({"port": 9000, "endPort": 8000}, "below port"),
    ({"endPort": 8000}, "numeric port"),
])
def test_port_entries_the_api_server_refuses(entry: dict[str, Any], message: str) -> None:
    bad = policy("default", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"ports": [entry]}]})
    with pytest.raises(PolicyError, match=message):
        decide([bad], Address("10.0.0.1"), TARGET, 8080)
