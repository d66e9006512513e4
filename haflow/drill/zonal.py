"""Node and AZ drills: start the environment's AWS FIS experiment, follow it, verify recovery, time it.

The experiment templates are the foundation stack's (haflow.constructs.fault_injection), found by their
Name tag (haflow.contract.fis_template_name). A drill checks the platform is healthy first (it refuses to
hurt a platform that is already down), starts the experiment, follows its state until it ends, then polls
until the platform has recovered:

- nodes back: every node group of the cluster ACTIVE without health issues, and each of its Auto Scaling
  groups with at least the desired number of InService instances;
- the writer serving: the Aurora cluster available with a writer instance;
- pods Ready: with ``kube_context``, every pod not Succeeded is Ready (``kubectl get pods -A``, the
  Kubernetes API as the operator's kubeconfig reaches it); without it, not checked, and the result says so.

The time from the start to recovery includes the outage FIS injects (the AZ drill's
``startInstancesAfterDuration``): it is what users of the platform live through, and it is compared with
``slo.rto_seconds``. A stop condition that ends the experiment early ("stopped") is a failed drill: an
alarm said the platform fared worse than the drill intends.

moto_server runs FIS experiments through their states (pending, initiating, running, completed) and
performs no action: against it, the drill proves the calls, the following and the checks, not recovery.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from haflow.drill.clients import AwsClients, error_code
from haflow.drill.failover import DrillRefused

POLL_SECONDS = 5.0
FINISHED = ("completed", "stopped", "failed")
KUBECTL_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    description: str
    actions: list[str]
    stop_alarms: list[str]


@dataclass(frozen=True)
class Health:
    """What is not recovered yet (empty: recovered), and whether pods were looked at."""

    problems: list[str]
    pods_checked: bool

    @property
    def healthy(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Targets:
    """What a drill checks after the experiment: the EKS cluster and the Aurora cluster."""

    cluster_name: str
    database_cluster: str
    kube_context: str | None = None


@dataclass
class DrillResult:
    drill: str
    template: str
    experiment_id: str
    experiment_status: str
    experiment_reason: str
    states: list[str]
    seconds: float
    rto_seconds: int
    recovered: bool
    pods_checked: bool
    unrecovered: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.experiment_status == "completed" and self.recovered and self.seconds <= self.rto_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "template": self.template, "experiment_id": self.experiment_id,
            "experiment_status": self.experiment_status, "experiment_reason": self.experiment_reason,
            "states": self.states, "seconds": round(self.seconds, 3), "rto_seconds": self.rto_seconds,
            "recovered": self.recovered, "pods_checked": self.pods_checked, "unrecovered": self.unrecovered,
            "met": self.met,
        }


def find_template(aws: AwsClients, name: str) -> Template:
    """The experiment template whose Name tag is ``name`` (DrillRefused when none or several)."""
    fis = aws("fis")
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = fis.list_experiment_templates(**({"nextToken": token} if token else {}))
        found += [t for t in page.get("experimentTemplates", []) if (t.get("tags") or {}).get("Name") == name]
        token = page.get("nextToken")
        if not token:
            break
    if len(found) != 1:
        raise DrillRefused(
            f"{len(found)} FIS experiment templates named {name!r} in {aws.where}; expected one "
            "(deploy the foundation stack, which creates it)"
        )
    template = fis.get_experiment_template(id=found[0]["id"])["experimentTemplate"]
    return Template(
        id=template["id"], name=name, description=template.get("description", ""),
        actions=sorted(str(a.get("actionId")) for a in (template.get("actions") or {}).values()),
        stop_alarms=[str(c.get("value")) for c in template.get("stopConditions") or [] if c.get("value")],
    )


def pods_not_ready(pods: dict[str, Any]) -> list[str]:
    """``namespace/name`` of every pod of a ``kubectl get pods -o json`` list that is neither Succeeded nor Ready."""
    problems = []
    for pod in pods.get("items") or []:
        status = pod.get("status") or {}
        if status.get("phase") == "Succeeded":
            continue
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        if not ready:
            meta = pod.get("metadata") or {}
            problems.append(f"pod {meta.get('namespace')}/{meta.get('name')} is not Ready ({status.get('phase')})")
    return problems


def _pods(kube_context: str) -> list[str]:
    try:
        completed = subprocess.run(
            ["kubectl", "--context", kube_context, "get", "pods", "--all-namespaces", "-o", "json"],
            capture_output=True, text=True, timeout=KUBECTL_TIMEOUT_SECONDS, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return [f"kubectl --context {kube_context} failed: {err}"]
    if completed.returncode != 0:
        return [f"kubectl --context {kube_context}: {completed.stderr.strip()[:300]}"]
    return pods_not_ready(json.loads(completed.stdout))


def health(aws: AwsClients, targets: Targets) -> Health:
    problems: list[str] = []
    eks = aws("eks")
    groups = eks.list_nodegroups(clusterName=targets.cluster_name).get("nodegroups", [])
    if not groups:
        problems.append(f"EKS cluster {targets.cluster_name} has no node group")
    for name in groups:
        group = eks.describe_nodegroup(clusterName=targets.cluster_name, nodegroupName=name)["nodegroup"]
        if group.get("status") != "ACTIVE":
            problems.append(f"node group {name} is {group.get('status')}")
        issues = (group.get("health") or {}).get("issues") or []
        problems += [f"node group {name}: {issue.get('code')} {issue.get('message', '')}".strip() for issue in issues]
        desired = int((group.get("scalingConfig") or {}).get("desiredSize", 0))
        asg_names = [a["name"] for a in (group.get("resources") or {}).get("autoScalingGroups") or []]
        in_service = 0
        if asg_names:
            for asg in aws("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=asg_names)[
                    "AutoScalingGroups"]:
                in_service += sum(1 for i in asg.get("Instances", [])
                                  if i.get("LifecycleState") == "InService" and i.get("HealthStatus") == "Healthy")
        if in_service < desired:
            problems.append(f"node group {name}: {in_service} of {desired} nodes in service")
    try:
        cluster = aws("rds").describe_db_clusters(DBClusterIdentifier=targets.database_cluster)["DBClusters"][0]
    except ClientError as err:
        if error_code(err) != "DBClusterNotFoundFault":
            raise
        problems.append(f"Aurora cluster {targets.database_cluster} not found")
    else:
        writer = next((m["DBInstanceIdentifier"] for m in cluster.get("DBClusterMembers", []) if m["IsClusterWriter"]),
                      None)
        if cluster.get("Status") != "available" or writer is None:
            problems.append(f"Aurora cluster {targets.database_cluster} is {cluster.get('Status')!r} "
                            f"with writer {writer or 'none'}")
    if targets.kube_context:
        problems += _pods(targets.kube_context)
    return Health(problems, pods_checked=targets.kube_context is not None)


def run_drill(
    aws: AwsClients, drill: str, template: Template, targets: Targets, *, rto_seconds: int, timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float | None = None,
) -> DrillResult:
    """Refuse an unhealthy platform, start the experiment, follow it to its end, then wait for recovery."""
    poll_seconds = POLL_SECONDS if poll_seconds is None else poll_seconds
    before = health(aws, targets)
    if not before.healthy:
        raise DrillRefused("the platform is not healthy before the drill, nothing was started: "
                           + "; ".join(before.problems))
    fis = aws("fis")
    started = clock()
    experiment = fis.start_experiment(experimentTemplateId=template.id, tags={"haflow/drill": drill})["experiment"]
    experiment_id = experiment["id"]
    states = [experiment["state"]["status"]]
    state = experiment["state"]
    while state["status"] not in FINISHED and clock() - started < timeout_seconds:
        sleep(poll_seconds)
        state = fis.get_experiment(id=experiment_id)["experiment"]["state"]
        if state["status"] != states[-1]:
            states.append(state["status"])
    now = health(aws, targets)
    while not now.healthy and clock() - started < timeout_seconds:
        sleep(poll_seconds)
        now = health(aws, targets)
    return DrillResult(
        drill=drill, template=template.name, experiment_id=experiment_id, experiment_status=state["status"],
        experiment_reason=str(state.get("reason", "")), states=states, seconds=clock() - started,
        rto_seconds=rto_seconds, recovered=now.healthy, pods_checked=now.pods_checked, unrecovered=now.problems,
    )
