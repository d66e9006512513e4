"""The environment model: what one merged ``environments/<env>.yaml`` may say.

Sections appear in the same order here, in the constructs and in the stack outputs:
general, state, network, (foundation sections), (platform sections), slo, suppressions.
Every field says what happens when it is left out.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from haflow import contract
from haflow.config import names

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy, retentionInDays):
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)


def custom_error(problem: str, fix: str) -> PydanticCustomError:
    """A validation error whose message and fix survive into the ConfigIssue."""
    return PydanticCustomError("haflow", problem, {"fix": fix})


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable after load."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(days) for days in LOG_RETENTION_DAYS)
        nearest = min(LOG_RETENTION_DAYS, key=lambda days: abs(days - value))
        raise custom_error(
            f"CloudWatch Logs accepts only these retention periods: {allowed}", f"use {nearest}"
        )
    return value


LogRetentionDays = Annotated[int, Field(description="CloudWatch Logs retention in days (an allowed value)")]
LOG_RETENTION_MIN, LOG_RETENTION_MAX = LOG_RETENTION_DAYS[0], LOG_RETENTION_DAYS[-1]
# An SLO is judged over a month: an RTO or RPO longer than that cannot be met or missed within one.
SLO_MAX_SECONDS = 31 * 24 * 3600


class StateBackend(Section):
    """Where Terraform keeps this environment's state (created by the `bootstrap` stack)."""

    bucket: str = Field(description="S3 bucket holding Terraform state; the bootstrap stack creates it")
    region: str = Field(description="Region of the state bucket")
    key_prefix: str = Field(
        default="haflow", description="State objects go to <key_prefix>/<stack>.tfstate; default haflow"
    )
    kms_key_alias: str = Field(
        default="alias/haflow/terraform-state",
        description="Alias of the KMS key the bootstrap stack creates for the state bucket; the S3 backend "
        "encrypts state with it (an alias because a backend block cannot reference a resource); "
        "default alias/haflow/terraform-state",
    )

    def object_key(self, stack_name: str) -> str:
        """The key of ``stack_name``'s state object (its lock file is this plus ``.tflock``)."""
        return f"{self.key_prefix}/{stack_name}.tfstate"

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        problem = names.bucket_name_problem(value)
        if problem:
            raise custom_error(problem, "choose a globally unique name such as acme-haflow-tfstate")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _check_region(value)

    @field_validator("kms_key_alias")
    @classmethod
    def _alias(cls, value: str) -> str:
        if not names.KMS_ALIAS.match(value) or value.startswith("alias/aws/"):
            raise custom_error(
                "not a KMS alias name of your own (alias/ then letters, digits, / _ -; alias/aws/ is reserved)",
                "use e.g. alias/haflow/terraform-state",
            )
        return value


def _check_region(value: str) -> str:
    if not names.REGION.match(value):
        raise custom_error(
            "not an AWS region code (for example us-east-1, eu-west-2, us-gov-west-1)",
            "use the region code, not its display name",
        )
    return value


class SubnetPrefixLengths(Section):
    """Size of each subnet tier, as a prefix length; every AZ gets one subnet per tier."""

    public: int = Field(default=24, ge=16, le=28, description="Public subnets (NAT, load balancers); default /24")
    private: int = Field(
        default=19, ge=16, le=28, description="Private subnets (EKS nodes and pods); default /19 (8,187 IPs)"
    )
    data: int = Field(default=24, ge=16, le=28, description="Data subnets (Aurora, Redis); default /24")


class Network(Section):
    """The VPC: three subnet tiers in every availability zone."""

    cidr: str = Field(description="IPv4 CIDR of the VPC, /16 to /24 (VPC limits)")
    nat_gateways: Literal["per_az", "single", "regional"] = Field(
        default="per_az",
        description="per_az: one NAT gateway in every AZ (an AZ outage keeps egress); "
        "single: one NAT gateway for the VPC (cheaper, one AZ's outage cuts egress); "
        "regional: one regional NAT gateway that AWS spreads over every AZ with subnets "
        "(zone-resilient without a gateway per AZ)",
    )
    subnet_prefix_lengths: SubnetPrefixLengths = Field(default_factory=SubnetPrefixLengths)
    flow_log_retention_days: Annotated[
        int, Field(description="Retention of VPC flow logs; default 90", ge=LOG_RETENTION_MIN, le=LOG_RETENTION_MAX)
    ] = 90
    flow_log_traffic_type: Literal["ALL", "ACCEPT", "REJECT"] = Field(
        default="ALL", description="Which traffic the flow logs record; default ALL"
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as err:
            raise custom_error(
                f"not a valid IPv4 network ({err})", "write it as address/prefix with host bits zero, e.g. 10.0.0.0/16"
            ) from None
        # https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html: /16 to /28
        if not 16 <= network.prefixlen <= 24:
            raise custom_error(
                "a VPC CIDR must be between /16 and /24 to hold three subnet tiers per AZ",
                "use a /16 such as 10.0.0.0/16",
            )
        if not network.is_private:
            raise custom_error("the VPC CIDR must be a private (RFC 1918) range", "use a range inside 10.0.0.0/8")
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return _log_retention(value)


class Slo(Section):
    """What the environment promises; `haflow report` compares the plan's estimate with it."""

    availability: float = Field(
        gt=90, lt=100, description="Target availability in percent over a month, e.g. 99.9"
    )
    rto_seconds: int = Field(
        gt=0, le=SLO_MAX_SECONDS,
        description="Recovery time objective: longest tolerable outage, in seconds (at most 31 days)",
    )
    rpo_seconds: int = Field(
        ge=0, le=SLO_MAX_SECONDS,
        description="Recovery point objective: most data loss tolerable, in seconds (at most 31 days)",
    )
    region_rto_seconds: int | None = Field(
        default=None, gt=0, le=SLO_MAX_SECONDS,
        description="Recovery time objective for the loss of the whole primary region, in seconds; "
        "required when dr.mode is not none",
    )
    region_rpo_seconds: int | None = Field(
        default=None, ge=0, le=SLO_MAX_SECONDS,
        description="Recovery point objective for the loss of the whole primary region, in seconds; "
        "required when dr.mode is not none",
    )


class Suppression(Section):
    """An accepted rule finding, with the reason a reviewer can judge."""

    rule: str = Field(description="Rule id, e.g. HA-NET-002 (see RULES.md)")
    reason: str = Field(description="Why this is acceptable here, at least 10 characters")
    resources: list[str] = Field(
        default_factory=list,
        description="Resource addresses (type.name) the suppression covers; empty covers every resource",
    )

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if len(value.strip()) < 10:
            raise custom_error(
                "a suppression needs a reason of at least 10 characters",
                "say why the finding is acceptable in this environment",
            )
        return value


# Section modules build on Section and custom_error above, so they are imported here, not at the top.
from haflow.config.dr import Dr  # noqa: E402
from haflow.config.foundation import Artifacts, Cache, Database, Eks  # noqa: E402
from haflow.config.platform import Ingress, ModelApi, Observability, Prefect, Secrets  # noqa: E402


class Environment(Section):
    """One environment: ``environments/base.yaml`` deep-merged with ``environments/<name>.yaml``."""

    # general
    name: str = Field(description="Environment name (the overlay's file name); used in resource names")
    region: str = Field(description="AWS region, e.g. us-east-1")
    availability_zones: list[str] = Field(description="At least two distinct AZs of the region")
    tags: dict[str, str] = Field(default_factory=dict, description="Default tags on every AWS resource")
    state: StateBackend
    network: Network
    # foundation (the <env>-foundation stack, after the network)
    eks: Eks = Field(default_factory=Eks, description="EKS; defaults: private API, 1-3 nodes per AZ")
    database: Database = Field(default_factory=Database, description="Aurora PostgreSQL; default 2 instances")
    cache: Cache = Field(default_factory=Cache, description="Redis (cluster mode off); default 2 nodes")
    artifacts: Artifacts = Field(default_factory=Artifacts, description="S3 bucket for flow artifacts")
    # platform (the <env>-platform stack)
    ingress: Ingress = Field(default_factory=Ingress, description="ingress-nginx; defaults: 2 controllers, public NLB")
    prefect: Prefect = Field(default_factory=Prefect, description="Prefect server and worker; defaults: 2 + 2 pods")
    model_api: ModelApi = Field(
        default_factory=ModelApi, description="The model-api workload; defaults: 2-6 pods, no GPU"
    )
    observability: Observability = Field(
        default_factory=Observability, description="Metrics, alerts and logs; defaults: 2 Prometheus, 2 Alertmanager"
    )
    secrets: Secrets = Field(
        default_factory=Secrets, description="External Secrets Operator; defaults: 2 pods, 1h refresh"
    )
    dr: Dr = Field(default_factory=Dr, description="Disaster recovery in a second region; default none")
    slo: Slo
    suppressions: list[Suppression] = Field(
        default_factory=list, description="Accepted rule findings; none by default"
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not names.ENV_NAME.match(value):
            raise custom_error(
                "environment names are 3-16 characters of lowercase letters, digits and hyphens, "
                "starting with a letter (they go into S3, RDS and EKS names)",
                "rename the overlay file, e.g. environments/prod.yaml",
            )
        if value.endswith(contract.RESERVED_ENV_SUFFIX):
            owner = value[: -len(contract.RESERVED_ENV_SUFFIX)]
            raise custom_error(
                f"environment names may not end in {contract.RESERVED_ENV_SUFFIX!r}: this environment's stack "
                f"{value}-foundation would be the disaster-recovery foundation stack of an environment {owner!r}",
                "rename the overlay file",
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _check_region(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, tag_value in value.items():
            if key.lower().startswith("aws:"):
                raise custom_error(f"tag key {key!r} uses the reserved aws: prefix", "drop the aws: prefix")
            if len(key) > names.TAG_KEY_MAX or len(tag_value) > names.TAG_VALUE_MAX:
                raise custom_error(
                    f"tag {key!r} is too long (keys <= 128, values <= 256 characters)", "shorten it"
                )
            if not names.TAG_CHARS.match(key) or not names.TAG_CHARS.match(tag_value):
                raise custom_error(
                    f"tag {key!r} has characters AWS tags do not allow (letters, digits, spaces, _ . : / = + - @)",
                    "remove the other characters",
                )
        return value

    @property
    def foundation_stack_name(self) -> str:
        return contract.stack_name(self.name, contract.StackRole.FOUNDATION)

    @property
    def platform_stack_name(self) -> str:
        return contract.stack_name(self.name, contract.StackRole.PLATFORM)

    @property
    def dr_foundation_stack_name(self) -> str:
        return contract.stack_name(self.name, contract.StackRole.DR_FOUNDATION)

    @property
    def dr_platform_stack_name(self) -> str:
        return contract.stack_name(self.name, contract.StackRole.DR_PLATFORM)

    @property
    def stack_names(self) -> tuple[str, ...]:
        """This environment's own stacks, the DR pair only when dr.mode is not none."""
        return contract.environment_stacks(self.name, dr=self.dr.enabled)
