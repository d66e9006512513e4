"""Grafana: its own Helm release (chart grafana, the version kube-prometheus-stack declares), the admin
credential from Secrets Manager through External Secrets, Prometheus as its datasource, and the dashboards
(kube-prometheus-stack's, plus haflow's platform dashboard of model-api's SLO and Prefect). docs/grafana.md.

- **Admin credential**: each foundation stack (primary and DR) creates the secret
  ``haflow/<name>/grafana-admin`` with a generated password (kept by the version's ignore_changes, as the
  Redis auth token is), encrypted with the region's alerts key; External Secrets copies it into the
  Kubernetes Secret ``monitoring/grafana-admin`` that the chart reads (``admin.existingSecret``). Without it
  the chart would generate a password into a Secret of its own on every install (or fall back to a
  well-known default): no password is in values, the plan or the repository.
- **Dashboards**: kube-prometheus-stack renders its dashboards as ConfigMaps labelled
  ``grafana_dashboard: "1"`` (``grafana.forceDeployDashboards`` with its own Grafana off); this release's
  dashboard sidecar loads every ConfigMap with that label in the monitoring namespace. haflow's platform
  dashboard is one more such ConfigMap (a kubernetes_config_map_v1 of the platform stack, so its JSON never
  passes through Helm's template engine). Its queries read the SLO's recording rules (haflow.slo).
- **Availability**: one replica, a Deployment without a volume. Grafana keeps users, sessions and UI-made
  changes in its database; two replicas need a database they share (MySQL or PostgreSQL: Grafana's HA
  setup), and each with its own SQLite logs users out at random as requests alternate between the pods.
  Everything haflow's Grafana shows is provisioned (datasource, dashboards, admin from the Secret), so its
  SQLite on an emptyDir loses nothing provisioned when the pod moves: a drained or lost node or zone costs
  a reschedule (~1-6 min with the node-unreachable eviction) and a new login. Alerting does not pass
  through Grafana (Prometheus -> Alertmanager), so no page waits on it. The replica and disruption-budget
  rules carry a suppression with that reason (environments/base.yaml).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import DataAwsSecretsmanagerRandomPassword
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1
from constructs import Construct

from haflow import images, slo
from haflow.constructs.database import SECRET_READ_ACTIONS
from haflow.constructs.helm import GRAFANA, helm_release, requests
from haflow.constructs.irsa import GrantableRole
from haflow.constructs.kms import prevent_destroy
from haflow.constructs.reloader import RELOADER_SECRET_ANNOTATION
from haflow.constructs.secrets import SyncedSecret
from haflow.flows import MONITORING_NAMESPACE, PREFECT_NAMESPACE, PROMETHEUS_WEB_PORT

RELEASE_NAME = "grafana"
# Users, sessions and UI-made changes live in Grafana's database; with SQLite on an emptyDir one pod is
# the most that does not log users out (module docstring). HA needs an external database.
REPLICAS = 1
ADMIN_SECRET = "grafana-admin"  # the Kubernetes Secret External Secrets writes
ADMIN_USER = "admin"
ADMIN_USER_KEY = "admin-user"
ADMIN_PASSWORD_KEY = "admin-password"
ADMIN_PASSWORD_LENGTH = 32
# Secrets Manager keeps a deleted secret 7-30 days; a protected one gets the longest window.
SECRET_RECOVERY_WINDOW_DAYS = 30
# kube-prometheus-stack's Prometheus Service (release kube-prometheus-stack, fullname + "-prometheus") and
# its web port (prometheus.service.port, 9090).
PROMETHEUS_SERVICE = "kube-prometheus-stack-prometheus"
PROMETHEUS_PORT = PROMETHEUS_WEB_PORT
PROMETHEUS_URL = f"http://{PROMETHEUS_SERVICE}.{MONITORING_NAMESPACE}.svc:{PROMETHEUS_PORT}"
DATASOURCE_UID = "prometheus"
# The label kube-prometheus-stack puts on its dashboard ConfigMaps (grafana.sidecar.dashboards.label and
# labelValue in its values) and the sidecar of this release watches.
DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"
PLATFORM_DASHBOARD = "haflow-platform"
PLATFORM_DASHBOARD_UID = "haflow-platform"
GRAFANA_LABELS = {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": RELEASE_NAME}


def admin_secret_name(name: str) -> str:
    """The Secrets Manager secret of ``name`` (an environment's, or its DR region's, resource prefix)."""
    return f"haflow/{name}/grafana-admin"


class GrafanaAdminSecret(Construct):
    """The region's Grafana admin password in Secrets Manager (foundation stacks)."""

    def __init__(self, scope: Construct, construct_id: str, *, name: str, region: str, kms_key_arn: str,
                 protect: bool) -> None:
        """``kms_key_arn``: the region's alerts key (the observability stack's key, haflow.constructs.alerting)."""
        super().__init__(scope, construct_id)
        self.region = region
        self.kms_key_arn = kms_key_arn
        self.secret = SecretsmanagerSecret(
            self, "secret", name=admin_secret_name(name), kms_key_id=kms_key_arn,
            description=f"Grafana admin password of {name} (External Secrets copies it into monitoring/grafana-admin)",
            recovery_window_in_days=SECRET_RECOVERY_WINDOW_DAYS if protect else 0,
            lifecycle=prevent_destroy(protect),
        )
        # A data source is read on every plan and would yield a new password each time; the version keeps
        # the first one (ignore_changes). Rotating: put a new value into the secret; External Secrets and
        # Reloader carry it into the pod.
        generated = DataAwsSecretsmanagerRandomPassword(
            self, "password-generator", password_length=ADMIN_PASSWORD_LENGTH, exclude_punctuation=True,
            include_space=False,
        )
        SecretsmanagerSecretVersion(
            self, "password", secret_id=self.secret.id, secret_string=generated.random_password,
            lifecycle={"ignore_changes": ["secret_string"]},
        )
        self.arn = self.secret.arn

    def grant_read(self, grantee: GrantableRole) -> None:
        """Read the secret (and decrypt it through Secrets Manager only)."""
        grantee.attach_policy(
            "grafana-admin-read",
            {"Effect": "Allow", "Action": list(SECRET_READ_ACTIONS), "Resource": self.arn},
            {
                "Effect": "Allow", "Action": "kms:Decrypt", "Resource": self.kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{self.region}.amazonaws.com"}},
            },
        )


def grafana_synced_secrets(admin_secret_arn: str) -> list[SyncedSecret]:
    """The admin credential, from Secrets Manager into the Secret the chart reads."""
    return [SyncedSecret(
        name=ADMIN_SECRET, namespace=MONITORING_NAMESPACE,
        remote={"password": (admin_secret_arn, None)},
        template={ADMIN_USER_KEY: ADMIN_USER, ADMIN_PASSWORD_KEY: "{{ .password }}"},
    )]


def grafana_values() -> dict[str, Any]:
    return {
        "replicas": REPLICAS,
        # repository:tag@sha256:<sha> once a digest is locked (haflow.images); the tag alone until then.
        "image": {"sha": images.pinned(images.GRAFANA).sha},
        "admin": {"existingSecret": ADMIN_SECRET, "userKey": ADMIN_USER_KEY, "passwordKey": ADMIN_PASSWORD_KEY},
        # Roll the pod when External Secrets changes the admin Secret (haflow's Reloader release).
        "annotations": {RELOADER_SECRET_ANNOTATION: ADMIN_SECRET},
        "persistence": {"enabled": False},
        "testFramework": {"enabled": False},
        # A Role in monitoring instead of the chart's ClusterRole: the sidecar reads ConfigMaps (and Secrets) of
        # the one namespace it searches, not every Secret of the cluster (checkov CKV2_K8S_5).
        "rbac": {"namespaced": True},
        "resources": requests("100m", "256Mi"),
        "datasources": {"datasources.yaml": {"apiVersion": 1, "datasources": [{
            "name": "Prometheus", "type": "prometheus", "uid": DATASOURCE_UID, "access": "proxy",
            "url": PROMETHEUS_URL, "isDefault": True, "editable": False,
        }]}},
        "sidecar": {
            "image": {"sha": images.pinned(images.GRAFANA_SIDECAR).sha},
            "resources": requests("20m", "64Mi"),
            "dashboards": {
                "enabled": True, "label": DASHBOARD_LABEL, "labelValue": DASHBOARD_LABEL_VALUE,
                # Only the monitoring namespace's ConfigMaps (kube-prometheus-stack's and haflow's).
                "searchNamespace": MONITORING_NAMESPACE,
                "provider": {"allowUiUpdates": False},
            },
        },
        "grafana.ini": {
            # No egress beyond the cluster (NetworkPolicy): no update checks, usage reports or Gravatar.
            "analytics": {"reporting_enabled": False, "check_for_updates": False, "check_for_plugin_updates": False},
            "security": {"disable_gravatar": True},
            "users": {"allow_sign_up": False},
            "auth.anonymous": {"enabled": False},
        },
    }


# --- the platform dashboard --------------------------------------------------------------------------------


def _target(expr: str, legend: str = "__auto", ref: str = "A") -> dict[str, Any]:
    return {"datasource": {"type": "prometheus", "uid": DATASOURCE_UID}, "expr": expr, "legendFormat": legend,
            "refId": ref}


def _panel(panel_id: int, title: str, kind: str, targets: list[dict[str, Any]], *, x: int, y: int, w: int = 12,
           h: int = 8, unit: str = "short", description: str = "") -> dict[str, Any]:
    return {"id": panel_id, "title": title, "type": kind, "description": description,
            "datasource": {"type": "prometheus", "uid": DATASOURCE_UID},
            "gridPos": {"x": x, "y": y, "w": w, "h": h},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{**target, "refId": chr(ord("A") + i)} for i, target in enumerate(targets)]}


def platform_dashboard(flow_run_namespace: str) -> dict[str, Any]:
    """model-api's SLO (the recording rules the burn-rate alerts read) and Prefect's flow runs."""
    labels = f'slo="{slo.SLO_NAME}",namespace="{slo.MODEL_API_NAMESPACE}"'
    budget = f"{slo.ERROR_BUDGET}{{{labels}}}"
    requests_selector = (f'nginx_ingress_controller_requests{{namespace="{slo.MODEL_API_NAMESPACE}",'
                         f'ingress=~"{slo.MODEL_API_INGRESS_PATTERN}"}}')
    flows = f'namespace="{flow_run_namespace}"'
    panels = [
        {"id": 1, "type": "row", "title": "model-api availability SLO", "collapsed": False,
         "gridPos": {"x": 0, "y": 0, "w": 24, "h": 1}, "panels": []},
        _panel(2, "Objective", "stat", [_target(f"{slo.OBJECTIVE}{{{labels}}}")], x=0, y=1, w=6, h=5,
               unit="percentunit", description="slo.availability of this environment (haflow report's number)"),
        _panel(3, "Error budget left over the last 3d", "stat",
               [_target(f"1 - {slo.ratio_series('3d')} / on (namespace, slo) {budget}")],
               x=6, y=1, w=6, h=5, unit="percentunit",
               description="1 - the 3d error ratio over the budget: below 0, the 3d window burnt more than "
               "the SLO allows on average"),
        _panel(4, "Burn-rate alerts firing", "stat",
               [_target(f'count(ALERTS{{alertname="{slo.ALERT_NAME}",alertstate="firing"}}) or vector(0)')],
               x=12, y=1, w=6, h=5),
        _panel(5, "Requests per second", "stat", [_target(f"sum(rate({requests_selector}[5m]))")],
               x=18, y=1, w=6, h=5, unit="reqps"),
        _panel(6, "Burn rate per window (x the budget)", "timeseries",
               [_target(f"{slo.ratio_series(window)} / on (namespace, slo) {budget}", legend=window)
                for window in slo.WINDOWS],
               x=0, y=6, w=12, h=9,
               description="Pages: 1h and 5m above 14.4, or 6h and 30m above 6; tickets: 1d and 2h above 3, or "
               "3d and 6h above 1 (docs/alerting.md#the-slo-after-deploy)"),
        _panel(7, "Error ratio per window", "timeseries",
               [*(_target(slo.ratio_series(window), legend=window) for window in slo.WINDOWS),
                _target(budget, legend="budget")],
               x=12, y=6, w=12, h=9, unit="percentunit"),
        _panel(8, "Requests by status", "timeseries",
               [_target(f"sum by (status) (rate({requests_selector}[5m]))", legend="{{status}}")],
               x=0, y=15, w=24, h=8, unit="reqps"),
        {"id": 9, "type": "row", "title": "Prefect", "collapsed": False,
         "gridPos": {"x": 0, "y": 23, "w": 24, "h": 1}, "panels": []},
        _panel(10, "Flow-run Jobs running", "timeseries",
               [_target(f"sum(kube_job_status_active{{{flows}}}) or vector(0)", legend="running")],
               x=0, y=24, w=8, h=8),
        _panel(11, "Flow-run Jobs finished (kept a day)", "timeseries",
               [_target(f'count(kube_job_complete{{{flows},condition="true"}} == 1) or vector(0)', legend="completed"),
                _target(f'count(kube_job_failed{{{flows},condition="true"}} == 1) or vector(0)', legend="failed")],
               x=8, y=24, w=8, h=8),
        _panel(12, "Prefect pods available", "timeseries",
               [_target(f'sum by (namespace, deployment) (kube_deployment_status_replicas_available{{namespace=~'
                        f'"{PREFECT_NAMESPACE}|{flow_run_namespace}"}})', legend="{{deployment}}")],
               x=16, y=24, w=8, h=8),
        _panel(13, "Flow runs failed (alerts)", "timeseries",
               [_target('count(ALERTS{alertname="PrefectFlowRunFailed",alertstate="firing"}) or vector(0)',
                        legend="PrefectFlowRunFailed")],
               x=0, y=32, w=24, h=6),
    ]
    return {
        "uid": PLATFORM_DASHBOARD_UID, "title": "haflow / platform: model-api SLO and Prefect",
        "tags": ["haflow", "slo", "prefect"], "timezone": "utc", "schemaVersion": 39, "version": 1,
        "editable": False, "refresh": "1m", "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": []}, "annotations": {"list": []}, "panels": panels,
    }


def dashboard_exprs(dashboard: dict[str, Any]) -> list[str]:
    """Every PromQL expression of a dashboard (its panels' targets, rows' nested panels included)."""
    found: list[str] = []
    for panel in dashboard.get("panels") or []:
        for inner in [panel, *(panel.get("panels") or [])]:
            found += [str(target["expr"]) for target in inner.get("targets") or [] if "expr" in target]
    return found


class Grafana(Construct):
    """The Grafana release and haflow's platform dashboard ConfigMap."""

    def __init__(self, scope: Construct, construct_id: str, *, flow_run_namespace: str,
                 helm_provider: TerraformProvider, kubernetes_provider: TerraformProvider,
                 depends_on: Sequence[ITerraformDependable] = ()) -> None:
        """``depends_on``: the monitoring release (its namespace and Prometheus) and the synced admin Secret."""
        super().__init__(scope, construct_id)
        self.dashboard = ConfigMapV1(
            self, "platform-dashboard",
            metadata={"name": PLATFORM_DASHBOARD, "namespace": MONITORING_NAMESPACE,
                      "labels": {DASHBOARD_LABEL: DASHBOARD_LABEL_VALUE}},
            data={f"{PLATFORM_DASHBOARD}.json": json.dumps(platform_dashboard(flow_run_namespace), indent=1,
                                                          sort_keys=True)},
            provider=kubernetes_provider,
            depends_on=list(depends_on) or None,
        )
        self.release = helm_release(
            self, "grafana", chart=GRAFANA, release_name=RELEASE_NAME, namespace=MONITORING_NAMESPACE,
            values=grafana_values(), provider=helm_provider, depends_on=[*depends_on, self.dashboard],
            create_namespace=False,
        )
