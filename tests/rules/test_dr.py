"""DR rules (HA-DR-*): every one compliant on prod's synthesized plan, and each finds its violation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from haflow.config import Environment
from haflow.plan import StackJson
from haflow.rules import evaluate
from haflow.rules.engine import Status
from tests.plan import own, resources, unreplicated_bucket


def dr_results(stacks: dict[str, StackJson], env: Environment) -> dict[str, set[Status]]:
    found: dict[str, set[Status]] = {}
    for result in evaluate(stacks, env).results:
        if result.rule_id.startswith("HA-DR"):
            found.setdefault(result.rule_id, set()).add(result.status)
    return found


def errors(stacks: dict[str, StackJson], env: Environment, rule_id: str) -> list[str]:
    return [f.message for f in evaluate(stacks, env).errors if f.rule_id == rule_id]


def test_every_dr_rule_is_compliant_on_prod(synthesized: dict[str, StackJson],
                                            environments: dict[str, Environment]) -> None:
    found = dr_results(synthesized, environments["prod"])
    assert sorted(found) == [*(f"HA-DR-00{i}" for i in range(1, 9)), "HA-DR-020", "HA-DR-021"]
    assert all(Status.COMPLIANT in statuses and Status.NON_COMPLIANT not in statuses for statuses in found.values())
    assert not evaluate(synthesized, environments["prod"]).errors


Mutation = Callable[[dict[str, StackJson]], None]


def _secondary_in_primary_region(stacks: dict[str, StackJson]) -> None:
    stacks["prod-dr-foundation"]["provider"]["aws"][0]["region"] = "us-east-1"


def _no_secondary_member(stacks: dict[str, StackJson]) -> None:
    for cluster in resources(stacks["prod-dr-foundation"], "aws_rds_cluster").values():
        cluster.pop("global_cluster_identifier")


def _rtc_off(stacks: dict[str, StackJson]) -> None:
    for config in resources(stacks["prod-foundation"], "aws_s3_bucket_replication_configuration").values():
        config["rule"][0]["destination"]["replication_time"]["status"] = "Disabled"


def _reads_primary_state(stacks: dict[str, StackJson]) -> None:
    for state in stacks["prod-dr-platform"]["data"]["terraform_remote_state"].values():
        state["config"]["bucket"], state["config"]["region"] = "haflow-terraform-state", "us-east-1"


def _calls_primary_region(stacks: dict[str, StackJson]) -> None:
    stacks["prod-dr-foundation"]["data"]["aws_caller_identity"]["primary"] = {"region": "us-east-1"}


def _half_dns(stacks: dict[str, StackJson]) -> None:
    stacks["prod-dr-foundation"]["resource"]["aws_route53_record"] = {
        "only": {"failover_routing_policy": {"type": "PRIMARY"}, "health_check_id": "x"}}




def _state_rules(stacks: dict[str, StackJson]) -> list[dict[str, Any]]:
    configurations = resources(stacks["bootstrap"], "aws_s3_bucket_replication_configuration").values()
    return [rule for configuration in configurations for rule in configuration["rule"]]


def _state_unreplicated(stacks: dict[str, StackJson]) -> None:
    stacks["bootstrap"]["resource"].pop("aws_s3_bucket_replication_configuration")


def _platform_state_left_out(stacks: dict[str, StackJson]) -> None:
    for configuration in resources(stacks["bootstrap"], "aws_s3_bucket_replication_configuration").values():
        configuration["rule"] = [r for r in configuration["rule"] if "platform" not in r["filter"]["prefix"]]


def _lock_deletes_kept(stacks: dict[str, StackJson]) -> None:
    for rule in _state_rules(stacks):
        rule["delete_marker_replication"]["status"] = "Disabled"


CONTEXT = "kms:EncryptionContext:aws:s3:arn"


def _replication_policies(stacks: dict[str, StackJson]) -> list[dict[str, Any]]:
    """The replication roles' policies of the state (bootstrap) and the artifacts (prod-foundation)."""
    return [body for name in ("bootstrap", "prod-foundation")
            for address, body in resources(stacks[name], "aws_iam_role_policy").items() if "replication" in address]


def _edit_statements(stacks: dict[str, StackJson], edit: Callable[[dict[str, Any]], None]) -> None:
    for body in _replication_policies(stacks):
        document = json.loads(body["policy"])
        for statement in document["Statement"]:
            edit(statement)
        body["policy"] = json.dumps(document)


def _object_arn_context_only(statement: dict[str, Any]) -> None:
    """The policies as they were before S3 Bucket Keys were accounted for: '<bucket>/*' only."""
    test = (statement.get("Condition") or {}).get("StringLike") or {}
    if CONTEXT in test:
        test[CONTEXT] = [value for value in test[CONTEXT] if value.endswith("/*")]


def _no_decrypt_on_the_replica_key(statement: dict[str, Any]) -> None:
    if "kms:Encrypt" in statement["Action"]:
        statement["Action"] = [action for action in statement["Action"] if action != "kms:Decrypt"]


def _replica_key_policy_without_the_account(stacks: dict[str, StackJson]) -> None:
    [key] = [body for address, body in resources(stacks["bootstrap"], "aws_kms_key").items() if "us-west-2" in address]
    document = json.loads(key["policy"])
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "AccountAdministersThroughIam"]
    key["policy"] = json.dumps(document)


@pytest.mark.parametrize(
    ("mutate", "rule_id", "words"),
    [
        (_secondary_in_primary_region, "HA-DR-001", "primary region us-east-1"),
        (_no_secondary_member, "HA-DR-002", "no aws_rds_cluster of this stack joins"),
        (_rtc_off, "HA-DR-003", "Replication Time Control is not on"),
        (_reads_primary_state, "HA-DR-004", "terraform_remote_state"),
        (_calls_primary_region, "HA-DR-004", "calls the primary region"),
        (_half_dns, "HA-DR-005", "dr.dns is not configured"),
        (unreplicated_bucket, "HA-DR-006", "no replication configuration"),
        (_state_unreplicated, "HA-DR-007", "haflow/prod-foundation.tfstate is not replicated"),
        (_platform_state_left_out, "HA-DR-007", "haflow/prod-platform.tfstate is not replicated"),
        (_lock_deletes_kept, "HA-DR-007", "delete markers are not replicated"),
        (lambda stacks: _edit_statements(stacks, _object_arn_context_only), "HA-DR-008",
         "allows kms:Decrypt on the source key ${aws_kms_key.artifacts_key_9DE6640C.arn} for the encryption context "
         "${aws_s3_bucket.artifacts_bucket_A41425E9.arn}"),
        (lambda stacks: _edit_statements(stacks, _object_arn_context_only), "HA-DR-008",
         "allows kms:Encrypt on the replica key ${aws_kms_key.haflow-terraform-state-us-west-2_key_3ACBD03D.arn}"),
        (lambda stacks: _edit_statements(stacks, _no_decrypt_on_the_replica_key), "HA-DR-008",
         "allows kms:Decrypt on the replica key arn:${data.aws_partition.partition.partition}:kms:us-west-2:"),
        (_replica_key_policy_without_the_account, "HA-DR-008",
         "the replica key aws_kms_key.haflow-terraform-state-us-west-2_key_3ACBD03D's policy neither delegates"),
    ],
)
def test_each_dr_rule_finds_its_violation(synthesized: dict[str, StackJson], environments: dict[str, Environment],
                                          mutate: Mutation, rule_id: str, words: str) -> None:
    env = environments["prod"]
    stacks = own(synthesized, env)
    assert not errors(stacks, env, rule_id)
    mutate(stacks)
    assert any(words in message for message in errors(stacks, env, rule_id)), errors(stacks, env, rule_id)
