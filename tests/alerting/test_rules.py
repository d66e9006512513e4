"""The alert rules as rendered, asked of promtool (Debian's prometheus package, Prometheus 2.42):

- `promtool check rules` accepts every PrometheusRule the kube-prometheus-stack release renders (the
  chart's rules and haflow's);
- `promtool test rules`: each haflow alert fires on synthetic series that break it and stays silent on
  healthy ones; the chart's Watchdog (the heartbeat) always fires;
- no rule of a component EKS does not run is rendered.

The rules are the PrometheusRule objects of the render gate (prod's synthesized platform stack, rendered
with the pinned chart), not the Python that builds them. Annotations are dropped from the copy promtool
unit-tests (they are text; `promtool check rules` checks their templates), so a case states labels only.
The chart's images run Prometheus 3.9: a query feature newer than 2.42 would fail `check rules` here
(none is used today), and 3.x's left-open range selectors do not change these cases, whose samples
are a minute apart and whose windows are not on a sample boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from haflow.config import Environment
from haflow.render import RenderResult
from tests.alerting.conftest import ENV
from tests.alerting.tools import run, tool

HAFLOW_RULES = "kube-prometheus-stack-haflow"
GENERAL_RULES = "kube-prometheus-stack-general.rules"
# EKS runs these out of reach of the cluster: their chart alerts would fire forever.
EKS_ABSENT_ALERTS = {"KubeControllerManagerDown", "KubeSchedulerDown", "etcdMembersDown", "etcdInsufficientMembers"}


def rule_groups(rendered: RenderResult, name: str) -> list[dict[str, Any]]:
    found = rendered.find("PrometheusRule", name)
    assert found is not None, f"no PrometheusRule {name}: " + ", ".join(o.name for o in
                                                                         rendered.by_kind("PrometheusRule"))
    groups: list[dict[str, Any]] = found.manifest["spec"]["groups"]
    return groups


def alerts_of(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def write_rules(path: Path, groups: list[dict[str, Any]], *, annotations: bool = True) -> Path:
    if not annotations:
        groups = [{**group, "rules": [{k: v for k, v in rule.items() if k != "annotations"}
                                      for rule in group["rules"]]} for group in groups]
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    return path


def test_promtool_accepts_every_rendered_rule(prod_rendered: RenderResult, tmp_path: Path) -> None:
    promtool = tool("promtool")
    rules = prod_rendered.by_kind("PrometheusRule")
    assert len(rules) > 20, "the chart's default rules are rendered"
    files = [write_rules(tmp_path / f"{item.name}.yaml", item.manifest["spec"]["groups"]) for item in rules]
    # The duplicate-rules lint flags upstream's kube-apiserver-availability group, which records
    # code_verb:apiserver_request_total:increase1h once per status class (disjoint series, on purpose).
    checked = run([promtool, "check", "rules", "--lint=none", *files])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("SUCCESS") == len(files)
    haflow = run([promtool, "check", "rules", "--lint=all", "--lint-fatal", tmp_path / f"{HAFLOW_RULES}.yaml"])
    assert haflow.returncode == 0, haflow.stdout + haflow.stderr


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    """The check above can fail: promtool rejects an expression Prometheus would not load."""
    broken = write_rules(tmp_path / "broken.yaml", [{"name": "x", "rules": [{"alert": "X", "expr": "sum(up"}]}])
    checked = run([tool("promtool"), "check", "rules", broken])
    assert checked.returncode != 0


def test_no_rule_for_what_eks_does_not_run(prod_rendered: RenderResult) -> None:
    names = {rule["alert"] for item in prod_rendered.by_kind("PrometheusRule")
             for rule in alerts_of(item.manifest["spec"]["groups"])}
    assert names & EKS_ABSENT_ALERTS == set()
    # kube-proxy runs on every EKS node (the add-on haflow installs), so its alert stays.
    assert "KubeProxyDown" in names
    for kind, name in (("ServiceMonitor", "kube-prometheus-stack-kube-controller-manager"),
                       ("ServiceMonitor", "kube-prometheus-stack-kube-scheduler"),
                       ("ServiceMonitor", "kube-prometheus-stack-kube-etcd")):
        assert prod_rendered.find(kind, name) is None, name


def test_every_haflow_alert_has_a_namespace_and_a_severity(
    prod_rendered: RenderResult, environments: dict[str, Environment]
) -> None:
    """Each haflow alert fires with a namespace label (its promtool case below states the alert's labels
    exactly, so promtool proves it); the severity routes it."""
    for rule in alerts_of(rule_groups(prod_rendered, HAFLOW_RULES)):
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
    for case in cases(environments[ENV]):
        assert case.labels.get("namespace"), case.alert
        for _, expected in case.later:
            assert all(labels.get("namespace") for labels in expected), case.alert


def test_kube_state_metrics_serves_each_series_once(prod_rendered: RenderResult) -> None:
    """Two kube-state-metrics pods, each serving its own shard: no series twice."""
    assert prod_rendered.find("Deployment", "kube-prometheus-stack-kube-state-metrics") is None
    sharded = prod_rendered.find("StatefulSet", "kube-prometheus-stack-kube-state-metrics")
    assert sharded is not None
    assert sharded.manifest["spec"]["replicas"] == 2
    args = " ".join(sharded.manifest["spec"]["template"]["spec"]["containers"][0]["args"])
    assert "--pod=$(POD_NAME)" in args and "--pod-namespace=$(POD_NAMESPACE)" in args


# --- promtool unit tests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """``broken`` series make ``alert`` fire at ``at`` with ``labels``; ``healthy`` ones keep it silent."""

    alert: str
    broken: dict[str, str]
    healthy: dict[str, str]
    at: str
    labels: dict[str, str]
    # Further (series, eval time, expected label sets) checks, e.g. that an alert resolves.
    later: list[tuple[str, list[dict[str, str]]]] = field(default_factory=list)


def cases(env: Environment) -> list[Case]:
    alerts = env.observability.alerts
    flows = env.prefect.flow_run_namespace
    restarts = alerts.pod_restarts_per_hour
    latency = alerts.model_api_p95_latency_seconds
    error_percent = alerts.model_api_error_rate_percent
    pod = 'namespace="model-api",pod="model-api-abc",container="model-api",instance="10.0.0.1:8080"'
    requests = 'nginx_ingress_controller_requests{namespace="model-api",ingress="model-api"'
    buckets = 'nginx_ingress_controller_request_duration_seconds_bucket{namespace="model-api",ingress="model-api"'
    # Requests per minute with a 5xx share just above / well below the threshold.
    bad_5xx = max(1, int(100 * error_percent / (100 - error_percent)) + 1)
    failed = f'kube_job_failed{{namespace="{flows}",condition="true",instance="10.0.0.2:8080"'
    return [
        Case(
            "PodCrashLooping",
            broken={f'kube_pod_container_status_waiting_reason{{{pod},reason="CrashLoopBackOff"}}': "1x30"},
            healthy={f'kube_pod_container_status_waiting_reason{{{pod},reason="CrashLoopBackOff"}}': "0x30",
                     f'kube_pod_container_status_waiting_reason{{{pod},reason="ContainerCreating"}}': "1x30"},
            at="20m",
            labels={"namespace": "model-api", "pod": "model-api-abc", "container": "model-api",
                    "severity": "critical"},
        ),
        Case(
            "PodRestartingOften",
            broken={f"kube_pod_container_status_restarts_total{{{pod}}}": f"0+{restarts + 1}x90"},
            healthy={f"kube_pod_container_status_restarts_total{{{pod}}}": f"0x30 {restarts}x60"},
            at="80m",
            labels={"namespace": "model-api", "pod": "model-api-abc", "container": "model-api", "severity": "warning"},
        ),
        Case(
            "ModelApiHighErrorRate",
            broken={f'{requests},status="200"}}': "0+100x30", f'{requests},status="503"}}': f"0+{bad_5xx}x30"},
            healthy={f'{requests},status="200"}}': "0+100x30", f'{requests},status="503"}}': "0+0x30",
                     # another namespace's errors are not model-api's
                     'nginx_ingress_controller_requests{namespace="other",ingress="other",status="500"}':
                         "0+100x30"},
            at="20m",
            labels={"namespace": "model-api", "severity": "critical"},
        ),
        Case(
            "ModelApiHighLatencyP95",
            broken={f'{buckets},le="{latency / 2:g}"}}': "0+0x40", f'{buckets},le="{latency * 4:g}"}}': "0+10x40",
                    f'{buckets},le="+Inf"}}': "0+10x40"},
            healthy={f'{buckets},le="{latency / 2:g}"}}': "0+10x40", f'{buckets},le="{latency * 4:g}"}}': "0+10x40",
                     f'{buckets},le="+Inf"}}': "0+10x40"},
            at="30m",
            labels={"namespace": "model-api", "severity": "warning"},
        ),
        Case(
            "ModelApiRequestMetricsAbsent",
            # Only a host-less Ingress' requests counted under no ingress label (what the controller does
            # without --metrics-per-undefined-host) or another Ingress.
            broken={'nginx_ingress_controller_requests{namespace="other",ingress="other",status="200"}': "0+1x90"},
            healthy={f'{requests},status="200"}}': "0+1x90"},
            at="80m",
            labels={"namespace": "model-api", "severity": "warning"},
        ),
        Case(
            "PrefectFlowRunFailed",
            # run-a's Job fails at minute 10, run-b's at minute 20; a failed Job stays (and so its series).
            broken={f'{failed},job_name="run-a"}}': "_x10 1x80", f'{failed},job_name="run-b"}}': "_x20 1x70"},
            healthy={f'{failed},job_name="run-a"}}': "0x90"},
            at="15m",
            labels={"namespace": flows, "job_name": "run-a", "severity": "warning"},
            later=[
                # One alert per failure: both while both are recent; each resolves fifteen minutes after its
                # failure, though the failed Jobs (and their series) stay.
                ("22m", [{"namespace": flows, "job_name": "run-a", "severity": "warning"},
                         {"namespace": flows, "job_name": "run-b", "severity": "warning"}]),
                ("30m", [{"namespace": flows, "job_name": "run-b", "severity": "warning"}]),
                ("40m", []),
            ],
        ),
    ]



def unit_tests(case: Case) -> list[dict[str, Any]]:
    def test(series: dict[str, str], at: str, expected: list[dict[str, str]]) -> dict[str, Any]:
        return {
            "interval": "1m",
            "input_series": [{"series": name, "values": values} for name, values in series.items()],
            "alert_rule_test": [{"eval_time": at, "alertname": case.alert,
                                 "exp_alerts": [{"exp_labels": labels} for labels in expected]}],
        }

    return [
        test(case.broken, case.at, [case.labels]),
        test(case.healthy, case.at, []),
        *(test(case.broken, at, expected) for at, expected in case.later),
    ]


def promtool_test(tmp_path: Path, rules: Path, tests: list[dict[str, Any]]) -> tuple[int, str]:
    spec = tmp_path / "test.yaml"
    spec.write_text(yaml.safe_dump({"rule_files": [rules.name], "evaluation_interval": "1m", "tests": tests},
                                   sort_keys=False), encoding="utf-8")
    result = run([tool("promtool"), "test", "rules", spec.name], cwd=tmp_path)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("alert", ["PodCrashLooping", "PodRestartingOften", "ModelApiHighErrorRate",
                                   "ModelApiHighLatencyP95", "ModelApiRequestMetricsAbsent", "PrefectFlowRunFailed"])
def test_alert_fires_when_broken_and_not_when_healthy(
    alert: str, prod_rendered: RenderResult, environments: dict[str, Environment], tmp_path: Path
) -> None:
    case = next(c for c in cases(environments[ENV]) if c.alert == alert)
    rules = write_rules(tmp_path / "haflow.yaml", rule_groups(prod_rendered, HAFLOW_RULES), annotations=False)
    code, output = promtool_test(tmp_path, rules, unit_tests(case))
    assert code == 0, output


def test_every_haflow_alert_has_a_case(prod_rendered: RenderResult, environments: dict[str, Environment]) -> None:
    rendered = {rule["alert"] for rule in alerts_of(rule_groups(prod_rendered, HAFLOW_RULES))}
    assert rendered == {case.alert for case in cases(environments[ENV])}


def test_a_case_that_expects_the_wrong_thing_fails(prod_rendered: RenderResult, environments: dict[str, Environment],
                                                   tmp_path: Path) -> None:
    """promtool does compare: the healthy series of PodCrashLooping with the broken expectation fail."""
    case = next(c for c in cases(environments[ENV]) if c.alert == "PodCrashLooping")
    rules = write_rules(tmp_path / "haflow.yaml", rule_groups(prod_rendered, HAFLOW_RULES), annotations=False)
    wrong = Case(case.alert, broken=case.healthy, healthy=case.broken, at=case.at, labels=case.labels)
    code, output = promtool_test(tmp_path, rules, unit_tests(wrong)[:1])
    assert code != 0, output


def test_watchdog_always_fires(prod_rendered: RenderResult, tmp_path: Path) -> None:
    """The heartbeat Alertmanager routes to the heartbeat topic: the chart's Watchdog, firing with no input."""
    rules = write_rules(tmp_path / "general.yaml", rule_groups(prod_rendered, GENERAL_RULES), annotations=False)
    tests = [{"interval": "1m", "input_series": [],
              "alert_rule_test": [{"eval_time": "1m", "alertname": "Watchdog",
                                   "exp_alerts": [{"exp_labels": {"severity": "none"}}]}]}]
    code, output = promtool_test(tmp_path, rules, tests)
    assert code == 0, output


def test_model_api_request_metrics_exist_under_its_namespace(prod_rendered: RenderResult) -> None:
    """ingress-nginx counts requests of the host-less model-api Ingress, and Prometheus keeps the Ingress'
    namespace as `namespace` (the label the model-api alerts select on)."""
    controller = prod_rendered.find("Deployment", "ingress-nginx-controller")
    assert controller is not None
    args = controller.manifest["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--metrics-per-undefined-host=true" in args
    monitor = prod_rendered.find("ServiceMonitor", "ingress-nginx-controller")
    assert monitor is not None
    (endpoint,) = monitor.manifest["spec"]["endpoints"]
    assert {"sourceLabels": ["exported_namespace"], "regex": "(.+)", "targetLabel": "namespace",
            "action": "replace"} in endpoint["metricRelabelings"]
