"""The edge as the cluster would get it (issue 19, item 3): Helm's engine renders ingress-nginx 4.15.1's controller
Service with the NLB's TLS annotations and no plain-HTTP port, the render gate turns the kubernetes_ingress_v1
into an Ingress with host, basic auth and limits, both valid against the Kubernetes 1.35 schemas
(kubernetes-validate); the rendered rules HA-SEC-055..058 pass on them and fail on the pre-fix shapes.

What no receiver here proves: that the AWS cloud provider builds a TLS listener from the annotations (no AWS
API runs; the annotations' semantics are cloud-provider-aws's EnsureLoadBalancer, cited in haflow/rules/edge.py),
and that ingress-nginx answers 401/503 (no nginx runs the rendered annotations; see docs/security-edge.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from haflow import contract
from haflow.config import Environment
from haflow.render import RenderResult
from haflow.render.model import RenderedObject
from haflow.rules.rendered import evaluate_rendered
from tests.conftest import ENVIRONMENT_NAMES
from tests.render.conftest import Stacks, about, edit_values, resource

CONTROLLER_SERVICE = ("Service", "ingress-nginx-controller", "ingress-nginx")
MODEL_API_INGRESS = ("Ingress", "model-api", "model-api")
ACM_ARN = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
EDGE_RENDERED_RULES = ("HA-SEC-055", "HA-SEC-056", "HA-SEC-057", "HA-SEC-058")


def _find(result: RenderResult, kind: str, name: str, namespace: str) -> RenderedObject:
    found = result.find(kind, name, namespace)
    assert found is not None, f"{kind}/{namespace}/{name} not rendered"
    return found


def test_prod_controller_service_terminates_tls_on_443_only(rendered: dict[str, RenderResult]) -> None:
    result = rendered["prod"]
    service = _find(result, *CONTROLLER_SERVICE)
    annotations = service.manifest["metadata"]["annotations"]
    certificate = annotations[contract.NLB_SSL_CERT_ANNOTATION]
    assert ACM_ARN.match(certificate), certificate
    # the stand-in maps back to the foundation's validated certificate (a cross-stack reference)
    assert "aws_acm_certificate_validation" in result.placeholders[certificate]
    assert annotations[contract.NLB_SSL_PORTS_ANNOTATION] == "443"
    assert annotations[contract.NLB_SSL_POLICY_ANNOTATION] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert annotations[contract.NLB_BACKEND_PROTOCOL_ANNOTATION] == "tcp"
    assert contract.NLB_INTERNAL_ANNOTATION not in annotations
    spec = service.manifest["spec"]
    assert spec["type"] == "LoadBalancer" and spec["externalTrafficPolicy"] == "Local"
    # port 80 closed; 443 forwards the decrypted stream to the controller's plain HTTP port
    assert [(port["port"], port["targetPort"], port.get("appProtocol")) for port in spec["ports"]] == [
        (443, "http", None)]
    assert result.schemas.problems(service.manifest) == []


def test_prod_ingress_names_host_auth_and_limits(rendered: dict[str, RenderResult]) -> None:
    ingress = _find(rendered["prod"], *MODEL_API_INGRESS)
    annotations = ingress.manifest["metadata"]["annotations"]
    assert [rule["host"] for rule in ingress.manifest["spec"]["rules"]] == ["api.prod.example.com"]
    assert annotations[contract.INGRESS_AUTH_TYPE_ANNOTATION] == "basic"
    assert annotations[contract.INGRESS_AUTH_SECRET_ANNOTATION] == "model-api-clients"
    assert annotations["nginx.ingress.kubernetes.io/auth-secret-type"] == "auth-file"
    assert annotations[contract.INGRESS_LIMIT_RPS_ANNOTATION] == "50"
    assert annotations[contract.INGRESS_LIMIT_CONNECTIONS_ANNOTATION] == "50"
    assert rendered["prod"].schemas.problems(ingress.manifest) == []


def test_the_clients_secret_is_synced_from_secrets_manager_by_name(rendered: dict[str, RenderResult]) -> None:
    """ingress-nginx reads the htpasswd lines from the Secret External Secrets makes of the named secret."""
    synced = _find(rendered["prod"], "ExternalSecret", "model-api-clients", "model-api")
    spec = synced.manifest["spec"]
    assert [item["remoteRef"]["key"] for item in spec["data"]] == ["haflow/prod/model-api-clients"]
    assert spec["target"]["template"]["data"] == {"auth": "{{ .clients }}"}


def test_dev_stays_internal_and_plain_inside_the_vpc(rendered: dict[str, RenderResult]) -> None:
    service = _find(rendered["dev"], *CONTROLLER_SERVICE)
    annotations = service.manifest["metadata"]["annotations"]
    assert annotations[contract.NLB_INTERNAL_ANNOTATION] == "true"
    assert contract.NLB_SSL_CERT_ANNOTATION not in annotations
    assert {port["port"] for port in service.manifest["spec"]["ports"]} == {80, 443}


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_the_rendered_edge_rules_pass(rendered: dict[str, RenderResult], environments: dict[str, Environment],
                                      env_name: str) -> None:
    findings = evaluate_rendered(rendered[env_name], environments[env_name])
    assert [f for f in findings if f.rule_id in EDGE_RENDERED_RULES] == []


def _no_tls(values: dict[str, Any]) -> None:
    """ingress-nginx's values as main synthesized them before the edge work: no certificate, port 80 open."""
    service = values["controller"]["service"]
    for key in (contract.NLB_SSL_CERT_ANNOTATION, contract.NLB_SSL_PORTS_ANNOTATION,
                contract.NLB_SSL_POLICY_ANNOTATION, contract.NLB_BACKEND_PROTOCOL_ANNOTATION):
        service["annotations"].pop(key)
    for key in ("enableHttp", "targetPorts", "appProtocol"):
        service.pop(key)


def _http_open(values: dict[str, Any]) -> None:
    values["controller"]["service"].pop("enableHttp")


def _ingress_edit(change: Callable[[dict[str, Any]], None]) -> Callable[[Stacks], None]:
    def mutate(stacks: Stacks) -> None:
        change(resource(stacks, "prod-platform", "kubernetes_ingress_v1", "model-api_ingress"))
    return mutate


def _drop_annotations(*keys: str) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        for key in keys:
            body["metadata"]["annotations"].pop(key)
    return change


@pytest.mark.parametrize(("mutation", "rule_id", "expected"), [
    (edit_values("prod", "ingress-nginx", _no_tls), "HA-SEC-055",
     "port(s) 80 (http), 443 (https) reach the internet without TLS"),
    (edit_values("prod", "ingress-nginx", _http_open), "HA-SEC-055", "port(s) 80 (http) reach the internet"),
    (_ingress_edit(lambda body: body["spec"]["rule"][0].pop("host")), "HA-SEC-056", "rules[0] has no host"),
    (_ingress_edit(_drop_annotations(contract.INGRESS_AUTH_TYPE_ANNOTATION,
                                     contract.INGRESS_AUTH_SECRET_ANNOTATION)), "HA-SEC-057", "no authentication"),
    (_ingress_edit(_drop_annotations(contract.INGRESS_LIMIT_RPS_ANNOTATION,
                                     contract.INGRESS_LIMIT_CONNECTIONS_ANNOTATION)), "HA-SEC-058",
     "no per-client limit"),
], ids=["no-certificate", "port-80-open", "no-host", "no-auth", "no-limit"])
def test_the_rendered_rules_find_each_missing_control(
    render_variant: Callable[..., Any], mutation: Callable[[Stacks], None], rule_id: str, expected: str,
) -> None:
    _, findings = render_variant("prod", mutation)
    found = [finding.message for finding in about(findings, rule_id)]
    assert any(expected in message for message in found), found


def test_source_ranges_reach_the_service(render_variant: Callable[..., Any]) -> None:
    def ranges(values: dict[str, Any]) -> None:
        values["controller"]["service"]["loadBalancerSourceRanges"] = ["203.0.113.0/24"]

    result, _ = render_variant("prod", edit_values("prod", "ingress-nginx", ranges))
    service = _find(result, *CONTROLLER_SERVICE)
    assert service.manifest["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    assert result.schemas.problems(service.manifest) == []
