"""HA-OBS-020 (AWS-side alarms to the region's topic), HA-DR-020 (FIS AZ and node templates with alarm stop
conditions), HA-DR-021 (the experiment role's least privilege): compliant on every environment's synthesized
plan, and each finds the violation a change to the plan makes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from haflow.config import Environment
from haflow.plan import StackJson
from haflow.rules import evaluate
from haflow.rules.engine import Status
from tests.conftest import ENVIRONMENT_NAMES
from tests.plan import own, resources

RULES = ("HA-OBS-020", "HA-DR-020", "HA-DR-021")
Mutation = Callable[[dict[str, StackJson]], None]


def errors(stacks: dict[str, StackJson], env: Environment, rule_id: str) -> list[str]:
    return [f.message for f in evaluate(stacks, env).errors if f.rule_id == rule_id]


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_every_environment_complies(env_name: str, synthesized: dict[str, StackJson],
                                    environments: dict[str, Environment]) -> None:
    env = environments[env_name]
    found: dict[str, set[Status]] = {}
    for result in evaluate(own(synthesized, env), env).results:
        if result.rule_id in RULES:
            found.setdefault(result.rule_id, set()).add(result.status)
    assert sorted(found) == sorted(RULES)
    assert all(Status.COMPLIANT in statuses and Status.NON_COMPLIANT not in statuses for statuses in found.values())


def _drop_alarm(stack: str, alarm_name: str) -> Mutation:
    def mutate(stacks: dict[str, StackJson]) -> None:
        alarms = resources(stacks[stack], "aws_cloudwatch_metric_alarm")
        (name,) = [n for n, body in alarms.items() if body["alarm_name"] == alarm_name]
        alarms.pop(name)
        for template in resources(stacks[stack], "aws_fis_experiment_template").values():
            template["stop_condition"] = [c for c in template["stop_condition"] if name not in c["value"]]
    return mutate


def _silence(stacks: dict[str, StackJson]) -> None:
    for body in resources(stacks["prod-foundation"], "aws_cloudwatch_metric_alarm").values():
        if body["alarm_name"] == "prod-redis-engine-cpu-0":
            body["alarm_actions"] = []


def _templates(stacks: dict[str, StackJson]) -> dict[str, dict[str, Any]]:
    return resources(stacks["prod-foundation"], "aws_fis_experiment_template")


def _drop_az_template(stacks: dict[str, StackJson]) -> None:
    templates = _templates(stacks)
    (name,) = [n for n, t in templates.items() if t["tags"].get("haflow/drill-az") == "us-east-1b"]
    templates.pop(name)


def _no_stop_conditions(stacks: dict[str, StackJson]) -> None:
    for template in _templates(stacks).values():
        template["stop_condition"] = [{"source": "none"}]


def _no_failover(stacks: dict[str, StackJson]) -> None:
    for template in _templates(stacks).values():
        template["action"] = [a for a in template["action"] if a["action_id"] != "aws:rds:failover-db-cluster"]


def _edit_role_policy(edit: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(stacks: dict[str, StackJson]) -> None:
        (policy,) = [p for p in resources(stacks["prod-foundation"], "aws_iam_role_policy").values()
                     if p["name"] == "run-drills"]
        document = json.loads(policy["policy"])
        edit(document)
        policy["policy"] = json.dumps(document)
    return mutate


def _grant_pass_role(document: dict[str, Any]) -> None:
    document["Statement"].append({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})


def _revoke_failover(document: dict[str, Any]) -> None:
    document["Statement"] = [s for s in document["Statement"] if s.get("Action") != "rds:FailoverDBCluster"]


def _attach_managed_policy(stacks: dict[str, StackJson]) -> None:
    (role,) = [n for n, r in resources(stacks["prod-foundation"], "aws_iam_role").items()
               if r["name"] == "prod-fis-experiments"]
    stacks["prod-foundation"]["resource"]["aws_iam_role_policy_attachment"]["fis-admin"] = {
        "role": f"${{aws_iam_role.{role}.name}}", "policy_arn": "arn:aws:iam::aws:policy/AdministratorAccess"}


@pytest.mark.parametrize(
    ("mutate", "rule_id", "words"),
    [
        (_drop_alarm("prod-foundation", "prod-redis-memory-1"), "HA-OBS-020",
         "no alarm to a topic of this stack on DatabaseMemoryUsagePercentage of CacheClusterId=prod-redis-002"),
        (_drop_alarm("prod-foundation", "prod-aurora-writer-cpu"), "HA-OBS-020",
         "on CPUUtilization of DBClusterIdentifier=prod-aurora, Role=WRITER"),
        (_drop_alarm("prod-dr-foundation", "prod-dr-aurora-global-replication-lag"), "HA-OBS-020",
         "on AuroraGlobalDBReplicationLag of DBClusterIdentifier=prod-dr-aurora"),
        (_drop_alarm("prod-foundation", "prod-s3-replication-latency"), "HA-OBS-020",
         "on ReplicationLatency of RuleId=artifacts-to-us-west-2"),
        (_drop_alarm("prod-foundation", "prod-nat-packets-dropped-us-east-1a"), "HA-OBS-020",
         "on PacketsDropCount of NatGatewayId="),
        (_silence, "HA-OBS-020", "notifies no SNS topic of this stack"),
        (_drop_az_template, "HA-DR-020", "no FIS template tagged haflow/drill=az, haflow/drill-az=us-east-1b"),
        (_no_stop_conditions, "HA-DR-020", "stops on no CloudWatch alarm of this stack"),
        (_no_failover, "HA-DR-020", "lacks the AZ scenario's aws:rds:failover-db-cluster"),
        (_edit_role_policy(_grant_pass_role), "HA-DR-021", "grants iam:PassRole, which no action of its templates"),
        (_edit_role_policy(_revoke_failover), "HA-DR-021", "lacks rds:FailoverDBCluster"),
        (_attach_managed_policy, "HA-DR-021", "managed policy arn:aws:iam::aws:policy/AdministratorAccess attached"),
    ],
)
def test_each_rule_finds_its_violation(synthesized: dict[str, StackJson], environments: dict[str, Environment],
                                       mutate: Mutation, rule_id: str, words: str) -> None:
    env = environments["prod"]
    stacks = own(synthesized, env)
    assert not errors(stacks, env, rule_id)
    mutate(stacks)
    found = errors(stacks, env, rule_id)
    assert any(words in message for message in found), found
