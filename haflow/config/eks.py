"""The `eks` section: the EKS cluster, its node groups, add-ons and the deployer's path to its API.

Structural rules sit on the fields; the cross-field rules are in haflow.config.checks.foundation.
Every field says what happens when it is left out.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator

from haflow import facts
from haflow.config.limits import (
    ALL_CONTROL_PLANE_LOG_TYPES,
    MAX_NODES_PER_GROUP,
    MAX_VOLUME_GIB,
    PRIVATE_RANGES,
    SERVICE_CIDR_PREFIX_RANGE,
    ControlPlaneLogType,
)
from haflow.config.names import EC2_INSTANCE_TYPE
from haflow.config.section import LOG_RETENTION_MAX, LOG_RETENTION_MIN, Section, check_log_retention, custom_error

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
# Graviton (arm64) families carry a "g" after the generation digit (m7g, c6gn, r8g, t4g); one node
# group runs one AMI architecture. NVIDIA GPU instances are the G and P families (g5, g6e, p4d, p5).
# https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
GRAVITON_INSTANCE_TYPE = re.compile(r"^[a-z]+\d+g[a-z]*\.")
NVIDIA_GPU_INSTANCE_TYPE = re.compile(r"^[gp]\d+[a-z]*\.")
IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


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
        description=f"Most nodes per AZ the autoscaler may add (EKS allows {MAX_NODES_PER_GROUP} per group); default 3",
    )
    disk_size_gib: int = Field(
        default=50, ge=20, le=MAX_VOLUME_GIB, description="Encrypted gp3 root volume per node, GiB; default 50"
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
        default=100, ge=20, le=MAX_VOLUME_GIB,
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
        return check_log_retention(value)

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
