"""The environment model: what one merged ``environments/<env>.yaml`` may say.

Sections appear in the same order here, in the constructs and in the stack outputs:
general, state, network, (foundation sections), (platform sections), slo, suppressions.
Every field says what happens when it is left out.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from haflow import contract
from haflow.config import names
from haflow.config.artifacts import Artifacts
from haflow.config.cache import Cache
from haflow.config.database import Database
from haflow.config.dr import Dr
from haflow.config.eks import Eks
from haflow.config.network import Network
from haflow.config.platform import Ingress, ModelApi, Observability, Prefect, Secrets
from haflow.config.section import SLO_MAX_SECONDS, Section, check_region, custom_error


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
        return check_region(value)

    @field_validator("kms_key_alias")
    @classmethod
    def _alias(cls, value: str) -> str:
        if not names.KMS_ALIAS.match(value) or value.startswith("alias/aws/"):
            raise custom_error(
                "not a KMS alias name of your own (alias/ then letters, digits, / _ -; alias/aws/ is reserved)",
                "use e.g. alias/haflow/terraform-state",
            )
        return value


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
        return check_region(value)

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
    def dns_alarms_stack_name(self) -> str:
        return contract.stack_name(self.name, contract.StackRole.DNS_ALARMS)

    @property
    def stack_names(self) -> tuple[str, ...]:
        """This environment's own stacks, the DR pair only when dr.mode is not none, the health checks' alarms
        only with DNS failover (dr.dns) too."""
        return contract.environment_stacks(self.name, dr=self.dr.enabled, dns=self.dr.dns is not None)
