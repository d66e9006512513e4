"""Least privilege in the cluster, judged on the objects Helm's engine renders from the pinned charts.

Each fault is put back into a copy of the synthesized stacks (the way the platform was before
docs/security-cluster.md) and rendered; the rule fails on it and passes on the platform as synthesized.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from haflow import contract
from haflow.config import Environment
from haflow.merge import deep_merge
from haflow.render import RenderResult, render_environment
from haflow.rules import evaluate
from haflow.rules.engine import Finding
from haflow.rules.rendered import evaluate_rendered, pod_template_spec
from tests.render.conftest import Stacks, about, edit_values, resource

Variant = Callable[..., tuple[RenderResult, list[Finding]]]
WORK_POOL_TEMPLATE = "ConfigMap/prefect-flows/prefect-worker-base-job-template"
WORKER_ACCOUNT = "ServiceAccount/prefect-flows/prefect-worker"
FLOW_RUN_ACCOUNT = "ServiceAccount/prefect-flows/prefect-flow-run"


def _template_change(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def edit(values: dict[str, Any]) -> None:
        holder = values["worker"]["config"]["baseJobTemplate"]
        template = json.loads(holder["configuration"])
        change(template)
        holder["configuration"] = json.dumps(template)
    return edit


def _pod(template: dict[str, Any]) -> dict[str, Any]:
    return template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def test_the_platform_passes_the_cluster_least_privilege_rules(rendered: dict[str, RenderResult],
                                                                 environments: dict[str, Environment]) -> None:
    for name, result in rendered.items():
        findings = evaluate_rendered(result, environments[name])
        assert [f for f in findings if f.rule_id in ("HA-SEC-060", "HA-SEC-061")] == [], name
    config_map = rendered["prod"].find("ConfigMap", "prefect-worker-base-job-template", "prefect-flows")
    assert config_map is not None
    template = json.loads(config_map.manifest["data"]["baseJobTemplate.json"])
    assert _pod(template)["serviceAccountName"] == contract.PREFECT_FLOW_RUN_SERVICE_ACCOUNT_NAME


def test_flow_runs_chosen_by_a_template_variable_fail(render_variant: Variant) -> None:
    def as_variable(template: dict[str, Any]) -> None:
        template["variables"]["properties"]["service_account_name"] = {"type": "string",
                                                                       "default": "prefect-flow-run"}
        _pod(template)["serviceAccountName"] = "{{ service_account_name }}"

    _, findings = render_variant("prod", edit_values("prod", "prefect-worker", _template_change(as_variable)))
    messages = [f.message for f in about(findings, "HA-SEC-060", WORK_POOL_TEMPLATE)]
    assert any("template variable '{{ service_account_name }}'" in m for m in messages), messages
    assert any("declares the job variable 'service_account_name'" in m for m in messages), messages


def test_flow_runs_as_the_worker_fail(render_variant: Variant) -> None:
    def as_worker(template: dict[str, Any]) -> None:
        _pod(template)["serviceAccountName"] = contract.PREFECT_WORKER_SERVICE_ACCOUNT_NAME

    _, findings = render_variant("prod", edit_values("prod", "prefect-worker", _template_change(as_worker)))
    [finding] = about(findings, "HA-SEC-060", WORK_POOL_TEMPLATE)
    assert "the account the worker itself runs as" in finding.message


def test_a_worker_holding_the_flow_role_fails(render_variant: Variant) -> None:
    def irsa(values: dict[str, Any]) -> None:
        values["serviceAccount"]["annotations"] = {contract.IRSA_ANNOTATION: "arn:aws:iam::123456789012:role/x"}

    _, findings = render_variant("prod", edit_values("prod", "prefect-worker", irsa))
    [finding] = about(findings, "HA-SEC-061", WORKER_ACCOUNT)
    assert contract.IRSA_ANNOTATION in finding.message


def test_a_flow_run_account_with_an_api_token_or_rbac_fails(render_variant: Variant) -> None:
    def token_and_binding(stacks: Stacks) -> None:
        resource(stacks, "prod-platform", "kubernetes_service_account_v1", "prefect_flow-run-account")[
            "automount_service_account_token"] = True

    def bound(values: dict[str, Any]) -> None:
        # The worker chart's RoleBinding names the flow runs' account instead of the worker's.
        values["serviceAccount"]["name"] = contract.PREFECT_FLOW_RUN_SERVICE_ACCOUNT_NAME
        values["serviceAccount"]["create"] = False

    _, findings = render_variant("prod", token_and_binding)
    [finding] = about(findings, "HA-SEC-061", FLOW_RUN_ACCOUNT)
    assert "automountServiceAccountToken is not false" in finding.message
    _, findings = render_variant("prod", edit_values("prod", "prefect-worker", bound))
    messages = [f.message for f in about(findings, "HA-SEC-061", FLOW_RUN_ACCOUNT)]
    assert any("bound by RoleBinding/prefect-flows/prefect-worker" in m for m in messages), messages


def test_an_iam_role_trusting_the_worker_fails(synthesized: Stacks, environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    assert [f for f in evaluate(synthesized, env).findings if f.rule_id == "HA-SEC-062"] == []
    stacks = json.loads(json.dumps({name: synthesized[name] for name in env.stack_names if name in synthesized}))
    role = resource(stacks, "prod-foundation", "aws_iam_role", "prefect-flow-run-role")
    worker = contract.prefect_worker_service_account(env.prefect.flow_run_namespace).subject
    role["assume_role_policy"] = role["assume_role_policy"].replace(
        contract.prefect_flow_run_service_account(env.prefect.flow_run_namespace).subject, worker)
    [finding] = [f for f in evaluate(stacks, env).findings if f.rule_id == "HA-SEC-062"]
    assert finding.address.startswith("aws_iam_role.prefect-flow-run-role")
    assert worker in finding.message


# --- cluster-wide reach ----------------------------------------------------------------------------------

INGRESS_CONTROLLER = "Deployment/ingress-nginx/ingress-nginx-controller"
RELOADER = "Deployment/reloader/reloader-reloader"
ESO_CONTROLLER = "Deployment/external-secrets/external-secrets"


def test_the_scoped_components_pass(rendered: dict[str, RenderResult], environments: dict[str, Environment]) -> None:
    for name, result in rendered.items():
        findings = evaluate_rendered(result, environments[name])
        assert [f for f in findings if f.rule_id in ("HA-SEC-063", "HA-SEC-064", "HA-SEC-065")] == [], name
    controller = rendered["prod"].find("Deployment", "ingress-nginx-controller", "ingress-nginx")
    assert controller is not None
    assert "--watch-namespace=model-api" in controller.manifest["spec"]["template"]["spec"]["containers"][0]["args"]


def test_an_unscoped_ingress_controller_fails(render_variant: Variant) -> None:
    def unscoped(values: dict[str, Any]) -> None:
        del values["controller"]["scope"]
        del values["rbac"]

    _, findings = render_variant("prod", edit_values("prod", "ingress-nginx", unscoped))
    messages = [f.message for f in about(findings, "HA-SEC-063", INGRESS_CONTROLLER)]
    assert any("no --watch-namespace" in m for m in messages), messages
    assert any("ClusterRole/ingress-nginx grants list/watch on secrets in every namespace" in m
               for m in messages), messages


def test_a_scoped_ingress_controller_keeps_the_charts_secret_reading_cluster_role(render_variant: Variant) -> None:
    """The chart's answer to "does scoping the controller scope its RBAC": no, only rbac.scope drops the
    ClusterRole that lists every Secret (templates/clusterrole.yaml at 4.15.1)."""
    def controller_scope_only(values: dict[str, Any]) -> None:
        del values["rbac"]

    _, findings = render_variant("prod", edit_values("prod", "ingress-nginx", controller_scope_only))
    [finding] = about(findings, "HA-SEC-063", INGRESS_CONTROLLER)
    assert "grants list/watch on secrets in every namespace" in finding.message


def test_a_global_reloader_fails(render_variant: Variant) -> None:
    def global_watch(values: dict[str, Any]) -> None:
        values["reloader"]["watchGlobally"] = True
        values["reloader"]["namespaces"] = []

    _, findings = render_variant("prod", edit_values("prod", "reloader", global_watch))
    messages = [f.message for f in about(findings, "HA-SEC-064", RELOADER)]
    assert any("no --namespaces" in m for m in messages), messages
    assert any("on deployments in every namespace" in m for m in messages), messages


def test_a_reloader_missing_the_prefect_namespace_fails(render_variant: Variant) -> None:
    def elsewhere(values: dict[str, Any]) -> None:
        values["reloader"]["namespaces"] = ["model-api"]

    _, findings = render_variant("prod", edit_values("prod", "reloader", elsewhere))
    [finding] = about(findings, "HA-SEC-064", RELOADER)
    assert "does not watch" in finding.message and "prefect," in finding.message


def test_external_secrets_serving_namespaced_stores_fails(render_variant: Variant) -> None:
    def namespaced_stores(values: dict[str, Any]) -> None:
        for key in ("processSecretStore", "processPushSecret", "processClusterPushSecret"):
            values[key] = True
        values["crds"] = {}

    _, findings = render_variant("prod", edit_values("prod", "external-secrets", namespaced_stores))
    messages = [f.message for f in about(findings, "HA-SEC-065", ESO_CONTROLLER)]
    assert any("--enable-secret-store-reconciler is not false" in m for m in messages), messages
    releases = [f.message for f in about(findings, "HA-SEC-065") if f.address.startswith("helm_release.")]
    assert any("crds.createSecretStore is not false" in m for m in releases), releases


def _extra_objects(objects: list[dict[str, Any]]) -> Callable[[Stacks], None]:
    """A mutation adding ``objects`` to prod's external-secrets release (its chart renders extraObjects as given)."""
    def add(values: dict[str, Any]) -> None:
        values["extraObjects"] = objects
    return edit_values("prod", "external-secrets", add)


KUBE_STATE_METRICS = "StatefulSet/monitoring/kube-prometheus-stack-kube-state-metrics"  # autosharding


def test_only_the_accepted_accounts_read_secrets_in_every_namespace(rendered: dict[str, RenderResult],
                                                                    environments: dict[str, Environment]) -> None:
    for name, result in rendered.items():
        assert about(evaluate_rendered(result, environments[name]), "HA-SEC-072") == [], name
        role = result.find("ClusterRole", "kube-prometheus-stack-kube-state-metrics")
        assert role is not None
        assert not [rule for rule in role.manifest["rules"] if "secrets" in rule["resources"]], name


def test_kube_state_metrics_with_the_charts_collectors_fails(render_variant: Variant) -> None:
    """The chart's default collectors include secrets: list and watch on every Secret of the cluster."""
    def chart_default(values: dict[str, Any]) -> None:
        del values["kube-state-metrics"]["collectors"]

    _, findings = render_variant("prod", edit_values("prod", "kube-prometheus-stack", chart_default))
    [finding] = about(findings, "HA-SEC-072", KUBE_STATE_METRICS)
    assert finding.message.endswith("-> ClusterRole/kube-prometheus-stack-kube-state-metrics grants list/watch on "
                                    "secrets in every namespace"), finding.message


def test_the_collectors_are_the_charts_own_without_secrets() -> None:
    """The list haflow sends replaces the chart's: it must be the pinned chart's default minus secrets, so a chart
    bump that adds a collector shows here."""
    from haflow.constructs.observability import KUBE_STATE_METRICS_COLLECTORS
    from haflow.render.charts import load_lock, read_package, search_path

    [entry] = [entry for entry in load_lock().files if entry.chart == "kube-prometheus-stack"]
    packages = [directory / entry.file for directory in search_path(None) if (directory / entry.file).is_file()]
    assert packages, "the pinned kube-prometheus-stack package (the render tests' fixture found it)"
    defaults = read_package(packages[0]).default_values["kube-state-metrics"]["collectors"]
    assert "secrets" in defaults
    assert list(KUBE_STATE_METRICS_COLLECTORS) == [c for c in defaults if c != "secrets"]


def test_a_built_in_role_is_judged_by_its_rules_an_unknown_one_is_reported(render_variant: Variant) -> None:
    """metrics-server's binding to the API server's system:auth-delegator is judged by that role's known rules (it
    passes); a binding to a role the platform neither renders nor knows cannot be judged, and says so."""
    bind_unknown = _extra_objects([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "metrics-server-admin"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": "metrics-server", "namespace": "kube-system"}]}])
    _, findings = render_variant("prod", bind_unknown)
    [finding] = about(findings, "HA-SEC-072", "Deployment/kube-system/metrics-server")
    assert "ClusterRoleBinding/metrics-server-admin binds ClusterRole 'cluster-admin', which the platform does not " \
           "render: what it grants cannot be judged" in finding.message
    assert "auth-delegator" not in finding.message


ESO_CLUSTER_ROLE = "ClusterRole/external-secrets-controller"


def _token_rules(result: RenderResult) -> list[dict[str, Any]]:
    role = result.find("ClusterRole", "external-secrets-controller")
    assert role is not None
    return [rule for rule in role.manifest["rules"] if "serviceaccounts/token" in rule.get("resources", [])]


def test_no_component_may_mint_another_accounts_token(rendered: dict[str, RenderResult],
                                                      environments: dict[str, Environment]) -> None:
    for name, result in rendered.items():
        assert about(evaluate_rendered(result, environments[name]), "HA-SEC-071") == [], name
        assert _token_rules(result) == [], name


def test_external_secrets_with_the_charts_token_permission_fails(render_variant: Variant) -> None:
    """The chart's default: its controller's ClusterRole may create a token for every service account."""
    def chart_default(values: dict[str, Any]) -> None:
        del values["rbac"]

    result, findings = render_variant("prod", edit_values("prod", "external-secrets", chart_default))
    assert _token_rules(result) == [{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}]
    [finding] = about(findings, "HA-SEC-071", ESO_CLUSTER_ROLE)
    assert finding.level == "error"
    assert "may create a token for any namespace's service accounts (serviceaccounts/token: create)" in finding.message


def test_impersonation_and_wildcards_fail_named_accounts_pass(render_variant: Variant) -> None:
    """A Role that may impersonate, or create anything in the core group, fails; a token grant naming its account
    (the chart's documented scoping) passes."""
    extra_roles = _extra_objects([
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "impersonator", "namespace": "external-secrets"},
         "rules": [{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "wildcard"},
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "one-account", "namespace": "external-secrets"},
         "rules": [{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"],
                    "resourceNames": ["reader"]}]},
    ])
    _, findings = render_variant("prod", extra_roles)
    [impersonator] = about(findings, "HA-SEC-071", "Role/external-secrets/impersonator")
    assert "may impersonate namespace external-secrets's serviceaccounts" in impersonator.message
    messages = [f.message for f in about(findings, "HA-SEC-071", "ClusterRole/wildcard")]
    assert len(messages) == 2 and "may create a token" in messages[0] and "may impersonate" in messages[1], messages
    assert about(findings, "HA-SEC-071", "Role/external-secrets/one-account") == []


# --- images ---------------------------------------------------------------------------------------------

def test_every_sourced_digest_reaches_a_rendered_container(rendered: dict[str, RenderResult]) -> None:
    from haflow import images
    from haflow.rules.rendered import running_images

    running = {image for item in rendered["prod"].objects for _, image in running_images(item.manifest)}
    for pin in images.pins():
        if pin.digest is None:
            continue
        assert len(pin.digest) == len("sha256:") + 64 and pin.digest.startswith("sha256:"), pin
        assert any(image.startswith(pin.repository) and image.endswith("@" + pin.digest) for image in running), pin


def test_a_tag_only_image_is_reported(render_variant: Variant, rendered: dict[str, RenderResult],
                                      environments: dict[str, Environment]) -> None:
    assert about(evaluate_rendered(rendered["prod"], environments["prod"]), "HA-SEC-066", RELOADER) == []

    def tag_only(values: dict[str, Any]) -> None:
        del values["image"]

    _, findings = render_variant("prod", edit_values("prod", "reloader", tag_only))
    [finding] = about(findings, "HA-SEC-066", RELOADER)
    assert finding.level == "warning"
    assert "runs ghcr.io/stakater/reloader:v1.4.21 by tag only" in finding.message


OPERATOR = "Deployment/monitoring/kube-prometheus-stack-operator"
MODEL_API = "Deployment/model-api/model-api"
MODEL_API_CANARY = "Deployment/model-api/model-api-canary"
DIGEST = "sha256:" + "5" * 64
PROMETHEUS = "Prometheus/monitoring/kube-prometheus-stack-prometheus"


def _operator_images(sha: str) -> Callable[[dict[str, Any]], None]:
    def edit(values: dict[str, Any]) -> None:
        values["prometheus"]["prometheusSpec"]["image"]["sha"] = sha
        values["prometheusOperator"]["prometheusConfigReloader"]["image"]["sha"] = sha
    return edit


def test_the_pods_prometheus_operator_builds_are_judged_too(render_variant: Variant) -> None:
    """Prometheus' spec.image and the config reloader the operator injects (its --prometheus-config-reloader
    argument) run in pods no template renders: tag-only, each is named; with the chart's sha value, neither is."""
    _, findings = render_variant("prod", edit_values("prod", "kube-prometheus-stack", _operator_images("")))
    [finding] = about(findings, "HA-SEC-066", PROMETHEUS)
    assert finding.message.endswith("spec.image runs quay.io/prometheus/prometheus:v3.9.1 by tag only")
    assert any("the config reloader container 'kube-prometheus-stack' injects (--prometheus-config-reloader) runs "
               "quay.io/prometheus-operator/prometheus-config-reloader:v0.88.1 by tag only" in f.message
               for f in about(findings, "HA-SEC-066", OPERATOR)), about(findings, "HA-SEC-066", OPERATOR)

    result, findings = render_variant("prod", edit_values("prod", "kube-prometheus-stack",
                                                          _operator_images(DIGEST.removeprefix("sha256:"))))
    assert about(findings, "HA-SEC-066", PROMETHEUS) == []
    assert not any("config reloader" in f.message for f in about(findings, "HA-SEC-066", OPERATOR))
    prometheus = result.find("Prometheus", "kube-prometheus-stack-prometheus", "monitoring")
    assert prometheus is not None and prometheus.manifest["spec"]["image"].endswith(f"v3.9.1@{DIGEST}")


def test_model_apis_digest_reaches_the_pods_and_silences_the_tag_only_warning(
    synth_variant: Callable[[str, dict[str, Any]], Stacks], rendered: dict[str, RenderResult],
    environments: dict[str, Environment],
) -> None:
    """model_api.image_digest renders image:tag@digest (the canary on the stable tag inherits it); a canary of
    another tag without its own digest is still reported, as model-api is without one."""
    assert about(evaluate_rendered(rendered["prod"], environments["prod"]), "HA-SEC-066", MODEL_API)
    changes = {"model_api": {"image_digest": DIGEST, "canary": {"enabled": True}}}
    env = Environment.model_validate(deep_merge(environments["prod"].model_dump(), changes))
    result = render_environment(synth_variant("prod", changes), env, check_unread=False)
    images = {item.address: pod_template_spec(item.manifest)["containers"][0]["image"]
              for item in result.objects if item.address in (MODEL_API, MODEL_API_CANARY)}
    assert images == {MODEL_API: f"public.ecr.aws/haflow/model-api:1.0.0@{DIGEST}",
                      MODEL_API_CANARY: f"public.ecr.aws/haflow/model-api:1.0.0@{DIGEST}"}
    findings = evaluate_rendered(result, env)
    assert about(findings, "HA-SEC-066", MODEL_API) == [] == about(findings, "HA-SEC-066", MODEL_API_CANARY)

    changes = {"model_api": {"image_digest": DIGEST, "canary": {"enabled": True, "image_tag": "1.1.0"}}}
    env = Environment.model_validate(deep_merge(environments["prod"].model_dump(), changes))
    findings = evaluate_rendered(render_environment(synth_variant("prod", changes), env, check_unread=False), env)
    assert about(findings, "HA-SEC-066", MODEL_API) == []
    [finding] = about(findings, "HA-SEC-066", MODEL_API_CANARY)
    assert "runs public.ecr.aws/haflow/model-api:1.1.0 by tag only" in finding.message
    assert "model_api.canary.image_digest" in finding.fix


SYNCED_SECRETS = "external-secrets_synced-secrets"


def _edit_stores(change: Callable[[list[dict[str, Any]]], None]) -> Callable[[Stacks], None]:
    """A mutation of the synced-secrets release's objects (the stores and ExternalSecrets)."""
    def mutate(stacks: Stacks) -> None:
        body = resource(stacks, "prod-platform", "helm_release", SYNCED_SECRETS)
        values = yaml.safe_load(body["values"][0])
        change(values["objects"])
        body["values"] = [yaml.safe_dump(values)]
    return mutate


def _store(objects: list[dict[str, Any]], namespace: str) -> dict[str, Any]:
    [store] = [o for o in objects if o["kind"] == "ClusterSecretStore"
               and o["metadata"]["name"] == contract.secret_store_name(namespace)]
    return store


def _store_policy(stacks: Stacks, key: str, policy_name: str) -> dict[str, Any]:
    """The inline policy ``policy_name`` of the prod foundation's store role ``<env>-secrets-<key>``."""
    foundation = stacks["prod-foundation"]["resource"]
    [role_id] = [name for name, body in foundation["aws_iam_role"].items() if body["name"] == f"prod-secrets-{key}"]
    [policy] = [body for body in foundation["aws_iam_role_policy"].values()
                if body["role"] == f"${{aws_iam_role.{role_id}.name}}" and body["name"] == policy_name]
    return policy  # type: ignore[no-any-return]


def test_each_namespace_has_a_store_reading_exactly_its_secrets(rendered: dict[str, RenderResult],
                                                                environments: dict[str, Environment]) -> None:
    for name, result in rendered.items():
        findings = evaluate_rendered(result, environments[name])
        assert about(findings, "HA-SEC-070") == [], name
        stores = {item.name: item for item in result.by_kind("ClusterSecretStore")}
        synced = {item.namespace for item in result.by_kind("ExternalSecret")}
        assert set(stores) == {contract.secret_store_name(namespace) for namespace in synced}, name


def test_the_model_api_store_granted_the_master_secret_fails(render_variant: Variant) -> None:
    def widen(stacks: Stacks) -> None:
        model_api = _store_policy(stacks, "model-api", "redis-model-api-secret-read")
        master = _store_policy(stacks, "prefect", "aurora-secret-read")
        document = json.loads(model_api["policy"])
        document["Statement"].append(json.loads(master["policy"])["Statement"][0])
        model_api["policy"] = json.dumps(document)

    _, findings = render_variant("prod", widen)
    [finding] = about(findings, "HA-SEC-070", "ClusterSecretStore/aws-secrets-manager-model-api")
    assert contract.names_master_secret(finding.message) and "which nothing in model-api syncs" in finding.message


def test_a_store_role_missing_a_synced_secret_fails(render_variant: Variant) -> None:
    def narrow(stacks: Stacks) -> None:
        policy = _store_policy(stacks, "prefect", "redis-prefect-secret-read")
        document = json.loads(policy["policy"])
        document["Statement"] = document["Statement"][1:]  # only the decrypt statement left
        policy["policy"] = json.dumps(document)

    _, findings = render_variant("prod", narrow)
    [finding] = about(findings, "HA-SEC-070", "ClusterSecretStore/aws-secrets-manager-prefect")
    assert "cannot read the secret" in finding.message and "ExternalSecret/prefect/prefect-redis" in finding.message


def test_a_shared_store_or_one_on_the_controllers_role_fails(render_variant: Variant) -> None:
    def share(objects: list[dict[str, Any]]) -> None:
        _store(objects, "model-api")["spec"]["conditions"] = [{"namespaces": ["model-api", "prefect"]}]
        del _store(objects, "monitoring")["spec"]["provider"]["aws"]["role"]

    _, findings = render_variant("prod", _edit_stores(share))
    [shared] = about(findings, "HA-SEC-070", "ClusterSecretStore/aws-secrets-manager-model-api")
    assert "one namespace per store" in shared.message
    [controller] = about(findings, "HA-SEC-070", "ClusterSecretStore/aws-secrets-manager-monitoring")
    assert "reads as the controller" in controller.message
