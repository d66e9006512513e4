"""Cluster observability: metrics-server (for the HPAs), kube-prometheus-stack with haflow's alert
rules and Alertmanager's delivery, and fluent-bit shipping container logs to the CloudWatch Logs group
the foundation created (its retention is ``eks.container_log_retention_days``, set on the group there).

Delivery (docs/alerting.md): Alertmanager publishes every critical and warning alert to the region's
SNS topic with SigV4 as its IRSA role, the Watchdog to the heartbeat topic (a CloudWatch alarm notices
when it stops), and, when the environment names their Secrets Manager secrets, to Slack, PagerDuty and a
webhook, whose URLs and keys External Secrets writes into one Secret mounted into the Alertmanager pods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from haflow import contract, images
from haflow.config.platform import Alerts, Observability
from haflow.constructs.alerting import HEARTBEAT_REPEAT_MINUTES
from haflow.constructs.helm import (
    FLUENT_BIT,
    KUBE_PROMETHEUS_STACK,
    METRICS_SERVER,
    helm_release,
    requests,
    spread_across_zones_and_hosts,
)
from haflow.constructs.secrets import SyncedSecret
from haflow.slo import MODEL_API_INGRESS_PATTERN, MODEL_API_NAMESPACE, slo_rules

MONITORING_NAMESPACE = contract.ALERTMANAGER_SERVICE_ACCOUNT.namespace
LOGGING_NAMESPACE = contract.FLUENT_BIT_SERVICE_ACCOUNT.namespace
SYSTEM_NAMESPACE = "kube-system"
METRICS_SERVER_REPLICAS = 2
METRICS_SERVER_LABELS = {"app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": "metrics-server"}
# kube-state-metrics: two pods, sharded (the chart's autosharding: a StatefulSet whose pods each serve
# the objects of their shard), so every series exists once. Two replicas of one Deployment would serve
# every series twice (told apart only by pod/instance): sums of allocatable double and per-object
# alerts fire twice. A lost pod blanks its shard until it is back, and the chart's
# KubeStateMetricsShardsMissing says so.
KUBE_STATE_METRICS_REPLICAS = 2
KUBE_STATE_METRICS_LABELS = {
    "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": "kube-prometheus-stack",
}
# EKS runs the control plane itself: no kube-controller-manager, kube-scheduler or etcd is reachable from
# the cluster, so scraping them fails and their chart alerts (KubeControllerManagerDown, KubeSchedulerDown,
# critical) would fire forever. kube-proxy does run on every node (haflow installs the EKS add-on, which
# serves metrics on 0.0.0.0:10249), so it stays scraped.
EKS_MANAGED_COMPONENTS = contract.EKS_MANAGED_MONITORING_COMPONENTS


# kube-state-metrics' collectors: the chart's default list (the kube-state-metrics subchart's values.yaml in
# kube-prometheus-stack 81.6.2) without `secrets`, whose collector needs list and watch on every Secret of the cluster
# (a list returns their data) while no alert, recording rule or dashboard reads kube_secret_* (rule HA-SEC-072;
# tests/rules/test_cluster_security.py compares the list with the chart's).
KUBE_STATE_METRICS_COLLECTORS = (
    "certificatesigningrequests", "configmaps", "cronjobs", "daemonsets", "deployments", "endpointslices",
    "horizontalpodautoscalers", "ingresses", "jobs", "leases", "limitranges", "mutatingwebhookconfigurations",
    "namespaces", "networkpolicies", "nodes", "persistentvolumeclaims", "persistentvolumes", "poddisruptionbudgets",
    "pods", "replicasets", "replicationcontrollers", "resourcequotas", "services", "statefulsets", "storageclasses",
    "validatingwebhookconfigurations", "volumeattachments",
)


def metrics_server_values() -> dict[str, Any]:
    return {
        "replicas": METRICS_SERVER_REPLICAS,
        # repository:tag, no digest value (haflow.images)
        "image": {"tag": images.pinned(images.METRICS_SERVER).tag_and_digest},
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        "topologySpreadConstraints": spread_across_zones_and_hosts(METRICS_SERVER_LABELS),
    }


# The PrometheusRule (kube-prometheus-stack-<key>) of model-api's SLO (haflow.slo).
SLO_RULES = "haflow-slo"
# A failed flow-run Job alerts for this long after it failed, then resolves (failed Jobs stay for a day).
FLOW_RUN_FAILURE_WINDOW = "15m"


def alert_rules(alerts: Alerts, flow_run_namespace: str) -> dict[str, Any]:
    """PrometheusRule groups: pods, model-api (from ingress-nginx metrics), Prefect flow runs.

    Every alert carries a ``namespace`` label (Alertmanager groups by it and the chart's inhibition rules
    match on it) and a ``severity``: critical pages, warning notifies (docs/alerting.md).
    """
    ingress = f'namespace="{MODEL_API_NAMESPACE}",ingress=~"{MODEL_API_INGRESS_PATTERN}"'
    error_ratio = alerts.model_api_error_rate_percent / 100
    failed_jobs = f'kube_job_failed{{namespace="{flow_run_namespace}",condition="true"}}'
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
                # ingress-nginx labels each request with the Ingress' namespace (restored by the ServiceMonitor's
                # relabeling, haflow.constructs.ingress) and name and, with --metrics-per-undefined-host,
                # counts requests of a host-less Ingress.
                "name": "haflow.model-api",
                "rules": [
                    {
                        "alert": "ModelApiHighErrorRate",
                        "expr": (
                            f'sum by (namespace) (rate(nginx_ingress_controller_requests{{{ingress},status=~"5.."}}'
                            "[5m])) / "
                            f"sum by (namespace) (rate(nginx_ingress_controller_requests{{{ingress}}}[5m])) "
                            f"> {error_ratio:g}"
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
                            "histogram_quantile(0.95, sum by (namespace, le) (rate("
                            f"nginx_ingress_controller_request_duration_seconds_bucket{{{ingress}}}[5m]))) "
                            f"> {alerts.model_api_p95_latency_seconds:g}"
                        ),
                        "for": "10m",
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": f"model-api p95 latency above {alerts.model_api_p95_latency_seconds:g}s",
                        },
                    },
                    {
                        # The two alerts above can only fire on series that exist: this one says when they
                        # do not (a controller that drops the host-less Ingress' metrics, a renamed Ingress).
                        "alert": "ModelApiRequestMetricsAbsent",
                        "expr": f"absent(nginx_ingress_controller_requests{{{ingress}}})",
                        "for": "1h",
                        "labels": {"severity": "warning", "namespace": MODEL_API_NAMESPACE},
                        "annotations": {
                            "summary": "no ingress-nginx request metrics for model-api for an hour: its error-rate "
                            "and latency alerts cannot fire (no traffic, or the controller drops the metrics)",
                        },
                    },
                ],
            },
            {
                "name": "haflow.prefect",
                "rules": [
                    {
                        # The Kubernetes worker runs each flow run as a Job; a failed or crashed run leaves a
                        # failed Job in the flow-run namespace (kube-state-metrics), kept for a day. One alert
                        # per Job that failed in the last FLOW_RUN_FAILURE_WINDOW, resolved after it.
                        "alert": "PrefectFlowRunFailed",
                        "expr": f"max by (namespace, job_name) ({failed_jobs} == 1) unless "
                        f"max by (namespace, job_name) ({failed_jobs} offset {FLOW_RUN_FAILURE_WINDOW} == 1)",
                        "for": "0m",
                        "labels": {"severity": "warning"},
                        "annotations": {
                            "summary": "Prefect flow-run Job {{ $labels.namespace }}/{{ $labels.job_name }} failed",
                        },
                    },
                ],
            },
        ]
    }


# --- Alertmanager delivery ------------------------------------------------------------------------------

ALERTMANAGER_SERVICE_ACCOUNT = contract.ALERTMANAGER_SERVICE_ACCOUNT
# The Secret External Secrets builds from the optional receivers' secrets; the operator mounts each
# Secret listed in alertmanagerSpec.secrets at /etc/alertmanager/secrets/<name>/<key>.
RECEIVER_SECRET = "alertmanager-receivers"
RECEIVER_SECRET_DIR = f"/etc/alertmanager/secrets/{RECEIVER_SECRET}"
NULL_RECEIVER = "null"
HEARTBEAT_RECEIVER = "heartbeat"
CRITICAL_RECEIVER = "critical"
WARNING_RECEIVER = "warning"
# Which receiver each severity reaches (chart alerts use critical, warning, info and none).
SEVERITY_RECEIVERS = {"critical": CRITICAL_RECEIVER, "warning": WARNING_RECEIVER, "info": NULL_RECEIVER}
CRITICAL_REPEAT = "4h"
WARNING_REPEAT = "12h"


def _secret_file(key: str) -> str:
    return f"{RECEIVER_SECRET_DIR}/{key}"


def _sns(topic_arn: str, region: str, environment: str, severity: str) -> dict[str, Any]:
    # No keys in sigv4: the AWS SDK's default chain takes the IRSA web identity the pod is given.
    return {
        "topic_arn": topic_arn,
        "sigv4": {"region": region},
        "attributes": {"severity": severity, "environment": environment},
        "send_resolved": True,
    }


def alertmanager_config(
    alerts: Alerts, *, environment: str, region: str, topic_arn: str, heartbeat_topic_arn: str
) -> dict[str, Any]:
    """Routes and receivers (the chart keeps its inhibition rules and templates).

    critical -> SNS (severity=critical) + PagerDuty + Slack + webhook; warning (and anything without a
    known severity) -> SNS (severity=warning) + Slack + webhook; info and InfoInhibitor -> null (they
    exist to be inhibited or looked at); Watchdog -> the heartbeat topic (+ the external heartbeat URL).
    """
    secrets = alerts.receiver_secrets
    chat: dict[str, Any] = {}
    if "slack-webhook-url" in secrets:
        chat["slack_configs"] = [{"api_url_file": _secret_file("slack-webhook-url"), "send_resolved": True}]
    if "webhook-url" in secrets:
        # url_file needs Alertmanager >= 0.26 (the chart runs 0.31).
        chat["webhook_configs"] = [{"url_file": _secret_file("webhook-url"), "send_resolved": True}]
    critical: dict[str, Any] = {
        "name": CRITICAL_RECEIVER, "sns_configs": [_sns(topic_arn, region, environment, "critical")], **chat,
    }
    if "pagerduty-routing-key" in secrets:
        critical["pagerduty_configs"] = [{"routing_key_file": _secret_file("pagerduty-routing-key"),
                                          "send_resolved": True}]
    warning = {"name": WARNING_RECEIVER, "sns_configs": [_sns(topic_arn, region, environment, "warning")], **chat}
    heartbeat: dict[str, Any] = {
        "name": HEARTBEAT_RECEIVER, "sns_configs": [_sns(heartbeat_topic_arn, region, environment, "none")],
    }
    if "heartbeat-url" in secrets:
        heartbeat["webhook_configs"] = [{"url_file": _secret_file("heartbeat-url"), "send_resolved": False}]
    return {
        "route": {
            "receiver": WARNING_RECEIVER,
            "group_by": ["namespace", "alertname"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": WARNING_REPEAT,
            "routes": [
                {"receiver": HEARTBEAT_RECEIVER, "matchers": ['alertname = "Watchdog"'], "group_wait": "0s",
                 "group_interval": "1m", "repeat_interval": f"{HEARTBEAT_REPEAT_MINUTES}m"},
                {"receiver": NULL_RECEIVER, "matchers": ['alertname = "InfoInhibitor"']},
                {"receiver": CRITICAL_RECEIVER, "matchers": ['severity = "critical"'],
                 "repeat_interval": CRITICAL_REPEAT},
                {"receiver": NULL_RECEIVER, "matchers": ['severity = "info"']},
            ],
        },
        "receivers": [{"name": NULL_RECEIVER}, heartbeat, critical, warning],
    }


def observability_synced_secrets(alerts: Alerts) -> list[SyncedSecret]:
    """The optional receivers' URLs and keys, from Secrets Manager into the Secret Alertmanager mounts."""
    secrets = alerts.receiver_secrets
    if not secrets:
        return []
    variables = {key: key.replace("-", "_") for key in secrets}
    return [
        SyncedSecret(
            name=RECEIVER_SECRET,
            namespace=ALERTMANAGER_SERVICE_ACCOUNT.namespace,
            remote={variables[key]: (name, None) for key, name in secrets.items()},
            template={key: "{{ ." + variables[key] + " }}" for key in secrets},
        )
    ]


@dataclass(frozen=True)
class AlertDelivery:
    """Where this region's Alertmanager delivers: its IRSA role and the foundation's SNS topics."""

    environment: str
    region: str
    role_arn: str
    topic_arn: str
    heartbeat_topic_arn: str


def kube_prometheus_stack_values(
    config: Observability, flow_run_namespace: str, storage_class: str, delivery: AlertDelivery,
    slo_availability_percent: float,
) -> dict[str, Any]:
    """``slo_availability_percent``: the environment's ``slo.availability``, the objective of the burn-rate
    alerts (haflow.slo); Prometheus must keep their longest window of samples (HA-OBS-011)."""
    alertmanager_spec: dict[str, Any] = {
        "replicas": config.alertmanager_replicas,
        "resources": requests("50m", "64Mi"),
        "podAntiAffinity": "soft",
        "podAntiAffinityTopologyKey": contract.ZONE_TOPOLOGY_KEY,
        "image": {"sha": images.pinned(images.ALERTMANAGER).sha},  # repository:tag@sha256:<sha> (haflow.images)
    }
    if config.alerts.receiver_secrets:
        alertmanager_spec["secrets"] = [RECEIVER_SECRET]
    return {
        **{component: {"enabled": False} for component in EKS_MANAGED_COMPONENTS},
        # Grafana is a release of its own (haflow.constructs.grafana: the admin credential from Secrets Manager,
        # one replica); this chart renders only its dashboards, as ConfigMaps that release's sidecar loads.
        "grafana": {"enabled": False, "forceDeployDashboards": True},
        "prometheus": {
            # A drain evicts one Prometheus at a time; the chart's PDB selects the operator-made pods.
            "podDisruptionBudget": {"enabled": config.prometheus_replicas > 1, "minAvailable": 1},
            "prometheusSpec": {
                "replicas": config.prometheus_replicas,
                "resources": requests("500m", "2Gi"),
                "retention": config.prometheus_retention,
                "podAntiAffinity": "soft",
                "podAntiAffinityTopologyKey": contract.ZONE_TOPOLOGY_KEY,
                # The Prometheus resource's spec.image: repository:tag@sha256:<sha> (haflow.images)
                "image": {"sha": images.pinned(images.PROMETHEUS).sha},
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
            "serviceAccount": {
                "create": True, "name": ALERTMANAGER_SERVICE_ACCOUNT.name,
                "annotations": {contract.IRSA_ANNOTATION: delivery.role_arn},
            },
            "config": alertmanager_config(
                config.alerts, environment=delivery.environment, region=delivery.region,
                topic_arn=delivery.topic_arn, heartbeat_topic_arn=delivery.heartbeat_topic_arn,
            ),
            "alertmanagerSpec": alertmanager_spec,
        },
        # The chart runs one operator pod (replicas: 1 in its template) and prometheus-operator has no leader
        # election; while it is away, Prometheus and Alertmanager keep running, only changes wait.
        "prometheusOperator": {
            "resources": requests("100m", "128Mi"),
            "image": {"sha": images.pinned(images.PROMETHEUS_OPERATOR).sha},  # tag@sha256:<sha> (haflow.images)
            # The config reloader the operator injects into the Prometheus and Alertmanager pods.
            "prometheusConfigReloader": {"image": {"sha": images.pinned(images.PROMETHEUS_CONFIG_RELOADER).sha}},
            "admissionWebhooks": {"patch": {"image": {"sha": images.pinned(images.PROMETHEUS_CERTGEN).sha}}},
        },
        "kube-state-metrics": {
            "autosharding": {"enabled": True},
            "collectors": list(KUBE_STATE_METRICS_COLLECTORS),
            # rendered repository:tag@sha (haflow.images)
            "image": {"sha": images.pinned(images.KUBE_STATE_METRICS).digest},
            "replicas": KUBE_STATE_METRICS_REPLICAS,
            "podDisruptionBudget": {"minAvailable": 1},
            "topologySpreadConstraints": spread_across_zones_and_hosts(KUBE_STATE_METRICS_LABELS),
            "resources": requests("50m", "128Mi"),
        },
        "prometheus-node-exporter": {"resources": requests("20m", "32Mi"), **_node_exporter_image()},
        "additionalPrometheusRulesMap": {
            "haflow": alert_rules(config.alerts, flow_run_namespace),
            SLO_RULES: slo_rules(slo_availability_percent),
        },
    }


def _node_exporter_image() -> dict[str, Any]:
    """The subchart's ``image.digest`` (rendered tag@digest, haflow.images), set only when one is locked: the
    parent chart does not declare the key, and an empty one would be a value the chart never reads (HA-RND-004)."""
    digest = images.pinned(images.NODE_EXPORTER).digest
    return {"image": {"digest": digest}} if digest else {}


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
        "image": {"digest": images.pinned(images.FLUENT_BIT).digest or ""},  # repository:tag@digest (haflow.images)
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
        delivery: AlertDelivery,
        log_group_name: str,
        fluent_bit_role_arn: str,
        flow_run_namespace: str,
        storage_class: str,
        slo_availability_percent: float,
        provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        """``storage_class``: the class of Prometheus' volumes; ``depends_on`` should include it and the monitoring
        and logging namespaces, which the stack creates (the releases do not)."""
        super().__init__(scope, construct_id)
        self.metrics_server = helm_release(
            self, "metrics-server", chart=METRICS_SERVER, release_name="metrics-server",
            namespace=SYSTEM_NAMESPACE, values=metrics_server_values(), provider=provider,
            depends_on=depends_on, create_namespace=False,
        )
        self.monitoring = helm_release(
            self, "kube-prometheus-stack", chart=KUBE_PROMETHEUS_STACK, release_name="kube-prometheus-stack",
            namespace=MONITORING_NAMESPACE,
            values=kube_prometheus_stack_values(config, flow_run_namespace, storage_class, delivery,
                                               slo_availability_percent),
            provider=provider, depends_on=depends_on, create_namespace=False,
        )
        self.logging = helm_release(
            self, "fluent-bit", chart=FLUENT_BIT, release_name="fluent-bit", namespace=LOGGING_NAMESPACE,
            values=fluent_bit_values(region, log_group_name, fluent_bit_role_arn), provider=provider,
            depends_on=depends_on, create_namespace=False,
        )
