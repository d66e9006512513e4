"""HA-OBS-030 on prod with DNS failover (dr.dns; tests/conftest.py dns_variant): every Route 53 health check of
the DR foundation has an alarm in <env>-dns-alarms, in us-east-1, notifying that stack's topic; each way of
losing that is found."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from haflow.config import Environment
from haflow.plan import StackJson
from haflow.rules import evaluate
from haflow.rules.engine import Status
from tests.conftest import CHECK_DATE

RULE = "HA-OBS-030"
ALARMS = "prod-dns-alarms"
Mutation = Callable[[dict[str, StackJson]], None]


def errors(stacks: dict[str, StackJson], env: Environment, rule_id: str) -> list[str]:
    return [f.message for f in evaluate(stacks, env, as_of=CHECK_DATE).errors if f.rule_id == rule_id]


def _alarms(stacks: dict[str, StackJson]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = stacks[ALARMS]["resource"]["aws_cloudwatch_metric_alarm"]
    return found


def _no_alarm_stack(stacks: dict[str, StackJson]) -> None:
    del stacks[ALARMS]


def _alarms_in_the_secondary_region(stacks: dict[str, StackJson]) -> None:
    stacks[ALARMS]["provider"]["aws"][0]["region"] = "us-west-2"


def _silent(stacks: dict[str, StackJson]) -> None:
    for alarm in _alarms(stacks).values():
        alarm["alarm_actions"] = []


def _reads_another_state(stacks: dict[str, StackJson]) -> None:
    for remote in stacks[ALARMS]["data"]["terraform_remote_state"].values():
        remote["config"]["key"] = "haflow/prod-foundation.tfstate"


def _fires_on_healthy(stacks: dict[str, StackJson]) -> None:
    for alarm in _alarms(stacks).values():
        alarm["comparison_operator"] = "GreaterThanOrEqualToThreshold"


def _one_alarm_left(stacks: dict[str, StackJson]) -> None:
    alarms = _alarms(stacks)
    del alarms[next(name for name in alarms if "secondary" in name)]


def test_the_shipped_environments_have_no_health_check_and_no_alarm_stack(
        synthesized: dict[str, StackJson], environments: dict[str, Environment]) -> None:
    for env in environments.values():
        assert env.dr.dns is None and env.dns_alarms_stack_name not in synthesized
    assert not any("aws_route53_health_check" in stack.get("resource", {}) for stack in synthesized.values())


def test_prod_with_dns_failover_complies_with_the_whole_pack(dns_variant: tuple[Environment, dict[str, StackJson]]) -> None:
    env, stacks = dns_variant
    evaluation = evaluate(stacks, env, as_of=CHECK_DATE)
    assert evaluation.errors == []
    statuses = {(r.stack, r.status) for r in evaluation.results if r.rule_id == RULE}
    assert statuses == {("prod-dr-foundation", Status.COMPLIANT)}
    assert len([r for r in evaluation.results if r.rule_id == RULE]) == 2  # PRIMARY and SECONDARY


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (_no_alarm_stack, "no CloudWatch alarm in us-east-1 watches HealthCheckStatus"),
        (_alarms_in_the_secondary_region, "is in us-west-2, where Route 53 publishes no HealthCheckStatus"),
        (_silent, "notifies no SNS topic of its stack"),
        (_reads_another_state, "no CloudWatch alarm in us-east-1 watches HealthCheckStatus"),
        (_fires_on_healthy, "does not fire on an unhealthy status"),
        (_one_alarm_left, "no CloudWatch alarm in us-east-1 watches HealthCheckStatus"),
    ],
)
def test_the_rule_finds_each_violation(dns_variant: tuple[Environment, dict[str, StackJson]], mutate: Mutation,
                                       words: str) -> None:
    env, synthesized = dns_variant
    stacks = copy.deepcopy(synthesized)
    assert not errors(stacks, env, RULE)
    mutate(stacks)
    found = errors(stacks, env, RULE)
    assert found and all(words in message for message in found), found
