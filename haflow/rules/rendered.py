"""Rules on the rendered cluster: the objects Helm's engine and the kubernetes provider would create.

The render gate (haflow/render) turns each environment's platform stack into Kubernetes objects; these
rules read those objects, not the values that produced them, so a chart default, a value the chart
ignores or a map Helm merged instead of replaced shows up as what it is in the cluster. Each rule
takes the ``RenderResult`` of one environment and returns (address, problem) pairs; addresses are
``Kind/namespace/name`` for objects and ``helm_release.<id>`` for releases, and suppressions name them
the same way.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from haflow import contract, plan
from haflow.contract import ZONE_TOPOLOGY_KEY
from haflow.rules.engine import ERROR, WARNING, Finding, Level, Rule, register_meta

if TYPE_CHECKING:
    from haflow.config.model import Environment
    from haflow.render.model import RenderedObject, RenderResult

Problem = tuple[str, str]  # (address, message)
RenderCheck = Callable[["RenderResult"], Iterable[Problem]]
RENDER_CHECKS: dict[str, RenderCheck] = {}
FAMILY = "rendered"

CONTROLLERS = ("Deployment", "StatefulSet")
OPERATED = ("Prometheus", "Alertmanager")  # custom resources prometheus-operator runs as StatefulSets
DEVICE_PLUGIN_CHART = "nvidia-device-plugin"


def rendered_rule(*, id: str, level: Level, title: str, rationale: str, fix: str,
                  subjects: tuple[str, ...]) -> Callable[[RenderCheck], RenderCheck]:
    """Register a rule over the rendered objects; its metadata goes to RULES.md like every rule's."""

    def register(check: RenderCheck) -> RenderCheck:
        register_meta(Rule(id, level, title, rationale, fix, FAMILY, subjects))
        RENDER_CHECKS[id] = check
        return check

    return register


def evaluate_rendered(result: RenderResult, env: Environment) -> list[Finding]:
    """Every rendered rule's findings for one environment, before suppressions."""
    from haflow.rules.engine import REGISTRY

    findings = []
    for rule_id, check in RENDER_CHECKS.items():
        meta = REGISTRY[rule_id]
        for address, message in check(result):
            findings.append(Finding(rule_id, meta.level, env.name, result.platform_stack, address, message, meta.fix))
    return findings


# --- workloads as the cluster runs them -------------------------------------------------------------

@dataclass(frozen=True)
class Workload:
    item: RenderedObject
    pods: int
    pod_labels: Mapping[str, str]
    pod_spec: Mapping[str, Any]
    operated: bool  # prometheus-operator builds the pods (and their probes) from a custom resource

    @property
    def containers(self) -> list[Mapping[str, Any]]:
        return [c for c in self.pod_spec.get("containers") or [] if isinstance(c, Mapping)]


def _spec(item: RenderedObject) -> Mapping[str, Any]:
    spec = item.manifest.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _autoscaler_floor(item: RenderedObject, result: RenderResult) -> int | None:
    for hpa in result.by_kind("HorizontalPodAutoscaler"):
        target = _spec(hpa).get("scaleTargetRef") or {}
        if hpa.namespace == item.namespace and target.get("kind") == item.kind and target.get("name") == item.name:
            return int(_spec(hpa).get("minReplicas", 1))
    return None


def _operated_labels(item: RenderedObject) -> dict[str, str]:
    """The labels prometheus-operator puts on the pods of a Prometheus or Alertmanager (plus podMetadata's)."""
    app = item.kind.lower()
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": item.name,
              "app.kubernetes.io/managed-by": "prometheus-operator", app: item.name}
    if item.kind == "Prometheus":
        labels |= {"operator.prometheus.io/name": item.name, "operator.prometheus.io/shard": "0"}
    extra = (_spec(item).get("podMetadata") or {}).get("labels") or {}
    return {**{str(k): str(v) for k, v in extra.items()}, **labels}


def workloads(result: RenderResult, kinds: tuple[str, ...] = CONTROLLERS + OPERATED) -> Iterator[Workload]:
    for item in result.objects:
        if item.kind not in kinds or item.hook:
            continue
        spec = _spec(item)
        replicas = spec.get("replicas", 1)
        replicas = replicas if isinstance(replicas, int) else 1
        floor = _autoscaler_floor(item, result)
        pods = floor if floor is not None else replicas
        if item.kind in OPERATED:
            yield Workload(item, pods, _operated_labels(item), spec, operated=True)
            continue
        template = spec.get("template") or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        yield Workload(item, pods, {str(k): str(v) for k, v in labels.items()}, template.get("spec") or {},
                       operated=False)


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against labels; an empty selector selects nothing here."""
    if not selector:
        return False
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return False
    if any(labels.get(key) != str(value) for key, value in match_labels.items()):
        return False
    return all(_expression_holds(expression, labels) for expression in expressions)


def _expression_holds(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = expression.get("key", ""), expression.get("operator", "")
    values = [str(value) for value in expression.get("values") or []]
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    if operator in ("Gt", "Lt"):  # node selector operators
        try:
            number, bound = int(labels.get(key, "")), int(values[0])
        except (ValueError, IndexError):
            return False
        return number > bound if operator == "Gt" else number < bound
    return False


def _budgets(workload: Workload, result: RenderResult) -> list[RenderedObject]:
    return [pdb for pdb in result.by_kind("PodDisruptionBudget")
            if pdb.namespace == workload.item.namespace and selects(_spec(pdb).get("selector"), workload.pod_labels)]


def _count(value: Any, pods: int) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]+%", value):
        return math.ceil(pods * int(value[:-1]) / 100)
    return None


def evictable(pdb: RenderedObject, pods: int) -> int | None:
    spec = _spec(pdb)
    if "maxUnavailable" in spec:
        count = _count(spec["maxUnavailable"], pods)
        return None if count is None else min(pods, count)
    count = _count(spec.get("minAvailable", 1), pods)
    return None if count is None else max(0, pods - count)


def _spreads_over_zones(workload: Workload) -> bool:
    spec = workload.pod_spec
    for constraint in spec.get("topologySpreadConstraints") or []:
        if constraint.get("topologyKey") == ZONE_TOPOLOGY_KEY and selects(constraint.get("labelSelector"),
                                                                 workload.pod_labels):
            return True
    anti = ((spec.get("affinity") or {}).get("podAntiAffinity")) or {}
    terms = list(anti.get("requiredDuringSchedulingIgnoredDuringExecution") or [])
    preferred = anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    terms += [term.get("podAffinityTerm") or {} for term in preferred]
    return any(term.get("topologyKey") == ZONE_TOPOLOGY_KEY and selects(term.get("labelSelector"), workload.pod_labels)
               for term in terms)


def _serves_traffic(workload: Workload, result: RenderResult) -> bool:
    return any(service.namespace == workload.item.namespace
               and selects({"matchLabels": _spec(service).get("selector") or {}}, workload.pod_labels)
               for service in result.by_kind("Service"))


# --- the rules ----------------------------------------------------------------------------------------

@rendered_rule(
    id="HA-RND-001",
    level=ERROR,
    title="Every Helm release renders with its pinned chart and the values as synthesized",
    rationale="A template that fails, or values the chart's values.schema.json refuses, fails `helm install`; "
    "with `atomic` the release rolls back and everything that depends on it is never installed.",
    fix="Fix the values the error names (haflow/constructs/<concern>.py), then re-run `haflow check`.",
    subjects=("helm_release",),
)
def release_renders(result: RenderResult) -> Iterator[Problem]:
    for release in result.releases:
        if release.error:
            yield release.source, f"{release.chart} {release.version} does not render: {release.error}"


@rendered_rule(
    id="HA-RND-002",
    level=ERROR,
    title="Every object is valid for the cluster's Kubernetes version (schemas, and CRDs the charts ship)",
    rationale="The API server refuses an object that breaks its schema or uses an API the version does not serve, "
    "and silently drops fields it does not know: the release fails, or a setting does nothing.",
    fix="Change the value that produces the field (the message gives its path in the object), or pin a chart "
    "version that supports the cluster's Kubernetes version.",
    subjects=("every rendered object",),
)
def valid_objects(result: RenderResult) -> Iterator[Problem]:
    for source, problem in result.conversion_problems:
        yield source, problem
    for item in result.objects:
        for problem in result.schemas.problems(item.manifest):
            yield item.address, f"{_origin(item)}: {problem}"


@rendered_rule(
    id="HA-RND-003",
    level=ERROR,
    title="IntOrString values take the form the API server accepts",
    rationale="JSON schema types IntOrString as 'integer or string', but the API server accepts a string "
    "maxSurge, maxUnavailable or minAvailable only as a percentage ('25%') and a string port only as a port "
    "name: \"0\" passes every schema and is rejected at apply.",
    fix="Write counts as integers (maxUnavailable: 0), or as a percentage string ('25%').",
    subjects=("Deployment", "StatefulSet", "DaemonSet", "PodDisruptionBudget", "Service"),
)
def api_server_rules(result: RenderResult) -> Iterator[Problem]:
    for item in result.objects:
        for problem in result.schemas.api_server_rules(item.manifest):
            yield item.address, f"{_origin(item)}: {problem}"


@rendered_rule(
    id="HA-RND-004",
    level=ERROR,
    title="Every value set on a release is read by its chart",
    rationale="A key the chart never reads is a silent no-op: the plan claims a setting (replicas, a budget, a "
    "probe) the cluster never gets. A key absent from the chart's default values (and its subcharts') is "
    "rendered with and without; identical output means the chart ignores it.",
    fix="Use the key the chart reads (its values.yaml at the pinned version), or remove the value.",
    subjects=("helm_release",),
)
def values_read(result: RenderResult) -> Iterator[Problem]:
    for release in result.releases:
        for key in release.unread_keys:
            yield release.source, (f"{release.chart} {release.version} never reads {key!r}: rendering without it "
                                   f"gives identical manifests")
        if release.unread_check:
            yield release.source, f"cannot verify which values {release.chart} reads: {release.unread_check}"


@rendered_rule(
    id="HA-RND-005",
    level=ERROR,
    title="A workload of more than one pod has a PodDisruptionBudget that selects it and lets a drain proceed",
    rationale="Without a budget a node drain or a node-group upgrade may evict every pod at once; a budget that "
    "allows no eviction blocks the drain forever.",
    fix="Enable the chart's PodDisruptionBudget (or add one) selecting the pod labels, with maxUnavailable: 1.",
    subjects=CONTROLLERS + OPERATED,
)
def disruption_budget(result: RenderResult) -> Iterator[Problem]:
    for workload in workloads(result):
        if workload.pods < 2:
            continue
        budgets = _budgets(workload, result)
        if not budgets:
            yield workload.item.address, (f"{_origin(workload.item)}: {workload.pods} pods and no "
                                          f"PodDisruptionBudget selects them")
            continue
        for pdb in budgets:
            allowed = evictable(pdb, workload.pods)
            if allowed is None:
                yield workload.item.address, f"{pdb.address}: the budget is neither a count nor a percentage"
            elif not 1 <= allowed < workload.pods:
                yield workload.item.address, (f"{pdb.address} lets a drain evict {allowed} of {workload.pods} pods; "
                                              f"it must allow at least 1 and keep at least 1")


@rendered_rule(
    id="HA-RND-006",
    level=ERROR,
    title="A workload of more than one pod spreads over availability zones",
    rationale="Pods the scheduler may place in one zone all go down with it; a zone topology spread constraint or "
    "zone pod anti-affinity whose selector matches the pods keeps them apart.",
    fix="Set topologySpreadConstraints (topology.kubernetes.io/zone) or zone podAntiAffinity selecting the pods.",
    subjects=CONTROLLERS + OPERATED,
)
def zone_spread(result: RenderResult) -> Iterator[Problem]:
    for workload in workloads(result):
        if workload.pods >= 2 and not _spreads_over_zones(workload):
            yield workload.item.address, (f"{_origin(workload.item)}: {workload.pods} pods with no zone spread or "
                                          f"zone anti-affinity matching their labels")


@rendered_rule(
    id="HA-RND-007",
    level=ERROR,
    title="Containers of a workload of more than one pod have liveness and (when a Service selects them) "
    "readiness probes",
    rationale="Without liveness a hung process keeps its pod; without readiness a Service sends traffic to pods "
    "that cannot answer, and a rolling update counts a broken pod as available.",
    fix="Enable the chart's probes for that component.",
    subjects=CONTROLLERS + OPERATED,
)
def probes(result: RenderResult) -> Iterator[Problem]:
    for workload in workloads(result):
        if workload.pods < 2 or workload.operated:  # the operator defines its pods' probes
            continue
        serves = _serves_traffic(workload, result)
        for container in workload.containers:
            missing = [probe for probe in ("livenessProbe", "readinessProbe")
                       if not container.get(probe) and (probe == "livenessProbe" or serves)]
            if missing:
                yield workload.item.address, (f"{_origin(workload.item)}: container {container.get('name')!r} has "
                                              f"no {' and no '.join(missing)}")


@rendered_rule(
    id="HA-RND-008",
    level=WARNING,
    title="Containers request CPU and memory",
    rationale="Without requests the scheduler may pack pods onto a node that cannot run them and the kubelet "
    "evicts them first under pressure (BestEffort): replicas or a node's DaemonSet pod vanish under load.",
    fix="Set resources.requests.cpu and .memory for the component in the release's values.",
    subjects=(*CONTROLLERS, *OPERATED, "DaemonSet"),
)
def requests(result: RenderResult) -> Iterator[Problem]:
    for workload in workloads(result, CONTROLLERS + OPERATED + ("DaemonSet",)):
        if workload.operated:
            wanted = (workload.pod_spec.get("resources") or {}).get("requests") or {}
            missing = [name for name in ("cpu", "memory") if name not in wanted]
            if missing:
                yield workload.item.address, (f"{_origin(workload.item)}: spec.resources.requests lacks "
                                              f"{', '.join(missing)}")
            continue
        for container in workload.containers:
            wanted = (container.get("resources") or {}).get("requests") or {}
            missing = [name for name in ("cpu", "memory") if name not in wanted]
            if missing:
                yield workload.item.address, (f"{_origin(workload.item)}: container {container.get('name')!r} "
                                              f"requests no {' and no '.join(missing)}")


@rendered_rule(
    id="HA-RND-009",
    level=ERROR,
    title="No controller the platform installs is left at one pod",
    rationale="One pod is an outage on every node drain, node failure or zone outage. A component that is safe "
    "at one pod (a leader-elected singleton whose absence is tolerable for minutes) says so in a suppression.",
    fix="Raise the component's replicas to 2 or more (with a PDB and zone spread), or suppress this rule for "
    "its address with the reason one pod is acceptable.",
    subjects=CONTROLLERS + OPERATED,
)
def single_pod(result: RenderResult) -> Iterator[Problem]:
    for workload in workloads(result):
        if workload.pods == 1:
            yield workload.item.address, f"{_origin(workload.item)}: runs 1 pod"


@rendered_rule(
    id="HA-RND-010",
    level=ERROR,
    title="The GPU device plugin can run on every GPU node group",
    rationale="Until the NVIDIA device plugin runs on a GPU node, the node advertises no nvidia.com/gpu and no "
    "GPU pod schedules. Helm merges maps, so `affinity: {}` keeps the chart's default required node affinity; "
    "the node group's labels and taints must satisfy what the DaemonSet's pods actually require.",
    fix="Give the device plugin a nodeSelector / node affinity the GPU node group's labels satisfy (set the "
    "chart's affinity to null to drop its default) and tolerate the group's taints.",
    subjects=("DaemonSet", "aws_eks_node_group"),
)
def device_plugin_lands(result: RenderResult) -> Iterator[Problem]:
    groups = list(_gpu_node_groups(result.foundation))
    if not groups:
        return
    plugins = [item for item in result.by_kind("DaemonSet") if item.chart == DEVICE_PLUGIN_CHART]
    if not plugins:
        names = ", ".join(group.address for group in groups)
        yield groups[0].address, f"GPU node groups ({names}) but no {DEVICE_PLUGIN_CHART} DaemonSet"
        return
    for plugin in plugins:
        if _is_optional_plugin(plugin):
            continue
        pod = ((_spec(plugin).get("template") or {}).get("spec")) or {}
        for group in groups:
            labels, taints = node_labels(group), _taints(group)
            for reason in _cannot_schedule(pod, labels, taints):
                yield plugin.address, f"{_origin(plugin)} cannot run on {group.address}: {reason}"


def _is_optional_plugin(plugin: RenderedObject) -> bool:
    """The chart's MPS control daemon runs only on nodes labelled for MPS sharing, by design."""
    return "mps-control-daemon" in plugin.name


def _gpu_node_groups(foundation: Mapping[str, Any]) -> Iterator[plan.Resource]:
    for group in plan.resources(foundation, "aws_eks_node_group"):
        ami = str(group.body.get("ami_type", ""))
        taints = [plan.block(taint).get("key") for taint in plan.as_list(group.body.get("taint"))]
        if "NVIDIA" in ami or "GPU" in ami or contract.GPU_TAINT_KEY in taints:
            yield group


def node_labels(group: plan.Resource) -> dict[str, str]:
    """The labels a node of an EKS managed node group carries at join time (no GPU feature discovery)."""
    body = group.body
    labels = {str(k): str(v) for k, v in (body.get("labels") or {}).items()}
    labels["kubernetes.io/os"] = "linux"
    labels["kubernetes.io/arch"] = "arm64" if "ARM" in str(body.get("ami_type", "")) else "amd64"
    labels["eks.amazonaws.com/capacityType"] = str(body.get("capacity_type") or "ON_DEMAND")
    if isinstance(body.get("node_group_name"), str) and not plan.is_expression(body["node_group_name"]):
        labels["eks.amazonaws.com/nodegroup"] = body["node_group_name"]
    instance_types = plan.as_list(body.get("instance_types"))
    if len(instance_types) == 1:
        labels["node.kubernetes.io/instance-type"] = str(instance_types[0])
    return labels


_TAINT_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


def _taints(group: plan.Resource) -> list[dict[str, str]]:
    return [{"key": str(t.get("key", "")), "value": str(t.get("value") or ""),
             "effect": _TAINT_EFFECTS.get(str(t.get("effect")), str(t.get("effect")))}
            for t in (plan.block(item) for item in plan.as_list(group.body.get("taint")))]


def _cannot_schedule(pod: Mapping[str, Any], labels: Mapping[str, str],
                     taints: list[dict[str, str]]) -> Iterator[str]:
    for key, value in (pod.get("nodeSelector") or {}).items():
        if labels.get(key) != str(value):
            yield f"nodeSelector {key}={value} but the nodes carry {key}={labels.get(key, '<absent>')}"
    required = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution") or {}
    terms = required.get("nodeSelectorTerms") or []
    if terms and not any(all(_expression_holds(e, labels) for e in term.get("matchExpressions") or [])
                         for term in terms):
        wanted = " or ".join(
            " and ".join(f"{e.get('key')} {e.get('operator')} {e.get('values', '')}".strip()
                         for e in term.get("matchExpressions") or []) for term in terms)
        yield f"its required node affinity ({wanted}) matches none of the node labels {json.dumps(dict(labels))}"
    tolerations = pod.get("tolerations") or []
    for taint in taints:
        if taint["effect"] in ("NoSchedule", "NoExecute") and not any(_tolerates(t, taint) for t in tolerations):
            yield f"it does not tolerate the taint {taint['key']}={taint['value']}:{taint['effect']}"


def _tolerates(toleration: Mapping[str, Any], taint: Mapping[str, str]) -> bool:
    if toleration.get("effect") and toleration.get("effect") != taint["effect"]:
        return False
    if toleration.get("operator") == "Exists":
        return not toleration.get("key") or toleration.get("key") == taint["key"]
    return bool(toleration.get("key") == taint["key"] and str(toleration.get("value", "")) == taint["value"])


@rendered_rule(
    id="HA-RND-011",
    level=ERROR,
    title="Every ServiceAccount annotated with an IAM role is one that role's trust policy names",
    rationale="IRSA lets a pod assume a role only when the role trusts system:serviceaccount:<namespace>:<name> "
    "of that exact ServiceAccount; a chart that names the account differently leaves the pods with no AWS "
    "credentials (AccessDenied at run time, after a clean deploy).",
    fix="Make the release's serviceAccount name/namespace and the IRSA role's subject (haflow/constructs/irsa.py "
    "callers) the same.",
    subjects=("ServiceAccount", "aws_iam_role"),
)
def irsa_trust(result: RenderResult) -> Iterator[Problem]:
    from haflow.render.placeholders import Placeholders

    resolver = Placeholders("", result.foundation.get("output") or {})
    for account in result.by_kind("ServiceAccount"):
        annotations = (account.manifest.get("metadata") or {}).get("annotations") or {}
        arn = annotations.get(contract.IRSA_ANNOTATION)
        if not arn:
            continue
        subject = f"system:serviceaccount:{account.namespace}:{account.name}"
        expression = result.placeholders.get(str(arn))
        target = resolver.target(expression) if expression else None
        role = plan.find(result.foundation, target.rtype, target.name) if target else None
        if role is None or role.type != "aws_iam_role":
            yield account.address, (f"{_origin(account)}: {contract.IRSA_ANNOTATION} {arn!r} is not a role of the "
                                    f"foundation stack")
            continue
        trusted = trusted_subjects(role)
        if not any(_subject_matches(pattern, subject) for pattern in trusted):
            names = ", ".join(trusted) or "no service account"
            yield account.address, f"{_origin(account)}: {role.address} trusts {names}, not {subject}"


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


@rendered_rule(
    id="HA-RND-012",
    level=ERROR,
    title="The cluster autoscaler's minor version equals the cluster's Kubernetes minor",
    rationale="Cluster Autoscaler is released per Kubernetes minor and supports only that minor: a newer one lists "
    "APIs the cluster does not serve (CA 1.35 lists resource.k8s.io/v1 objects 1.33 lacks, kubernetes/autoscaler"
    "#9244) and stops scaling.",
    fix="Pin the cluster-autoscaler chart version whose appVersion matches the cluster's minor, or set its "
    "image.tag to v<cluster minor>.x.",
    subjects=("Deployment",),
)
def autoscaler_skew(result: RenderResult) -> Iterator[Problem]:
    cluster_minor = ".".join(result.kube_version.lstrip("v").split(".")[:2])
    for item in result.by_kind("Deployment"):
        pod = ((_spec(item).get("template") or {}).get("spec")) or {}
        for container in pod.get("containers") or []:
            image = str(container.get("image", ""))
            if "cluster-autoscaler" not in image.rsplit("/", 1)[-1]:
                continue
            tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
            match = re.match(r"v?(\d+)\.(\d+)", tag)
            if not match:
                yield item.address, f"{_origin(item)}: cannot read a version from image {image!r}"
            elif f"{match.group(1)}.{match.group(2)}" != cluster_minor:
                yield item.address, (f"{_origin(item)}: image {image} is Cluster Autoscaler "
                                     f"{match.group(1)}.{match.group(2)}, the cluster runs Kubernetes {cluster_minor}")


def _origin(item: RenderedObject) -> str:
    """Where an object comes from: its release, or the plan address of its kubernetes_* resource."""
    return f"release {item.release}" if item.release else item.source
