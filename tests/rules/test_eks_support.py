"""EKS support window, add-on pins and upgrade policy (HA-EKS-006..010), on a date the test pins."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from haflow import facts
from haflow.config import Environment
from haflow.rules import evaluate
from haflow.rules.engine import REGISTRY, Result, Status, check_scope
from haflow.rules.stack import Stack
from haflow.synthesis import StackJson
from tests.conftest import CHECK_DATE
from tests.rules.fragments import Resources, ref

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


def results(rule_id: str, resources: Resources, env: Environment, as_of: date = CHECK_DATE) -> list[Result]:
    return check_scope(Stack("prod-foundation", {"resource": resources}, as_of=as_of), env, [REGISTRY[rule_id]])


def messages(rule_id: str, resources: Resources, env: Environment, as_of: date = CHECK_DATE) -> list[str]:
    return [message for result in results(rule_id, resources, env, as_of) for message in result.messages]


def statuses(rule_id: str, resources: Resources, env: Environment, as_of: date = CHECK_DATE) -> set[Status]:
    return {result.status for result in results(rule_id, resources, env, as_of)}


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
