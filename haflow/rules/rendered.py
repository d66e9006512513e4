"""Rules on the rendered cluster: the objects Helm's engine and the kubernetes provider would create.

The render gate (haflow/render) turns each environment's platform stack into Kubernetes objects; these
rules read those objects, not the values that produced them, so a chart default, a value the chart
ignores or a map Helm merged instead of replaced shows up as what it is in the cluster. They are rules
like every other (``@rule(..., reads=RENDERED)``): the engine calls each once per subject of a
``Cluster``, one environment's ``RenderResult``. Subjects are the rendered objects (addressed
``Kind/namespace/name``), the releases (``helm_release.<id>``) and, where a rule needs them, foundation
resources; suppressions name them the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from haflow import contract, plan
from haflow.kube import (
    Budget,
    Container,
    Workload,
    cannot_schedule,
    is_gpu_node_group,
    node_labels,
    node_taints,
    selects,
    spreads_over_zones,
)
from haflow.plan import HELM_RELEASE
from haflow.rules.engine import (
    ERROR,
    NOT_APPLICABLE,
    REGISTRY,
    RENDERED,
    WARNING,
    Finding,
    Outcome,
    Reads,
    check_scope,
    findings_of,
    rule,
)

if TYPE_CHECKING:
    from haflow.config.model import Environment
    from haflow.render.model import RenderedObject, RenderedRelease, RenderResult

CONTROLLERS = ("Deployment", "StatefulSet")
OPERATED = ("Prometheus", "Alertmanager")  # custom resources prometheus-operator runs as StatefulSets
DEVICE_PLUGIN_CHART = "nvidia-device-plugin"
EVERY_OBJECT = "every rendered object"


@dataclass(frozen=True)
class Unconverted:
    """A kubernetes_* resource of the platform stack the render gate could not turn into an object."""

    address: str  # its plan address
    problems: tuple[str, ...]


class Cluster:
    """One environment's rendered cluster as the rendered rules see it: the scope of ``RENDERED`` rules."""

    reads: Reads = RENDERED

    def __init__(self, result: RenderResult) -> None:
        self.result = result
        self._workloads: dict[int, Workload | None] = {}

    @property
    def name(self) -> str:
        return self.result.platform_stack

    def subjects(self, *types: str) -> Sequence[Any]:
        """The releases (``helm_release``), the objects of the kinds among ``types`` (every object and every
        unconverted resource for ``EVERY_OBJECT``) and the foundation's resources of the other types."""
        found: list[Any] = []
        if HELM_RELEASE in types:
            found += self.result.releases
        if EVERY_OBJECT in types:
            unconverted: dict[str, list[str]] = {}
            for source, problem in self.result.conversion_problems:
                unconverted.setdefault(source, []).append(problem)
            found += [Unconverted(source, tuple(problems)) for source, problems in unconverted.items()]
        found += [item for item in self.result.objects if EVERY_OBJECT in types or item.kind in types]
        found += [resource for resource in plan.resources(self.result.foundation)
                  if resource.type in types and resource.type != HELM_RELEASE]
        return found

    def workload(self, item: RenderedObject) -> Workload | None:
        """The pods a controller (or an operator's custom resource) runs; None for a hook or another kind."""
        if id(item) not in self._workloads:
            self._workloads[id(item)] = self._build(item)
        return self._workloads[id(item)]

    def _build(self, item: RenderedObject) -> Workload | None:
        if item.kind not in (*CONTROLLERS, *OPERATED, "DaemonSet") or item.hook:
            return None
        spec = _spec(item)
        replicas = spec.get("replicas", 1)
        operated = item.kind in OPERATED
        containers: tuple[Container, ...]
        if operated:
            labels, pod = _operated_labels(item), spec
            containers = (Container("", False, False, (pod.get("resources") or {}).get("requests") or {}),)
        else:
            template = spec.get("template") or {}
            raw = (template.get("metadata") or {}).get("labels") or {}
            labels, pod = {str(k): str(v) for k, v in raw.items()}, template.get("spec") or {}
            containers = tuple(
                Container(str(c.get("name")), bool(c.get("livenessProbe")), bool(c.get("readinessProbe")),
                          (c.get("resources") or {}).get("requests") or {})
                for c in pod.get("containers") or [] if isinstance(c, Mapping))
        return Workload(
            name=_origin(item),
            replicas=replicas if isinstance(replicas, int) else 1,
            autoscaling_min=self._autoscaler_floor(item),
            budgets=tuple(_budget(pdb) for pdb in self.result.by_kind("PodDisruptionBudget")
                          if pdb.namespace == item.namespace and selects(_spec(pdb).get("selector"), labels)),
            zone_spread=spreads_over_zones(pod.get("topologySpreadConstraints"), pod.get("affinity"), labels),
            containers=containers,
            serves_traffic=any(service.namespace == item.namespace
                               and selects({"matchLabels": _spec(service).get("selector") or {}}, labels)
                               for service in self.result.by_kind("Service")),
            operated=operated,
            pod_labels=labels,
        )

    def _autoscaler_floor(self, item: RenderedObject) -> int | None:
        for hpa in self.result.by_kind("HorizontalPodAutoscaler"):
            target = _spec(hpa).get("scaleTargetRef") or {}
            if hpa.namespace == item.namespace and target.get("kind") == item.kind and target.get("name") == item.name:
                return int(_spec(hpa).get("minReplicas", 1))
        return None


def evaluate_rendered(result: RenderResult, env: Environment) -> list[Finding]:
    """Every rendered rule's findings for one environment, before suppressions."""
    return findings_of(env, check_scope(Cluster(result), env, list(REGISTRY.values())))


def _spec(item: RenderedObject) -> Mapping[str, Any]:
    spec = item.manifest.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _budget(pdb: RenderedObject) -> Budget:
    spec = _spec(pdb)
    if "maxUnavailable" in spec:
        return Budget(max_unavailable=spec["maxUnavailable"], address=pdb.address)
    return Budget(min_available=spec.get("minAvailable", 1), address=pdb.address)


def _operated_labels(item: RenderedObject) -> dict[str, str]:
    """The labels prometheus-operator puts on the pods of a Prometheus or Alertmanager (plus podMetadata's)."""
    app = item.kind.lower()
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": item.name,
              "app.kubernetes.io/managed-by": "prometheus-operator", app: item.name}
    if item.kind == "Prometheus":
        labels |= {"operator.prometheus.io/name": item.name, "operator.prometheus.io/shard": "0"}
    extra = (_spec(item).get("podMetadata") or {}).get("labels") or {}
    return {**{str(k): str(v) for k, v in extra.items()}, **labels}


def _origin(item: RenderedObject) -> str:
    """Where an object comes from: its release, or the plan address of its kubernetes_* resource."""
    return f"release {item.release}" if item.release else item.source


# --- the rules ----------------------------------------------------------------------------------------

@rule(
    id="HA-RND-001",
    level=ERROR,
    title="Every Helm release renders with its pinned chart and the values as synthesized",
    rationale="A template that fails, or values the chart's values.schema.json refuses, fails `helm install`; "
    "with `atomic` the release rolls back and everything that depends on it is never installed.",
    fix="Fix the values the error names (haflow/constructs/<concern>.py), then re-run `haflow check`.",
    subjects=("helm_release",),
    reads=RENDERED,
)
def release_renders(release: RenderedRelease, cluster: Cluster, env: Environment) -> Outcome:
    if release.error:
        return [f"{release.chart} {release.version} does not render: {release.error}"]
    return []


@rule(
    id="HA-RND-002",
    level=ERROR,
    title="Every object is valid for the cluster's Kubernetes version (schemas, and CRDs the charts ship)",
    rationale="The API server refuses an object that breaks its schema or uses an API the version does not serve, "
    "and silently drops fields it does not know: the release fails, or a setting does nothing.",
    fix="Change the value that produces the field (the message gives its path in the object), or pin a chart "
    "version that supports the cluster's Kubernetes version.",
    subjects=("every rendered object",),
    reads=RENDERED,
)
def valid_objects(subject: RenderedObject | Unconverted, cluster: Cluster, env: Environment) -> Outcome:
    if isinstance(subject, Unconverted):
        return list(subject.problems)
    return [f"{_origin(subject)}: {problem}" for problem in cluster.result.schemas.problems(subject.manifest)]


@rule(
    id="HA-RND-003",
    level=ERROR,
    title="IntOrString values take the form the API server accepts",
    rationale="JSON schema types IntOrString as 'integer or string', but the API server accepts a string "
    "maxSurge, maxUnavailable or minAvailable only as a percentage ('25%') and a string port only as a port "
    "name: \"0\" passes every schema and is rejected at apply.",
    fix="Write counts as integers (maxUnavailable: 0), or as a percentage string ('25%').",
    subjects=("Deployment", "StatefulSet", "DaemonSet", "PodDisruptionBudget", "Service"),
    reads=RENDERED,
)
def api_server_rules(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    return [f"{_origin(item)}: {problem}" for problem in cluster.result.schemas.api_server_rules(item.manifest)]


@rule(
    id="HA-RND-004",
    level=ERROR,
    title="Every value set on a release is read by its chart",
    rationale="A key the chart never reads is a silent no-op: the plan claims a setting (replicas, a budget, a "
    "probe) the cluster never gets. A key absent from the chart's default values (and its subcharts') is "
    "rendered with and without; identical output means the chart ignores it.",
    fix="Use the key the chart reads (its values.yaml at the pinned version), or remove the value.",
    subjects=("helm_release",),
    reads=RENDERED,
)
def values_read(release: RenderedRelease, cluster: Cluster, env: Environment) -> Outcome:
    problems = [f"{release.chart} {release.version} never reads {key!r}: rendering without it gives identical "
                f"manifests" for key in release.unread_keys]
    if release.unread_check:
        problems.append(f"cannot verify which values {release.chart} reads: {release.unread_check}")
    return problems


@rule(
    id="HA-RND-005",
    level=ERROR,
    title="A workload of more than one pod has a PodDisruptionBudget that selects it and lets a drain proceed",
    rationale="Without a budget a node drain or a node-group upgrade may evict every pod at once; a budget that "
    "allows no eviction blocks the drain forever.",
    fix="Enable the chart's PodDisruptionBudget (or add one) selecting the pod labels, with maxUnavailable: 1.",
    subjects=CONTROLLERS + OPERATED,
    reads=RENDERED,
)
def disruption_budget(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    workload = cluster.workload(item)
    if workload is None or workload.pods < 2:
        return NOT_APPLICABLE
    if not workload.budgets:
        return [f"{workload.name}: {workload.pods} pods and no PodDisruptionBudget selects them"]
    problems = []
    for budget in workload.budgets:
        allowed = budget.evictable(workload.pods)
        if allowed is None:
            problems.append(f"{budget.address}: the budget is neither a count nor a percentage")
        elif not 1 <= allowed < workload.pods:
            problems.append(f"{budget.address} lets a drain evict {allowed} of {workload.pods} pods; it must allow "
                            f"at least 1 and keep at least 1")
    return problems


@rule(
    id="HA-RND-006",
    level=ERROR,
    title="A workload of more than one pod spreads over availability zones",
    rationale="Pods the scheduler may place in one zone all go down with it; a zone topology spread constraint or "
    "zone pod anti-affinity whose selector matches the pods keeps them apart.",
    fix="Set topologySpreadConstraints (topology.kubernetes.io/zone) or zone podAntiAffinity selecting the pods.",
    subjects=CONTROLLERS + OPERATED,
    reads=RENDERED,
)
def zone_spread(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    workload = cluster.workload(item)
    if workload is None or workload.pods < 2:
        return NOT_APPLICABLE
    if workload.zone_spread:
        return []
    return [f"{workload.name}: {workload.pods} pods with no zone spread or zone anti-affinity matching their labels"]


@rule(
    id="HA-RND-007",
    level=ERROR,
    title="Containers of a workload of more than one pod have liveness and (when a Service selects them) "
    "readiness probes",
    rationale="Without liveness a hung process keeps its pod; without readiness a Service sends traffic to pods "
    "that cannot answer, and a rolling update counts a broken pod as available.",
    fix="Enable the chart's probes for that component.",
    subjects=CONTROLLERS + OPERATED,
    reads=RENDERED,
)
def probes(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    workload = cluster.workload(item)
    if workload is None or workload.pods < 2 or workload.operated:  # the operator defines its pods' probes
        return NOT_APPLICABLE
    problems = []
    for container in workload.containers:
        missing = [probe for probe, present in (("livenessProbe", container.liveness),
                                                ("readinessProbe", container.readiness))
                   if not present and (probe == "livenessProbe" or workload.serves_traffic)]
        if missing:
            problems.append(f"{workload.name}: container {container.name!r} has no {' and no '.join(missing)}")
    return problems


@rule(
    id="HA-RND-008",
    level=WARNING,
    title="Containers request CPU and memory",
    rationale="Without requests the scheduler may pack pods onto a node that cannot run them and the kubelet "
    "evicts them first under pressure (BestEffort): replicas or a node's DaemonSet pod vanish under load.",
    fix="Set resources.requests.cpu and .memory for the component in the release's values.",
    subjects=(*CONTROLLERS, *OPERATED, "DaemonSet"),
    reads=RENDERED,
)
def requests(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    workload = cluster.workload(item)
    if workload is None:
        return NOT_APPLICABLE
    problems = []
    for container in workload.containers:
        missing = [name for name in ("cpu", "memory") if name not in container.requests]
        if missing and workload.operated:
            problems.append(f"{workload.name}: spec.resources.requests lacks {', '.join(missing)}")
        elif missing:
            problems.append(f"{workload.name}: container {container.name!r} requests no {' and no '.join(missing)}")
    return problems


@rule(
    id="HA-RND-009",
    level=ERROR,
    title="No controller the platform installs is left at one pod",
    rationale="One pod is an outage on every node drain, node failure or zone outage. A component that is safe "
    "at one pod (a leader-elected singleton whose absence is tolerable for minutes) says so in a suppression.",
    fix="Raise the component's replicas to 2 or more (with a PDB and zone spread), or suppress this rule for "
    "its address with the reason one pod is acceptable.",
    subjects=CONTROLLERS + OPERATED,
    reads=RENDERED,
)
def single_pod(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    workload = cluster.workload(item)
    if workload is None:
        return NOT_APPLICABLE
    return [f"{workload.name}: runs 1 pod"] if workload.pods == 1 else []


@rule(
    id="HA-RND-010",
    level=ERROR,
    title="The GPU device plugin can run on every GPU node group",
    rationale="Until the NVIDIA device plugin runs on a GPU node, the node advertises no nvidia.com/gpu and no "
    "GPU pod schedules. Helm merges maps, so `affinity: {}` keeps the chart's default required node affinity; "
    "the node group's labels and taints must satisfy what the DaemonSet's pods actually require.",
    fix="Give the device plugin a nodeSelector / node affinity the GPU node group's labels satisfy (set the "
    "chart's affinity to null to drop its default) and tolerate the group's taints.",
    subjects=("DaemonSet", "aws_eks_node_group"),
    reads=RENDERED,
)
def device_plugin_lands(subject: RenderedObject | plan.Resource, cluster: Cluster, env: Environment) -> Outcome:
    groups = [group for group in plan.resources(cluster.result.foundation, "aws_eks_node_group")
              if is_gpu_node_group(group)]
    plugins = [item for item in cluster.result.by_kind("DaemonSet") if item.chart == DEVICE_PLUGIN_CHART]
    if not groups:
        return NOT_APPLICABLE
    if isinstance(subject, plan.Resource):  # a node group: reported here when no plugin exists at all
        if plugins or subject.address != groups[0].address:
            return NOT_APPLICABLE
        names = ", ".join(group.address for group in groups)
        return [f"GPU node groups ({names}) but no {DEVICE_PLUGIN_CHART} DaemonSet"]
    if subject.chart != DEVICE_PLUGIN_CHART or _is_optional_plugin(subject):
        return NOT_APPLICABLE
    pod = ((_spec(subject).get("template") or {}).get("spec")) or {}
    return [f"{_origin(subject)} cannot run on {group.address}: {reason}"
            for group in groups for reason in cannot_schedule(pod, node_labels(group), node_taints(group))]


def _is_optional_plugin(plugin: RenderedObject) -> bool:
    """The chart's MPS control daemon runs only on nodes labelled for MPS sharing, by design."""
    return "mps-control-daemon" in plugin.name


@rule(
    id="HA-RND-011",
    level=ERROR,
    title="Every ServiceAccount annotated with an IAM role is one that role's trust policy names",
    rationale="IRSA lets a pod assume a role only when the role trusts system:serviceaccount:<namespace>:<name> "
    "of that exact ServiceAccount; a chart that names the account differently leaves the pods with no AWS "
    "credentials (AccessDenied at run time, after a clean deploy).",
    fix="Make the release's serviceAccount name/namespace and the IRSA role's subject (haflow/constructs/irsa.py "
    "callers) the same.",
    subjects=("ServiceAccount", "aws_iam_role"),
    reads=RENDERED,
)
def irsa_trust(subject: RenderedObject | plan.Resource, cluster: Cluster, env: Environment) -> Outcome:
    if isinstance(subject, plan.Resource):  # a role is judged through the ServiceAccounts that name it
        return NOT_APPLICABLE
    annotations = (subject.manifest.get("metadata") or {}).get("annotations") or {}
    arn = annotations.get(contract.IRSA_ANNOTATION)
    if not arn:
        return NOT_APPLICABLE
    subject_name = f"system:serviceaccount:{subject.namespace}:{subject.name}"
    role = cluster.result.foundation_resource(arn)
    if role is None or role.type != "aws_iam_role":
        return [f"{_origin(subject)}: {contract.IRSA_ANNOTATION} {arn!r} is not a role of the foundation stack"]
    trusted = trusted_subjects(role)
    if not any(_subject_matches(pattern, subject_name) for pattern in trusted):
        names = ", ".join(trusted) or "no service account"
        return [f"{_origin(subject)}: {role.address} trusts {names}, not {subject_name}"]
    return []


def trusted_subjects(role: plan.Resource) -> list[str]:
    """The ``:sub`` values of a role's web-identity trust statements (StringEquals / StringLike)."""
    try:
        policy = json.loads(str(role.body.get("assume_role_policy", "")))
    except ValueError:
        return []
    found: list[str] = []
    for statement in plan.as_list(policy.get("Statement")):
        if "sts:AssumeRoleWithWebIdentity" not in plan.as_list(statement.get("Action")):
            continue
        for operator, conditions in (statement.get("Condition") or {}).items():
            if operator not in ("StringEquals", "StringLike"):
                continue
            for key, values in conditions.items():
                if str(key).endswith(":sub"):
                    found.extend(str(value) for value in plan.as_list(values))
    return found


def _subject_matches(pattern: str, subject: str) -> bool:
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), subject) is not None


@rule(
    id="HA-RND-012",
    level=ERROR,
    title="The cluster autoscaler's minor version equals the cluster's Kubernetes minor",
    rationale="Cluster Autoscaler is released per Kubernetes minor and supports only that minor: a newer one lists "
    "APIs the cluster does not serve (CA 1.35 lists resource.k8s.io/v1 objects 1.33 lacks, kubernetes/autoscaler"
    "#9244) and stops scaling.",
    fix="Pin the cluster-autoscaler chart version whose appVersion matches the cluster's minor, or set its "
    "image.tag to v<cluster minor>.x.",
    subjects=("Deployment",),
    reads=RENDERED,
)
def autoscaler_skew(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    cluster_minor = ".".join(cluster.result.kube_version.lstrip("v").split(".")[:2])
    pod = ((_spec(item).get("template") or {}).get("spec")) or {}
    # A digest (repository:tag@sha256:...) says nothing of the version: the tag does.
    images = [str(container.get("image", "")).split("@", 1)[0] for container in pod.get("containers") or []]
    images = [image for image in images if "cluster-autoscaler" in image.rsplit("/", 1)[-1]]
    if not images:
        return NOT_APPLICABLE
    problems = []
    for image in images:
        tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
        match = re.match(r"v?(\d+)\.(\d+)", tag)
        if not match:
            problems.append(f"{_origin(item)}: cannot read a version from image {image!r}")
        elif f"{match.group(1)}.{match.group(2)}" != cluster_minor:
            problems.append(f"{_origin(item)}: image {image} is Cluster Autoscaler {match.group(1)}.{match.group(2)}, "
                            f"the cluster runs Kubernetes {cluster_minor}")
    return problems


POD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")


def pod_template_spec(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod spec of a Pod, of a controller's template, or of a CronJob's job template."""
    if manifest.get("kind") == "Pod":
        spec = manifest.get("spec")
        return spec if isinstance(spec, Mapping) else {}
    spec = manifest.get("spec") or {}
    if manifest.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    pod = (spec.get("template") or {}).get("spec")
    return pod if isinstance(pod, Mapping) else {}


# prometheus-operator's resources: the operator builds their pods from spec.image (and the containers listed in the
# resource, merged into its own), and injects the config reloader its --prometheus-config-reloader argument names.
OPERATOR_IMAGE_KINDS = ("Prometheus", "Alertmanager")
CONFIG_RELOADER_ARGUMENT = "--prometheus-config-reloader="


def running_images(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every image a rendered object makes the cluster run, each with what runs it: the containers of a pod
    template, a Prometheus or Alertmanager resource's spec.image and containers, and the config reloader an
    operator's --prometheus-config-reloader argument injects into those pods."""
    found: list[tuple[str, str]] = []
    pod = pod_template_spec(manifest)
    if manifest.get("kind") in OPERATOR_IMAGE_KINDS:
        spec = manifest.get("spec")
        pod = spec if isinstance(spec, Mapping) else {}
        if pod.get("image"):
            found.append(("spec.image", str(pod["image"])))
    for group in ("initContainers", "containers", "ephemeralContainers"):
        for container in pod.get(group) or []:
            if not isinstance(container, Mapping):
                continue
            name = f"{group[:-1]} {container.get('name')!r}"
            if container.get("image") or manifest.get("kind") not in OPERATOR_IMAGE_KINDS:
                # A container of an operator's resource without an image patches one of the operator's own.
                found.append((name, str(container.get("image") or "")))
            for argument in container.get("args") or []:
                if isinstance(argument, str) and argument.startswith(CONFIG_RELOADER_ARGUMENT):
                    found.append((f"the config reloader {name} injects ({CONFIG_RELOADER_ARGUMENT[:-1]})",
                                  argument.removeprefix(CONFIG_RELOADER_ARGUMENT)))
    return found


@rule(
    id="HA-RND-013",
    level=ERROR,
    title="No container has two env entries of the same name",
    rationale="env is a list merged by the key `name` (patchMergeKey): the API server keeps duplicates, but a "
    "client-side strategic merge patch (kubectl apply, the next change of that env) fails on duplicate merge "
    "keys, and which value a process sees depends on list order. A chart that sets a variable itself and a value "
    "that sets it again produce exactly this.",
    fix="Set the variable in one place: drop it from the release's values when the chart already sets it (the "
    "message names the container and the variable), or turn the chart's own setting off.",
    subjects=POD_KINDS,
    reads=RENDERED,
)
def unique_env_names(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    pod = pod_template_spec(item.manifest)
    problems = []
    for group in ("initContainers", "containers", "ephemeralContainers"):
        for container in pod.get(group) or []:
            if not isinstance(container, Mapping):
                continue
            names = [str(entry.get("name")) for entry in container.get("env") or [] if isinstance(entry, Mapping)]
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                problems.append(f"{_origin(item)}: {group[:-1]} {container.get('name')!r} sets "
                                f"{', '.join(f'{name} ({names.count(name)}x)' for name in repeated)}")
    return problems


# Namespaces every cluster has before anything is installed.
BUILT_IN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
NAMESPACE_RESOURCE = "kubernetes_namespace_v1"


def upstream(stack: Mapping[str, Any], address: str) -> set[str]:
    """Every resource Terraform must have applied before ``address``: its depends_on and references, transitively."""
    bodies = {resource.address: resource.body for resource in plan.resources(stack)}
    seen: set[str] = set()
    pending = [address]
    while pending:
        body = bodies.get(pending.pop()) or {}
        direct = {str(dep) for dep in plan.as_list(body.get("depends_on"))}
        direct |= {ref.address for text in plan.strings({k: v for k, v in body.items() if k != "depends_on"})
                   for ref in plan.references(text)}
        for dep in direct - seen:
            if dep in bodies:
                seen.add(dep)
                pending.append(dep)
    return seen


def namespaces_created_by(stack: Mapping[str, Any], address: str) -> set[str]:
    """The namespaces a resource creates: a kubernetes_namespace_v1's name, a helm_release's own namespace when it
    creates it (create_namespace; the helm provider's default is false)."""
    resource = plan.find(stack, *address.split(".", 1))
    if resource is None:
        return set()
    if resource.type == NAMESPACE_RESOURCE:
        return {str(plan.block(resource.body.get("metadata")).get("name"))}
    if resource.type == HELM_RELEASE and resource.body.get("create_namespace") is True:
        return {str(resource.body.get("namespace") or "default")}
    return set()


@rule(
    id="HA-RND-014",
    level=ERROR,
    title="Every namespace a release writes into exists before Terraform installs it",
    rationale="Helm creates at most its release's own namespace (create_namespace). An object a chart or the "
    "manifests chart puts in another namespace fails the install (`namespaces \"monitoring\" not found`, then "
    "the atomic rollback) unless that namespace was created first, and Terraform orders only what depends_on or a "
    "reference links: a namespace another release creates may come minutes later, so a first deploy fails or not "
    "depending on timing.",
    fix="Create the namespace as a kubernetes_namespace_v1 of the platform stack (haflow.stacks.platform's "
    "namespaces) and have the release depend on it, or depend on the release that creates it.",
    subjects=(HELM_RELEASE,),
    reads=RENDERED,
)
def namespaces_exist_first(release: RenderedRelease, cluster: Cluster, env: Environment) -> Outcome:
    stack = cluster.result.platform
    available = set(BUILT_IN_NAMESPACES) | namespaces_created_by(stack, release.source)
    for dependency in upstream(stack, release.source):
        available |= namespaces_created_by(stack, dependency)
    written: dict[str, list[str]] = {}
    for item in cluster.result.objects:
        if item.source == release.source and item.namespace:
            written.setdefault(item.namespace, []).append(f"{item.kind}/{item.name}")
    return [f"writes {', '.join(sorted(objects)[:3])}{' ...' if len(objects) > 3 else ''} into namespace "
            f"{namespace!r}, which nothing it depends on creates"
            for namespace, objects in sorted(written.items()) if namespace not in available]


RENDERED_RULE_IDS: frozenset[str] = frozenset(
    meta.id for meta in REGISTRY.values() if meta.reads == RENDERED)
