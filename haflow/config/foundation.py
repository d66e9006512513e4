"""Configuration of the foundation's stateful and compute parts: EKS, Aurora PostgreSQL, Redis, artifacts.

Sections in stack order (eks, database, cache, artifacts); the structural rules sit on the fields,
the cross-field rules in haflow.config.foundation_checks.
Every field says what happens when it is left out.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from haflow import facts
from haflow.config import names
from haflow.config.model import LOG_RETENTION_MAX, LOG_RETENTION_MIN, Section, _log_retention, custom_error

# Nodes per EKS managed node group (service quota, not adjustable):
# https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html
MAX_NODES_PER_GROUP = 450
# S3 lifecycle expirations take any positive number of days; no AWS maximum is documented, and a
# century is beyond any retention policy, so a larger value is a typo.
MAX_LIFECYCLE_DAYS = 36500

# Kubernetes versions haflow has EKS support dates and add-on versions for (haflow/facts.py, sourced and
# dated); rules HA-EKS-006/007 judge the support window on the day of the check. The default is the newest.
SUPPORTED_KUBERNETES_VERSIONS = tuple(
    version for version in facts.EKS_KUBERNETES_VERSIONS if version in facts.ADDON_VERSIONS
)
DEFAULT_KUBERNETES_VERSION = facts.latest_kubernetes_version()

# Add-on versions for the default Kubernetes version, as the EKS User Guide lists them (haflow/facts.py).
# Bump them together with eks.kubernetes_version.
DEFAULT_ADDON_VERSIONS = {
    key: versions[0] for key, versions in facts.ADDON_VERSIONS[DEFAULT_KUBERNETES_VERSION].items()
}
ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")

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

# Aurora PostgreSQL major versions with standard support (engine versions "<major>.<minor>"):
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurorapostgresql-release-calendar.html
SUPPORTED_AURORA_POSTGRES_MAJORS = (14, 15, 16, 17)
# Automated backups are kept 1-35 days: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.Managing.Backups.html
BACKUP_RETENTION_RANGE = (1, 35)
# Performance Insights keeps 7 days free, or a multiple of 31 days up to 731 (2 years):
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_PerfInsights.Overview.cost.html
PERFORMANCE_INSIGHTS_FREE_DAYS = 7
PERFORMANCE_INSIGHTS_MAX_DAYS = 731
# Aurora PostgreSQL log types that can be exported to CloudWatch Logs:
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.CloudWatch.html
AuroraLogExport = Literal["postgresql", "iam-db-auth-error", "instance"]
DEFAULT_AURORA_LOG_EXPORTS: tuple[AuroraLogExport, ...] = ("postgresql",)
# Promotion tiers 0 (promoted first) to 15:
# https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html
PROMOTION_TIER_MAX = 15
# The tier range shows in the schema; the range check itself is _tiers below (a message with the fix).
PromotionTier = Annotated[int, Field(json_schema_extra={"minimum": 0, "maximum": PROMOTION_TIER_MAX})]
# A cluster has one writer and up to 15 replicas.
AURORA_MAX_INSTANCES = 16

# A Redis replication group with cluster mode disabled has a primary and up to 5 replicas:
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Replication.Redis-RedisCluster.html
CACHE_MAX_NODES = 6
# Automatic failover needs a replica to promote: at least two nodes.
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html
CACHE_MIN_NODES_FOR_FAILOVER = 2
# Snapshots are kept 0-35 days: https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-automatic.html
SNAPSHOT_RETENTION_MAX_DAYS = 35

# hh24:mi-hh24:mi (UTC) and ddd:hh24:mi-ddd:hh24:mi, as RDS and ElastiCache write windows.
DAILY_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
WEEKLY_WINDOW = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-"
                           r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$")
# Environments promising this availability or more (the staging and prod shapes) need a standby
# database instance and a week of backups.
HA_AVAILABILITY_PERCENT = 99.5
HA_MIN_DATABASE_INSTANCES = 2
HA_MIN_BACKUP_RETENTION_DAYS = 7
# Instance-class families: an RDS class is db.<family>.<size>, an ElastiCache type cache.<family>.<size>.
DB_INSTANCE_CLASS = re.compile(r"^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
CACHE_NODE_TYPE = re.compile(r"^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
EC2_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
# Graviton (arm64) families carry a "g" after the generation digit (m7g, c6gn, r8g, t4g); one node
# group runs one AMI architecture. NVIDIA GPU instances are the G and P families (g5, g6e, p4d, p5).
# https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
GRAVITON_INSTANCE_TYPE = re.compile(r"^[a-z]+\d+g[a-z]*\.")
NVIDIA_GPU_INSTANCE_TYPE = re.compile(r"^[gp]\d+[a-z]*\.")
IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
# PostgreSQL identifiers: a letter, then letters, digits, underscores; at most 63 characters.
PG_IDENTIFIER = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$")


def _window(value: str, pattern: re.Pattern[str], example: str) -> str:
    if not pattern.match(value):
        raise custom_error(f"not a window in the form {example} (UTC)", f"write it like {example}")
    return value


def _instance_types(value: list[str]) -> list[str]:
    for instance_type in value:
        if not EC2_INSTANCE_TYPE.match(instance_type):
            raise custom_error(
                f"{instance_type!r} is not an EC2 instance type (family.size, e.g. m6i.xlarge)",
                "use an EC2 instance type without a db. or cache. prefix",
            )
    return value


class NodePool(Section):
    """The general-purpose pool: one EKS managed node group in every availability zone."""

    instance_types: list[str] = Field(
        default_factory=lambda: ["m6i.xlarge"], min_length=1,
        description="EC2 instance types of the nodes; default [m6i.xlarge]",
    )
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field(
        default="ON_DEMAND", description="ON_DEMAND (default) or SPOT capacity"
    )
    min_size_per_az: int = Field(
        default=1, le=MAX_NODES_PER_GROUP, json_schema_extra={"minimum": 1},
        description="Fewest nodes in each AZ's group; default 1 (an AZ never drains to zero)",
    )
    desired_size_per_az: int = Field(
        default=1, ge=1, le=MAX_NODES_PER_GROUP, description="Nodes per AZ at creation; default 1"
    )
    max_size_per_az: int = Field(
        default=3, ge=1, le=MAX_NODES_PER_GROUP,
        description="Most nodes per AZ the autoscaler may add (EKS allows 450 per group); default 3",
    )
    disk_size_gib: int = Field(
        default=50, ge=20, le=16384, description="Encrypted gp3 root volume per node, GiB; default 50"
    )
    max_unavailable_percentage: int = Field(
        default=33, ge=1, le=100,
        description="Share of a group's nodes replaced at once during a rolling update; default 33",
    )

    @field_validator("min_size_per_az")
    @classmethod
    def _min_size(cls, value: int) -> int:
        if value < 1:
            raise custom_error(
                "must be >= 1: an AZ whose group may drain to zero nodes loses its zonal volumes' pods "
                "and leaves the autoscaler nothing to scale from",
                "set eks.node_pool.min_size_per_az: 1 or more",
            )
        return value

    @field_validator("instance_types")
    @classmethod
    def _check_instance_types(cls, value: list[str]) -> list[str]:
        _instance_types(value)
        arm = [bool(GRAVITON_INSTANCE_TYPE.match(instance_type)) for instance_type in value]
        if any(arm) and not all(arm):
            raise custom_error(
                "mixes Graviton (arm64) and x86_64 instance types; a node group runs one AMI architecture",
                "list only Graviton types (e.g. m7g.xlarge) or only x86_64 types (e.g. m6i.xlarge)",
            )
        return value


class GpuNodePool(Section):
    """An optional GPU node group (NVIDIA AMI, tainted nvidia.com/gpu=true:NoSchedule) spanning every AZ."""

    enabled: bool = Field(
        default=False, description="Create the GPU node group; default false (no GPU nodes)",
    )
    instance_types: list[str] = Field(
        default_factory=lambda: ["g5.xlarge"], min_length=1,
        description="GPU instance types; default [g5.xlarge]",
    )
    capacity_type: Literal["ON_DEMAND", "SPOT"] = Field(default="ON_DEMAND", description="Default ON_DEMAND")
    min_size: int = Field(
        default=0, ge=0, le=MAX_NODES_PER_GROUP, description="Fewest GPU nodes; default 0 (scale from zero)"
    )
    desired_size: int = Field(default=0, ge=0, le=MAX_NODES_PER_GROUP, description="GPU nodes at creation; default 0")
    max_size: int = Field(default=2, ge=1, le=MAX_NODES_PER_GROUP, description="Most GPU nodes; default 2")
    disk_size_gib: int = Field(
        default=100, ge=20, le=16384,
        description="Root volume per GPU node (model images are large); default 100"
    )

    @field_validator("instance_types")
    @classmethod
    def _check_instance_types(cls, value: list[str]) -> list[str]:
        _instance_types(value)
        for instance_type in value:
            if not NVIDIA_GPU_INSTANCE_TYPE.match(instance_type):
                raise custom_error(
                    f"{instance_type!r} is not an NVIDIA GPU instance type (G or P family) for the NVIDIA AMI",
                    "use e.g. g5.xlarge, g6.xlarge or p4d.24xlarge",
                )
        return value


class EksAddons(Section):
    """Pinned versions of the EKS managed add-ons (they must suit eks.kubernetes_version)."""

    vpc_cni: str = Field(
        default=DEFAULT_ADDON_VERSIONS["vpc_cni"], description=f"vpc-cni; default for {DEFAULT_KUBERNETES_VERSION}"
    )
    coredns: str = Field(
        default=DEFAULT_ADDON_VERSIONS["coredns"], description=f"coredns; default for {DEFAULT_KUBERNETES_VERSION}"
    )
    kube_proxy: str = Field(
        default=DEFAULT_ADDON_VERSIONS["kube_proxy"],
        description="kube-proxy; its minor version must equal the cluster's; "
        f"default for {DEFAULT_KUBERNETES_VERSION}",
    )
    aws_ebs_csi_driver: str = Field(
        default=DEFAULT_ADDON_VERSIONS["aws_ebs_csi_driver"],
        description=f"aws-ebs-csi-driver; default for {DEFAULT_KUBERNETES_VERSION}"
    )

    @field_validator("vpc_cni", "coredns", "kube_proxy", "aws_ebs_csi_driver")
    @classmethod
    def _version(cls, value: str) -> str:
        if not ADDON_VERSION.match(value):
            raise custom_error(
                "not an EKS add-on version (vMAJOR.MINOR.PATCH-eksbuild.N)",
                "copy one from `aws eks describe-addon-versions --addon-name <name>`",
            )
        return value


GIT_REPOSITORY_URL = re.compile(r"^https://[A-Za-z0-9.-]+/[\w.-]+/[\w.-]+(\.git)?$")


class DeployAccess(Section):
    """How `cdktf deploy <env>-platform` reaches the EKS API.

    runner: the API stays private and the foundation creates a CodeBuild project in the private subnets
    (admitted to the cluster's API on 443, cluster admin through an access entry) that CI starts to run the
    deploy. public_endpoint: the deployer calls the public endpoint from the eks.public_access_cidrs allow-list.
    """

    mode: Literal["runner", "public_endpoint"] = Field(
        default="runner",
        description="runner (default): a CodeBuild deploy runner inside the VPC; public_endpoint: the API's "
        "public endpoint, allow-listed by eks.public_access_cidrs",
    )
    repository_url: str | None = Field(
        default=None,
        description="HTTPS URL of this repository, which the runner checks out (CodeBuild source GITHUB; "
        "import source credentials for a private repository); required for mode runner",
    )
    buildspec: str = Field(
        default="deploy/buildspec.yml", description="The runner's buildspec in the repository; default "
        "deploy/buildspec.yml",
    )
    compute_type: Literal["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"] = Field(
        default="BUILD_GENERAL1_MEDIUM",
        description="CodeBuild compute of the runner (synth + terraform need ~4 GB); default BUILD_GENERAL1_MEDIUM",
    )
    timeout_minutes: int = Field(
        default=60, ge=5, le=480,
        description="Longest deploy before CodeBuild stops it (Helm waits up to 15 min per release); default 60",
    )

    @field_validator("repository_url")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is not None and not GIT_REPOSITORY_URL.match(value):
            raise custom_error(
                "not an HTTPS Git repository URL", "write it like https://github.com/acme/haflow.git",
            )
        return value


class Eks(Section):
    """The EKS cluster: control plane, node groups, add-ons and who may administer it."""

    kubernetes_version: str = Field(
        default=DEFAULT_KUBERNETES_VERSION,
        description=f"Kubernetes minor version, one of {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}; "
        f"default {DEFAULT_KUBERNETES_VERSION}",
    )
    support_type: Literal["STANDARD", "EXTENDED"] = Field(
        default="STANDARD",
        description="The cluster's upgrade policy at the end of standard support: STANDARD (default) lets EKS "
        "upgrade it; EXTENDED keeps the version on billed extended support (rule HA-EKS-009 flags it)",
    )
    endpoint_public_access: bool = Field(
        default=False,
        description="Expose the API endpoint on the internet (allow-listed); default false: private only"
    )
    public_access_cidrs: list[str] = Field(
        default_factory=list,
        description="CIDRs allowed to the public endpoint; required when endpoint_public_access is true; "
        "default none",
    )
    service_ipv4_cidr: str = Field(
        default="172.20.0.0/16",
        description="CIDR Kubernetes services get addresses from; must not overlap the VPC; "
        "default 172.20.0.0/16",
    )
    control_plane_log_types: list[ControlPlaneLogType] = Field(
        default_factory=lambda: list(ALL_CONTROL_PLANE_LOG_TYPES),
        description="Control-plane logs sent to CloudWatch Logs; default all five",
    )
    control_plane_log_retention_days: int = Field(
        default=90, ge=LOG_RETENTION_MIN, le=LOG_RETENTION_MAX,
        description="Retention of control-plane logs; default 90",
    )
    container_log_retention_days: int = Field(
        default=30, description="Retention of the container log group fluent-bit writes to; default 30",
        ge=LOG_RETENTION_MIN, le=LOG_RETENTION_MAX,
    )
    admin_role_arns: list[str] = Field(
        default_factory=list,
        description="IAM roles given cluster-admin through access entries; default none "
        "(only the identity that creates the cluster is admin)",
    )
    protect_from_destroy: bool = Field(
        default=False,
        description="prevent_destroy on the cluster and its secrets key, plus EKS deletion protection; "
        "default false",
    )
    deploy_access: DeployAccess = Field(
        default_factory=DeployAccess,
        description="How the deployer reaches the EKS API; default a CodeBuild runner inside the VPC",
    )
    node_pool: NodePool = Field(default_factory=NodePool)
    gpu_node_pool: GpuNodePool = Field(default_factory=GpuNodePool)
    addons: EksAddons = Field(default_factory=EksAddons)

    @field_validator("kubernetes_version")
    @classmethod
    def _kubernetes_version(cls, value: str) -> str:
        if value not in SUPPORTED_KUBERNETES_VERSIONS:
            raise custom_error(
                "not a Kubernetes version haflow has EKS support dates and add-on versions for "
                f"(allowed: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}; haflow/facts.py)",
                f"use {DEFAULT_KUBERNETES_VERSION} (and the add-on versions for it)",
            )
        return value

    @field_validator("service_ipv4_cidr")
    @classmethod
    def _service_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as err:
            raise custom_error(f"not a valid IPv4 network ({err})", "write it like 172.20.0.0/16") from None
        low, high = SERVICE_CIDR_PREFIX_RANGE
        if not low <= network.prefixlen <= high or not any(network.subnet_of(r) for r in PRIVATE_RANGES):
            raise custom_error(
                "EKS needs a service CIDR inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, "
                f"/{low} to /{high}",
                "use 172.20.0.0/16",
            )
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _public_cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                network = ipaddress.IPv4Network(cidr, strict=True)
            except ValueError as err:
                raise custom_error(
                    f"{cidr!r} is not a valid IPv4 network ({err})", "write it like 203.0.113.0/24"
                ) from None
            if network.prefixlen == 0:
                raise custom_error(
                    "0.0.0.0/0 opens the API endpoint to the whole internet",
                    "list your office or CI egress ranges instead",
                )
        return value

    @field_validator("control_plane_log_retention_days", "container_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _log_retention(value)

    @field_validator("admin_role_arns")
    @classmethod
    def _admin_roles(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not IAM_ROLE_ARN.match(arn):
                raise custom_error(
                    f"{arn!r} is not an IAM role ARN",
                    "write it like arn:aws:iam::123456789012:role/platform-admin",
                )
        return value


class Database(Section):
    """Aurora PostgreSQL: one writer and readers, one instance per AZ in availability_zones order."""

    engine_version: str = Field(
        default="16.6", description="Aurora PostgreSQL engine version MAJOR.MINOR; default 16.6",
    )
    instance_class: str = Field(
        default="db.r6g.large", description="Instance class of every instance; default db.r6g.large",
    )
    instances: int = Field(
        default=2, ge=1, le=AURORA_MAX_INSTANCES,
        description="Instances, one per AZ in availability_zones order (the first is the initial writer); "
        "default 2",
    )
    promotion_tiers: list[PromotionTier] = Field(
        default_factory=list,
        description="Failover priority of each instance (0 first .. 15); default: instance i gets tier i, "
        "so the instance in the second AZ is promoted first",
    )
    database_name: str = Field(
        default="prefect", description="Database created in the cluster; default prefect",
    )
    master_username: str = Field(
        default="haflow_admin",
        description="Master user; Secrets Manager generates and keeps its password; default haflow_admin",
    )
    backup_retention_days: int = Field(
        default=7, ge=BACKUP_RETENTION_RANGE[0], le=BACKUP_RETENTION_RANGE[1],
        description="Days of automated backups (point-in-time restore); default 7",
    )
    preferred_backup_window: str = Field(
        default="03:00-04:00", description="Daily backup window, UTC; default 03:00-04:00",
    )
    preferred_maintenance_window: str = Field(
        default="sun:05:00-sun:06:00",
        description="Weekly maintenance window, UTC; default sun:05:00-sun:06:00"
    )
    deletion_protection: bool = Field(default=True, description="RDS deletion protection; default true")
    final_snapshot: bool = Field(
        default=True, description="Take a final snapshot when the cluster is deleted; default true"
    )
    log_exports: list[AuroraLogExport] = Field(
        default_factory=lambda: list(DEFAULT_AURORA_LOG_EXPORTS),
        description="Logs exported to CloudWatch Logs; default [postgresql]"
    )
    log_retention_days: int = Field(
        default=90, ge=LOG_RETENTION_MIN, le=LOG_RETENTION_MAX,
        description="Retention of the exported logs' groups (/aws/rds/cluster/<id>/<log>), which the stack "
        "creates KMS-encrypted before the cluster; default 90",
    )
    performance_insights_retention_days: int = Field(
        default=PERFORMANCE_INSIGHTS_FREE_DAYS, ge=PERFORMANCE_INSIGHTS_FREE_DAYS, le=PERFORMANCE_INSIGHTS_MAX_DAYS,
        description="Performance Insights retention: 7 (free) or a multiple of 31 up to 731; default 7",
    )
    protect_from_destroy: bool = Field(
        default=False, description="prevent_destroy on the cluster, its instances and its key; default false"
    )

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str) -> str:
        match = re.match(r"^(\d+)\.(\d+)$", value)
        if not match or int(match.group(1)) not in SUPPORTED_AURORA_POSTGRES_MAJORS:
            majors = ", ".join(str(major) for major in SUPPORTED_AURORA_POSTGRES_MAJORS)
            raise custom_error(
                f"not an Aurora PostgreSQL version MAJOR.MINOR with a supported major ({majors})", "use 16.6"
            )
        return value

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        if not DB_INSTANCE_CLASS.match(value):
            raise custom_error(
                "not an RDS instance class (db.<family>.<size>, e.g. db.r6g.large)",
                f"write it as db.{value}" if EC2_INSTANCE_TYPE.match(value) else "use e.g. db.r6g.large",
            )
        return value

    @field_validator("promotion_tiers")
    @classmethod
    def _tiers(cls, value: list[int]) -> list[int]:
        if any(not 0 <= tier <= PROMOTION_TIER_MAX for tier in value):
            raise custom_error(f"promotion tiers run from 0 to {PROMOTION_TIER_MAX}", "use tiers 0-15")
        return value

    @field_validator("database_name", "master_username")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not PG_IDENTIFIER.match(value):
            raise custom_error(
                "PostgreSQL names are a letter followed by up to 62 letters, digits or underscores",
                "use e.g. prefect",
            )
        return value

    @field_validator("preferred_backup_window")
    @classmethod
    def _backup_window(cls, value: str) -> str:
        return _window(value, DAILY_WINDOW, "03:00-04:00")

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention_days(cls, value: int) -> int:
        return _log_retention(value)

    @field_validator("preferred_maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str) -> str:
        return _window(value, WEEKLY_WINDOW, "sun:05:00-sun:06:00")

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, value: int) -> int:
        allowed = value in (PERFORMANCE_INSIGHTS_FREE_DAYS, PERFORMANCE_INSIGHTS_MAX_DAYS) or (
            value % 31 == 0 and 0 < value < PERFORMANCE_INSIGHTS_MAX_DAYS
        )
        if not allowed:
            raise custom_error(
                "Performance Insights keeps 7 days, a multiple of 31 days, or 731 days",
                "use 7 (free tier) or 31",
            )
        return value

    @property
    def engine_major(self) -> int:
        return int(self.engine_version.split(".")[0])

    def tier_of(self, index: int) -> int:
        """The promotion tier of instance ``index``: from promotion_tiers, else the index itself."""
        return self.promotion_tiers[index] if self.promotion_tiers else min(index, PROMOTION_TIER_MAX)


class Cache(Section):
    """ElastiCache Redis, cluster mode disabled (Prefect supports standalone Redis only), Multi-AZ."""

    engine_version: str = Field(default="7.1", description="Redis engine version MAJOR.MINOR; default 7.1")
    node_type: str = Field(default="cache.r7g.large", description="Node type; default cache.r7g.large")
    num_cache_clusters: int = Field(
        default=2, json_schema_extra={"minimum": CACHE_MIN_NODES_FOR_FAILOVER, "maximum": CACHE_MAX_NODES},
        description="Nodes (one primary, the rest replicas), spread over the AZs in order; default 2",
    )
    snapshot_retention_days: int = Field(
        default=7, ge=0, le=SNAPSHOT_RETENTION_MAX_DAYS,
        description="Daily snapshots kept; default 7 (0 disables)"
    )
    snapshot_window: str = Field(
        default="04:00-05:00", description="Daily snapshot window, UTC; default 04:00-05:00",
    )
    maintenance_window: str = Field(
        default="sun:06:00-sun:07:00",
        description="Weekly maintenance window, UTC; default sun:06:00-sun:07:00"
    )
    protect_from_destroy: bool = Field(
        default=False,
        description="prevent_destroy on the replication group, its key and auth secret; default false"
    )

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str) -> str:
        if not re.match(r"^[67]\.\d+$", value):
            raise custom_error("not a Redis engine version 6.x or 7.x (MAJOR.MINOR)", "use 7.1")
        return value

    @field_validator("num_cache_clusters")
    @classmethod
    def _nodes(cls, value: int) -> int:
        if value < CACHE_MIN_NODES_FOR_FAILOVER:
            raise custom_error(
                f"must be >= {CACHE_MIN_NODES_FOR_FAILOVER}: automatic failover and Multi-AZ need a replica "
                "in another AZ to promote",
                f"set cache.num_cache_clusters: {CACHE_MIN_NODES_FOR_FAILOVER}",
            )
        if value > CACHE_MAX_NODES:
            raise custom_error(
                f"must be <= {CACHE_MAX_NODES}: a replication group without cluster mode has one primary "
                f"and at most {CACHE_MAX_NODES - 1} replicas",
                f"set cache.num_cache_clusters: {CACHE_MAX_NODES} or fewer",
            )
        return value

    @field_validator("node_type")
    @classmethod
    def _node_type(cls, value: str) -> str:
        if not CACHE_NODE_TYPE.match(value):
            raise custom_error(
                "not an ElastiCache node type (cache.<family>.<size>, e.g. cache.r7g.large)",
                f"write it as cache.{value}" if EC2_INSTANCE_TYPE.match(value) else "use cache.r7g.large",
            )
        return value

    @field_validator("snapshot_window")
    @classmethod
    def _snapshot_window(cls, value: str) -> str:
        return _window(value, DAILY_WINDOW, "04:00-05:00")

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str) -> str:
        return _window(value, WEEKLY_WINDOW, "sun:06:00-sun:07:00")

    @property
    def engine_major(self) -> int:
        return int(self.engine_version.split(".")[0])


class Artifacts(Section):
    """The S3 bucket for flow artifacts and models: versioned, SSE-KMS, private, TLS only."""

    bucket_name: str | None = Field(
        default=None, description="Globally unique bucket name; default haflow-<environment>-artifacts"
    )
    noncurrent_version_expiration_days: int = Field(
        default=30, ge=1, le=MAX_LIFECYCLE_DAYS,
        description="Days an overwritten or deleted object version is kept; default 30",
    )
    abort_incomplete_multipart_upload_days: int = Field(
        default=7, ge=1, le=MAX_LIFECYCLE_DAYS,
        description="Days before an unfinished multipart upload is removed; default 7",
    )
    protect_from_destroy: bool = Field(
        default=False, description="prevent_destroy on the bucket and its key; default false"
    )

    @field_validator("bucket_name")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        problem = names.bucket_name_problem(value) if value is not None else None
        if problem:
            raise custom_error(problem, "choose a globally unique name such as acme-haflow-prod-artifacts")
        return value

    def bucket_for(self, environment: str) -> str:
        return self.bucket_name or f"haflow-{environment}-artifacts"
