"""The flow table against the RENDERED NetworkPolicies and pods (Helm's engine, the pinned charts, the manifests
chart that ships the policies), evaluated with the Kubernetes API's semantics by haflow.netpol.

No CNI runs here: haflow.netpol stands in for the VPC CNI's network policy agent that enforces these policies on
EKS (tests/test_netpol.py checks the evaluator on the Kubernetes documentation's examples). The pods are the
rendered pod templates (Deployments, StatefulSets, DaemonSets, Jobs and Helm hooks, the operator's Prometheus
and Alertmanager), plus CoreDNS and a flow-run pod, which haflow does not render.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from haflow import flows, netpol
from haflow.config import Environment
from haflow.config.network_flows import flow_inputs
from haflow.render import RenderResult, render_environment
from haflow.rules.engine import Finding
from haflow.rules.network_policy import (
    default_deny_gaps,
    flow_problems,
    implied_flow_problems,
    pod_network,
    rendered_pods,
    scrape_flows,
    unclosed_pods,
    webhook_flows,
)
from haflow.rules.rendered import evaluate_rendered
from tests.conftest import ENVIRONMENT_NAMES
from tests.render.conftest import Stacks, about

Variant = Callable[..., tuple[RenderResult, list[Finding]]]


def _network(result: RenderResult, env: Environment, *, intruders: bool = False) -> Any:
    return pod_network(result, flow_inputs(env), intruders=intruders)


@pytest.mark.parametrize("name", ENVIRONMENT_NAMES)
def test_every_intended_flow_is_allowed(name: str, rendered: dict[str, RenderResult],
                                        environments: dict[str, Environment]) -> None:
    env = environments[name]
    network = _network(rendered[name], env)
    for flow in flows.intended_flows(flow_inputs(env)):
        verdicts = list(network.verdicts(flow))
        assert verdicts, f"{flow.name}: no connection to check"
        assert flow_problems(network, flow) == [], flow.name


@pytest.mark.parametrize("name", ENVIRONMENT_NAMES)
def test_every_webhook_and_scrape_target_the_objects_imply_is_allowed(
        name: str, rendered: dict[str, RenderResult], environments: dict[str, Environment]) -> None:
    env, result = environments[name], rendered[name]
    webhooks, _ = webhook_flows(result, flow_inputs(env))
    scrapes, _ = scrape_flows(result, flow_inputs(env))
    # The derivation finds what the charts register: the ingress-nginx admission webhook, ESO's webhooks,
    # prometheus-operator's, metrics-server's APIService; a ServiceMonitor per scraped component.
    called = {flow.destination.name for flow in webhooks if isinstance(flow.destination, flows.Pods)}
    assert {"Service ingress-nginx/ingress-nginx-controller-admission",
            "Service external-secrets/external-secrets-webhook",
            "Service monitoring/kube-prometheus-stack-operator", "Service kube-system/metrics-server"} <= called
    scraped = {flow.name for flow in scrapes}
    assert {"prometheus-to-ingress-nginx-controller", "prometheus-to-kube-prometheus-stack-kube-state-metrics",
            "prometheus-to-kube-prometheus-stack-kubelet", "prometheus-to-kube-prometheus-stack-coredns",
            "prometheus-to-kube-prometheus-stack-apiserver"} <= scraped
    assert implied_flow_problems(result, flow_inputs(env), _network(result, env)) == []


@pytest.mark.parametrize("name", ENVIRONMENT_NAMES)
def test_forbidden_flows_are_denied(name: str, rendered: dict[str, RenderResult],
                                    environments: dict[str, Environment]) -> None:
    env = environments[name]
    network = _network(rendered[name], env, intruders=True)
    forbidden = flows.forbidden_flows(flow_inputs(env))
    assert {"model-api-to-prefect-api", "flow-runs-to-redis", "intruder-in-model-api-to-aurora",
            "intruder-in-prefect-flows-to-ingress-nginx-webhook-8443"} <= {flow.name for flow in forbidden}
    for flow in forbidden:
        verdicts = list(network.verdicts(flow))
        assert verdicts, f"{flow.name}: no connection to check"
        opened = [f"{tried}: {decision}" for tried, decision in verdicts if decision is not None and decision.allowed]
        assert opened == [], flow.name


@pytest.mark.parametrize("name", ENVIRONMENT_NAMES)
def test_every_namespace_haflow_installs_into_is_closed_by_default(
        name: str, rendered: dict[str, RenderResult], environments: dict[str, Environment]) -> None:
    env, result = environments[name], rendered[name]
    closed = flows.closed_by_default(env.prefect.flow_run_namespace)
    policies = [item.manifest for item in result.by_kind("NetworkPolicy")]
    assert default_deny_gaps(policies, closed) == []
    # "Every namespace haflow installs into", read from the render, not from the table: each rendered pod that is
    # not on the host network is in a closed namespace and selected by its default-deny.
    pods = [(namespace, labels) for _, namespace, labels, _, host in rendered_pods(result.objects) if not host]
    assert {namespace for namespace, _ in pods} == set(closed)  # and no closed namespace is a guess: each has pods
    assert unclosed_pods(result.objects, closed) == []


def test_coredns_and_other_eks_addons_stay_open(rendered: dict[str, RenderResult],
                                                environments: dict[str, Environment]) -> None:
    """kube-system is shared with EKS's add-ons: haflow's policies there select only haflow's pods, so cluster DNS
    keeps answering every namespace."""
    env = environments["prod"]
    network = _network(rendered["prod"], env)
    coredns = next(pod for pod in network.pods if pod.labels.get("k8s-app") == "kube-dns")
    assert not list(netpol.selecting(network.policies, coredns, netpol.INGRESS))
    assert not list(netpol.selecting(network.policies, coredns, netpol.EGRESS))
    stranger = netpol.Pod("default", {"run": "debug"}, "10.30.1.1")
    assert netpol.decide(network.policies, stranger, coredns, 53, "UDP").allowed


def test_rendered_policies_pass_the_cluster_versions_schema(rendered: dict[str, RenderResult]) -> None:
    """kubernetes-validate, the gate's schema check (HA-RND-002), reads every policy; a broken one fails it."""
    result = rendered["prod"]
    policies = result.by_kind("NetworkPolicy")
    assert len(policies) > 40
    assert all(result.schemas.problems(item.manifest) == [] for item in policies)
    broken = {**policies[0].manifest, "spec": {"podSelector": "everything", "policyTypes": ["Ingress"]}}
    assert result.schemas.problems(broken)


def test_the_dr_platform_uses_the_dr_vpc(synthesized: Stacks, environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    result = render_environment(synthesized, env, secondary=True, check_unread=False)
    inputs = flow_inputs(env, secondary=True)
    assert inputs.vpc_cidr == env.dr.network_cidr != env.network.cidr
    network = pod_network(result, inputs)
    assert [problem for flow in flows.intended_flows(inputs) for problem in flow_problems(network, flow)] == []
    policies = {item.name: item.manifest for item in result.by_kind("NetworkPolicy")}
    redis = policies["model-api-to-redis-egress"]
    assert [block["ipBlock"]["cidr"] for block in redis["spec"]["egress"][0]["to"]] == list(inputs.data_cidrs)
    # Before promotion (dr.serving false) no Prefect release runs there, so none of its flows is opened.
    assert "prefect-to-aurora-egress" not in policies


def test_a_pod_outside_haflows_namespaces_reaches_the_webhook_ports(rendered: dict[str, RenderResult],
                                                                   environments: dict[str, Environment]) -> None:
    """The documented gap (docs/network-policy.md, "What NetworkPolicy cannot close here"): the API server calls
    webhooks from its ENIs in the private subnets, where the VPC CNI also gives pods their addresses, so the
    webhooks' ingress rule admits any pod whose own egress is open, i.e. a pod in a namespace haflow does not
    close. When dedicated control-plane subnets close it, this test fails: update the doc and the forbidden list."""
    env = environments["prod"]
    network = _network(rendered["prod"], env)
    stranger = netpol.Pod("default", {"run": "debug"},
                          str(next(ipaddress.ip_network(flow_inputs(env).private_cidrs[1]).hosts())))
    webhook = next(pod for pod in network.pods if pod.namespace == "ingress-nginx"
                   and pod.labels.get("app.kubernetes.io/component") == "controller")
    assert netpol.decide(network.policies, stranger, webhook, flows.INGRESS_WEBHOOK_PORT.port).allowed


# --- the rules on variants of the rendered platform ------------------------------------------------------


def _policies_release(stacks: Stacks, env: str) -> dict[str, Any]:
    for body in stacks[f"{env}-platform"]["resource"]["helm_release"].values():
        if body.get("name") == "network-policies":
            return body  # type: ignore[no-any-return]
    raise KeyError("network-policies")


def _without(env: str, *names: tuple[str, str]) -> Callable[[Stacks], None]:
    """Drop the policies (namespace, name) from the network-policies release's values."""

    def mutate(stacks: Stacks) -> None:
        body = _policies_release(stacks, env)
        values = yaml.safe_load(body["values"][0])
        values["objects"] = [item for item in values["objects"]
                             if (item["metadata"]["namespace"], item["metadata"]["name"]) not in names]
        body["values"] = [yaml.safe_dump(values)]

    return mutate


def test_the_rendered_platform_complies(rendered: dict[str, RenderResult], environments: dict[str, Environment]) -> None:
    findings = evaluate_rendered(rendered["prod"], environments["prod"])
    assert [f for f in findings if f.rule_id in ("HA-SEC-021", "HA-SEC-022")] == []


def test_a_namespace_without_default_deny_is_a_finding(render_variant: Variant) -> None:
    _, findings = render_variant("prod", _without("prod", ("monitoring", "default-deny")))
    found = about(findings, "HA-SEC-021")
    assert len(found) == 1 and "namespace monitoring has no default-deny" in found[0].message


def test_a_release_in_a_namespace_haflow_does_not_close_is_a_finding(render_variant: Variant) -> None:
    def move_reloader(stacks: Stacks) -> None:
        for body in stacks["prod-platform"]["resource"]["helm_release"].values():
            if body.get("name") == "reloader":
                body["namespace"] = "tools"

    _, findings = render_variant("prod", move_reloader)
    messages = [f.message for f in about(findings, "HA-SEC-021")]
    assert any("runs in namespace tools, which haflow does not close by default" in m for m in messages), messages


def test_a_flow_the_policies_do_not_open_is_a_finding(render_variant: Variant) -> None:
    _, findings = render_variant("prod", _without("prod", ("prefect", "worker-to-prefect-api-ingress")))
    messages = [f.message for f in about(findings, "HA-SEC-022")]
    assert messages and all("worker-to-prefect-api: " in message for message in messages)
    assert "isolated for Ingress by NetworkPolicy prefect/default-deny" in messages[0]


def test_a_webhook_the_api_server_cannot_call_is_a_finding(render_variant: Variant) -> None:
    _, findings = render_variant("prod", _without("prod", ("external-secrets",
                                                           "api-server-to-external-secrets-webhook-ingress")))
    messages = [f.message for f in about(findings, "HA-SEC-022")]
    assert any("api-server-to-ValidatingWebhookConfiguration/externalsecret-validate" in m for m in messages)


def test_a_port_number_that_drifted_from_the_charts_is_reported(rendered: dict[str, RenderResult],
                                                                 environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    network = _network(rendered["prod"], env)
    moved = flows.Flow("moved-webhook", flows.api_server_callers(flow_inputs(env)), flows.INGRESS_CONTROLLER,
                       (flows.Port(9443, name="webhook"),), "a chart that moved its webhook")
    assert any("serves 'webhook' on 8443/TCP, the flow opens 9443/TCP" in p for p in flow_problems(network, moved))


def test_policies_use_port_numbers_and_the_prefect_service_keeps_the_container_port(
        rendered: dict[str, RenderResult]) -> None:
    """What the VPC CNI's policy controller needs: numeric ports (it has not resolved named ports in ingress
    rules), and, for a pod reached through its Service's ClusterIP under an egress policy (the worker and flow
    runs call the Prefect API by its Service), a Service selector equal to the rule's podSelector and a Service
    port equal to the container port (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html,
    considerations)."""
    result = rendered["prod"]
    for item in result.by_kind("NetworkPolicy"):
        for key in ("ingress", "egress"):
            for rule in item.manifest["spec"].get(key) or []:
                assert all(isinstance(port["port"], int) for port in rule.get("ports") or []), item.address
    service = result.find("Service", "prefect-server", flows.PREFECT_NAMESPACE)
    assert service is not None
    assert service.manifest["spec"]["selector"] == flows.PREFECT_API.selector["matchLabels"]
    assert [(p["port"], p["targetPort"]) for p in service.manifest["spec"]["ports"]] == [
        (flows.PREFECT_API_PORT, flows.PREFECT_API_PORT)]


def test_a_policy_the_api_server_would_refuse_is_a_finding(render_variant: Variant) -> None:
    def both_peer_kinds(stacks: Stacks) -> None:
        body = _policies_release(stacks, "prod")
        values = yaml.safe_load(body["values"][0])
        policy = next(item for item in values["objects"] if item["metadata"]["name"] == "prefect-to-redis-egress")
        policy["spec"]["egress"][0]["to"][0]["podSelector"] = {}
        body["values"] = [yaml.safe_dump(values)]

    _, findings = render_variant("prod", both_peer_kinds)
    messages = [f.message for f in about(findings, "HA-SEC-022")]
    assert len(messages) == 1 and "API server would refuse" in messages[0] and "exactly one of" in messages[0]
