"""EKS rules: the cluster and its node groups, the Kubernetes version's support window and add-on versions."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from haflow import facts
from haflow.config import Environment
from haflow.plan import StackJson
from haflow.rules import evaluate
from haflow.rules.engine import REGISTRY, Status, check_scope
from haflow.rules.stack import Stack
from tests.conftest import CHECK_DATE
from tests.rules.fragments import Resources, assert_rule, messages, ref, statuses

AZS = ("us-east-1a", "us-east-1b")


def eks(*, public: bool = False, private: bool = True, encryption: bool = True,
        logs: tuple[str, ...] = ("api", "audit", "authenticator"),
        group_azs: tuple[tuple[str, ...], ...] = (("us-east-1a",), ("us-east-1b",)), min_size: int = 1,
        http_tokens: str | None = "required", taint: bool = False) -> Resources:
    cluster: dict[str, Any] = {
        "name": "prod",
        "vpc_config": {"endpoint_public_access": public, "endpoint_private_access": private, "subnet_ids": []},
        "enabled_cluster_log_types": list(logs),
    }
    if encryption:
        cluster["encryption_config"] = {"resources": ["secrets"], "provider": {"key_arn": ref("aws_kms_key", "k", "arn")}}
    groups: dict[str, Any] = {}
    for index, azs in enumerate(group_azs):
        group: dict[str, Any] = {
            "cluster_name": ref("aws_eks_cluster", "cluster", "name"),
            "subnet_ids": [ref("aws_subnet", f"private-{az}") for az in azs],
            "scaling_config": {"min_size": min_size, "desired_size": min_size, "max_size": 3},
        }
        if http_tokens is not None:
            group["launch_template"] = {"id": ref("aws_launch_template", "nodes"), "version": "1"}
        if taint:
            group["taint"] = [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
        groups[f"nodes-{index}"] = group
    return {
        "aws_eks_cluster": {"cluster": cluster},
        "aws_eks_node_group": groups,
        "aws_subnet": {f"private-{az}": {"availability_zone": az} for az in AZS},
        "aws_launch_template": {"nodes": {"metadata_options": {"http_tokens": http_tokens or "optional"}}},
    }


@pytest.mark.parametrize(
    ("rule_id", "non_compliant", "expected"),
    [
        ("HA-EKS-001", eks(group_azs=(("us-east-1a",),)), "guarantee nodes in 1 AZ (us-east-1a)"),
        ("HA-EKS-001", eks(group_azs=(AZS,), min_size=1), "guarantee nodes in 0 AZ (none)"),
        ("HA-EKS-001", eks(taint=True), "no untainted managed node group"),
        ("HA-EKS-002", eks(http_tokens="optional"), "http_tokens = 'optional'"),
        ("HA-EKS-002", eks(http_tokens=None), "no launch template"),
        ("HA-EKS-003", eks(public=True), "endpoint_public_access is true"),
        ("HA-EKS-003", eks(private=False), "endpoint_private_access is false"),
        ("HA-EKS-004", eks(encryption=False), "encryption_config is not set"),
        ("HA-EKS-005", eks(logs=("api",)), "lacks audit, authenticator"),
    ],
)
def test_eks_rule(rule_id: str, non_compliant: Resources, expected: str, environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    assert statuses(rule_id, eks(), env) == {Status.COMPLIANT}
    assert any(expected in message for message in messages(rule_id, non_compliant, env))


def test_one_group_over_two_azs_with_two_nodes_covers_both(environments: dict[str, Environment]) -> None:
    assert statuses("HA-EKS-001", eks(group_azs=(AZS,), min_size=2), environments["prod"]) == {Status.COMPLIANT}


def test_public_access_left_to_the_provider_default_is_public(environments: dict[str, Environment]) -> None:
    resources = eks()
    del resources["aws_eks_cluster"]["cluster"]["vpc_config"]["endpoint_public_access"]
    assert "the provider default" in messages("HA-EKS-003", resources, environments["prod"])[0]


CURRENT = facts.ADDON_VERSIONS["1.35"]


def cluster(version: str = "1.35", support_type: str | None = "STANDARD",
            addons: dict[str, str] | None = None) -> Resources:
    body: dict[str, Any] = {"name": "prod", "version": version}
    if support_type is not None:
        body["upgrade_policy"] = {"support_type": support_type}
    pins = {key: versions[0] for key, versions in CURRENT.items()} if addons is None else addons
    return {
        "aws_eks_cluster": {"cluster": body},
        "aws_eks_addon": {
            key: {"cluster_name": ref("aws_eks_cluster", "cluster", "name"), "addon_name": facts.ADDON_NAMES[key],
                  "addon_version": pin}
            for key, pin in pins.items()
        },
    }


@pytest.mark.parametrize("rule_id", ["HA-EKS-006", "HA-EKS-007", "HA-EKS-008", "HA-EKS-009"])
def test_current_cluster_is_compliant(rule_id: str, environments: dict[str, Environment]) -> None:
    assert statuses(rule_id, cluster(), environments["prod"]) == {Status.COMPLIANT}


def test_version_past_standard_support_fails(environments: dict[str, Environment]) -> None:
    found = messages("HA-EKS-006", cluster("1.33"), environments["prod"])
    assert found == [
        "Kubernetes 1.33 left EKS standard support on 2026-07-29 (123 days before 2026-11-29); "
        "extended support is billed per cluster hour until 2027-07-29"
    ]
    assert REGISTRY["HA-EKS-006"].level == "error"


def test_version_under_90_days_of_support_warns(environments: dict[str, Environment]) -> None:
    found = messages("HA-EKS-007", cluster("1.34"), environments["prod"])
    assert found == ["Kubernetes 1.34 leaves EKS standard support on 2026-12-02, in 3 days (warning under 90)"]
    assert REGISTRY["HA-EKS-007"].level == "warning"
    # The same cluster a year earlier had more than 90 days left; a version already past support is 006's.
    assert statuses("HA-EKS-007", cluster("1.34"), environments["prod"], date(2025, 11, 29)) == {Status.COMPLIANT}
    assert statuses("HA-EKS-007", cluster("1.33"), environments["prod"]) == {Status.NOT_APPLICABLE}


def test_unknown_version_is_a_finding_not_a_pass(environments: dict[str, Environment]) -> None:
    assert "not in haflow's EKS calendar" in messages("HA-EKS-006", cluster("1.29"), environments["prod"])[0]


def test_addon_not_listed_for_the_cluster_version_fails(environments: dict[str, Environment]) -> None:
    pins = {key: versions[0] for key, versions in CURRENT.items()} | {"kube_proxy": "v1.33.3-eksbuild.4"}
    found = messages("HA-EKS-008", cluster(addons=pins), environments["prod"])
    assert found == [
        "kube-proxy v1.33.3-eksbuild.4 is not listed for Kubernetes 1.35 (listed: v1.35.3-eksbuild.2)"
    ]


def test_missing_upgrade_policy_means_extended_support(environments: dict[str, Environment]) -> None:
    assert "upgrade_policy is not set" in messages("HA-EKS-009", cluster(support_type=None), environments["prod"])[0]
    assert "EXTENDED" in messages("HA-EKS-009", cluster(support_type="EXTENDED"), environments["prod"])[0]


def test_stale_facts_are_reported(environments: dict[str, Environment]) -> None:
    assert statuses("HA-EKS-010", cluster(), environments["prod"]) == {Status.COMPLIANT}
    later = date(2027, 6, 1)
    found = messages("HA-EKS-010", cluster(), environments["prod"], later)
    assert any("more than 120 days before 2027-06-01" in message for message in found)
    assert any("newest Kubernetes version in the EKS calendar (1.35)" in message for message in found)


def test_synthesized_environments_are_on_a_supported_version(
    synthesized: dict[str, StackJson], environments: dict[str, Environment]
) -> None:
    for env in environments.values():
        evaluation = evaluate(synthesized, env, as_of=CHECK_DATE)
        eks_findings = [f for f in evaluation.findings if f.rule_id in {"HA-EKS-006", "HA-EKS-007", "HA-EKS-008",
                                                                      "HA-EKS-009", "HA-EKS-010"}]
        assert eks_findings == [], env.name
        checked = {r.rule_id for r in evaluation.results if r.status is Status.COMPLIANT}
        assert {"HA-EKS-006", "HA-EKS-007", "HA-EKS-008", "HA-EKS-009"} <= checked


def runner(*, access_entry: bool = True, admitted: bool = True, in_vpc: bool = True,
           policy: str = "AmazonEKSClusterAdminPolicy") -> Resources:
    """A private cluster and a CodeBuild deploy runner, wired as haflow.constructs.deploy_runner wires it."""
    resources = eks()
    role = ref("aws_iam_role", "runner-role", "arn")
    project: dict[str, Any] = {"name": "prod-dr-platform-deploy", "service_role": role}
    if in_vpc:
        project["vpc_config"] = {"vpc_id": ref("aws_vpc", "vpc"), "subnets": [],
                                 "security_group_ids": [ref("aws_security_group", "runner")]}
    resources["aws_codebuild_project"] = {"runner": project}
    if access_entry:
        resources["aws_eks_access_entry"] = {"runner": {"cluster_name": ref("aws_eks_cluster", "cluster", "name"),
                                                        "principal_arn": role, "type": "STANDARD"}}
        resources["aws_eks_access_policy_association"] = {"runner": {
            "cluster_name": ref("aws_eks_cluster", "cluster", "name"),
            "principal_arn": ref("aws_eks_access_entry", "runner", "principal_arn"),
            "policy_arn": f"arn:${{data.aws_partition.p.partition}}:eks::aws:cluster-access-policy/{policy}",
            "access_scope": {"type": "cluster"}}}
    if admitted:
        resources["aws_vpc_security_group_ingress_rule"] = {"runner": {
            "security_group_id": "${aws_eks_cluster.cluster.vpc_config[0].cluster_security_group_id}",
            "referenced_security_group_id": ref("aws_security_group", "runner"), "ip_protocol": "tcp",
            "from_port": 443, "to_port": 443}}
    return resources


@pytest.mark.parametrize(
    ("non_compliant", "expected"),
    [
        (eks(), "the API endpoint is private and no CodeBuild deploy runner is in this stack"),
        (runner(access_entry=False), "role has no access entry with AmazonEKSClusterAdminPolicy"),
        (runner(policy="AmazonEKSViewPolicy"), "role has no access entry with AmazonEKSClusterAdminPolicy"),
        (runner(admitted=False), "no ingress rule admits aws_codebuild_project.runner's security group"),
        (runner(in_vpc=False), "runs outside any VPC"),
    ],
)
def test_the_deployer_needs_a_path_to_a_private_api(
    non_compliant: Resources, expected: str, environments: dict[str, Environment]
) -> None:
    assert_rule("HA-EKS-011", runner(), non_compliant, expected, environments["prod"])


def test_an_allow_listed_public_endpoint_is_a_deploy_path(environments: dict[str, Environment]) -> None:
    resources = eks(public=True)
    resources["aws_eks_cluster"]["cluster"]["vpc_config"]["public_access_cidrs"] = ["203.0.113.0/24"]
    assert statuses("HA-EKS-011", resources, environments["prod"]) == {Status.COMPLIANT}


def test_every_synthesized_cluster_has_a_deploy_path(synthesized: dict[str, StackJson],
                                                     environments: dict[str, Environment]) -> None:
    """prod-dr-foundation included: before issue 18 it had no runner (the finding this rule then reported)."""
    clusters = 0
    for name, document in synthesized.items():
        env = next((e for e in environments.values() if name.startswith(f"{e.name}-")), None)
        if env is None or "aws_eks_cluster" not in document.get("resource", {}):
            continue
        found = check_scope(Stack(name, document, as_of=CHECK_DATE), env, [REGISTRY["HA-EKS-011"]])
        clusters += len(found)
        assert {result.status for result in found} == {Status.COMPLIANT}, (name, [r.messages for r in found])
    assert clusters == sum(2 if env.dr.enabled else 1 for env in environments.values())
