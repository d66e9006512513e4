"""Where alerts leave the cluster, per region: the alerts and heartbeat topics, their key, the heartbeat alarm and
the Alertmanager role, in every foundation stack (and, with disaster recovery, the DR foundation's own)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from haflow.config import Environment
from haflow.plan import StackJson
from tests.conftest import ENVIRONMENT_NAMES
from tests.plan import resources


def foundation_stacks(environments: dict[str, Environment]) -> list[tuple[str, str]]:
    """(stack name, resource-name prefix) of every foundation stack."""
    stacks = []
    for env in environments.values():
        stacks.append((env.foundation_stack_name, env.name))
        if env.dr.enabled:
            stacks.append((env.dr_foundation_stack_name, f"{env.name}-dr"))
    return stacks


def one(stack: StackJson, rtype: str, **match: Any) -> tuple[str, dict[str, Any]]:
    found = [(name, body) for name, body in resources(stack, rtype).items()
             if all(body.get(key) == value for key, value in match.items())]
    assert len(found) == 1, f"{rtype} {match}: {[name for name, _ in found]}"
    return found[0]


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_each_region_has_encrypted_alert_topics_and_a_heartbeat_alarm(
    synthesized: dict[str, StackJson], environments: dict[str, Environment], env_name: str
) -> None:
    for stack_name, prefix in foundation_stacks({env_name: environments[env_name]}):
        stack = synthesized[stack_name]
        alerts_id, alerts = one(stack, "aws_sns_topic", name=f"{prefix}-alerts")
        heartbeat_id, heartbeat = one(stack, "aws_sns_topic", name=f"{prefix}-alerts-heartbeat")
        key_ref = alerts["kms_master_key_id"]
        assert heartbeat["kms_master_key_id"] == key_ref and key_ref.startswith("${aws_kms_key.")
        key = resources(stack, "aws_kms_key")[key_ref.split(".")[1]]
        statements = json.loads(key["policy"])["Statement"]
        assert any(s["Principal"] == {"Service": "cloudwatch.amazonaws.com"} and "kms:GenerateDataKey*" in s["Action"]
                   for s in statements), "CloudWatch alarms can publish to the encrypted topics"
        _, alarm = one(stack, "aws_cloudwatch_metric_alarm", alarm_name=f"{prefix}-alerts-heartbeat-missing")
        assert alarm["namespace"] == "AWS/SNS" and alarm["metric_name"] == "NumberOfMessagesPublished"
        assert alarm["dimensions"] == {"TopicName": f"${{aws_sns_topic.{heartbeat_id}.name}}"}
        assert alarm["treat_missing_data"] == "breaching"
        assert alarm["alarm_actions"] == [f"${{aws_sns_topic.{alerts_id}.arn}}"]
        for topic_id in (alerts_id, heartbeat_id):
            (policy,) = [p for p in resources(stack, "aws_sns_topic_policy").values()
                         if p["arn"] == f"${{aws_sns_topic.{topic_id}.arn}}"]
            sids = {s["Sid"] for s in json.loads(policy["policy"])["Statement"]}
            assert sids == {"AccountAdministers", "CloudWatchAlarmsPublish", "DenyWithoutTls"}


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_alertmanager_may_publish_to_its_regions_topics_only(
    synthesized: dict[str, StackJson], environments: dict[str, Environment], env_name: str
) -> None:
    for stack_name, prefix in foundation_stacks({env_name: environments[env_name]}):
        stack = synthesized[stack_name]
        role_id, role = one(stack, "aws_iam_role", name=f"{prefix}-alertmanager")
        (statement,) = json.loads(role["assume_role_policy"])["Statement"]
        assert list(v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")) == [
            "system:serviceaccount:monitoring:alertmanager"]
        (policy,) = [p for p in resources(stack, "aws_iam_role_policy").values()
                     if p["role"] == f"${{aws_iam_role.{role_id}.name}}"]
        publish, key = json.loads(policy["policy"])["Statement"]
        topics = {f"${{aws_sns_topic.{one(stack, 'aws_sns_topic', name=name)[0]}.arn}}"
                  for name in (f"{prefix}-alerts", f"{prefix}-alerts-heartbeat")}
        assert publish["Action"] == "sns:Publish" and set(publish["Resource"]) == topics
        assert key["Action"] == ["kms:GenerateDataKey*", "kms:Decrypt"]
        assert key["Resource"].startswith("${aws_kms_key.")
