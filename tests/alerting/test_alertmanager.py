"""The Alertmanager configuration as rendered, asked of amtool (Debian's prometheus-alertmanager, 0.25):
`amtool check-config` loads it and `amtool config routes test` says which receiver each alert reaches.

The configuration is the one the chart renders into the Alertmanager's Secret (decoded from it), from
prod's synthesized platform stack, with SNS only (prod's default) and with every optional receiver.
Alertmanager 0.25 predates one key haflow uses: ``webhook_configs[].url_file`` (0.26; the chart runs
0.31). For amtool the copy replaces it by a literal ``url``; that one key's loading is therefore not
checked here, and the test checks instead that its path is a file of the mounted receivers Secret.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from haflow.plan import StackJson
from haflow.render import RenderResult
from tests.alerting.tools import run, tool

SECRET = "alertmanager-kube-prometheus-stack-alertmanager"
RECEIVER_SECRET_DIR = "/etc/alertmanager/secrets/alertmanager-receivers"
# Labels of an alert -> the receiver it must reach.
ROUTES = [
    ({"alertname": "KubePodCrashLooping", "severity": "critical", "namespace": "prefect"}, "critical"),
    ({"alertname": "PodRestartingOften", "severity": "warning", "namespace": "model-api"}, "warning"),
    ({"alertname": "CPUThrottlingHigh", "severity": "info", "namespace": "model-api"}, "null"),
    ({"alertname": "InfoInhibitor", "severity": "none", "namespace": "model-api"}, "null"),
    ({"alertname": "Watchdog", "severity": "none"}, "heartbeat"),
    # An alert without a known severity is delivered, not dropped.
    ({"alertname": "SomethingNew", "namespace": "default"}, "warning"),
]


def rendered_config(rendered: RenderResult) -> dict[str, Any]:
    secret = rendered.find("Secret", SECRET)
    assert secret is not None
    config: dict[str, Any] = yaml.safe_load(base64.b64decode(secret.manifest["data"]["alertmanager.yaml"]))
    return config


def for_amtool_0_25(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with webhook ``url_file`` (Alertmanager >= 0.26) replaced by a ``url`` 0.25 loads."""
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(config))
    for receiver in copy["receivers"]:
        for webhook in receiver.get("webhook_configs", []):
            if "url_file" in webhook:
                assert webhook.pop("url_file").startswith(RECEIVER_SECRET_DIR + "/")
                webhook["url"] = "https://example.invalid/webhook"
    return copy


def write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def routes_test(config: Path, labels: dict[str, str], receiver: str) -> tuple[int, str]:
    result = run([tool("amtool"), "config", "routes", "test", f"--config.file={config}",
                  f"--verify.receivers={receiver}", *(f"{key}={value}" for key, value in labels.items())])
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(params=["sns-only", "all-receivers"])
def config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """prod's configuration as rendered: as configured (SNS only), and with every optional receiver."""
    if request.param == "sns-only":
        rendered: RenderResult = request.getfixturevalue("prod_rendered")
    else:
        rendered = request.getfixturevalue("receivers_variant")[1]
    return rendered_config(rendered)


def test_amtool_loads_the_rendered_configuration(config: dict[str, Any], tmp_path: Path) -> None:
    checked = run([tool("amtool"), "check-config", write(tmp_path / "alertmanager.yaml", for_amtool_0_25(config))])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@pytest.mark.parametrize(("labels", "receiver"), ROUTES, ids=[labels["alertname"] for labels, _ in ROUTES])
def test_each_severity_reaches_its_receiver(config: dict[str, Any], labels: dict[str, str], receiver: str,
                                           tmp_path: Path) -> None:
    code, output = routes_test(write(tmp_path / "alertmanager.yaml", for_amtool_0_25(config)), labels, receiver)
    assert code == 0, output


def test_amtool_says_when_a_route_is_wrong(prod_rendered: RenderResult, tmp_path: Path) -> None:
    """routes test can fail: a critical alert does not reach the warning receiver."""
    path = write(tmp_path / "alertmanager.yaml", for_amtool_0_25(rendered_config(prod_rendered)))
    code, _ = routes_test(path, {"alertname": "X", "severity": "critical"}, "warning")
    assert code != 0


def sns(config: dict[str, Any], receiver: str) -> list[dict[str, Any]]:
    found = next(r for r in config["receivers"] if r["name"] == receiver)
    configs: list[dict[str, Any]] = found.get("sns_configs", [])
    return configs


def test_alerts_reach_the_regions_topics_as_alertmanagers_role(prod_rendered: RenderResult) -> None:
    """critical and warning go to the foundation's alerts topic, the Watchdog to its heartbeat topic, signed
    for the cluster's region, by the pods of the service account the Alertmanager IRSA role trusts."""
    config = rendered_config(prod_rendered)
    region = prod_rendered.foundation["provider"]["aws"][0]["region"]
    topics = {}
    for receiver in ("critical", "warning", "heartbeat"):
        (target,) = sns(config, receiver)
        assert target["sigv4"] == {"region": region}
        assert target["attributes"]["severity"] == {"heartbeat": "none"}.get(receiver, receiver)
        resource = prod_rendered.foundation_resource(target["topic_arn"])
        assert resource is not None and resource.type == "aws_sns_topic", target["topic_arn"]
        topics[receiver] = resource.body["name"]
    assert topics == {"critical": "prod-alerts", "warning": "prod-alerts", "heartbeat": "prod-alerts-heartbeat"}
    alertmanager = prod_rendered.find("Alertmanager", "kube-prometheus-stack-alertmanager")
    assert alertmanager is not None
    account = prod_rendered.find("ServiceAccount", alertmanager.manifest["spec"]["serviceAccountName"], "monitoring")
    assert account is not None
    role = prod_rendered.foundation_resource(account.manifest["metadata"]["annotations"]["eks.amazonaws.com/role-arn"])
    assert role is not None and role.type == "aws_iam_role"
    assert "system:serviceaccount:monitoring:alertmanager" in role.body["assume_role_policy"]


def test_optional_receivers_read_their_secrets_from_the_mounted_files(
    receivers_variant: tuple[dict[str, StackJson], RenderResult]
) -> None:
    """Slack, PagerDuty, webhook and heartbeat URLs/keys: files of the Secret External Secrets builds from
    Secrets Manager, mounted into Alertmanager; none of them is in the values."""
    stacks, rendered = receivers_variant
    config = rendered_config(rendered)
    critical = next(r for r in config["receivers"] if r["name"] == "critical")
    warning = next(r for r in config["receivers"] if r["name"] == "warning")
    heartbeat = next(r for r in config["receivers"] if r["name"] == "heartbeat")
    files = {
        critical["slack_configs"][0]["api_url_file"], critical["pagerduty_configs"][0]["routing_key_file"],
        critical["webhook_configs"][0]["url_file"], warning["slack_configs"][0]["api_url_file"],
        warning["webhook_configs"][0]["url_file"], heartbeat["webhook_configs"][0]["url_file"],
    }
    assert "pagerduty_configs" not in warning
    keys = {path.removeprefix(RECEIVER_SECRET_DIR + "/") for path in files}
    assert keys == {"slack-webhook-url", "pagerduty-routing-key", "webhook-url", "heartbeat-url"}
    alertmanager = rendered.find("Alertmanager", "kube-prometheus-stack-alertmanager")
    assert alertmanager is not None and alertmanager.manifest["spec"]["secrets"] == ["alertmanager-receivers"]
    synced = rendered.find("ExternalSecret", "alertmanager-receivers", "monitoring")
    assert synced is not None
    spec = synced.manifest["spec"]
    assert set(spec["target"]["template"]["data"]) == keys
    assert {item["remoteRef"]["key"] for item in spec["data"]} == {
        "haflow/prod/slack-webhook-url", "haflow/prod/pagerduty-routing-key", "haflow/prod/alert-webhook-url",
        "haflow/prod/heartbeat-url",
    }
    store = rendered.find("ClusterSecretStore", "aws-secrets-manager-monitoring")
    assert store is not None and store.manifest["spec"]["conditions"][0]["namespaces"] == ["monitoring"]
    assert spec["secretStoreRef"]["name"] == "aws-secrets-manager-monitoring"
    # External Secrets may read exactly these secrets, in both regions.
    for stack in ("prod-foundation", "prod-dr-foundation"):
        policies = [body["policy"] for name, body in stacks[stack]["resource"]["aws_iam_role_policy"].items()
                    if "alert-receiver-secrets-read" in name]
        assert len(policies) == 1, stack
        assert "haflow/prod/pagerduty-routing-key-??????" in policies[0]
