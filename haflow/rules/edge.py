"""Edge rules: what the internet reaches of the platform, on the plan and on the rendered objects.

A public load balancer terminates TLS and serves no plain HTTP; the Ingresses behind it name their host,
check a credential and limit each client. The plan rules read ingress-nginx's values and the
``kubernetes_ingress_v1`` resources; the rendered rules read the Service and Ingress objects Helm's engine
and the render gate make of them, so a chart default (``enableHttp: true``) or an annotation dropped on the
way shows up as what the cluster would get.

The load balancer is made by the AWS cloud provider's service controller (haflow installs no AWS Load
Balancer Controller), which reads these Service annotations: a Service is internal only with
``aws-load-balancer-internal``; a port is a TLS listener when ``aws-load-balancer-ssl-cert`` is set and
``aws-load-balancer-ssl-ports`` is absent or lists the port's number or name (cloud-provider-aws
pkg/providers/v1/aws.go, EnsureLoadBalancer). A canary Ingress of ingress-nginx takes its authentication
and limits from the main Ingress of the same host and path (the controller ignores them on a canary), so
those two rules judge main Ingresses only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from haflow import contract
from haflow.plan import chart_name
from haflow.rules.engine import ERROR, NOT_APPLICABLE, RENDERED, Outcome, rule
from haflow.rules.helm import values_of
from haflow.rules.stack import LiteralResource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment
    from haflow.render.model import RenderedObject
    from haflow.rules.rendered import Cluster

INGRESS_NGINX_CHART = "ingress-nginx"
INTERNAL, SSL_CERT, SSL_PORTS = (
    contract.NLB_INTERNAL_ANNOTATION, contract.NLB_SSL_CERT_ANNOTATION, contract.NLB_SSL_PORTS_ANNOTATION)
CANARY, AUTH_TYPE, AUTH_SECRET, AUTH_URL = (
    contract.INGRESS_CANARY_ANNOTATION, contract.INGRESS_AUTH_TYPE_ANNOTATION,
    contract.INGRESS_AUTH_SECRET_ANNOTATION, contract.INGRESS_AUTH_URL_ANNOTATION)
RATE_LIMITS = contract.INGRESS_RATE_LIMIT_ANNOTATIONS


def internet_facing(annotations: Mapping[str, Any]) -> bool:
    return str(annotations.get(INTERNAL, "")).lower() != "true"


def plain_ports(annotations: Mapping[str, Any], ports: Iterable[tuple[int, str]]) -> list[str]:
    """The (number, name) ports of a LoadBalancer Service the NLB would serve without TLS."""
    if not annotations.get(SSL_CERT):
        return [f"{number} ({name})" if name else str(number) for number, name in ports]
    listed = annotations.get(SSL_PORTS)
    if listed is None:
        return []
    tls = {item.strip() for item in str(listed).split(",")}
    return [f"{number} ({name})" if name else str(number) for number, name in ports
            if str(number) not in tls and name not in tls]


def edge_problems(annotations: Mapping[str, Any], ports: Iterable[tuple[int, str]]) -> list[str]:
    problems = []
    if not annotations.get(SSL_CERT):
        problems.append(f"an internet-facing load balancer without {SSL_CERT}: port 443 serves the "
                        "controller's self-signed certificate")
    plain = plain_ports(annotations, ports)
    if plain:
        problems.append(f"port(s) {', '.join(plain)} reach the internet without TLS")
    return problems


def is_canary(annotations: Mapping[str, Any]) -> bool:
    return str(annotations.get(CANARY, "")).lower() == "true"


def auth_problems(annotations: Mapping[str, Any]) -> list[str]:
    if annotations.get(AUTH_URL):
        return []
    if annotations.get(AUTH_TYPE) and annotations.get(AUTH_SECRET):
        return []
    return [f"no authentication: neither {AUTH_TYPE} with {AUTH_SECRET} nor {AUTH_URL} is set, "
            "so anyone on the internet may call it"]


def rate_limit_problems(annotations: Mapping[str, Any]) -> list[str]:
    if any(_positive(annotations.get(key)) for key in RATE_LIMITS):
        return []
    return [f"no per-client limit: none of {', '.join(RATE_LIMITS)} is set, so one client can take every "
            "model-api pod's capacity"]


def _positive(value: Any) -> bool:
    try:
        return int(str(value)) > 0
    except ValueError:
        return False


def _block(node: Any) -> Mapping[str, Any]:
    """A nested block the kubernetes provider's JSON writes as an object or a list of one."""
    if isinstance(node, list):
        node = node[0] if node else {}
    return node if isinstance(node, Mapping) else {}


# --- on the plan ---------------------------------------------------------------------------------------------

def _controller_service(release: LiteralResource) -> tuple[Mapping[str, Any], list[tuple[int, str]]]:
    """ingress-nginx's controller Service as its values describe it: annotations, and the ports it publishes."""
    values = values_of(release)
    annotations = values.raw("controller.service.annotations", {}) or {}
    ports: list[tuple[int, str]] = []
    if values.boolean("controller.service.enableHttp", True):
        ports.append((int(values.raw("controller.service.ports.http", 80)), "http"))
    if values.boolean("controller.service.enableHttps", True):
        ports.append((int(values.raw("controller.service.ports.https", 443)), "https"))
    return annotations, ports


def _public_controller(stack: Stack) -> bool | None:
    """Whether the stack's ingress-nginx is internet-facing; None without one (nothing serves an Ingress)."""
    for release in stack.resources("helm_release"):
        if chart_name(release.string("chart", "")) == INGRESS_NGINX_CHART:
            return internet_facing(_controller_service(release)[0])
    return None


def _ingress_annotations(ingress: LiteralResource) -> Mapping[str, Any]:
    return _block(ingress.body.get("metadata")).get("annotations") or {}


@rule(
    id="HA-SEC-050",
    level=ERROR,
    title="An internet-facing ingress load balancer terminates TLS and serves no plain HTTP",
    rationale="Without a certificate the NLB passes port 443 to ingress-nginx, which answers with its self-signed "
    "certificate, and port 80 carries requests, API keys included, in clear text. A redirect from 80 would come "
    "only after the client had sent them.",
    fix="Set ingress.tls (certificate_arn, or hosted_zone_id for a certificate the foundation requests); "
    "haflow/constructs/ingress.py then sets the ssl-cert annotations and closes port 80. Or make the load "
    "balancer internal (ingress.load_balancer_scheme: internal).",
    subjects=("helm_release",),
)
def public_load_balancer_tls(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if chart_name(release.string("chart", "")) != INGRESS_NGINX_CHART:
        return NOT_APPLICABLE
    annotations, ports = _controller_service(release)
    if not internet_facing(annotations):
        return NOT_APPLICABLE
    return [f"values controller.service: {problem}" for problem in edge_problems(annotations, ports)]


@rule(
    id="HA-SEC-051",
    level=ERROR,
    title="An Ingress behind an internet-facing load balancer names its host",
    rationale="An Ingress rule without a host answers for any name the load balancer is reached by, its own "
    "amazonaws.com name included, which no certificate covers; clients and scanners alike reach model-api.",
    fix="Set model_api.host (required with an internet-facing load balancer).",
    subjects=("kubernetes_ingress_v1",),
)
def public_ingress_host(ingress: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not _public_controller(stack):
        return NOT_APPLICABLE
    rules = _block(ingress.body.get("spec")).get("rule") or []
    if not rules:
        return ["spec has no rule: the Ingress' default backend answers any host"]
    return [f"spec.rule[{index}] has no host" for index, item in enumerate(rules) if not _block(item).get("host")]


@rule(
    id="HA-SEC-052",
    level=ERROR,
    title="An Ingress behind an internet-facing load balancer checks a credential",
    rationale="model-api runs inference on the platform's GPUs and reads the artifacts bucket: open to anyone, "
    "it is a free compute service and an oracle for the models.",
    fix="Set model_api.auth.basic_auth_secret (a Secrets Manager secret of htpasswd lines, one per client); "
    "ingress-nginx then answers 401 to a request without a listed client and key.",
    subjects=("kubernetes_ingress_v1",),
)
def public_ingress_auth(ingress: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    annotations = _ingress_annotations(ingress)
    if not _public_controller(stack) or is_canary(annotations):
        return NOT_APPLICABLE
    return auth_problems(annotations)


@rule(
    id="HA-SEC-053",
    level=ERROR,
    title="Every Ingress limits what one client may send",
    rationale="Without a per-client limit one caller (a runaway batch job, a leaked key, a scanner) takes the "
    "capacity of every model-api pod, and the HPA scales the cluster for it.",
    fix="Keep model_api.rate_limit above 0 (requests_per_second and/or connections).",
    subjects=("kubernetes_ingress_v1",),
)
def ingress_rate_limit(ingress: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    annotations = _ingress_annotations(ingress)
    if is_canary(annotations):
        return NOT_APPLICABLE
    return rate_limit_problems(annotations)


# --- on the rendered objects ---------------------------------------------------------------------------------

def _annotations(item: RenderedObject) -> Mapping[str, Any]:
    return (item.manifest.get("metadata") or {}).get("annotations") or {}


def _public_load_balancers(cluster: Cluster) -> list[RenderedObject]:
    return [service for service in cluster.result.by_kind("Service")
            if (service.manifest.get("spec") or {}).get("type") == "LoadBalancer"
            and internet_facing(_annotations(service))]


@rule(
    id="HA-SEC-055",
    level=ERROR,
    title="Every rendered internet-facing LoadBalancer Service terminates TLS on every port",
    rationale="What the cloud provider builds the NLB from is the rendered Service: a chart default (the HTTP "
    "port), a value the chart ignores or an annotation lost on the way would leave a listener in clear text.",
    fix="Set ingress.tls; check that the chart still renders controller.service.annotations and enableHttp "
    "(haflow/constructs/ingress.py load_balancer_service).",
    subjects=("Service",),
    reads=RENDERED,
)
def rendered_load_balancer_tls(service: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    spec = service.manifest.get("spec") or {}
    if spec.get("type") != "LoadBalancer" or not internet_facing(_annotations(service)):
        return NOT_APPLICABLE
    ports = [(int(port.get("port", 0)), str(port.get("name") or "")) for port in spec.get("ports") or []]
    return [f"{service}: {problem}" for problem in edge_problems(_annotations(service), ports)]


@rule(
    id="HA-SEC-056",
    level=ERROR,
    title="Every rendered Ingress behind an internet-facing load balancer names its host",
    rationale="The Ingress the API server stores is what ingress-nginx routes: a rule without a host answers for "
    "any name the load balancer is reached by, its amazonaws.com name included.",
    fix="Set model_api.host (required with an internet-facing load balancer).",
    subjects=("Ingress",),
    reads=RENDERED,
)
def rendered_ingress_host(ingress: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    if not _public_load_balancers(cluster):
        return NOT_APPLICABLE
    rules = (ingress.manifest.get("spec") or {}).get("rules") or []
    if not rules:
        return [f"{ingress}: no rules: its default backend answers any host"]
    return [f"{ingress}: rules[{index}] has no host" for index, item in enumerate(rules) if not item.get("host")]


@rule(
    id="HA-SEC-057",
    level=ERROR,
    title="Every rendered Ingress behind an internet-facing load balancer checks a credential",
    rationale="The annotations ingress-nginx reads are those of the object the API server stores; a canary "
    "Ingress inherits them from the main Ingress of its host.",
    fix="Set model_api.auth.basic_auth_secret.",
    subjects=("Ingress",),
    reads=RENDERED,
)
def rendered_ingress_auth(ingress: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    if not _public_load_balancers(cluster) or is_canary(_annotations(ingress)):
        return NOT_APPLICABLE
    return [f"{ingress}: {problem}" for problem in auth_problems(_annotations(ingress))]


@rule(
    id="HA-SEC-058",
    level=ERROR,
    title="Every rendered Ingress limits what one client may send",
    rationale="The annotations ingress-nginx reads are those of the object the API server stores; a canary "
    "Ingress inherits them from the main Ingress of its host.",
    fix="Keep model_api.rate_limit above 0.",
    subjects=("Ingress",),
    reads=RENDERED,
)
def rendered_ingress_rate_limit(ingress: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    if is_canary(_annotations(ingress)):
        return NOT_APPLICABLE
    return [f"{ingress}: {problem}" for problem in rate_limit_problems(_annotations(ingress))]
