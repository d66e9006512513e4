"""kube-prometheus-stack, cluster-autoscaler and External Secrets rendered with haflow's values: more than one
pod is guarded by a PodDisruptionBudget and spread over zones (Helm's engine, pinned charts)."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.config import Environment
from haflow.constructs import autoscaling, observability, secrets
from haflow.constructs.helm import CLUSTER_AUTOSCALER, EXTERNAL_SECRETS, KUBE_PROMETHEUS_STACK
from tests.constructs.rendering import Manifest, find, pod_spec, render

ZONE = "topology.kubernetes.io/zone"


def selects(pdb: Manifest, labels: dict[str, str]) -> bool:
    wanted = pdb["spec"]["selector"].get("matchLabels", {})
    return bool(wanted) and all(labels.get(key) == value for key, value in wanted.items())


def zone_spread(workload: Manifest) -> bool:
    spec, labels = pod_spec(workload), workload["spec"]["template"]["metadata"]["labels"]
    for constraint in spec.get("topologySpreadConstraints", []):
        match = constraint["labelSelector"].get("matchLabels", {})
        if constraint["topologyKey"] == ZONE and all(labels.get(k) == v for k, v in match.items()):
            return True
    anti = spec.get("affinity", {}).get("podAntiAffinity", {})
    terms = [t["podAffinityTerm"] for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution", [])]
    terms += anti.get("requiredDuringSchedulingIgnoredDuringExecution", [])
    return any(t["topologyKey"] == ZONE and all(labels.get(k) == v for k, v in
                                                 t["labelSelector"].get("matchLabels", {}).items()) for t in terms)


def guarded_and_spread(objects: list[Manifest], kind: str, name: str) -> list[str]:
    workload = find(objects, kind, name)
    labels = workload["spec"]["template"]["metadata"]["labels"]
    pdbs = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    problems = []
    if workload["spec"].get("replicas", 1) < 2:
        problems.append(f"{name}: {workload['spec'].get('replicas', 1)} replica")
    if not any(selects(pdb, labels) for pdb in pdbs):
        problems.append(f"{name}: no PodDisruptionBudget selects it")
    if not zone_spread(workload):
        problems.append(f"{name}: no zone spread")
    for container in pod_spec(workload)["containers"]:
        if not container.get("resources", {}).get("requests"):
            problems.append(f"{name}/{container['name']}: no requests")
    return problems


DELIVERY = observability.AlertDelivery(
    environment="prod", region="us-east-1", role_arn="arn:aws:iam::123456789012:role/alertmanager",
    topic_arn="arn:aws:sns:us-east-1:123456789012:prod-alerts",
    heartbeat_topic_arn="arn:aws:sns:us-east-1:123456789012:prod-alerts-heartbeat",
)


def monitoring(env: Environment) -> list[Manifest]:
    values = observability.kube_prometheus_stack_values(env.observability, env.prefect.flow_run_namespace, "gp3",
                                                        DELIVERY, env.slo.availability)
    return render(KUBE_PROMETHEUS_STACK, values, release="kube-prometheus-stack", namespace="monitoring")


def test_kube_state_metrics_is_replicated_guarded_and_spread(environments: dict[str, Environment]) -> None:
    objects = monitoring(environments["prod"])
    # Sharded (autosharding): a StatefulSet whose two pods each serve half the objects.
    assert guarded_and_spread(objects, "StatefulSet", "kube-prometheus-stack-kube-state-metrics") == []


@pytest.mark.parametrize(("kind", "name"), [("Prometheus", "kube-prometheus-stack-prometheus"),
                                            ("Alertmanager", "kube-prometheus-stack-alertmanager")])
def test_prometheus_and_alertmanager_have_disruption_budgets(
    environments: dict[str, Environment], kind: str, name: str
) -> None:
    objects = monitoring(environments["prod"])
    resource = find(objects, kind, name)
    assert resource["spec"]["replicas"] >= 2
    assert resource["spec"]["resources"]["requests"]
    # Labels prometheus-operator puts on the pods it creates for the resource.
    pod_labels = {"app.kubernetes.io/name": kind.lower(), kind.lower(): name, "app.kubernetes.io/instance": name,
                  "operator.prometheus.io/name": name}
    pdbs = [o for o in objects if o["kind"] == "PodDisruptionBudget" and selects(o, pod_labels)]
    assert len(pdbs) == 1
    assert pdbs[0]["spec"]["minAvailable"] == 1


def test_cluster_autoscaler_pods_are_spread_over_zones(environments: dict[str, Environment]) -> None:
    values = autoscaling.cluster_autoscaler_values("prod", "us-east-1", "arn:aws:iam::123456789012:role/ca")
    objects = render(CLUSTER_AUTOSCALER, values, release=autoscaling.RELEASE_NAME, namespace=autoscaling.NAMESPACE)
    assert guarded_and_spread(objects, "Deployment", "cluster-autoscaler-aws-cluster-autoscaler") == []


@pytest.mark.parametrize("name", ["external-secrets", "external-secrets-webhook", "external-secrets-cert-controller"])
def test_external_secrets_deployments_are_replicated_guarded_spread_and_probed(
    environments: dict[str, Environment], name: str
) -> None:
    values = secrets.external_secrets_values(environments["prod"].secrets, "arn:aws:iam::123456789012:role/eso")
    objects = render(EXTERNAL_SECRETS, values, release=secrets.RELEASE_NAME, namespace=secrets.NAMESPACE)
    assert guarded_and_spread(objects, "Deployment", name) == []
    containers: list[dict[str, Any]] = pod_spec(find(objects, "Deployment", name))["containers"]
    assert all("livenessProbe" in container for container in containers)
