"""Workload rules: replicated pods that survive a node drain, an AZ outage and a slow start.

A workload is a set of identical pods behind one controller. It comes either from a
kubernetes_deployment_v1 (with the PodDisruptionBudget and HorizontalPodAutoscaler resources that
select it) or from a helm_release of a chart haflow knows (``CHART_WORKLOADS``: where that chart keeps
replicas, autoscaling, its PDB, scheduling and resources, with the chart's defaults). Both become a
``haflow.kube.Workload``, and the rules read only that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from haflow.contract import ZONE_TOPOLOGY_KEY
from haflow.kube import Budget, Container, Workload, selects, spreads_over_zones
from haflow.plan import HELM_RELEASE, block
from haflow.rules.engine import ERROR, NOT_APPLICABLE, WARNING, Outcome, rule
from haflow.rules.helm import Values, chart_name, values_of
from haflow.rules.stack import MISSING, LiteralResource, Stack, Unverifiable

if TYPE_CHECKING:
    from haflow.config.model import Environment

MIN_REPLICAS = 2
DEPLOYMENT = "kubernetes_deployment_v1"
PDB = "kubernetes_pod_disruption_budget_v1"
HPA = "kubernetes_horizontal_pod_autoscaler_v2"
WORKLOAD_SUBJECTS = (DEPLOYMENT, HELM_RELEASE)
REQUIRED_REQUESTS = ("cpu", "memory")


def plan_budget(min_available: Any, max_unavailable: Any) -> Budget:
    """A budget as the plan writes it: the kubernetes provider's IntOrString fields are strings ("2", "50%")."""

    def field(value: Any) -> Any:
        return int(value.strip()) if isinstance(value, str) and value.strip().isdigit() else value

    return Budget(field(min_available), field(max_unavailable))


def evictable(budget: Budget, pods: int) -> int:
    """Pods a drain may evict; Unverifiable when the budget is neither a count nor a percentage."""
    count = budget.evictable(pods)
    if count is None:
        raise Unverifiable("disruption budget", f"{budget.value!r} is neither a count nor a percentage")
    return count


# --- kubernetes_deployment_v1 -----------------------------------------------------------------

def _namespace(raw: Any, stack: Stack) -> str:
    target = stack.resolve(raw)
    return target.address if target else str(raw or "default")


def budget_for(labels: Mapping[str, Any], namespace: str, stack: Stack) -> Budget | None:
    for pdb in stack.resources(PDB):
        if _namespace(block(pdb.body.get("metadata")).get("namespace"), stack) != namespace:
            continue
        pod_labels = {str(key): str(value) for key, value in labels.items()}
        if selects({"matchLabels": pdb.value("spec.selector.match_labels", {})}, pod_labels):
            return plan_budget(pdb.value("spec.min_available", None), pdb.value("spec.max_unavailable", None))
    return None


def _autoscaler_min(deployment: LiteralResource, name: str, namespace: str, stack: Stack) -> int | None:
    for hpa in stack.resources(HPA):
        if _namespace(block(hpa.body.get("metadata")).get("namespace"), stack) != namespace:
            continue
        target = block(block(hpa.body.get("spec")).get("scale_target_ref"))
        if target.get("kind") != "Deployment":
            continue
        if target.get("name") == name or stack.resolve(target.get("name")) == deployment:
            return hpa.integer("spec.min_replicas", 1)
    return None


def deployment_workload(deployment: LiteralResource, stack: Stack) -> Workload:
    metadata = block(deployment.body.get("metadata"))
    name = deployment.string("metadata.name")
    namespace = _namespace(metadata.get("namespace"), stack)
    pod = deployment.value("spec.template.spec")
    labels = deployment.value("spec.template.metadata.labels")
    containers = pod.get("container", [])
    containers = containers if isinstance(containers, list) else [containers]
    budget = budget_for(labels, namespace, stack)
    return Workload(
        name=name,
        replicas=deployment.integer("spec.replicas", 1),
        autoscaling_min=_autoscaler_min(deployment, name, namespace, stack),
        budgets=(budget,) if budget else (),
        zone_spread=spreads_over_zones(pod.get("topology_spread_constraint"), block(pod.get("affinity"))),
        containers=tuple(
            Container(
                str(item.get("name", "?")),
                bool(item.get("liveness_probe")),
                bool(item.get("readiness_probe")),
                block(item.get("resources")).get("requests") or {},
            )
            for item in containers
        ),
    )


# --- helm charts ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChartWorkload:
    """Where one chart keeps one workload's settings, and the chart's defaults (from its values.yaml)."""

    component: str
    prefix: str
    pod_labels: Mapping[str, str]  # "{release}" is replaced by the release name
    default_requests: Mapping[str, str]
    # The chart's own PDB: "flat" (minAvailable/maxUnavailable beside replicaCount, rendered when more
    # than one pod), "block" (a podDisruptionBudget mapping), or None (the chart has no PDB).
    chart_budget: str | None
    liveness_default: bool
    readiness_default: bool | None  # None: the chart has no readiness probe (a poller, not a server)
    probe_style: str  # "enabled": probes are {enabled: bool}; "spec": probes are the probe itself


# Defaults from the charts' values.yaml at the versions haflow pins (haflow.constructs.helm):
# ingress-nginx 4.15.1, prefect-server / prefect-worker 2026.8.18172642. These are the workloads on the
# request and orchestration path. prefect-server's backgroundServices deployment is not among them: it
# runs as configured (prefect.background_services_replicas, default 1) and HA-PF-002 checks that it
# coordinates through Redis; cluster add-ons (metrics-server, autoscaler, ...) are not checked here.
CHART_WORKLOADS: dict[str, tuple[ChartWorkload, ...]] = {
    "ingress-nginx": (
        ChartWorkload(
            "controller", "controller",
            {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/instance": "{release}",
             "app.kubernetes.io/component": "controller"},
            {"cpu": "100m", "memory": "90Mi"}, "flat", True, True, "spec",
        ),
    ),
    "prefect-server": (
        ChartWorkload(
            "server", "server",
            {"app.kubernetes.io/name": "prefect-server", "app.kubernetes.io/instance": "{release}",
             "app.kubernetes.io/component": "server"},
            {"cpu": "500m", "memory": "512Mi"}, None, True, True, "enabled",
        ),
    ),
    "prefect-worker": (
        ChartWorkload(
            "worker", "worker",
            {"app.kubernetes.io/name": "prefect-worker", "app.kubernetes.io/instance": "{release}"},
            {"cpu": "100m", "memory": "256Mi"}, "block", False, None, "enabled",
        ),
    ),
}


def _probe(values: Values, path: str, style: str, default: bool) -> bool:
    if style == "enabled":
        return values.boolean(f"{path}.enabled", default)
    found = values.raw(path, MISSING)
    return default if found is MISSING else bool(found)


def chart_workload(release: LiteralResource, spec: ChartWorkload, values: Values, stack: Stack) -> Workload:
    prefix = spec.prefix
    replicas = values.integer(f"{prefix}.replicaCount", 1)
    autoscaling_min = (
        values.integer(f"{prefix}.autoscaling.minReplicas", 1)
        if values.boolean(f"{prefix}.autoscaling.enabled", False) else None
    )
    release_name = release.string("name")
    labels = {key: value.replace("{release}", release_name) for key, value in spec.pod_labels.items()}
    budget: Budget | None = None
    if spec.chart_budget == "flat" and max(replicas, autoscaling_min or 0) > 1:
        maximum = values.get(f"{prefix}.maxUnavailable", None)
        budget = plan_budget(None, maximum) if maximum is not None else plan_budget(
            values.get(f"{prefix}.minAvailable", 1), None
        )
    elif spec.chart_budget == "block":
        chart_pdb = values.get(f"{prefix}.podDisruptionBudget", {}) or {}
        if chart_pdb.get("maxUnavailable") is not None or chart_pdb.get("minAvailable") is not None:
            budget = plan_budget(chart_pdb.get("minAvailable"), chart_pdb.get("maxUnavailable"))
    if budget is None:
        budget = budget_for(labels, _namespace(release.body.get("namespace"), stack), stack)
    zone_spread = spreads_over_zones(values.get(f"{prefix}.topologySpreadConstraints", []) or [],
                                     values.get(f"{prefix}.affinity", {}) or {})
    requests = values.get(f"{prefix}.resources.requests", dict(spec.default_requests)) or {}
    readiness = (
        _probe(values, f"{prefix}.readinessProbe", spec.probe_style, spec.readiness_default)
        if spec.readiness_default is not None else False
    )
    return Workload(
        name=f"{release_name} {spec.component}",
        replicas=replicas,
        autoscaling_min=autoscaling_min,
        budgets=(budget,) if budget else (),
        zone_spread=zone_spread,
        containers=(
            Container(
                spec.component,
                _probe(values, f"{prefix}.livenessProbe", spec.probe_style, spec.liveness_default),
                readiness,
                requests,
            ),
        ),
        serves_traffic=spec.readiness_default is not None,
    )


def workloads_of(resource: LiteralResource, stack: Stack) -> list[Workload]:
    """The workloads a deployment or a known chart's release runs; [] for anything else."""
    if resource.type == DEPLOYMENT:
        return [deployment_workload(resource, stack)]
    specs = CHART_WORKLOADS.get(chart_name(resource), ())
    if not specs:
        return []
    values = values_of(resource)
    return [chart_workload(resource, spec, values, stack) for spec in specs]


def per_workload(resource: LiteralResource, stack: Stack, problems: Callable[[Workload], Iterable[str]]) -> Outcome:
    """Not applicable unless ``resource`` runs a workload haflow knows; else every workload's problems."""
    workloads = workloads_of(resource, stack)
    if not workloads:
        return NOT_APPLICABLE
    return [problem for workload in workloads for problem in problems(workload)]


# --- rules ------------------------------------------------------------------------------------

@rule(
    id="HA-WL-001",
    level=ERROR,
    title=f"Workloads run at least {MIN_REPLICAS} pods",
    rationale="A single pod is an outage on every node drain, eviction, crash or rollout.",
    fix=f"Set replicas (and the autoscaler's minimum) to {MIN_REPLICAS} or more.",
    subjects=WORKLOAD_SUBJECTS,
)
def replicas(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    def problems(workload: Workload) -> Iterator[str]:
        if workload.replicas < MIN_REPLICAS:
            yield f"{workload.name}: replicas is {workload.replicas}"
        if workload.autoscaling_min is not None and workload.autoscaling_min < MIN_REPLICAS:
            yield f"{workload.name}: the autoscaler may scale down to {workload.autoscaling_min}"

    return per_workload(resource, stack, problems)


@rule(
    id="HA-WL-002",
    level=ERROR,
    title="A PodDisruptionBudget keeps pods up during drains and still lets one go",
    rationale="Without a PDB a node drain may evict every pod at once; a PDB that allows no eviction "
    "(minAvailable >= replicas) blocks node upgrades, scale-in and AZ rebalancing forever.",
    fix="Add a PDB selecting the pods with minAvailable between 1 and replicas - 1 (or maxUnavailable 1).",
    subjects=WORKLOAD_SUBJECTS,
)
def disruption_budget(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    def problems(workload: Workload) -> Iterator[str]:
        if workload.budget is None:
            yield f"{workload.name}: no PodDisruptionBudget selects its pods"
            return
        allowed = evictable(workload.budget, workload.replicas)
        if allowed < 1:
            yield (f"{workload.name}: {workload.budget} with {workload.replicas} replicas lets no pod "
                   f"be evicted, so drains hang")
        elif allowed >= workload.replicas:
            yield (f"{workload.name}: {workload.budget} with {workload.replicas} replicas lets a drain "
                   f"evict every pod")

    return per_workload(resource, stack, problems)


@rule(
    id="HA-WL-003",
    level=ERROR,
    title="The autoscaler's minimum stays above the PodDisruptionBudget floor",
    rationale="At low load the HPA scales down to its minimum; if that equals the PDB's minAvailable, "
    "no pod may be evicted and every drain hangs until load returns.",
    fix="Set the HPA's min_replicas to at least the PDB's minAvailable + 1.",
    subjects=WORKLOAD_SUBJECTS,
)
def autoscaler_above_budget(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    workloads = [w for w in workloads_of(resource, stack) if w.autoscaling_min is not None and w.budget]
    if not workloads:
        return NOT_APPLICABLE
    return [
        f"{w.name}: at the autoscaler's minimum of {w.autoscaling_min} pods, {w.budget} lets no pod be evicted"
        for w in workloads
        if w.budget is not None and w.autoscaling_min is not None and evictable(w.budget, w.autoscaling_min) < 1
    ]


@rule(
    id="HA-WL-004",
    level=ERROR,
    title="Containers have liveness and (when serving traffic) readiness probes",
    rationale="Without a readiness probe a starting or overloaded pod receives traffic it cannot serve; "
    "without a liveness probe a hung process is never restarted.",
    fix="Add liveness_probe and readiness_probe to every container (the chart's probe values for charts).",
    subjects=WORKLOAD_SUBJECTS,
)
def probes(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    def problems(workload: Workload) -> Iterator[str]:
        for container in workload.containers:
            missing = [] if container.liveness else ["liveness"]
            if workload.serves_traffic and not container.readiness:
                missing.append("readiness")
            if missing:
                yield f"{workload.name}: container {container.name} has no {' or '.join(missing)} probe"

    return per_workload(resource, stack, problems)


@rule(
    id="HA-WL-005",
    level=ERROR,
    title="Pods are spread across availability zones",
    rationale="Without a zone topology spread constraint (or zone anti-affinity) the scheduler may put "
    "every replica in one AZ, and replicas then do not survive that AZ.",
    fix=f"Add a topology spread constraint on {ZONE_TOPOLOGY_KEY} (or pod anti-affinity with that topology key).",
    subjects=WORKLOAD_SUBJECTS,
)
def zone_spread(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    def problems(workload: Workload) -> Iterator[str]:
        if not workload.zone_spread:
            yield f"{workload.name}: nothing spreads its pods over {ZONE_TOPOLOGY_KEY}"

    return per_workload(resource, stack, problems)


@rule(
    id="HA-WL-006",
    level=WARNING,
    title="Containers request CPU and memory",
    rationale="The scheduler places pods by their requests and the HPA scales on utilisation of them; "
    "without requests pods land on full nodes and are the first evicted under pressure.",
    fix="Set resources.requests.cpu and .memory on every container.",
    subjects=WORKLOAD_SUBJECTS,
)
def resource_requests(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    def problems(workload: Workload) -> Iterator[str]:
        for container in workload.containers:
            missing = [name for name in REQUIRED_REQUESTS if not container.requests.get(name)]
            if missing:
                yield f"{workload.name}: container {container.name} requests no {' or '.join(missing)}"

    return per_workload(resource, stack, problems)
