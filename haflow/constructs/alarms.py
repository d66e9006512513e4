"""CloudWatch alarms on the AWS-managed half of a region, each notifying the region's alerts topic.

Prometheus watches what runs in the cluster; these watch what AWS runs for it: Aurora, ElastiCache, the
NAT gateways and the artifacts' replication (primary region), and the Aurora Global Database's
replication lag (secondary region). Each alarm sends ALARM and OK to the region's own topic
(haflow.constructs.alerting), so the secondary region's alarms arrive while the primary region is down.

Thresholds follow AWS's recommended alarms where AWS publishes one, else the service's documented
behaviour; each constant names its source:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Best_Practice_Recommended_Alarms_AWS_Services.html

Route 53 health checks publish HealthCheckStatus in us-east-1 only. The health checks live in the DR
foundation stack, which must plan with the primary region (us-east-1 for the shipped environments) down
(HA-DR-001, HA-DR-004), so it cannot hold a us-east-1 alarm: ``watch_health_checks`` is used by a stack of
its own, ``<env>-dns-alarms`` (haflow.stacks.dns_alarms), with a us-east-1 provider and topic.

Not here, and why (docs/alerting.md, "AWS-side alarms"):
- The NLB is created by Kubernetes for ingress-nginx's Service, after this stack: its alarms are made
  after the platform deploy (docs/alerting.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from constructs import Construct

# --- Aurora (AWS/RDS) ------------------------------------------------------------------------------
# CPUUtilization: AWS recommends 90 % over 5 of 5 one-minute datapoints
# (Best_Practice_Recommended_Alarms_AWS_Services.html#RDS).
AURORA_CPU_PERCENT = 90
AURORA_CPU_PERIOD_SECONDS = 60
AURORA_CPU_EVALUATION_PERIODS = 5
# FreeableMemory: AWS recommends about 25 % of the instance's memory
# (Best_Practice_Recommended_Alarms_AWS_Services.html#RDS); memory per class from
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.Summary.html
FREEABLE_MEMORY_FRACTION = 0.25
INSTANCE_MEMORY_GIB = {
    "db.t4g.medium": 4, "db.t4g.large": 8,
    "db.r6g.large": 16, "db.r6g.xlarge": 32, "db.r6g.2xlarge": 64, "db.r6g.4xlarge": 128,
    "db.r7g.large": 16, "db.r7g.xlarge": 32, "db.r7g.2xlarge": 64, "db.r7g.4xlarge": 128,
    "db.r6i.large": 16, "db.r6i.xlarge": 32, "db.r6i.2xlarge": 64,
}
# A class missing from the table gets the smallest class's quarter: it still fires before the instance swaps.
FREEABLE_MEMORY_FALLBACK_BYTES = 1024**3
AURORA_MEMORY_PERIOD_SECONDS = 60
AURORA_MEMORY_EVALUATION_PERIODS = 15
# AuroraReplicaLag (ms, per reader): Aurora replicas usually lag well under 100 ms; a second of lag means
# reads (model-api, Prefect's read paths) see stale data and the reader is a poor failover target.
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Replication.html
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html
AURORA_REPLICA_LAG_MS = 1000
AURORA_REPLICA_LAG_PERIOD_SECONDS = 60
AURORA_REPLICA_LAG_EVALUATION_PERIODS = 5
# AuroraGlobalDBReplicationLag (ms, in the secondary): typically under a second
# (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-monitoring.html);
# the alarm fires at this fraction of slo.region_rpo_seconds, while there is time to act before the RPO is lost.
GLOBAL_DB_LAG_RPO_FRACTION = 0.5
# Never below the typical lag itself: an RPO of 0 (or none stated) would otherwise page on every write.
GLOBAL_DB_LAG_FLOOR_MS = 1000
GLOBAL_DB_LAG_PERIOD_SECONDS = 60
GLOBAL_DB_LAG_EVALUATION_PERIODS = 5

# --- ElastiCache (AWS/ElastiCache, per node) -------------------------------------------------------
# EngineCPUUtilization: AWS recommends 90 % of the engine thread
# (Best_Practice_Recommended_Alarms_AWS_Services.html#ElastiCache).
REDIS_ENGINE_CPU_PERCENT = 90
# DatabaseMemoryUsagePercentage: AWS recommends 80 % (evictions start at maxmemory).
REDIS_MEMORY_PERCENT = 80
# ReplicationLag (s, on replicas): a replica more than this behind is a lossy failover target.
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheMetrics.Redis.html
REDIS_REPLICATION_LAG_SECONDS = 30
REDIS_PERIOD_SECONDS = 60
REDIS_EVALUATION_PERIODS = 5

# --- NAT gateway (AWS/NATGateway) ------------------------------------------------------------------
# ErrorPortAllocation: AWS recommends > 0 in 15 of 15 one-minute periods; PacketsDropCount: above 0.01 % of
# the packets in (Best_Practice_Recommended_Alarms_AWS_Services.html#NATGateway).
NAT_PERIOD_SECONDS = 60
NAT_EVALUATION_PERIODS = 15
NAT_DROPPED_PACKETS_PERCENT = 0.01

# --- S3 replication (AWS/S3, with RTC metrics on the rule) -------------------------------------------
# OperationsFailedReplication > 0 in a period; ReplicationLatency above the RTC bound (15 minutes) breaks
# RTC's promise and the artifacts' RPO. https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html
S3_REPLICATION_PERIOD_SECONDS = 300
S3_REPLICATION_EVALUATION_PERIODS = 1
S3_REPLICATION_LATENCY_SECONDS = 15 * 60

# --- Route 53 health checks (AWS/Route53, us-east-1 only) --------------------------------------------
# HealthCheckStatus is Route 53's verdict each minute, 1 healthy and 0 unhealthy; its one-minute Minimum below 1
# means Route 53 judged the endpoint unhealthy in that minute, i.e. it answers with the other record. The health
# check itself already waits for HEALTH_CHECK_FAILURE_THRESHOLD failed requests, so one period is enough here.
# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-checks.html
# https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-cloudwatch.html (metrics, us-east-1 only)
HEALTH_CHECK_STATUS_THRESHOLD = 1
HEALTH_CHECK_PERIOD_SECONDS = 60
HEALTH_CHECK_EVALUATION_PERIODS = 1

# Instances of a cluster-mode-disabled replication group are named <group>-001, -002, ... by ElastiCache.
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Replication.CreatingReplGroup.NoExistingCluster.Classic.html
REDIS_MEMBER_SUFFIX = "{group}-{index:03d}"


def freeable_memory_threshold_bytes(instance_class: str) -> int:
    memory_gib = INSTANCE_MEMORY_GIB.get(instance_class)
    if memory_gib is None:
        return FREEABLE_MEMORY_FALLBACK_BYTES
    return int(memory_gib * 1024**3 * FREEABLE_MEMORY_FRACTION)


def redis_members(group_id: str, num_cache_clusters: int) -> list[str]:
    return [REDIS_MEMBER_SUFFIX.format(group=group_id, index=i) for i in range(1, num_cache_clusters + 1)]


@dataclass(frozen=True)
class AuroraTarget:
    """An Aurora cluster to watch: identifier, its instances' identifiers and their class."""

    cluster_identifier: str
    instance_identifiers: list[str]
    instance_class: str


class RegionAlarms(Construct):
    """The region's CloudWatch alarms; each notifies ``topic_arn`` on ALARM and on OK.

    ``stop_condition_alarms``: the alarms an FIS experiment stops on (the writer's CPU and memory, the
    Redis nodes' memory): signs the platform is worse off than the drill means it to be.
    """

    def __init__(self, scope: Construct, id_: str, *, name: str, topic_arn: str) -> None:
        super().__init__(scope, id_)
        self.name = name
        self.topic_arn = topic_arn
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        self.stop_condition_alarms: list[CloudwatchMetricAlarm] = []

    def _alarm(self, key: str, description: str, **settings: object) -> CloudwatchMetricAlarm:
        alarm = CloudwatchMetricAlarm(
            self, key, alarm_name=f"{self.name}-{key}", alarm_description=description,
            alarm_actions=[self.topic_arn], ok_actions=[self.topic_arn], **settings,
        )
        self.alarms[key] = alarm
        return alarm

    def watch_aurora(self, target: AuroraTarget) -> None:
        """Writer and reader CPU, writer freeable memory (by role: the alarm follows a failover), each reader's lag."""
        cluster = target.cluster_identifier
        for role in ("WRITER", "READER"):
            cpu = self._alarm(
                f"aurora-{role.lower()}-cpu",
                f"Aurora {cluster} {role.lower()} CPU above {AURORA_CPU_PERCENT} % for "
                f"{AURORA_CPU_EVALUATION_PERIODS} minutes (docs/alerting.md#aws-side-alarms)",
                namespace="AWS/RDS", metric_name="CPUUtilization",
                dimensions={"DBClusterIdentifier": cluster, "Role": role}, statistic="Average",
                period=AURORA_CPU_PERIOD_SECONDS, evaluation_periods=AURORA_CPU_EVALUATION_PERIODS,
                comparison_operator="GreaterThanThreshold", threshold=AURORA_CPU_PERCENT,
                treat_missing_data="missing",
            )
            memory = self._alarm(
                f"aurora-{role.lower()}-freeable-memory",
                f"Aurora {cluster} {role.lower()} freeable memory below "
                f"{FREEABLE_MEMORY_FRACTION:.0%} of {target.instance_class} (docs/alerting.md#aws-side-alarms)",
                namespace="AWS/RDS", metric_name="FreeableMemory",
                dimensions={"DBClusterIdentifier": cluster, "Role": role}, statistic="Minimum",
                period=AURORA_MEMORY_PERIOD_SECONDS, evaluation_periods=AURORA_MEMORY_EVALUATION_PERIODS,
                comparison_operator="LessThanThreshold",
                threshold=freeable_memory_threshold_bytes(target.instance_class), treat_missing_data="missing",
            )
            if role == "WRITER":
                self.stop_condition_alarms += [cpu, memory]
        # Per instance: whichever instance is a reader reports AuroraReplicaLag; the writer reports none.
        for index, instance in enumerate(target.instance_identifiers):
            self._alarm(
                f"aurora-replica-lag-{index}",
                f"Aurora {instance} more than {AURORA_REPLICA_LAG_MS} ms behind the writer "
                "(docs/alerting.md#aws-side-alarms)",
                namespace="AWS/RDS", metric_name="AuroraReplicaLag", dimensions={"DBInstanceIdentifier": instance},
                statistic="Maximum", period=AURORA_REPLICA_LAG_PERIOD_SECONDS,
                evaluation_periods=AURORA_REPLICA_LAG_EVALUATION_PERIODS,
                comparison_operator="GreaterThanThreshold", threshold=AURORA_REPLICA_LAG_MS,
                treat_missing_data="notBreaching",
            )

    def watch_global_database_lag(self, cluster_identifier: str, region_rpo_seconds: int | None) -> None:
        """The secondary cluster's lag behind the primary region, against the region RPO."""
        threshold_ms = max(int((region_rpo_seconds or 0) * 1000 * GLOBAL_DB_LAG_RPO_FRACTION), GLOBAL_DB_LAG_FLOOR_MS)
        self._alarm(
            "aurora-global-replication-lag",
            f"Aurora Global Database secondary {cluster_identifier} more than {threshold_ms} ms behind the primary "
            f"region ({GLOBAL_DB_LAG_RPO_FRACTION:.0%} of slo.region_rpo_seconds; docs/alerting.md#aws-side-alarms)",
            namespace="AWS/RDS", metric_name="AuroraGlobalDBReplicationLag",
            dimensions={"DBClusterIdentifier": cluster_identifier}, statistic="Maximum",
            period=GLOBAL_DB_LAG_PERIOD_SECONDS, evaluation_periods=GLOBAL_DB_LAG_EVALUATION_PERIODS,
            comparison_operator="GreaterThanThreshold", threshold=threshold_ms,
            # No datapoint: replication stopped reporting, which is no better than lagging.
            treat_missing_data="breaching",
        )

    def watch_redis(self, group_id: str, num_cache_clusters: int) -> None:
        """Engine CPU, memory and replication lag of every node (the primary moves on failover)."""
        for index, member in enumerate(redis_members(group_id, num_cache_clusters)):
            common = {
                "namespace": "AWS/ElastiCache", "dimensions": {"CacheClusterId": member},
                "period": REDIS_PERIOD_SECONDS, "evaluation_periods": REDIS_EVALUATION_PERIODS,
                "comparison_operator": "GreaterThanThreshold",
            }
            self._alarm(
                f"redis-engine-cpu-{index}",
                f"Redis {member} engine CPU above {REDIS_ENGINE_CPU_PERCENT} % (docs/alerting.md#aws-side-alarms)",
                metric_name="EngineCPUUtilization", statistic="Average", threshold=REDIS_ENGINE_CPU_PERCENT,
                treat_missing_data="missing", **common,
            )
            memory = self._alarm(
                f"redis-memory-{index}",
                f"Redis {member} memory above {REDIS_MEMORY_PERCENT} % of maxmemory (docs/alerting.md#aws-side-alarms)",
                metric_name="DatabaseMemoryUsagePercentage", statistic="Maximum", threshold=REDIS_MEMORY_PERCENT,
                treat_missing_data="missing", **common,
            )
            self.stop_condition_alarms.append(memory)
            self._alarm(
                f"redis-replication-lag-{index}",
                f"Redis {member} more than {REDIS_REPLICATION_LAG_SECONDS} s behind its primary "
                "(docs/alerting.md#aws-side-alarms)",
                metric_name="ReplicationLag", statistic="Maximum", threshold=REDIS_REPLICATION_LAG_SECONDS,
                treat_missing_data="notBreaching", **common,
            )

    def watch_nat_gateways(self, nat_gateway_ids: dict[str, str]) -> None:
        """Port allocation errors and dropped packets (as a share of the packets in) of every NAT gateway."""
        for az, gateway_id in nat_gateway_ids.items():
            self._alarm(
                f"nat-port-allocation-errors-{az}",
                f"NAT gateway in {az} cannot allocate source ports: new connections fail "
                "(docs/alerting.md#aws-side-alarms)",
                namespace="AWS/NATGateway", metric_name="ErrorPortAllocation",
                dimensions={"NatGatewayId": gateway_id}, statistic="Sum", period=NAT_PERIOD_SECONDS,
                evaluation_periods=NAT_EVALUATION_PERIODS, comparison_operator="GreaterThanThreshold", threshold=0,
                treat_missing_data="notBreaching",
            )

            def metric(query_id: str, metric_name: str, gateway: str = gateway_id) -> CloudwatchMetricAlarmMetricQuery:
                return CloudwatchMetricAlarmMetricQuery(
                    id=query_id, return_data=False,
                    metric=CloudwatchMetricAlarmMetricQueryMetric(
                        namespace="AWS/NATGateway", metric_name=metric_name, dimensions={"NatGatewayId": gateway},
                        period=NAT_PERIOD_SECONDS, stat="Sum",
                    ),
                )

            self._alarm(
                f"nat-packets-dropped-{az}",
                f"NAT gateway in {az} drops more than {NAT_DROPPED_PACKETS_PERCENT} % of its packets "
                "(docs/alerting.md#aws-side-alarms)",
                evaluation_periods=NAT_EVALUATION_PERIODS, comparison_operator="GreaterThanThreshold",
                threshold=NAT_DROPPED_PACKETS_PERCENT, treat_missing_data="notBreaching",
                metric_query=[
                    metric("dropped", "PacketsDropCount"),
                    metric("from_source", "PacketsInFromSource"),
                    metric("from_destination", "PacketsInFromDestination"),
                    CloudwatchMetricAlarmMetricQuery(
                        id="dropped_percent", label="Dropped packets (%)", return_data=True,
                        expression="100 * dropped / (from_source + from_destination)",
                    ),
                ],
            )

    def watch_health_checks(self, health_check_ids: dict[str, str]) -> None:
        """Each Route 53 health check (by failover role, PRIMARY / SECONDARY) below healthy. Only in us-east-1."""
        for role, health_check_id in health_check_ids.items():
            self._alarm(
                f"route53-health-check-{role.lower()}",
                f"Route 53 health check of the {role} ingress reports unhealthy: DNS answers with the other "
                "region's record (docs/alerting.md#aws-side-alarms)",
                namespace="AWS/Route53", metric_name="HealthCheckStatus",
                dimensions={"HealthCheckId": health_check_id}, statistic="Minimum",
                period=HEALTH_CHECK_PERIOD_SECONDS, evaluation_periods=HEALTH_CHECK_EVALUATION_PERIODS,
                comparison_operator="LessThanThreshold", threshold=HEALTH_CHECK_STATUS_THRESHOLD,
                # Route 53 reports every health check each minute; none means the check is gone.
                treat_missing_data="breaching",
            )

    def watch_replication(self, *, source_bucket: str, destination_bucket: str, rule_id: str) -> None:
        """Failed replications and RTC latency of the artifacts' replication rule (its metrics are on)."""
        dimensions = {"SourceBucket": source_bucket, "DestinationBucket": destination_bucket, "RuleId": rule_id}
        self._alarm(
            "s3-replication-failed",
            f"Objects of {source_bucket} failed to replicate to {destination_bucket} "
            "(docs/alerting.md#aws-side-alarms)",
            namespace="AWS/S3", metric_name="OperationsFailedReplication", dimensions=dimensions, statistic="Sum",
            period=S3_REPLICATION_PERIOD_SECONDS, evaluation_periods=S3_REPLICATION_EVALUATION_PERIODS,
            comparison_operator="GreaterThanThreshold", threshold=0, treat_missing_data="notBreaching",
        )
        self._alarm(
            "s3-replication-latency",
            f"Replication of {source_bucket} to {destination_bucket} slower than the RTC bound of "
            f"{S3_REPLICATION_LATENCY_SECONDS // 60} minutes (docs/alerting.md#aws-side-alarms)",
            namespace="AWS/S3", metric_name="ReplicationLatency", dimensions=dimensions, statistic="Maximum",
            period=S3_REPLICATION_PERIOD_SECONDS, evaluation_periods=S3_REPLICATION_EVALUATION_PERIODS,
            comparison_operator="GreaterThanThreshold", threshold=S3_REPLICATION_LATENCY_SECONDS,
            treat_missing_data="notBreaching",
        )
