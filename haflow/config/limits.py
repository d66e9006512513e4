"""AWS limits the environment sections are validated against, each with the page it comes from.

Naming rules (regions, buckets, tags, KMS aliases) are in haflow.config.names; the EKS versions haflow
supports in haflow/facts.py (sourced and dated); the DR figures in haflow.region_recovery.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy, retentionInDays):
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)

# --- EKS ---
# Nodes per EKS managed node group (service quota, not adjustable):
# https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html
MAX_NODES_PER_GROUP = 450
# The service CIDR must come from an RFC 1918 range and be /12 to /24:
# https://docs.aws.amazon.com/eks/latest/APIReference/API_KubernetesNetworkConfigRequest.html
SERVICE_CIDR_PREFIX_RANGE = (12, 24)
PRIVATE_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
# Control-plane log types EKS can send to CloudWatch Logs:
# https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
ControlPlaneLogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
ALL_CONTROL_PLANE_LOG_TYPES: tuple[ControlPlaneLogType, ...] = (
    "api", "audit", "authenticator", "controllerManager", "scheduler",
)

# --- EC2 and EBS ---
# The largest EC2 instance (u7in-32tb.224xlarge: 896 vCPUs, 32 TiB) bounds what one pod can ask for:
# https://aws.amazon.com/ec2/instance-types/high-memory/
MAX_POD_CPU_CORES = 896
MAX_POD_MEMORY_BYTES = 32 * 1024**4
# gp3 volumes hold at most 16 TiB: https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html
MAX_VOLUME_GIB = 16384

# --- Aurora PostgreSQL ---
# Aurora PostgreSQL major versions with standard support (engine versions "<major>.<minor>"):
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurorapostgresql-release-calendar.html
SUPPORTED_AURORA_POSTGRES_MAJORS = (14, 15, 16, 17)
# Automated backups are kept 1-35 days: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Backups.html
BACKUP_RETENTION_RANGE = (1, 35)
# Secrets Manager rotates every 1-1000 days (RotationRules.AutomaticallyAfterDays); haflow allows at most a year
# between rotations of Prefect's database password, default 30 days:
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html
PREFECT_PASSWORD_ROTATION_RANGE = (1, 365)
PREFECT_PASSWORD_ROTATION_DEFAULT_DAYS = 30
# Performance Insights keeps 7 days free, or a multiple of 31 days up to 731 (2 years):
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_PerfInsights.Overview.cost.html
PERFORMANCE_INSIGHTS_FREE_DAYS = 7
PERFORMANCE_INSIGHTS_MAX_DAYS = 731
# Aurora PostgreSQL log types that can be exported to CloudWatch Logs:
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.CloudWatch.html
AuroraLogExport = Literal["postgresql", "iam-db-auth-error", "instance"]
# Promotion tiers 0 (promoted first) to 15:
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html
PROMOTION_TIER_MAX = 15
# A cluster has one writer and up to 15 replicas.
AURORA_MAX_INSTANCES = 16

# --- ElastiCache Redis ---
# A Redis replication group with cluster mode disabled has a primary and up to 5 replicas:
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Replication.Redis-RedisCluster.html
CACHE_MAX_NODES = 6
# Automatic failover needs a replica to promote: at least two nodes.
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html
CACHE_MIN_NODES_FOR_FAILOVER = 2
# Snapshots are kept 0-35 days: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-automatic.html
SNAPSHOT_RETENTION_MAX_DAYS = 35

# --- S3 ---
# S3 lifecycle expirations take any positive number of days; no AWS maximum is documented, and a
# century is beyond any retention policy, so a larger value is a typo.
MAX_LIFECYCLE_DAYS = 36500
