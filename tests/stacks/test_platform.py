"""Properties of every environment's synthesized <env>-platform stack (from the session synth).

helm_release values are YAML strings inside the JSON; they are parsed here. Foundation values
appear as cross-stack references: ${data.terraform_remote_state.cross-stack-reference-input-
<env>-foundation.outputs.cross-stack-output-<resource type><logical id><attribute>}.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
import yaml

from haflow import contract, facts
from haflow.config import Environment
from haflow.constructs import eks, gpu, model_api, prefect, reloader, trust
from haflow.constructs.helm import ALL_CHARTS
from tests.conftest import ENVIRONMENT_NAMES, resources
from tests.constructs.platform_fixtures import load_default_values, load_schema, unknown_keys

StackJson = dict[str, Any]
EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
# A credential-looking key with a literal value is a secret in the plan and the state.
# (Keys naming where a secret is, like existingSecret or secretKey, are fine.)
SECRET_KEY = re.compile(r"(password|passwd|token|authstring|apikey|secretaccesskey)$")
CREDENTIAL_IN_URL = re.compile(r"://[^/\s:@{]+:[^@\s{]+@")
PARAMS = pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)


def platform(synthesized: dict[str, StackJson], env_name: str) -> StackJson:
    return synthesized[f"{env_name}-platform"]


def foundation_ref(env_name: str, rtype: str, attribute: str) -> re.Pattern[str]:
    """A cross-stack reference to ``attribute`` of a ``rtype`` resource of the env's foundation."""
    return re.compile(
        r"\$\{data\.terraform_remote_state\.cross-stack-reference-input-"
        + re.escape(f"{env_name}-foundation")
        + r"\.outputs\.cross-stack-output-"
        + re.escape(rtype)
        + r"[\w-]*"
        + re.escape(attribute)
        + r"\}"
    )


def releases(stack: StackJson) -> dict[str, dict[str, Any]]:
    """helm_release bodies by release name."""
    return {body["name"]: body for body in resources(stack, "helm_release").values()}


def values(stack: StackJson, release_name: str) -> dict[str, Any]:
    (text,) = releases(stack)[release_name]["values"]
    parsed: dict[str, Any] = yaml.safe_load(text)
    return parsed


def only(stack: StackJson, rtype: str, name: str) -> dict[str, Any]:
    (body,) = [b for b in resources(stack, rtype).values() if b["metadata"]["name"] == name]
    return body


# Providers and releases ----------------------------------------------------------------------


@PARAMS
def test_providers_reach_the_foundation_cluster_with_exec_tokens(synthesized: dict[str, StackJson], env_name: str) -> None:
    stack = platform(synthesized, env_name)
    helm_cluster = stack["provider"]["helm"][0]["kubernetes"]
    (kubernetes,) = stack["provider"]["kubernetes"]
    exec_blocks = [helm_cluster["exec"], *kubernetes["exec"]]
    for cluster in (helm_cluster, kubernetes):
        assert "token" not in cluster
        assert foundation_ref(env_name, "aws_eks_cluster", "endpoint").fullmatch(cluster["host"])
        assert cluster["cluster_ca_certificate"].startswith("${base64decode(data.terraform_remote_state.")
    for block in exec_blocks:
        assert block["command"] == "aws"
        assert block["args"][:2] == ["eks", "get-token"]
        assert foundation_ref(env_name, "aws_eks_cluster", "name").fullmatch(block["args"][3])


@PARAMS
def test_every_chart_is_pinned_with_its_repository(synthesized: dict[str, StackJson], env_name: str) -> None:
    pinned = {chart.name: chart for chart in ALL_CHARTS}
    for name, body in releases(platform(synthesized, env_name)).items():
        if body["chart"].startswith("assets/"):  # the local manifests chart, shipped with the stack
            assert name in ("synced-secrets", "network-policies", "ingress-nginx-scope", "prefect-database-bootstrap")
            continue
        chart = pinned[body["chart"]]
        assert (body["repository"], body["version"]) == (chart.repository, chart.version)
        assert EXACT_VERSION.match(body["version"])
        assert body["atomic"] is True


# Replicas, PDBs, HPAs -------------------------------------------------------------------------


@PARAMS
def test_ingress_controllers_are_replicated_spread_and_guarded(
    synthesized: dict[str, StackJson], environments: dict[str, Environment], env_name: str
) -> None:
    controller = values(platform(synthesized, env_name), "ingress-nginx")["controller"]
    expected = 3 if env_name == "prod" else 2
    assert controller["replicaCount"] == environments[env_name].ingress.controller_replicas >= expected
    assert 1 <= controller["minAvailable"] < controller["replicaCount"]
    assert controller["autoscaling"]["enabled"] is True
    assert controller["autoscaling"]["minReplicas"] >= controller["minAvailable"] + 1
    keys = {c["topologyKey"] for c in controller["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    service = controller["service"]
    assert service["externalTrafficPolicy"] == "Local"
    assert service["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert service["annotations"][
        "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"] == "true"
    assert controller["metrics"]["enabled"] is True


@PARAMS
def test_prefect_server_and_worker_are_ha_with_disruption_budgets(
    synthesized: dict[str, StackJson], env_name: str
) -> None:
    stack = platform(synthesized, env_name)
    server = values(stack, "prefect-server")
    worker = values(stack, "prefect-worker")["worker"]
    expected = 3 if env_name == "prod" else 2
    assert server["server"]["replicaCount"] >= expected
    assert server["server"].get("autoscaling", {}).get("enabled") is not True
    assert server["backgroundServices"]["runAsSeparateDeployment"] is True
    pdb = only(stack, "kubernetes_pod_disruption_budget_v1", "prefect-server-api")["spec"]
    assert 1 <= int(pdb["min_available"]) < server["server"]["replicaCount"]
    assert pdb["selector"]["match_labels"]["app.kubernetes.io/component"] == "server"
    assert worker["replicaCount"] >= expected
    assert 1 <= worker["podDisruptionBudget"]["minAvailable"] < worker["replicaCount"]


@PARAMS
def test_prefect_background_services_have_a_disruption_budget(
    synthesized: dict[str, StackJson], environments: dict[str, Environment], env_name: str
) -> None:
    stack = platform(synthesized, env_name)
    pdb = only(stack, "kubernetes_pod_disruption_budget_v1", "prefect-server-background-services")
    assert pdb["metadata"]["namespace"] == prefect.SERVER_NAMESPACE
    assert pdb["spec"]["selector"]["match_labels"] == prefect.BACKGROUND_SERVICES_LABELS
    replicas = environments[env_name].prefect.background_services_replicas
    assert 1 <= int(pdb["spec"]["min_available"]) < replicas


@PARAMS
def test_model_api_replicas_pdb_and_hpa_agree(
    synthesized: dict[str, StackJson], environments: dict[str, Environment], env_name: str
) -> None:
    stack = platform(synthesized, env_name)
    config = environments[env_name].model_api
    deployment = only(stack, "kubernetes_deployment_v1", model_api.NAME)
    replicas = int(deployment["spec"]["replicas"])
    assert replicas == config.replicas >= (3 if env_name == "prod" else 2)
    assert deployment["lifecycle"]["ignore_changes"] == ["spec[0].replicas"]
    pdb = only(stack, "kubernetes_pod_disruption_budget_v1", model_api.NAME)["spec"]
    assert 1 <= int(pdb["min_available"]) < replicas
    assert pdb["selector"]["match_labels"] == deployment["spec"]["selector"]["match_labels"]
    hpa = only(stack, "kubernetes_horizontal_pod_autoscaler_v2", model_api.NAME)["spec"]
    assert hpa["scale_target_ref"] == {"api_version": "apps/v1", "kind": "Deployment", "name": model_api.NAME}
    assert hpa["min_replicas"] >= int(pdb["min_available"]) + 1
    assert hpa["min_replicas"] <= replicas <= hpa["max_replicas"]
    assert {metric["resource"]["name"] for metric in hpa["metric"]} == {"cpu", "memory"}


# Probes, spread, security -----------------------------------------------------------------------


@PARAMS
def test_model_api_pods_have_probes_spread_and_a_locked_down_context(
    synthesized: dict[str, StackJson], env_name: str
) -> None:
    stack = platform(synthesized, env_name)
    for deployment in resources(stack, "kubernetes_deployment_v1").values():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["container"]
        assert container["liveness_probe"]["http_get"]["path"] == "/health"
        assert container["readiness_probe"]["http_get"]["path"] == "/ready"
        assert container["startup_probe"]["http_get"]["path"] == "/health"
        assert set(container["resources"]["requests"]) >= {"cpu", "memory"}
        assert set(container["resources"]["limits"]) >= {"cpu", "memory"}
        assert container["security_context"]["read_only_root_filesystem"] is True
        assert container["security_context"]["allow_privilege_escalation"] is False
        assert pod["security_context"]["run_as_non_root"] is True
        spread = {c["topology_key"]: c["when_unsatisfiable"] for c in pod["topology_spread_constraint"]}
        assert spread == {"topology.kubernetes.io/zone": "DoNotSchedule", "kubernetes.io/hostname": "ScheduleAnyway"}


@PARAMS
def test_charted_workloads_keep_their_probes_and_spread(synthesized: dict[str, StackJson], env_name: str) -> None:
    stack = platform(synthesized, env_name)
    server = values(stack, "prefect-server")["server"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert server.get(probe, {}).get("enabled", True) is True
    assert values(stack, "prefect-worker")["worker"]["livenessProbe"]["enabled"] is True
    for release in ("prefect-server", "prefect-worker"):
        section = values(stack, release)["server" if release == "prefect-server" else "worker"]
        terms = section["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        assert {t["podAffinityTerm"]["topologyKey"] for t in terms} == {
            "topology.kubernetes.io/zone", "kubernetes.io/hostname"}


# Prefect wiring ---------------------------------------------------------------------------------


def synced_secret(stack: StackJson, namespace: str, name: str) -> dict[str, Any]:
    objects = values(stack, "synced-secrets")["objects"]
    (found,) = [o for o in objects if o["kind"] == "ExternalSecret" and o["metadata"] == {
        "name": name, "namespace": namespace}]
    return found


@PARAMS
def test_prefect_uses_aurora_through_an_eso_built_secret(synthesized: dict[str, StackJson], env_name: str) -> None:
    stack = platform(synthesized, env_name)
    server = values(stack, "prefect-server")
    assert server["postgresql"]["enabled"] is False
    assert server["secret"]["create"] is False
    database = server["externalDatabase"]
    assert set(database) == {"existingSecret", "connectionStringSecretKey"}
    secret = synced_secret(stack, prefect.SERVER_NAMESPACE, database["existingSecret"])
    url = secret["spec"]["target"]["template"]["data"][database["connectionStringSecretKey"]]
    assert url.startswith("postgresql+asyncpg://{{ .username | urlquery }}:{{ .password | urlquery }}@")
    assert foundation_ref(env_name, "aws_rds_cluster", "endpoint").search(url)
    keys = {d["remoteRef"]["key"] for d in secret["spec"]["data"]}
    (key,) = keys
    # Prefect's own role (haflow/constructs/prefect_credentials.py), never the master secret
    assert foundation_ref(env_name, "aws_secretsmanager_secret", "arn").search(key)
    assert "prefect-credentials_database-secret" in key and "master" not in key, key
    assert {d["remoteRef"]["property"] for d in secret["spec"]["data"]} == {"username", "password"}
    everywhere = {e["name"]: e["value"] for e in server["global"]["prefect"]["env"]}
    assert everywhere["PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_ENABLED"] == "true"
    assert server["migrations"]["enabled"] is True


@PARAMS
def test_the_rds_ca_bundle_is_fetched_checked_and_mounted_from_a_config_map(
    synthesized: dict[str, StackJson], env_name: str
) -> None:
    stack = platform(synthesized, env_name)
    (fetch,) = stack["data"]["http"].values()
    assert fetch["url"] == facts.RDS_CA_BUNDLE.url
    [check] = fetch["lifecycle"]["postcondition"]
    assert "self.status_code == 200" in check["condition"]
    assert facts.PEM_CERTIFICATE_HEADER in check["condition"]
    assert stack["terraform"]["required_providers"]["http"]["source"] == "hashicorp/http"
    config_map = only(stack, "kubernetes_config_map_v1", trust.RDS_CA_CONFIG_MAP)
    assert config_map["metadata"]["namespace"] == prefect.SERVER_NAMESPACE
    (key, body) = next(iter(config_map["data"].items()))
    assert key == trust.RDS_CA_BUNDLE_KEY
    assert re.fullmatch(r"\$\{data\.http\.[\w-]+\.response_body\}", body)
    server = releases(stack)["prefect-server"]
    assert any("kubernetes_config_map_v1" in dependency for dependency in server["depends_on"])
    everywhere = {e["name"]: e["value"] for e in values(stack, "prefect-server")["global"]["prefect"]["env"]}
    assert everywhere["PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CA_FILE"] == (
        f"{trust.RDS_CA_MOUNT_PATH}/{trust.RDS_CA_BUNDLE_KEY}")


@PARAMS
def test_a_rotated_database_password_reaches_the_pods_within_a_minute(
    synthesized: dict[str, StackJson], env_name: str
) -> None:
    stack = platform(synthesized, env_name)
    secret = synced_secret(stack, prefect.SERVER_NAMESPACE, prefect.DATABASE_SECRET)
    assert secret["spec"]["refreshInterval"] == "1m"
    assert "reloader" in releases(stack)
    server = releases(stack)["prefect-server"]
    assert any(dependency.startswith("helm_release.reloader") for dependency in server["depends_on"])
    annotations = values(stack, "prefect-server")["commonAnnotations"]
    assert prefect.DATABASE_SECRET in annotations[reloader.RELOADER_SECRET_ANNOTATION].split(",")


@PARAMS
def test_prefect_uses_redis_over_tls_with_a_synced_password(synthesized: dict[str, StackJson], env_name: str) -> None:
    stack = platform(synthesized, env_name)
    messaging = values(stack, "prefect-server")["backgroundServices"]["messaging"]
    assert messaging["broker"] == messaging["cache"] == "prefect_redis.messaging"
    redis = messaging["redis"]
    assert foundation_ref(env_name, "aws_elasticache_replication_group", "primary_endpoint_address").fullmatch(
        redis["host"])
    assert redis["ssl"] is True
    assert "password" not in redis
    secret = synced_secret(stack, prefect.SERVER_NAMESPACE, redis["existingSecret"])
    template = secret["spec"]["target"]["template"]["data"]
    assert redis["existingSecretPasswordKey"] in template
    assert messaging["docket"]["existingSecret"] == redis["existingSecret"]
    assert template[messaging["docket"]["existingSecretKey"]].startswith("rediss://")
    (data,) = secret["spec"]["data"]
    assert foundation_ref(env_name, "aws_secretsmanager_secret", "arn").fullmatch(data["remoteRef"]["key"])


@PARAMS
def test_worker_polls_the_in_cluster_api_and_holds_no_aws_role(synthesized: dict[str, StackJson], env_name: str) -> None:
    """The worker only creates Jobs: the flows' IAM role belongs to the flow-run account (HA-SEC-060..062)."""
    stack = platform(synthesized, env_name)
    worker = values(stack, "prefect-worker")
    assert worker["worker"]["apiConfig"] == "selfHostedServer"
    assert worker["worker"]["selfHostedServerApiConfig"]["apiUrl"] == "http://prefect-server.prefect.svc.cluster.local:4200/api"
    assert worker["worker"]["config"]["type"] == "kubernetes"
    assert contract.IRSA_ANNOTATION not in (worker.get("serviceAccount", {}).get("annotations") or {})


# Cluster services -------------------------------------------------------------------------------


@PARAMS
def test_monitoring_alerts_and_logs(synthesized: dict[str, StackJson], env_name: str) -> None:
    stack = platform(synthesized, env_name)
    assert "metrics-server" in releases(stack)
    rules = values(stack, "kube-prometheus-stack")["additionalPrometheusRulesMap"]["haflow"]["groups"]
    alerts = {rule["alert"] for group in rules for rule in group["rules"]}
    assert alerts == {"PodCrashLooping", "PodRestartingOften", "ModelApiHighErrorRate", "ModelApiHighLatencyP95",
                      "ModelApiRequestMetricsAbsent", "PrefectFlowRunFailed"}
    volume = values(stack, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]["storageSpec"]
    storage_class = only(stack, "kubernetes_storage_class_v1", volume["volumeClaimTemplate"]["spec"]["storageClassName"])
    assert storage_class["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert storage_class["parameters"]["encrypted"] == "true"
    outputs = values(stack, "fluent-bit")["config"]["outputs"]
    assert "Name cloudwatch_logs" in outputs
    assert foundation_ref(env_name, "aws_cloudwatch_log_group", "name").search(outputs)


@PARAMS
def test_cluster_autoscaler_discovers_and_balances_node_groups(
    synthesized: dict[str, StackJson], env_name: str
) -> None:
    ca = values(platform(synthesized, env_name), "cluster-autoscaler")
    assert foundation_ref(env_name, "aws_eks_cluster", "name").fullmatch(ca["autoDiscovery"]["clusterName"])
    assert ca["extraArgs"]["balance-similar-node-groups"] is True
    assert foundation_ref(env_name, "aws_iam_role", "arn").fullmatch(
        ca["rbac"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"])


def test_only_staging_runs_a_weighted_canary(synthesized: dict[str, StackJson]) -> None:
    for env_name in ENVIRONMENT_NAMES:
        ingresses = {b["metadata"]["name"]: b for b in resources(platform(synthesized, env_name), "kubernetes_ingress_v1").values()}
        if env_name == "staging":
            canary = ingresses["model-api-canary"]["metadata"]["annotations"]
            assert canary == {"nginx.ingress.kubernetes.io/canary": "true", "nginx.ingress.kubernetes.io/canary-weight": "10"}
        else:
            assert set(ingresses) == {"model-api"}
        for ingress in ingresses.values():
            assert ingress["spec"]["ingress_class_name"] == "nginx"


# No literal secret --------------------------------------------------------------------------------


def literal_secrets(node: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            normalized = str(key).lower().replace("_", "").replace("-", "")
            if isinstance(value, str) and SECRET_KEY.search(normalized) and value and "{{" not in value:
                found.append(where)
            found.extend(literal_secrets(value, where))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(literal_secrets(value, f"{path}[{index}]"))
    elif isinstance(node, str):
        if CREDENTIAL_IN_URL.search(node):
            found.append(path)
        if "\n" in node and ":" in node:  # helm values: look inside the YAML too
            try:
                parsed = yaml.safe_load(node)
            except yaml.YAMLError:
                parsed = None
            if isinstance(parsed, dict | list):
                found.extend(literal_secrets(parsed, path + "<yaml>"))
    return found


@PARAMS
def test_no_literal_secret_anywhere(synthesized: dict[str, StackJson], env_name: str) -> None:
    stack = platform(synthesized, env_name)
    assert literal_secrets(stack) == []
    for body in resources(stack, "helm_release").values():
        assert "set_sensitive" not in body and "set" not in body
    text = json.dumps(stack)
    for default in ("prefect-rocks", "admin:pass", "prom-operator"):
        assert default not in text


def test_the_secret_scan_finds_a_planted_password() -> None:
    planted = {"resource": {"helm_release": {"x": {"values": ["server:\n  basicAuth:\n    authString: admin:hunter2\n"]}}}}
    assert literal_secrets(planted) == [".resource.helm_release.x.values[0]<yaml>.server.basicAuth.authString"]
    assert literal_secrets({"url": "postgresql://prefect:hunter2@db:5432/prefect"}) == [".url"]


# Chart contracts on the synthesized values -------------------------------------------------------


@PARAMS
def test_synthesized_prefect_values_satisfy_the_chart_schemas(synthesized: dict[str, StackJson], env_name: str) -> None:
    stack = platform(synthesized, env_name)
    for chart in ("prefect-server", "prefect-worker"):
        errors = [e.message for e in jsonschema.Draft7Validator(load_schema(chart)).iter_errors(values(stack, chart))]
        assert errors == [], chart


@PARAMS
def test_synthesized_ingress_values_use_only_chart_keys(synthesized: dict[str, StackJson], env_name: str) -> None:
    stack = platform(synthesized, env_name)
    assert unknown_keys(values(stack, "ingress-nginx"), load_default_values("ingress-nginx")) == []


@PARAMS
def test_gpu_nodes_get_the_device_plugin_exactly_when_there_is_a_gpu_pool(
    synthesized: dict[str, StackJson], environments: dict[str, Environment], env_name: str
) -> None:
    stack = platform(synthesized, env_name)
    if not environments[env_name].eks.gpu_node_pool.enabled:
        assert gpu.RELEASE_NAME not in releases(stack)
        assert environments[env_name].model_api.gpu_count == 0
        return
    plugin = values(stack, gpu.RELEASE_NAME)
    assert plugin["nodeSelector"] == {eks.POOL_LABEL: "gpu"}
    assert {"key": eks.GPU_TAINT["key"], "operator": "Exists", "effect": "NoSchedule"} in plugin["tolerations"]
    (deployment,) = [d for d in resources(stack, "kubernetes_deployment_v1").values()
                     if d["metadata"]["name"] == model_api.NAME]
    plugin_address = next(
        f"helm_release.{logical_id}" for logical_id, body in resources(stack, "helm_release").items()
        if body["name"] == gpu.RELEASE_NAME
    )
    assert plugin_address in deployment["depends_on"]


def _ingress_nginx_release(stack: StackJson) -> str:
    (release,) = [f"helm_release.{logical_id}" for logical_id, body in resources(stack, "helm_release").items()
                  if body["chart"] == "ingress-nginx"]
    return release


def _ingresses_waiting_for(stack: StackJson, release: str) -> dict[str, bool]:
    return {logical_id: release in body.get("depends_on", [])
            for logical_id, body in resources(stack, "kubernetes_ingress_v1").items()}


def test_every_ingress_waits_for_the_ingress_nginx_release(synthesized: dict[str, StackJson]) -> None:
    """ingress-nginx's admission webhook (controller.admissionWebhooks, failurePolicy Fail) refuses every
    Ingress while the controller does not serve it, so an Ingress created beside the release fails the apply
    (issue 18, fix 10). Every platform stack, DR included."""
    stacks = {name: stack for name, stack in synthesized.items() if resources(stack, "kubernetes_ingress_v1")}
    assert {f"{env}-platform" for env in ENVIRONMENT_NAMES} <= set(stacks)
    for name, stack in stacks.items():
        waiting = _ingresses_waiting_for(stack, _ingress_nginx_release(stack))
        assert all(waiting.values()), (name, waiting)


def test_the_canary_ingress_waits_for_the_ingress_nginx_release(synth_variant: Any) -> None:
    stack = synth_variant("prod", {"model_api": {"canary": {"enabled": True}}})["prod-platform"]
    waiting = _ingresses_waiting_for(stack, _ingress_nginx_release(stack))
    assert len(waiting) == 2 and all(waiting.values()), waiting


def test_the_dr_platform_installs_prefect_only_once_the_secondary_serves(
    synthesized: dict[str, StackJson], synth_variant: Any
) -> None:
    """Before promotion the secondary Aurora cluster is read-only: no Prefect release (docs/prefect-install-order.md).
    The failover's dr.serving: true installs both, and changes nothing in the DR foundation's outputs."""
    names = {body["name"] for body in releases(synthesized["prod-dr-platform"]).values()}
    assert not names & {prefect.SERVER_RELEASE, prefect.WORKER_RELEASE}, names
    assert {prefect.SERVER_RELEASE, prefect.WORKER_RELEASE} <= {
        body["name"] for body in releases(synthesized["prod-platform"]).values()}
    promoted = synth_variant("prod", {"dr": {"serving": True}})
    names = {body["name"] for body in releases(promoted["prod-dr-platform"]).values()}
    assert {prefect.SERVER_RELEASE, prefect.WORKER_RELEASE} <= names
    assert promoted["prod-dr-foundation"]["output"] == synthesized["prod-dr-foundation"]["output"]
