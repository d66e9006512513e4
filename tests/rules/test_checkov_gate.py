"""The checkov gate: checkov's terraform_json runner on cdktf JSON, once per session, with haflow's skips."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from haflow.config import ConfigError
from haflow.plan import StackJson
from haflow.rules.checkov_gate import CheckovOutcome, CheckovSkip, apply_skips, load_skips, run_checkov
from haflow.rules.engine import Finding
from tests.conftest import REPO_ROOT

UNMATCHED = CheckovSkip(check="CKV_AWS_1", reason="matches nothing: proves unused skips are reported")
# Fixable findings reported to the constructs' owners; remove an entry when its fix lands.
@pytest.fixture(scope="session")
def checkov(synthesized: dict[str, StackJson]) -> CheckovOutcome:
    skips = [*load_skips(REPO_ROOT / "checkov-skips.yaml"), UNMATCHED]
    env_of = {name: name.split("-")[0] for name in synthesized if name != "bootstrap"}
    return run_checkov(synthesized, skips, env_of)


def test_checkov_reads_every_synthesized_stack(checkov: CheckovOutcome) -> None:
    assert checkov.parsing_errors == []
    assert checkov.passed > 100
    stacks = {finding.stack for finding, _ in checkov.skipped} | {finding.stack for finding in checkov.failures}
    assert {"bootstrap", "prod-foundation", "prod-platform"} <= stacks


def test_findings_name_resources_by_terraform_address(checkov: CheckovOutcome) -> None:
    addresses = [f.address for f in checkov.failures] + [f.address for f, _ in checkov.skipped]
    assert not [address for address in addresses if address.startswith("resource.")]
    assert "aws_eks_cluster.eks_cluster_55B0C966" in addresses


def test_skips_apply_by_check_stack_and_resource(checkov: CheckovOutcome) -> None:
    skipped = {(f.rule_id, f.stack) for f, _ in checkov.skipped}
    assert ("CKV_AWS_339", "prod-foundation") in skipped
    assert ("CKV_AWS_139", "dev-foundation") in skipped
    failures = {(f.rule_id, f.stack) for f in checkov.failures}
    assert ("CKV_AWS_139", "prod-foundation") not in failures | skipped, "prod has deletion protection"


def test_a_skip_matching_nothing_is_reported(checkov: CheckovOutcome) -> None:
    assert [(f.rule_id, f.level, f.message) for f in checkov.unused] == [
        ("HA-SUP-002", "warning", "skip of CKV_AWS_1 matches no checkov failure")
    ]


def test_no_stack_has_an_unjustified_checkov_failure(checkov: CheckovOutcome) -> None:
    assert [(f.rule_id, f.stack, f.address) for f in checkov.failures] == []


def test_skips_for_stacks_outside_the_run_are_not_unused() -> None:
    failure = Finding("CKV_AWS_144", "error", "prod", "prod-foundation", "aws_s3_bucket.b", "checkov: CRR", "fix")
    dev_only = CheckovSkip(check="CKV_AWS_139", stacks=["dev-*"], reason="only dev lacks deletion protection")
    prod_skip = CheckovSkip(check="CKV_AWS_144", stacks=["prod-*"], reason="single-region design, no CRR")
    failures, skipped, unused = apply_skips([failure], [dev_only, prod_skip], ["bootstrap", "prod-foundation"])
    assert (failures, unused) == ([], [])
    assert skipped == [(failure, "single-region design, no CRR")]
    _, _, unused = apply_skips([], [dev_only], ["dev-foundation"])
    assert [f.address for f in unused] == ["skips[0]"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("skips:\n  - {check: CKV_AWS_1, reason: short}\n", "at least 10 characters"),
        ("skips:\n  - {check: CKV_AWS_1, why: no reason key}\n", "Field required"),
        ("skips: [\n", "YAML syntax error"),
    ],
)
def test_bad_skips_files_are_config_errors(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "checkov-skips.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_skips(path)
    assert problem in str(raised.value)


def test_checkov_kubernetes_checks_judge_the_rendered_objects(synthesized: dict[str, StackJson],
                                                              rendered: dict[str, Any]) -> None:
    """The real checkov's kubernetes framework over the objects Helm's engine rendered for prod: every failure has
    a justified skip, failures are named Kind/namespace/name in the platform stack, and a fault put into a
    rendered object is caught."""
    result = rendered["prod"]
    objects = {result.platform_stack: [(item.address, item.manifest) for item in result.objects]}
    skips = load_skips(REPO_ROOT / "checkov-skips.yaml")
    stacks = {name: synthesized[name] for name in ("prod-platform",)}
    outcome = run_checkov(stacks, skips, {"prod-platform": "prod"}, objects)
    assert outcome.parsing_errors == []
    assert [(f.rule_id, f.address) for f in outcome.failures] == []
    skipped = {(f.rule_id, f.address) for f, _ in outcome.skipped}
    assert ("CKV_K8S_17", "DaemonSet/monitoring/kube-prometheus-stack-prometheus-node-exporter") in skipped
    privileged = copy.deepcopy(dict(result.find("Deployment", "model-api", "model-api").manifest))  # type: ignore[union-attr]
    privileged["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    faulty = {result.platform_stack: [("Deployment/model-api/model-api", privileged)]}
    outcome = run_checkov({}, skips, {"prod-platform": "prod"}, faulty)
    assert ("CKV_K8S_16", "prod-platform", "Deployment/model-api/model-api") in {
        (f.rule_id, f.stack, f.address) for f in outcome.failures}
