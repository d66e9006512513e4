"""Where alerts leave the cluster: one SNS topic per region for alerts, one for the Watchdog heartbeat.

Alertmanager (kube-prometheus-stack) publishes to both topics with SigV4, as the IRSA role of its
service account (``grant_publish``). The topics are encrypted with a key of their own whose policy
also lets CloudWatch use it, so CloudWatch alarms of the same region can notify the alerts topic
(the heartbeat alarm below does; the AWS-side alarms of issue 20 item 4 can follow).

The heartbeat is a dead-man's switch: the Watchdog alert always fires, Alertmanager publishes it to
the heartbeat topic every ``HEARTBEAT_REPEAT_MINUTES``, and a CloudWatch alarm on the topic's
``NumberOfMessagesPublished`` notifies the alerts topic when none arrived for
``HEARTBEAT_MISSING_MINUTES``: silence there means the path Prometheus -> Alertmanager -> SNS is broken.

https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html (a CMK and CloudWatch alarm actions)
https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html (NumberOfMessagesPublished)
"""

from __future__ import annotations

import json
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from constructs import Construct

from haflow.constructs.database import SECRET_READ_ACTIONS
from haflow.constructs.irsa import GrantableRole
from haflow.constructs.kms import EncryptionKey, key_policy

# How often Alertmanager re-sends the Watchdog (route repeat_interval), and how long the heartbeat
# alarm waits without one before it fires: three missed heartbeats.
HEARTBEAT_REPEAT_MINUTES = 5
HEARTBEAT_PERIOD_SECONDS = 300
HEARTBEAT_EVALUATION_PERIODS = 3
HEARTBEAT_MISSING_MINUTES = HEARTBEAT_PERIOD_SECONDS * HEARTBEAT_EVALUATION_PERIODS // 60
# Publishing to a topic encrypted with a CMK needs these on the key:
# https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#sns-what-permissions-for-sse
PUBLISH_KEY_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")
CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"


def cloudwatch_alarms_use() -> dict[str, Any]:
    """Let CloudWatch alarms publish to topics encrypted with the key, as AWS documents it (no condition: the
    key serves only this account's alert topics, and whether CloudWatch's calls through SNS carry
    aws:SourceAccount is not documented; the topics' policies restrict CloudWatch to this account).
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services"""
    return {
        "Sid": "CloudWatchAlarmsPublish",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDWATCH_PRINCIPAL},
        "Action": list(PUBLISH_KEY_ACTIONS),
        "Resource": "*",
    }


def topic_policy(topic_arn: str, account_id: str, partition: str) -> str:
    """The account administers the topic; CloudWatch alarms of the account publish; nothing without TLS."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
             "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
                        "sns:ListSubscriptionsByTopic", "sns:AddPermission", "sns:RemovePermission",
                        "sns:DeleteTopic"],
             "Resource": topic_arn},
            {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": CLOUDWATCH_PRINCIPAL},
             "Action": "sns:Publish", "Resource": topic_arn,
             "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
            {"Sid": "DenyWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
             "Resource": topic_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    })


class AlertTopics(Construct):
    """The region's alerts and heartbeat topics, their key, and the heartbeat's CloudWatch alarm.

    ``topic_arn`` receives every alert (Alertmanager sets the ``severity`` message attribute, so a
    subscription's filter policy can take only ``critical``); ``heartbeat_topic_arn`` only the Watchdog.
    Subscribe people and pagers to ``topic_arn`` (docs/alerting.md).
    """

    def __init__(
        self, scope: Construct, id_: str, *, name: str, account_id: str, partition: str, protect: bool
    ) -> None:
        """``name``: the environment's (or its DR region's) name, prefix of the topics' names."""
        super().__init__(scope, id_)
        self.key = EncryptionKey(
            self, "key", alias=f"{name}/alerts", protect=protect,
            description=f"Encrypts the alert topics of {name}",
            policy=key_policy(f"arn:{partition}:iam::{account_id}:root", cloudwatch_alarms_use()),
        )
        self.topic = SnsTopic(self, "topic", name=f"{name}-alerts", kms_master_key_id=self.key.arn)
        self.heartbeat_topic = SnsTopic(
            self, "heartbeat-topic", name=f"{name}-alerts-heartbeat", kms_master_key_id=self.key.arn
        )
        for topic_id, topic in (("topic-policy", self.topic), ("heartbeat-topic-policy", self.heartbeat_topic)):
            SnsTopicPolicy(self, topic_id, arn=topic.arn, policy=topic_policy(topic.arn, account_id, partition))
        self.topic_arn = self.topic.arn
        self.heartbeat_topic_arn = self.heartbeat_topic.arn
        self.heartbeat_alarm = CloudwatchMetricAlarm(
            self, "heartbeat-missing",
            alarm_name=f"{name}-alerts-heartbeat-missing",
            alarm_description=(
                f"No Watchdog heartbeat from Alertmanager for {HEARTBEAT_MISSING_MINUTES} minutes: the alert path "
                "Prometheus -> Alertmanager -> SNS is broken, so no other alert would arrive either "
                "(docs/alerting.md)."
            ),
            namespace="AWS/SNS", metric_name="NumberOfMessagesPublished",
            dimensions={"TopicName": self.heartbeat_topic.name},
            statistic="Sum", period=HEARTBEAT_PERIOD_SECONDS, evaluation_periods=HEARTBEAT_EVALUATION_PERIODS,
            comparison_operator="LessThanThreshold", threshold=1,
            # No datapoint at all is the failure this alarm exists for.
            treat_missing_data="breaching",
            alarm_actions=[self.topic.arn], ok_actions=[self.topic.arn],
        )

    def grant_publish(self, grantee: GrantableRole) -> None:
        """Publish to both topics (and use their key for it)."""
        grantee.attach_policy(
            "alerts-publish",
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": [self.topic.arn, self.heartbeat_topic.arn]},
            {"Effect": "Allow", "Action": list(PUBLISH_KEY_ACTIONS), "Resource": self.key.arn},
        )


class AlarmTopic(Construct):
    """One topic for CloudWatch alarms only, with a key of its own that CloudWatch may use: for alarms in a
    region that has no alerts topic of the environment (the Route 53 health checks' alarms in us-east-1,
    haflow.stacks.dns_alarms). Subscribe people and pagers to ``topic_arn`` as to the alerts topics."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, key_alias: str, account_id: str, partition: str,
        protect: bool,
    ) -> None:
        """``name``: the topic's name; ``key_alias``: its key's alias (without ``alias/``)."""
        super().__init__(scope, id_)
        self.key = EncryptionKey(
            self, "key", alias=key_alias, protect=protect,
            description=f"Encrypts the alarm topic {name}",
            policy=key_policy(f"arn:{partition}:iam::{account_id}:root", cloudwatch_alarms_use()),
        )
        self.topic = SnsTopic(self, "topic", name=name, kms_master_key_id=self.key.arn)
        SnsTopicPolicy(self, "topic-policy", arn=self.topic.arn,
                       policy=topic_policy(self.topic.arn, account_id, partition))
        self.topic_arn = self.topic.arn


def grant_read_receiver_secrets(
    grantee: GrantableRole, secret_names: list[str], *, region: str, account_id: str, partition: str,
    policy_id: str = "alert-receiver-secrets-read",
) -> None:
    """Read the optional receivers' secrets (``observability.alerts.*_secret``; with ``policy_id``, other
    secrets the environment names), by name in ``region``.

    Secrets Manager appends six characters to a secret's ARN; the secrets are expected under the
    default aws/secretsmanager key, which Secrets Manager uses on the caller's behalf.
    """
    if not secret_names:
        return
    grantee.attach_policy(
        policy_id,
        {"Effect": "Allow", "Action": list(SECRET_READ_ACTIONS),
         "Resource": [f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{name}-??????"
                      for name in sorted(set(secret_names))]},
    )
