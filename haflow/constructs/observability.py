"""Cluster observability: metrics-server (for the HPAs), kube-prometheus-stack with haflow's alert
rules, and fluent-bit shipping container logs to the CloudWatch Logs group the foundation created
(its retention is ``eks.container_log_retention_days``, set on the group there).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from haflow import contract
from haflow.config.platform import Alerts, Observability
from haflow.constructs.helm import (
    FLUENT_BIT,
    KUBE_PROMETHEUS_STACK,
    METRICS_SERVER,
    helm_release,
    requests,
    spread_across_zones_and_hosts,
)

MONITORING_NAMESPACE = "monitoring"
LOGGING_NAMESPACE = contract.FLUENT_BIT_SERVICE_ACCOUNT.namespace
SYSTEM_NAMESPACE = "kube-system"
METRICS_SERVER_REPLICAS = 2
METRICS_SERVER_LABELS = {"app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": "metrics-server"}
# kube-state-metrics: two pods, so a drained node does not blind the alerts built on it. Both serve the same
# series (told apart by their pod/instance labels); the rules below aggregate with max by the object's own
# labels, so a duplicate never doubles a count.
KUBE_STATE_METRICS_REPLICAS = 2
KUBE_STATE_METRICS_LABELS = {
    "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": "kube-prometheus-stack",
}
# Ingress objects whose traffic is the model-api's (stable and canary); see haflow.constructs.model_api.
MODEL_API_INGRESS_PATTERN = "model-api(-canary)?"


def metrics_server_values() -> dict[str, Any]:
    return {
        "replicas": METRICS_SERVER_REPLICAS,
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        "topologySpreadConstraints": spread_across_zones_and_hosts(METRICS_SERVER_LABELS),
    }


def alert_rules(alerts: Alerts, flow_run_namespace: str) -> dict[str, Any]:
    """PrometheusRule groups: pods, model-api (from ingress-nginx metrics), Prefect flow runs."""
    ingress = f'ingress=~"{MODEL_API_INGRESS_PATTERN}"'
    error_ratio = alerts.model_api_error_rate_percent / 100
    return {
        "groups": [
            {
                "name": "haflow.pods",
                "rules": [
                    {
                        "alert": "PodCrashLooping",
                        "expr": "max by (namespace, pod, container) (max_over_time("
                        'kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m])) >= 1',
                        "for": "10m",
                        "labels": {"severity": "critical"},
                        "annotations": {
                            "summary": "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) "
                            "is crash-looping",
                        },
                    },
                    {
                        "alert": "PodRestartingOften",
                        "expr": "max by (namespace, pod, container) ("
                        "increase(kube_pod_container_status_restarts_total[1h])) > "
                        f"{alerts.pod_restarts_per_hour}",
                        "for": "5m",
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": "{{ $labels.namespace }}/{{ $labels.pod }} restarted "
                            f"more than {alerts.pod_restarts_per_hour} times in an hour",
                        },
                    },
                ],
            },
            {
                "name": "haflow.model-api",
                "rules": [
                    {
                        "alert": "ModelApiHighErrorRate",
                        "expr": (
                            f'sum(rate(nginx_ingress_controller_requests{{{ingress},status=~"5.."}}[5m])) / '
                            f"sum(rate(nginx_ingress_controller_requests{{{ingress}}}[5m])) > {error_ratio:g}"
                        ),
                        "for": "5m",
                        "labels": {"severity": "critical"},
                        "annotations": {
                            "summary": f"model-api answers more than {alerts.model_api_error_rate_percent:g}% "
                            "of requests with 5xx",
                        },
                    },
                    {
                        "alert": "ModelApiHighLatencyP95",
                        "expr": (
                            "histogram_quantile(0.95, sum by (le) (rate("
                            f"nginx_ingress_controller_request_duration_seconds_bucket{{{ingress}}}[5m]))) "
                            f"> {alerts.model_api_p95_latency_seconds:g}"
                        ),
                        "for": "10m",
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": f"model-api p95 latency above {alerts.model_api_p95_latency_seconds:g}s",
                        },
                    },
                ],
            },
            {
                "name": "haflow.prefect",
                "rules": [
                    {
                        # The Kubernetes worker runs each flow run as a Job; a failed or crashed run
                        # leaves a failed Job in the flow-run namespace (kube-state-metrics).
                        "alert": "PrefectFlowRunsFailing",
                        "expr": "sum(max by (namespace, job_name) ("
                        f'kube_job_failed{{namespace="{flow_run_namespace}",condition="true"}})) > 0',
                        "for": "0m",
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": "{{ $value }} Prefect flow-run Jobs failed in " + flow_run_namespace,
                        },
                    },
                ],
            },
        ]
    }


def kube_prometheus_stack_values(config: Observability, flow_run_namespace: str, storage_class: str) -> dict[str, Any]:
    return {
        # Grafana needs an admin credential from Secrets Manager before it can be turned on; without one
        # the chart falls back to a well-known default password.
        "grafana": {"enabled": False},
        "prometheus": {
            # A drain evicts one Prometheus at a time; the chart's PDB selects the operator-made pods.
            "podDisruptionBudget": {"enabled": config.prometheus_replicas > 1, "minAvailable": 1},
            "prometheusSpec": {
                "replicas": config.prometheus_replicas,
                "resources": requests("500m", "2Gi"),
                "retention": config.prometheus_retention,
                "podAntiAffinity": "soft",
                "podAntiAffinityTopologyKey": contract.ZONE_TOPOLOGY_KEY,
                # Select every ServiceMonitor, PodMonitor and rule in the cluster, not only this release's.
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": storage_class,
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{config.prometheus_storage_gib}Gi"}},
                        }
                    }
                },
            }
        },
        "alertmanager": {
            "podDisruptionBudget": {"enabled": config.alertmanager_replicas > 1, "minAvailable": 1},
            "alertmanagerSpec": {
                "replicas": config.alertmanager_replicas,
                "resources": requests("50m", "64Mi"),
                "podAntiAffinity": "soft",
                "podAntiAffinityTopologyKey": contract.ZONE_TOPOLOGY_KEY,
            }
        },
        # The chart runs one operator pod (replicas: 1 in its template) and prometheus-operator has no leader
        # election; while it is away, Prometheus and Alertmanager keep running, only changes wait.
        "prometheusOperator": {"resources": requests("100m", "128Mi")},
        "kube-state-metrics": {
            "replicas": KUBE_STATE_METRICS_REPLICAS,
            "podDisruptionBudget": {"minAvailable": 1},
            "topologySpreadConstraints": spread_across_zones_and_hosts(KUBE_STATE_METRICS_LABELS),
            "resources": requests("50m", "128Mi"),
        },
        "prometheus-node-exporter": {"resources": requests("20m", "32Mi")},
        "additionalPrometheusRulesMap": {"haflow": alert_rules(config.alerts, flow_run_namespace)},
    }


def fluent_bit_values(region: str, log_group_name: str, role_arn: str) -> dict[str, Any]:
    """fluent-bit as a DaemonSet on every node (GPU nodes too), writing to the foundation's log group."""
    outputs = "\n".join(
        [
            "[OUTPUT]",
            "    Name cloudwatch_logs",
            "    Match kube.*",
            f"    region {region}",
            f"    log_group_name {log_group_name}",
            "    log_stream_prefix container-",
            # The foundation owns the group and its retention; fluent-bit must not create another.
            "    auto_create_group false",
            "    retry_limit 5",
        ]
    )
    return {
        "kind": "DaemonSet",
        "serviceAccount": {
            "create": True,
            "name": contract.FLUENT_BIT_SERVICE_ACCOUNT.name,
            "annotations": {contract.IRSA_ANNOTATION: role_arn},
        },
        "tolerations": [{"operator": "Exists"}],
        "resources": requests("50m", "64Mi"),
        "config": {"outputs": outputs},
    }


class ClusterObservability(Construct):
    """metrics-server, kube-prometheus-stack and fluent-bit releases."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Observability,
        region: str,
        log_group_name: str,
        fluent_bit_role_arn: str,
        flow_run_namespace: str,
        storage_class: str,
        provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        """``storage_class``: the class of Prometheus' volumes; ``depends_on`` should include it."""
        super().__init__(scope, construct_id)
        self.metrics_server = helm_release(
            self, "metrics-server", chart=METRICS_SERVER, release_name="metrics-server",
            namespace=SYSTEM_NAMESPACE, values=metrics_server_values(), provider=provider,
            depends_on=depends_on, create_namespace=False,
        )
        self.monitoring = helm_release(
            self, "kube-prometheus-stack", chart=KUBE_PROMETHEUS_STACK, release_name="kube-prometheus-stack",
            namespace=MONITORING_NAMESPACE,
            values=kube_prometheus_stack_values(config, flow_run_namespace, storage_class),
            provider=provider, depends_on=depends_on,
        )
        self.logging = helm_release(
            self, "fluent-bit", chart=FLUENT_BIT, release_name="fluent-bit", namespace=LOGGING_NAMESPACE,
            values=fluent_bit_values(region, log_group_name, fluent_bit_role_arn), provider=provider,
            depends_on=depends_on,
        )
