"""DR rules (HA-DR-*): every one compliant on prod's synthesized plan, and each finds its violation."""

from __future__ import annotations

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
    assert sorted(found) == [f"HA-DR-00{i}" for i in range(1, 8)]
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
    ],
)
def test_each_dr_rule_finds_its_violation(synthesized: dict[str, StackJson], environments: dict[str, Environment],
                                          mutate: Mutation, rule_id: str, words: str) -> None:
    env = environments["prod"]
    stacks = own(synthesized, env)
    assert not errors(stacks, env, rule_id)
    mutate(stacks)
    assert any(words in message for message in errors(stacks, env, rule_id)), errors(stacks, env, rule_id)
