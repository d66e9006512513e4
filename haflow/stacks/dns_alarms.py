"""<env>-dns-alarms: CloudWatch alarms on the DR foundation's Route 53 health checks, in us-east-1.

Route 53 publishes HealthCheckStatus in us-east-1 only (contract.ROUTE53_METRICS_REGION), so the alarms
and the topic they notify must be there. The health checks live in <env>-dr-foundation, which must plan
while the primary region is down and so holds no provider of the primary region or us-east-1 (HA-DR-001,
HA-DR-004); this small stack holds the us-east-1 half instead, and reads the health checks' ids from the
DR foundation's outputs (a cdktf cross-stack reference: ``terraform_remote_state`` on the DR foundation's
state, the way <env>-dr-platform reads it).

Its state is in the secondary region's bucket, next to the DR foundation's, so with a primary region
other than us-east-1 down it still plans. With us-east-1 itself down it cannot (nor can CloudWatch there
evaluate the alarms): the DR runbook's detect step says what to watch then (docs/disaster-recovery.md).
"""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from haflow import contract
from haflow.config.model import Environment
from haflow.constructs.alarms import RegionAlarms
from haflow.constructs.alerting import AlarmTopic
from haflow.stacks.backend import use_s3_backend
from haflow.stacks.dr_common import dr_state
from haflow.stacks.foundation import default_tags


def dns_alerts_topic_name(env: Environment) -> str:
    return f"{env.name}-dns-alerts"


class DnsAlarmsStack(TerraformStack):
    """The health checks' alarms and their topic; ``health_check_ids``: failover role -> health check id
    (the DR foundation's tokens)."""

    def __init__(self, scope: Construct, *, env: Environment, health_check_ids: dict[str, str]) -> None:
        stack_name = env.dns_alarms_stack_name
        super().__init__(scope, stack_name)
        use_s3_backend(self, dr_state(env), stack_name)
        AwsProvider(self, "aws", region=contract.ROUTE53_METRICS_REGION,
                    default_tags=[{"tags": default_tags(env, stack_name)}])
        account = DataAwsCallerIdentity(self, "account")
        partition = DataAwsPartition(self, "partition")
        self.topic = AlarmTopic(
            self, "alerts", name=dns_alerts_topic_name(env), key_alias=f"{env.name}/dns-alerts",
            account_id=account.account_id, partition=partition.partition,
            protect=env.artifacts.protect_from_destroy,
        )
        self.alarms = RegionAlarms(self, "alarms", name=env.name, topic_arn=self.topic.topic_arn)
        self.alarms.watch_health_checks(health_check_ids)
        TerraformOutput(self, "alerts_topic_arn", value=self.topic.topic_arn,
                        description="Subscribe people and pagers here: Route 53 health check alarms (us-east-1)")
