"""What the gate renders: every release, typed stand-ins, kubernetes_* resources as API objects, and
validation against the cluster version's schemas and the charts' CRDs."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from haflow.config import Environment
from haflow.plan import Resource, StackJson
from haflow.render import RenderResult, render_environment
from haflow.render.placeholders import Placeholders
from haflow.render.resources import ConversionError, to_object
from haflow.render.schemas import KubeSchemas
from haflow.rules import evaluate
from haflow.rules.rendered import evaluate_rendered
from tests.conftest import CHECK_DATE, ENVIRONMENT_NAMES
from tests.render.conftest import Stacks, about

HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/[\w+=,.@-]+$")
SECRET_ARN = re.compile(r"^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$")


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_every_release_renders_into_objects(rendered: dict[str, RenderResult], synthesized: dict[str, StackJson],
                                            env_name: str) -> None:
    result = rendered[env_name]
    releases = synthesized[f"{env_name}-platform"]["resource"]["helm_release"]
    assert {f"helm_release.{name}" for name in releases} == {release.source for release in result.releases}
    assert [release.error for release in result.releases if release.error] == []
    assert {item.release for item in result.objects if item.release} == {r.name for r in result.releases}
    assert result.find("Deployment", "prefect-server", "prefect") is not None
    assert result.find("Deployment", "model-api", "model-api") is not None  # from kubernetes_deployment_v1
    assert result.kube_version == synthesized[f"{env_name}-foundation"]["resource"]["aws_eks_cluster"][
        next(iter(synthesized[f"{env_name}-foundation"]["resource"]["aws_eks_cluster"]))]["version"]


def test_references_become_typed_stand_ins_that_map_back(rendered: dict[str, RenderResult]) -> None:
    result = rendered["prod"]
    prefect = next(r for r in result.releases if r.chart == "prefect-server")
    redis = prefect.values["backgroundServices"]["messaging"]["redis"]
    assert isinstance(redis["port"], int) and redis["port"] == 6379
    assert HOSTNAME.match(redis["host"]), redis["host"]
    assert result.placeholders[redis["host"]].endswith("primary_endpoint_address}")
    # External Secrets' service account carries its IRSA role: a stand-in ARN that maps back to the role's output
    # (the worker holds no AWS role: HA-SEC-062)
    eso_sa = result.find("ServiceAccount", "external-secrets", "external-secrets")
    assert eso_sa is not None
    arn = eso_sa.manifest["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert ROLE_ARN.match(arn), arn
    assert "aws_iam_role" in result.placeholders[arn] and "external-secrets" in result.placeholders[arn], \
        result.placeholders[arn]
    # prod's master secret: one haflow creates for the global database (RDS-managed without DR)
    secret = next(v for v, expression in result.placeholders.items()
                  if "aws_secretsmanager_secretdatabase" in expression or "master_user_secret" in expression)
    assert SECRET_ARN.match(secret), secret


def test_interpolations_inside_text_are_replaced_and_stand_ins_stay_unique() -> None:
    outputs = {"db_port": {"value": "${aws_rds_cluster.db_ABCD1234.port}"},
               "db_host": {"value": "${aws_rds_cluster.db_ABCD1234.endpoint}"},
               "other_port": {"value": "${aws_db_instance.replica_ABCD1234.port}"}}
    stand_ins = Placeholders("eu-west-1", outputs)
    remote = "${data.terraform_remote_state.input.outputs.%s}"
    text = stand_ins.substitute(f"postgresql://{remote % 'db_host'}:{remote % 'db_port'}/prefect")
    assert text == "postgresql://db.placeholder.eu-west-1.amazonaws.com:5432/prefect"
    assert stand_ins.substitute({"port": remote % "db_port"}) == {"port": 5432}
    assert stand_ins.substitute(remote % "other_port") == 5433  # unique, so it maps back
    assert stand_ins.expressions["5433"] == remote % "other_port"
    assert stand_ins.substitute("${local.unknown}") == "placeholder-unknown"


def _deployment(rendered: dict[str, RenderResult]) -> dict[str, Any]:
    item = rendered["prod"].find("Deployment", "model-api", "model-api")
    assert item is not None
    return dict(item.manifest)


def test_kubernetes_resources_become_api_objects(rendered: dict[str, RenderResult]) -> None:
    deployment = _deployment(rendered)
    spec = deployment["spec"]
    assert isinstance(spec["replicas"], int)
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0  # the provider parses "0" as an int
    container = spec["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["port"] == 8080
    assert container["ports"] == [{"containerPort": 8080, "name": "http"}]
    assert spec["template"]["spec"]["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"][
        "app.kubernetes.io/name"] == "model-api"  # label keys kept verbatim
    storage = rendered["prod"].find("StorageClass", "gp3-encrypted")
    assert storage is not None and storage.manifest["provisioner"] == "ebs.csi.aws.com"
    assert rendered["prod"].conversion_problems == []


def test_a_provider_field_with_no_place_in_the_object_is_reported() -> None:
    schemas = KubeSchemas("1.33")
    body = {"metadata": {"name": "x"}, "spec": {"min_available": "1", "selector": {"match_labels": {"a": "b"}},
                                                "unhealthy_pod_eviction_polic": "AlwaysAllow"}}
    converted = to_object(Resource("kubernetes_pod_disruption_budget_v1", "x", body), schemas)
    assert converted.unknown_fields == ("spec.unhealthy_pod_eviction_polic",)
    assert converted.manifest["spec"]["minAvailable"] == 1
    with pytest.raises(ConversionError, match="no conversion for kubernetes_cron_job_v1"):
        to_object(Resource("kubernetes_cron_job_v1", "x", {}), schemas)


def test_objects_that_break_the_schema_fail(rendered: dict[str, RenderResult]) -> None:
    schemas = rendered["prod"].schemas
    deployment = copy.deepcopy(_deployment(rendered))
    deployment["spec"]["replicas"] = "three"
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    problems = schemas.problems(deployment)
    assert any(p.startswith("spec.replicas: 'three' is not of type 'integer'") for p in problems), problems
    assert any("readinesProbe" in p for p in problems), problems  # unknown fields: strict schemas


def test_an_api_the_cluster_version_does_not_serve_fails(rendered: dict[str, RenderResult]) -> None:
    legacy = {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget", "metadata": {"name": "x"},
              "spec": {"minAvailable": 1}}
    [problem] = rendered["prod"].schemas.problems(legacy)
    assert f"Kubernetes {rendered['prod'].kube_version} serves no PodDisruptionBudget in policy/v1beta1" in problem


def test_custom_resources_validate_against_the_crds_the_charts_ship(rendered: dict[str, RenderResult]) -> None:
    result = rendered["prod"]
    prometheus = result.find("Prometheus", "kube-prometheus-stack-prometheus", "monitoring")
    secret = result.find("ExternalSecret", "prefect-database", "prefect")
    assert prometheus is not None and secret is not None
    assert result.schemas.problems(prometheus.manifest) == []
    assert result.schemas.problems(secret.manifest) == []
    broken = copy.deepcopy(dict(prometheus.manifest))
    broken["spec"]["replicas"] = "two"
    broken["spec"]["retentionn"] = "30d"
    problems = result.schemas.problems(broken)
    assert any("spec.replicas: 'two' is not of type 'integer'" in p for p in problems), problems
    assert any("'retentionn' was unexpected" in p for p in problems), problems
    store = copy.deepcopy(dict(secret.manifest))
    store["spec"]["refreshInterval"] = 3600
    assert result.schemas.problems(store)


def test_an_invalid_object_is_a_finding(render_variant: Any) -> None:
    def bad_replicas(stacks: dict[str, StackJson]) -> None:
        deployments = stacks["prod-platform"]["resource"]["kubernetes_deployment_v1"]
        next(body for name, body in deployments.items() if name.startswith("model-api_deployment"))[
            "spec"]["revision_history_limit"] = "many"

    _, findings = render_variant("prod", bad_replicas)
    [finding] = about(findings, "HA-RND-002", "Deployment/model-api/model-api")
    assert "spec.revisionHistoryLimit: 'many' is not of type 'integer'" in finding.message


def test_prod_passes_the_render_gate(rendered: dict[str, RenderResult], environments: dict[str, Environment],
                                    synthesized: Stacks) -> None:
    env = environments["prod"]
    evaluation = evaluate(synthesized, env, extra=evaluate_rendered(rendered["prod"], env), as_of=CHECK_DATE)
    assert [f for f in evaluation.findings if f.level == "error"] == []
    # What prod accepts is only what no chart value can fix, and Grafana's one pod (docs/grafana.md), each
    # suppression naming its object.
    accepted = {(s.finding.rule_id, s.finding.address) for s in evaluation.suppressed}
    assert sorted(found for found in accepted if found[0].startswith("HA-RND")) == [
        ("HA-RND-007", "Deployment/kube-system/cluster-autoscaler-aws-cluster-autoscaler"),
        ("HA-RND-007", "Deployment/prefect/prefect-server-background-services"),
        ("HA-RND-009", "Deployment/monitoring/grafana"),
        ("HA-RND-009", "Deployment/monitoring/kube-prometheus-stack-operator"),
    ]


def test_the_dr_platform_renders_on_its_own_cluster_and_passes(
    rendered: dict[str, RenderResult], environments: dict[str, Environment], synthesized: Stacks
) -> None:
    env = environments["prod"]
    assert env.dr.enabled and env.dr.secondary_region
    result = render_environment(synthesized, env, secondary=True)
    assert result.platform_stack == "prod-dr-platform"
    assert result.kube_version == rendered["prod"].kube_version
    # stand-ins for the secondary's endpoints name the secondary region, not the primary's
    regions = {value.split(".")[2] for value in result.placeholders if value.endswith(".amazonaws.com")}
    assert regions == {env.dr.secondary_region}, regions
    findings = evaluate_rendered(result, env)
    assert {f.stack for f in findings} <= {"prod-dr-platform"}
    evaluation = evaluate(synthesized, env, extra=findings, as_of=CHECK_DATE)
    assert [f for f in evaluation.findings if f.level == "error"] == []
