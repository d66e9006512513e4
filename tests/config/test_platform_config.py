"""Platform sections (ingress, prefect, model_api, observability, secrets): bad overlays are caught
in the overlay itself, each with the key path, the value and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from haflow.config import Environment, load_environments
from tests.config.overlays import config_dir_with, issues_at
from tests.conftest import CONFIG_DIR

DEV = (CONFIG_DIR / "dev.yaml").read_text(encoding="utf-8")

# (case id, text appended to dev.yaml, key path, expected fragment of the message)
BAD_PLATFORM_OVERLAYS = [
    ("pdb-keeps-every-ingress-pod", "ingress: {controller_replicas: 2, pdb_min_available: 2}\n",
     "ingress.pdb_min_available", "a PDB that keeps every pod makes no node drainable"),
    ("pdb-above-prefect-server-replicas", "prefect:\n  server: {replicas: 2, pdb_min_available: 3}\n",
     "prefect.server.pdb_min_available", "set prefect.server.pdb_min_available to at most 1"),
    ("pdb-keeps-every-worker", "prefect:\n  worker: {replicas: 3, pdb_min_available: 3}\n",
     "prefect.worker.pdb_min_available", "must be below prefect.worker.replicas (3)"),
    ("hpa-min-at-pdb-floor", "model_api: {replicas: 3, pdb_min_available: 2, autoscaling: {min_replicas: 2}}\n",
     "model_api.autoscaling.min_replicas", "must be at least model_api.pdb_min_available + 1 (3)"),
    ("ingress-hpa-min-at-pdb-floor",
     "ingress: {controller_replicas: 3, pdb_min_available: 2, autoscaling: {min_replicas: 2, max_replicas: 4}}\n",
     "ingress.autoscaling.min_replicas", "set ingress.autoscaling.min_replicas to 3 or more"),
    ("hpa-max-below-min", "model_api: {autoscaling: {min_replicas: 4, max_replicas: 3}}\n",
     "model_api.autoscaling.max_replicas", "is below autoscaling.min_replicas (4)"),
    ("canary-weight-above-100", "model_api: {canary: {enabled: true, weight_percent: 150}}\n",
     "model_api.canary.weight_percent", "ingress-nginx canary weights are percentages, 0-100"),
    ("canary-weight-negative", "model_api: {canary: {weight_percent: -5}}\n",
     "model_api.canary.weight_percent", "set model_api.canary.weight_percent between 0 and 100"),
    ("gpu-without-gpu-nodes", "model_api: {gpu_count: 1}\n",
     "model_api.gpu_count", "set eks.gpu_node_pool.enabled: true or model_api.gpu_count: 0"),
    ("single-ingress-controller", "ingress: {controller_replicas: 1}\n",
     "ingress.controller_replicas", "must be greater than or equal to 2"),
    ("single-prefect-api", "prefect:\n  server: {replicas: 1}\n",
     "prefect.server.replicas", "must be greater than or equal to 2"),
    ("single-worker", "prefect:\n  worker: {replicas: 1}\n",
     "prefect.worker.replicas", "must be greater than or equal to 2"),
    ("cpu-not-a-quantity", "model_api:\n  resources: {cpu_request: 2 cores}\n",
     "model_api.resources.cpu_request", "write cores or millicores, e.g. 500m or 2"),
    ("memory-in-decimal-units", "model_api:\n  resources: {memory_limit: 2GB}\n",
     "model_api.resources.memory_limit", "write e.g. 512Mi or 2Gi"),
    ("host-with-scheme", "model_api: {host: 'https://api.example.com'}\n",
     "model_api.host", "without scheme or path"),
    ("misspelt-platform-key", "prefect:\n  server: {replica: 3}\n",
     "prefect.server.replica", "did you mean 'replicas'?"),
    ("unknown-load-balancer-scheme", "ingress: {load_balancer_scheme: public}\n",
     "ingress.load_balancer_scheme", "must be one of 'internet-facing' or 'internal'"),
    ("prometheus-retention-unit", "observability: {prometheus_retention: 15 days}\n",
     "observability.prometheus_retention", "write e.g. 15d or 2w"),
    ("alert-receiver-secret-arn",
     "observability:\n  alerts: {slack_webhook_url_secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s'}\n",
     "observability.alerts.slack_webhook_url_secret", "write the secret's name, e.g. haflow/prod/slack-webhook-url"),
    ("alert-receiver-secret-name", "observability:\n  alerts: {pagerduty_routing_key_secret: 'routing key!'}\n",
     "observability.alerts.pagerduty_routing_key_secret", "not a Secrets Manager secret name"),
    ("misspelt-alert-receiver", "observability:\n  alerts: {slack_webhook_secret: haflow/slack}\n",
     "observability.alerts.slack_webhook_secret", "did you mean 'slack_webhook_url_secret'?"),
    ("secrets-refresh-in-days", "secrets: {refresh_interval: 1d}\n",
     "secrets.refresh_interval", "write seconds, minutes or hours, e.g. 15m or 1h"),
    ("work-pool-name", "prefect:\n  worker: {work_pool: K8s Pool}\n",
     "prefect.worker.work_pool", "lowercase letters, digits and hyphens"),
]


def _overlay(extra: str) -> str:
    """dev.yaml with ``extra`` replacing any platform section of the same name."""
    sections = {line.split(":")[0] for line in extra.splitlines() if line and not line.startswith(" ")}
    kept, skipping = [], False
    for line in DEV.splitlines(keepends=True):
        top = line[:1] not in (" ", "#", "\n", "-") and ":" in line
        if top:
            skipping = line.split(":")[0] in sections
        if not skipping:
            kept.append(line)
    return "".join(kept) + extra


@pytest.mark.parametrize(("extra", "path", "fragment"), [case[1:] for case in BAD_PLATFORM_OVERLAYS],
                         ids=[case[0] for case in BAD_PLATFORM_OVERLAYS])
def test_bad_platform_overlay_names_path_value_and_fix(tmp_path: Path, extra: str, path: str, fragment: str) -> None:
    issue = issues_at(config_dir_with(tmp_path, {"dev.yaml": _overlay(extra)}), "dev", path)[0]
    assert issue.file.endswith("environments/dev.yaml")
    assert fragment in str(issue)
    assert "; " in str(issue)


def test_gpu_with_a_gpu_node_pool_is_accepted(tmp_path: Path) -> None:
    extra = "model_api: {gpu_count: 1}\neks:\n  gpu_node_pool: {enabled: true}\n"
    config_dir = config_dir_with(tmp_path, {"dev.yaml": _overlay(extra)})
    (env,) = load_environments(["dev"], config_dir)
    assert env.model_api.gpu_count == 1


def test_left_out_platform_sections_take_the_documented_defaults(environments: dict[str, Environment]) -> None:
    document = environments["dev"].model_dump()
    for section in ("ingress", "prefect", "model_api", "observability", "secrets"):
        document.pop(section)
    env = Environment.model_validate(document)
    assert env.prefect.server.replicas == 2
    assert env.prefect.worker.replicas == 2
    assert env.ingress.controller_replicas == 2
    assert env.model_api.canary.enabled is False
    assert env.model_api.gpu_count == 0


def test_prod_runs_three_of_everything_user_facing(environments: dict[str, Environment]) -> None:
    prod = environments["prod"]
    assert prod.ingress.controller_replicas == 3
    assert prod.prefect.server.replicas == 3
    assert prod.model_api.replicas == 3
    assert prod.model_api.autoscaling.min_replicas >= prod.model_api.pdb_min_available + 1


@pytest.mark.parametrize(("path", "lines"), [
    ("model_api.image_digest", "  image_digest: sha256:ABC\n"),
    ("model_api.canary.image_digest", "  canary:\n    image_digest: 1f0f50f06acaceb0f5670d2c8a658a599affe7b0\n"),
])
def test_a_malformed_image_digest_names_file_key_value_and_form(tmp_path: Path, path: str, lines: str) -> None:
    dev = (CONFIG_DIR / "dev.yaml").read_text(encoding="utf-8")
    assert dev.count("\nmodel_api:\n") == 1 and "\n  canary:" not in dev
    text = dev.replace("\nmodel_api:\n", "\nmodel_api:\n" + lines)
    [issue] = issues_at(config_dir_with(tmp_path, {"dev.yaml": text}), "dev", path)
    message = str(issue)
    assert issue.file.endswith("environments/dev.yaml"), message
    assert f"{path} = " in message and "not an image digest" in message and "64 lower-case hex digits" in message
