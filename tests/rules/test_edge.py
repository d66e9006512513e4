"""HA-SEC-050..053 on the plan: the synthesized platform stacks, and the same stacks with one edge control taken
away (what main synthesized before issue 19, item 3: no certificate, port 80 open, no host, auth or limit)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from haflow import contract
from haflow.config import Environment
from haflow.plan import StackJson
from haflow.rules.engine import REGISTRY, Result, Status, check_scope
from haflow.rules.stack import Stack
from tests.conftest import ENVIRONMENT_NAMES

EDGE_PLAN_RULES = ("HA-SEC-050", "HA-SEC-051", "HA-SEC-052", "HA-SEC-053")
TLS_KEYS = (contract.NLB_SSL_CERT_ANNOTATION, contract.NLB_SSL_PORTS_ANNOTATION,
            contract.NLB_SSL_POLICY_ANNOTATION, contract.NLB_BACKEND_PROTOCOL_ANNOTATION)
AUTH_KEYS = (contract.INGRESS_AUTH_TYPE_ANNOTATION, contract.INGRESS_AUTH_SECRET_ANNOTATION)


def run(rule_id: str, stack: StackJson, env: Environment) -> list[Result]:
    return check_scope(Stack(f"{env.name}-platform", stack), env, [REGISTRY[rule_id]])


def _nginx(stack: StackJson) -> dict[str, Any]:
    return next(body for body in stack["resource"]["helm_release"].values()
                if str(body["chart"]).endswith("ingress-nginx"))


def _ingress(stack: StackJson) -> dict[str, Any]:
    return next(body for name, body in stack["resource"]["kubernetes_ingress_v1"].items()
                if name.startswith("model-api_ingress"))


def edit_service(change: Callable[[dict[str, Any]], None]) -> Callable[[StackJson], None]:
    def mutate(stack: StackJson) -> None:
        body = _nginx(stack)
        values = yaml.safe_load(body["values"][0])
        change(values["controller"]["service"])
        body["values"] = [yaml.safe_dump(values)]
    return mutate


def _no_tls(service: dict[str, Any]) -> None:
    for key in TLS_KEYS:
        service["annotations"].pop(key)
    for key in ("enableHttp", "targetPorts", "appProtocol"):
        service.pop(key)


def _http_open(service: dict[str, Any]) -> None:
    service.pop("enableHttp")


def _no_host(stack: StackJson) -> None:
    _ingress(stack)["spec"]["rule"][0].pop("host")


def _annotations_without(*keys: str) -> Callable[[StackJson], None]:
    def mutate(stack: StackJson) -> None:
        for key in keys:
            _ingress(stack)["metadata"]["annotations"].pop(key)
    return mutate


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_every_synthesized_platform_passes_the_edge_rules(synthesized: dict[str, StackJson],
                                                          environments: dict[str, Environment], env_name: str) -> None:
    env = environments[env_name]
    for rule_id in EDGE_PLAN_RULES:
        results = run(rule_id, synthesized[f"{env_name}-platform"], env)
        assert results and {r.status for r in results} <= {Status.COMPLIANT, Status.NOT_APPLICABLE}, (rule_id, results)


def test_prod_is_judged_not_skipped(synthesized: dict[str, StackJson], environments: dict[str, Environment]) -> None:
    """prod's NLB is internet-facing, so each rule judges (compliant), none is merely not applicable."""
    for rule_id in EDGE_PLAN_RULES:
        statuses = {r.status for r in run(rule_id, synthesized["prod-platform"], environments["prod"])}
        assert Status.COMPLIANT in statuses, (rule_id, statuses)


@pytest.mark.parametrize(("rule_id", "mutation", "expected"), [
    ("HA-SEC-050", edit_service(_no_tls), "without service.beta.kubernetes.io/aws-load-balancer-ssl-cert"),
    ("HA-SEC-050", edit_service(_no_tls), "port(s) 80 (http), 443 (https) reach the internet without TLS"),
    ("HA-SEC-050", edit_service(_http_open), "port(s) 80 (http) reach the internet without TLS"),
    ("HA-SEC-051", _no_host, "spec.rule[0] has no host"),
    ("HA-SEC-052", _annotations_without(*AUTH_KEYS), "no authentication"),
    ("HA-SEC-053", _annotations_without(contract.INGRESS_LIMIT_RPS_ANNOTATION,
                                        contract.INGRESS_LIMIT_CONNECTIONS_ANNOTATION), "no per-client limit"),
], ids=["no-certificate", "no-certificate-ports", "port-80-open", "no-host", "no-auth", "no-limit"])
def test_prod_without_an_edge_control_is_a_finding(synthesized: dict[str, StackJson],
                                                    environments: dict[str, Environment], rule_id: str,
                                                    mutation: Callable[[StackJson], None], expected: str) -> None:
    stack = copy.deepcopy(synthesized["prod-platform"])
    mutation(stack)
    found = [m for r in run(rule_id, stack, environments["prod"]) for m in r.messages]
    assert any(expected in message for message in found), found


def test_an_internal_load_balancer_needs_no_tls_host_or_auth(synthesized: dict[str, StackJson],
                                                             environments: dict[str, Environment]) -> None:
    stack = copy.deepcopy(synthesized["prod-platform"])
    edit_service(_no_tls)(stack)
    edit_service(lambda service: service["annotations"].update({contract.NLB_INTERNAL_ANNOTATION: "true"}))(stack)
    _no_host(stack)
    _annotations_without(*AUTH_KEYS)(stack)
    for rule_id in ("HA-SEC-050", "HA-SEC-051", "HA-SEC-052"):
        assert {r.status for r in run(rule_id, stack, environments["prod"])} == {Status.NOT_APPLICABLE}, rule_id


def test_a_canary_ingress_inherits_auth_and_limits(synthesized: dict[str, StackJson],
                                                   environments: dict[str, Environment]) -> None:
    """staging's canary Ingress carries only the canary annotations: ingress-nginx applies the main Ingress'."""
    stack = synthesized["staging-platform"]
    canary = next(body for name, body in stack["resource"]["kubernetes_ingress_v1"].items() if "canary" in name)
    assert contract.INGRESS_AUTH_TYPE_ANNOTATION not in canary["metadata"]["annotations"]
    by_address = {r.address: r.status for r in run("HA-SEC-052", stack, environments["staging"])}
    assert sorted(by_address.values(), key=str) == [Status.COMPLIANT, Status.NOT_APPLICABLE]
