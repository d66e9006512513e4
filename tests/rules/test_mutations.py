"""Mutation tests: the real prod overlay passes; breaking one thing fails with exactly that rule.

Where the environment has a key for the defect, the variant is synthesized from the changed config
(``synth_variant``); where no key can express it (the constructs always enable it), the synthesized plan
is edited as a construct change would, so the rule is still shown to catch it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from haflow.config import Environment
from haflow.plan import StackJson
from haflow.rules import evaluate
from haflow.rules.rendered import RENDERED_RULE_IDS
from tests.conftest import CHECK_DATE, resources

Stacks = dict[str, StackJson]
PLAN_ONLY = RENDERED_RULE_IDS


def failing_rules(stacks: Stacks, env: Environment) -> set[str]:
    return {finding.rule_id for finding in evaluate(stacks, env, as_of=CHECK_DATE).errors}


def test_unmodified_prod_passes(synthesized: Stacks, environments: dict[str, Environment]) -> None:
    # The plan's rule pack alone: the render gate's rules (and their suppressions) have tests/render.
    evaluation = evaluate(synthesized, environments["prod"], not_run=PLAN_ONLY, as_of=CHECK_DATE)
    assert evaluation.findings == []
    assert evaluation.suppressed == []
    checked = {result.rule_id for result in evaluation.results if result.status.value == "compliant"}
    assert len(checked) >= 30, "most rules should have found something to check in prod"


@pytest.mark.parametrize("env_name", ["dev", "staging"])
def test_dev_and_staging_pass_only_through_their_suppressions(
    synthesized: Stacks, environments: dict[str, Environment], env_name: str
) -> None:
    evaluation = evaluate(synthesized, environments[env_name], not_run=PLAN_ONLY, as_of=CHECK_DATE)
    assert evaluation.findings == []
    assert evaluation.suppressed


CONFIG_MUTATIONS = [
    pytest.param({"network": {"nat_gateways": "single"}}, {"HA-NET-002"}, id="single-nat"),
    pytest.param({"network": {"flow_log_traffic_type": "REJECT"}}, {"HA-NET-003"}, id="flow-logs-reject-only"),
    pytest.param({"eks": {"endpoint_public_access": True, "public_access_cidrs": ["203.0.113.0/24"]}},
                 {"HA-EKS-003"}, id="public-eks-endpoint"),
    pytest.param({"database": {"instances": 1, "promotion_tiers": [0]}}, {"HA-DB-001"}, id="one-aurora-instance"),
    pytest.param({"database": {"deletion_protection": False}}, {"HA-DB-002"}, id="aurora-deletion-protection-off"),
    pytest.param({"database": {"backup_retention_days": 3}}, {"HA-DB-003"}, id="aurora-backups-3-days"),
    pytest.param({"database": {"final_snapshot": False}}, {"HA-DL-002"}, id="aurora-no-final-snapshot"),
    pytest.param({"database": {"protect_from_destroy": False}}, {"HA-DL-001"}, id="aurora-destroyable"),
    pytest.param({"artifacts": {"protect_from_destroy": False}}, {"HA-DL-001"}, id="artifacts-destroyable"),
    pytest.param({"model_api": {"replicas": 3, "pdb_min_available": 3, "autoscaling": {"min_replicas": 4}}},
                 {"HA-WL-002"}, id="pdb-equal-to-replicas"),
    pytest.param({"model_api": {"replicas": 4, "pdb_min_available": 2, "autoscaling": {"min_replicas": 2}}},
                 {"HA-WL-003"}, id="hpa-floor-at-pdb"),
    pytest.param({"ingress": {"pdb_min_available": 3}}, {"HA-WL-002", "HA-WL-003"},
                 id="ingress-pdb-equal-to-replicas-and-hpa-floor"),
    pytest.param({"prefect": {"background_services_replicas": 1}}, {"HA-PF-004"},
                 id="one-prefect-background-services-pod"),
]


@pytest.mark.parametrize(("changes", "expected"), CONFIG_MUTATIONS)
def test_a_config_mutation_fails_with_its_rule(
    synth_variant: Callable[[str, dict[str, Any]], Stacks], environments: dict[str, Environment],
    changes: dict[str, Any], expected: set[str],
) -> None:
    assert failing_rules(synth_variant("prod", changes), environments["prod"]) == expected


def _edit(stacks: Stacks, stack: str, change: Callable[[StackJson], None]) -> Stacks:
    edited = copy.deepcopy(stacks)
    change(edited[stack])
    return edited


def _suspend_versioning(stack: StackJson) -> None:
    for versioning in resources(stack, "aws_s3_bucket_versioning").values():
        versioning["versioning_configuration"]["status"] = "Suspended"


def _failover_off(stack: StackJson) -> None:
    for group in resources(stack, "aws_elasticache_replication_group").values():
        group["automatic_failover_enabled"] = False


def _single_redis_node(stack: StackJson) -> None:
    for group in resources(stack, "aws_elasticache_replication_group").values():
        group["num_cache_clusters"] = 1


def _imdsv1(stack: StackJson) -> None:
    for template in resources(stack, "aws_launch_template").values():
        template["metadata_options"]["http_tokens"] = "optional"


def _no_secrets_encryption(stack: StackJson) -> None:
    for cluster in resources(stack, "aws_eks_cluster").values():
        del cluster["encryption_config"]


def _prefect_bundled_postgres(stack: StackJson) -> None:
    for release in resources(stack, "helm_release").values():
        if release["chart"] == "prefect-server":
            release["set"] = [{"name": "postgresql.enabled", "value": "true"}]


def _no_zone_spread(stack: StackJson) -> None:
    for deployment in resources(stack, "kubernetes_deployment_v1").values():
        deployment["spec"]["template"]["spec"]["topology_spread_constraint"] = []


def _literal_password(stack: StackJson) -> None:
    for cluster in resources(stack, "aws_rds_cluster").values():
        cluster["master_password"] = "correct-horse-battery"


PLAN_MUTATIONS = [
    pytest.param("prod-foundation", _suspend_versioning, {"HA-S3-001"}, id="versioning-off"),
    pytest.param("prod-foundation", _failover_off, {"HA-CACHE-001"}, id="redis-failover-off"),
    pytest.param("prod-foundation", _single_redis_node, {"HA-CACHE-003"}, id="redis-single-node"),
    pytest.param("prod-foundation", _imdsv1, {"HA-EKS-002"}, id="imdsv1-allowed"),
    pytest.param("prod-foundation", _no_secrets_encryption, {"HA-EKS-004"}, id="eks-secrets-unencrypted"),
    pytest.param("prod-platform", _prefect_bundled_postgres, {"HA-PF-003"}, id="prefect-bundled-postgres"),
    pytest.param("prod-platform", _no_zone_spread, {"HA-WL-005"}, id="model-api-no-zone-spread"),
    pytest.param("prod-foundation", _literal_password, {"HA-DB-005", "HA-SEC-001"}, id="literal-db-password"),
]


@pytest.mark.parametrize(("stack", "change", "expected"), PLAN_MUTATIONS)
def test_a_plan_mutation_fails_with_its_rule(
    synthesized: Stacks, environments: dict[str, Environment], stack: str,
    change: Callable[[StackJson], None], expected: set[str],
) -> None:
    assert failing_rules(_edit(synthesized, stack, change), environments["prod"]) == expected
