"""The rendered rules fail on what would break at deploy or at run time, and only on that.

Each case renders a variant of an environment's synthesized stacks (mutated in-process) and compares
it with a variant that differs only in the fault, so every test can fail and none depends on which of
the platform's own fixes have landed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from haflow.config import Environment
from haflow.render import RenderResult
from haflow.rules import evaluate
from haflow.rules.engine import REGISTRY, Finding, Status, check_scope
from haflow.rules.rendered import RENDERED_RULE_IDS, Cluster, evaluate_rendered
from haflow.rules.stack import Stack
from tests.render.conftest import Stacks, about, edit_values, resource

Variant = Callable[..., tuple[RenderResult, list[Finding]]]
PREFECT_SERVER = "Deployment/prefect/prefect-server"
MODEL_API = "Deployment/model-api/model-api"


def _rolling(max_unavailable: Any, max_surge: Any) -> Callable[[dict[str, Any]], None]:
    def change(values: dict[str, Any]) -> None:
        values["server"]["updateStrategy"] = {
            "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable, "maxSurge": max_surge}}
    return change


def test_a_non_percent_string_max_unavailable_fails(render_variant: Variant) -> None:
    _, findings = render_variant("prod", edit_values("prod", "prefect-server", _rolling("0", "25%")))
    [finding] = about(findings, "HA-RND-003", PREFECT_SERVER)
    assert "spec.strategy.rollingUpdate.maxUnavailable = '0'" in finding.message
    assert "percentage" in finding.message


def test_percent_strings_pass_the_api_server_rules(render_variant: Variant) -> None:
    _, findings = render_variant("prod", edit_values("prod", "prefect-server", _rolling("0%", "25%")))
    assert about(findings, "HA-RND-003", PREFECT_SERVER) == []


def test_both_zero_is_refused_as_the_api_server_does(render_variant: Variant) -> None:
    _, findings = render_variant("prod", edit_values("prod", "prefect-server", _rolling("0%", "0%")))
    assert any("may not both be 0" in f.message for f in about(findings, "HA-RND-003", PREFECT_SERVER))


def test_a_values_key_the_chart_ignores_fails(render_variant: Variant) -> None:
    def ignored(values: dict[str, Any]) -> None:
        values["controller"]["replicas"] = 3  # the chart reads controller.replicaCount

    _, findings = render_variant("prod", edit_values("prod", "ingress-nginx", ignored), check_unread=True)
    [finding] = [f for f in about(findings, "HA-RND-004") if f.address.startswith("helm_release.ingress")]
    assert "never reads 'controller.replicas'" in finding.message


def test_keys_the_chart_reads_are_not_reported(render_variant: Variant) -> None:
    def read(values: dict[str, Any]) -> None:
        values["controller"]["podAnnotations"] = {"example.com/owner": "platform"}  # free-form map, read

    _, findings = render_variant("prod", edit_values("prod", "ingress-nginx", read), check_unread=True)
    assert [f for f in about(findings, "HA-RND-004") if f.address.startswith("helm_release.ingress")] == []


def _drop_prefect_api_pdb(stacks: Stacks) -> None:
    budgets = stacks["prod-platform"]["resource"]["kubernetes_pod_disruption_budget_v1"]
    for name in [name for name in budgets if name.startswith("prefect_server-pdb")]:
        del budgets[name]


def test_a_multi_pod_workload_without_a_pdb_fails(render_variant: Variant, rendered: dict[str, RenderResult],
                                                  environments: dict[str, Environment]) -> None:
    assert about(evaluate_rendered(rendered["prod"], environments["prod"]), "HA-RND-005", PREFECT_SERVER) == []
    _, findings = render_variant("prod", _drop_prefect_api_pdb)
    [finding] = about(findings, "HA-RND-005", PREFECT_SERVER)
    assert "3 pods and no PodDisruptionBudget selects them" in finding.message


def test_a_pdb_that_blocks_every_drain_fails(render_variant: Variant) -> None:
    def strict(stacks: Stacks) -> None:
        budget = resource(stacks, "prod-platform", "kubernetes_pod_disruption_budget_v1", "prefect_server-pdb")
        budget["spec"]["min_available"] = "3"

    _, findings = render_variant("prod", strict)
    [finding] = about(findings, "HA-RND-005", PREFECT_SERVER)
    assert "evict 0 of 3 pods" in finding.message


def _model_api(stacks: Stacks) -> dict[str, Any]:
    return resource(stacks, "prod-platform", "kubernetes_deployment_v1", "model-api_deployment")


def test_pods_with_no_zone_spread_fail(render_variant: Variant) -> None:
    def no_spread(stacks: Stacks) -> None:
        del _model_api(stacks)["spec"]["template"]["spec"]["topology_spread_constraint"]

    _, findings = render_variant("prod", no_spread)
    assert about(findings, "HA-RND-006", MODEL_API)


def test_a_served_workload_without_readiness_fails(render_variant: Variant) -> None:
    def no_readiness(stacks: Stacks) -> None:
        del _model_api(stacks)["spec"]["template"]["spec"]["container"][0]["readiness_probe"]

    _, findings = render_variant("prod", no_readiness)
    [finding] = about(findings, "HA-RND-007", MODEL_API)
    assert "container 'model-api' has no readinessProbe" in finding.message


def _single_model_api(stacks: Stacks) -> None:
    _model_api(stacks)["spec"]["replicas"] = "1"
    del stacks["prod-platform"]["resource"]["kubernetes_horizontal_pod_autoscaler_v2"]


def test_a_controller_left_at_one_pod_fails_unless_suppressed(render_variant: Variant, synthesized: Stacks,
                                                             environments: dict[str, Environment]) -> None:
    result, findings = render_variant("prod", _single_model_api)
    [finding] = about(findings, "HA-RND-009", MODEL_API)
    assert finding.message.endswith("runs 1 pod")
    accepted = _with_suppression(environments["prod"], MODEL_API)
    evaluation = evaluate(synthesized, accepted, extra=evaluate_rendered(result, accepted))
    assert [s.finding.address for s in evaluation.suppressed if s.finding.rule_id == "HA-RND-009"] == [MODEL_API]
    assert about(evaluation.findings, "HA-RND-009", MODEL_API) == []


def _with_suppression(env: Environment, address: str) -> Environment:
    document = env.model_dump()
    document["suppressions"] = [{"rule": "HA-RND-009", "reason": "a single model-api pod is enough for this test",
                                 "resources": [address]}]
    return Environment.model_validate(document)


def test_render_suppressions_are_not_unused_when_the_gate_is_skipped(synthesized: Stacks,
                                                                     environments: dict[str, Environment]) -> None:
    env = _with_suppression(environments["prod"], MODEL_API)
    skipped = evaluate(synthesized, env, not_run=RENDERED_RULE_IDS)
    assert [f for f in skipped.findings if f.rule_id == "HA-SUP-001"] == []
    ran = evaluate(synthesized, env, extra=[])
    assert [f.rule_id for f in ran.findings if f.rule_id == "HA-SUP-001"] == ["HA-SUP-001"]


# --- cross-stack facts -----------------------------------------------------------------------------

def _plugin(affinity: Any, node_selector: dict[str, str]) -> Callable[[dict[str, Any]], None]:
    def change(values: dict[str, Any]) -> None:
        values["affinity"] = affinity
        values["nodeSelector"] = node_selector
    return change


def _gpu_labels(stacks: Stacks, labels: dict[str, str]) -> None:
    resource(stacks, "prod-foundation", "aws_eks_node_group", "eks_gpu")["labels"] = labels


DEVICE_PLUGIN = "DaemonSet/kube-system/nvidia-device-plugin"


def test_a_device_plugin_that_cannot_land_on_the_gpu_nodes_fails(render_variant: Variant) -> None:
    # `affinity: {}` is merged into the chart's default required affinity, not a replacement of it, and
    # GPU nodes labelled only haflow/pool=gpu satisfy none of its terms.
    plugin = edit_values("prod", "nvidia-device-plugin", _plugin({}, {"haflow/pool": "gpu"}))

    def unlabelled(stacks: Stacks) -> None:
        plugin(stacks)
        _gpu_labels(stacks, {"haflow/pool": "gpu"})

    _, findings = render_variant("prod", unlabelled)
    [finding] = about(findings, "HA-RND-010", DEVICE_PLUGIN)
    assert "required node affinity" in finding.message and "nvidia.com/gpu.present" in finding.message


def test_a_device_plugin_whose_affinity_is_dropped_lands(render_variant: Variant) -> None:
    mutation = edit_values("prod", "nvidia-device-plugin", _plugin(None, {"haflow/pool": "gpu"}))
    _, findings = render_variant("prod", mutation)
    assert about(findings, "HA-RND-010") == []


def test_node_labels_the_plugin_selects_must_exist_on_the_gpu_group(render_variant: Variant) -> None:
    plugin = edit_values("prod", "nvidia-device-plugin", _plugin(None, {"haflow/pool": "gpu"}))

    def relabelled(stacks: Stacks) -> None:
        plugin(stacks)
        _gpu_labels(stacks, {"haflow/pool": "accelerated"})

    _, findings = render_variant("prod", relabelled)
    [finding] = about(findings, "HA-RND-010", DEVICE_PLUGIN)
    assert "nodeSelector haflow/pool=gpu but the nodes carry haflow/pool=accelerated" in finding.message


def _autoscaler_minor(result: RenderResult) -> str:
    deployment = next(item for item in result.by_kind("Deployment") if item.chart == "cluster-autoscaler")
    image = deployment.manifest["spec"]["template"]["spec"]["containers"][0]["image"]
    match = re.search(r":v?(\d+\.\d+)", image)
    assert match, image
    return match.group(1)


def _cluster_version(version: str) -> Callable[[Stacks], None]:
    def mutate(stacks: Stacks) -> None:
        resource(stacks, "prod-foundation", "aws_eks_cluster", "eks_cluster")["version"] = version
    return mutate


def test_autoscaler_kubernetes_skew_fails(render_variant: Variant, rendered: dict[str, RenderResult]) -> None:
    ca_minor = _autoscaler_minor(rendered["prod"])
    major, minor = ca_minor.split(".")
    _, skewed = render_variant("prod", _cluster_version(f"{major}.{int(minor) - 1}"))
    [finding] = about(skewed, "HA-RND-012")
    assert f"is Cluster Autoscaler {ca_minor}, the cluster runs Kubernetes {major}.{int(minor) - 1}" in finding.message
    _, matched = render_variant("prod", _cluster_version(ca_minor))
    assert about(matched, "HA-RND-012") == []


def test_a_service_account_the_irsa_role_does_not_trust_fails(render_variant: Variant,
                                                              rendered: dict[str, RenderResult],
                                                              environments: dict[str, Environment]) -> None:
    account = "ServiceAccount/prefect-flows/prefect-flow-run"
    assert about(evaluate_rendered(rendered["prod"], environments["prod"]), "HA-RND-011", account) == []

    def other_subject(stacks: Stacks) -> None:
        role = resource(stacks, "prod-foundation", "aws_iam_role", "prefect-flow-run-role")
        policy = json.loads(role["assume_role_policy"])
        for condition in policy["Statement"][0]["Condition"].values():
            for key in condition:
                if key.endswith(":sub"):
                    condition[key] = "system:serviceaccount:prefect:prefect-flow-run"
        role["assume_role_policy"] = json.dumps(policy)

    _, findings = render_variant("prod", other_subject)
    [finding] = about(findings, "HA-RND-011", account)
    assert "trusts system:serviceaccount:prefect:prefect-flow-run, not system:serviceaccount:prefect-flows:prefect-flow-run" \
        in finding.message


def test_values_the_chart_schema_refuses_fail_the_release(render_variant: Variant) -> None:
    def unknown(values: dict[str, Any]) -> None:
        values["server"]["topologySpreadConstraints"] = []

    _, findings = render_variant("prod", edit_values("prod", "prefect-server", unknown))
    [finding] = [f for f in about(findings, "HA-RND-001") if f.address.startswith("helm_release.prefect_server")]
    assert "topologySpreadConstraints" in finding.message



def test_rendered_rules_judge_each_subject_as_plan_rules_do(rendered: dict[str, RenderResult],
                                                           environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    results = check_scope(Cluster(rendered["prod"]), env, list(REGISTRY.values()))
    statuses: dict[str, set[Status]] = {}
    for result in results:
        statuses.setdefault(result.rule_id, set()).add(result.status)
    assert set(statuses) == RENDERED_RULE_IDS  # only the rendered rules read the cluster, and each judged something
    assert {Status.COMPLIANT, Status.NOT_APPLICABLE} <= statuses["HA-RND-005"]  # multi-pod vs single-pod workloads
    assert all(result.stack == rendered["prod"].platform_stack for result in results)
    findings = [(f.rule_id, f.address, f.message) for f in evaluate_rendered(rendered["prod"], env)]
    assert findings == [(r.rule_id, r.address, m) for r in results if r.status is Status.NON_COMPLIANT for m in r.messages]
    # and a synthesized stack is no scope for them
    assert check_scope(Stack("prod-platform", {}), env, [REGISTRY["HA-RND-005"]]) == []


def test_no_rendered_container_sets_an_env_name_twice(rendered: dict[str, RenderResult],
                                                       environments: dict[str, Environment]) -> None:
    for name, result in rendered.items():
        assert about(evaluate_rendered(result, environments[name]), "HA-RND-013") == [], name


def test_a_value_that_repeats_an_env_the_chart_sets_fails(render_variant: Variant) -> None:
    def repeat(values: dict[str, Any]) -> None:
        values["server"]["env"] = [*values["server"].get("env", []),
                                   {"name": "PREFECT_SERVER_EVENTS_CAUSAL_ORDERING", "value": "prefect_redis.ordering"}]

    _, findings = render_variant("prod", edit_values("prod", "prefect-server", repeat))
    [finding] = about(findings, "HA-RND-013", PREFECT_SERVER)
    assert "container 'prefect-server' sets PREFECT_SERVER_EVENTS_CAUSAL_ORDERING (2x)" in finding.message


def test_every_namespace_a_release_writes_into_exists_before_it(rendered: dict[str, RenderResult],
                                                                environments: dict[str, Environment]) -> None:
    for name, result in rendered.items():
        assert about(evaluate_rendered(result, environments[name]), "HA-RND-014") == [], name


def _drop_dependency(prefixes: tuple[str, ...], dependency_prefix: str) -> Callable[[Stacks], None]:
    def mutate(stacks: Stacks) -> None:
        for prefix in prefixes:
            body = resource(stacks, "prod-platform", "helm_release", prefix)
            body["depends_on"] = [dep for dep in body["depends_on"]
                                  if not dep.split(".", 1)[1].startswith(dependency_prefix)]
    return mutate


# The synced secrets depend on the operator, which depends on the namespaces too: drop the edge from both.
SYNCED_SECRETS = ("external-secrets_synced-secrets", "external-secrets_operator")


def test_synced_secrets_without_the_monitoring_namespace_first_fail(render_variant: Variant) -> None:
    # Grafana's admin ExternalSecret lands in monitoring: before the stack created that namespace, nothing the
    # synced-secrets release depended on did (kube-prometheus-stack creates it, with no ordering between them).
    _, findings = render_variant("prod", _drop_dependency(SYNCED_SECRETS, "namespace-monitoring"))
    [finding] = [f for f in about(findings, "HA-RND-014") if "synced-secrets" in f.address]
    assert "ExternalSecret/grafana-admin into namespace 'monitoring'" in finding.message


def test_a_release_that_creates_the_namespace_counts_when_depended_on(render_variant: Variant) -> None:
    def via_release(stacks: Stacks) -> None:
        _drop_dependency(SYNCED_SECRETS, "namespace-monitoring")(stacks)
        body = resource(stacks, "prod-platform", "helm_release", "external-secrets_synced-secrets")
        monitoring = resource(stacks, "prod-platform", "helm_release", "observability_kube-prometheus-stack")
        monitoring["create_namespace"] = True
        name = next(n for n, b in stacks["prod-platform"]["resource"]["helm_release"].items() if b is monitoring)
        body["depends_on"].append(f"helm_release.{name}")

    _, findings = render_variant("prod", via_release)
    assert [f for f in about(findings, "HA-RND-014") if "synced-secrets" in f.address] == []
