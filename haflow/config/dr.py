"""Disaster recovery: the `dr` section of an environment (a second region) and the figures its checks rest on.

Modes (the AWS DR strategies, https://docs.aws.amazon.com/whitepapers/latest/disaster-recovery-workloads-on-aws/disaster-recovery-options-in-the-cloud.html):

- none: one region; losing it loses the platform until the region returns.
- pilot_light: the secondary region holds the data live (Aurora Global Database secondary cluster
  without instances, "headless"; S3 replica) and the platform provisioned at its floor (network,
  EKS with one node per AZ, the same releases, a fresh Redis); failing over adds the database
  instance and scales up.
- warm_standby: as pilot light, plus an Aurora reader in the secondary cluster and nodes at the
  primary's floor, so the secondary serves at reduced capacity as soon as it is promoted.

Cross-field rules live in ``haflow.config.checks.dr``; the published figures they and the region
report share are in ``haflow.region_recovery`` (haflow.report.sources cites them with quotes).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator

from haflow.config import names
from haflow.config.limits import MAX_NODES_PER_GROUP
from haflow.config.platform import HOSTED_ZONE_ID, MAX_REPLICAS
from haflow.config.section import SLO_MAX_SECONDS, Section, check_region, custom_error
from haflow.region_recovery import DEFAULT_DECISION_SECONDS, DEFAULT_DNS_TTL_SECONDS

DrMode = Literal["none", "pilot_light", "warm_standby"]
DR_MODES: tuple[DrMode, ...] = ("none", "pilot_light", "warm_standby")

DNS_RECORD = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$")


class DnsFailover(Section):
    """Route 53 failover routing for the ingress: health checks on each region's load balancer."""

    hosted_zone_id: str = Field(description="Route 53 hosted zone id holding the record, e.g. Z0123456789ABCDEFGHIJ")
    record_name: str = Field(description="The record clients use, e.g. api.example.com")
    primary_target: str = Field(
        description="DNS name of the primary region's ingress load balancer (from `kubectl -n ingress-nginx "
        "get svc`), the PRIMARY record's target",
    )
    secondary_target: str = Field(
        description="DNS name of the secondary region's ingress load balancer, the SECONDARY record's target",
    )
    health_check_path: str = Field(default="/healthz", description="HTTPS path the health checks request; "
                                   "default /healthz (ingress-nginx's default backend health path)")
    ttl_seconds: int = Field(
        default=DEFAULT_DNS_TTL_SECONDS, ge=5, le=3600,
        description=f"TTL of the failover records; default {DEFAULT_DNS_TTL_SECONDS}",
    )

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not HOSTED_ZONE_ID.match(value):
            raise custom_error("not a Route 53 hosted zone id (Z followed by letters and digits)",
                               "copy it from `aws route53 list-hosted-zones`")
        return value

    @field_validator("record_name", "primary_target", "secondary_target")
    @classmethod
    def _dns_name(cls, value: str) -> str:
        if not DNS_RECORD.match(value):
            raise custom_error("not a DNS name", "write it like api.example.com")
        return value

    @field_validator("health_check_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise custom_error("a health check path starts with /", "write it like /healthz")
        return value


class Dr(Section):
    """Disaster recovery in a second region: what it runs per mode and how traffic moves there."""

    mode: DrMode = Field(
        default="none",
        description="none (one region), pilot_light (data live, platform at its floor, headless database) "
        "or warm_standby (pilot light plus an Aurora reader and nodes at the primary's floor); default none",
    )
    secondary_region: str | None = Field(
        default=None, description="The recovery region, e.g. us-west-2; required unless mode is none"
    )
    availability_zones: list[str] = Field(
        default_factory=list,
        description="At least two distinct AZs of the secondary region (validated like availability_zones)",
    )
    network_cidr: str | None = Field(
        default=None,
        description="VPC CIDR in the secondary region; must not overlap the primary VPC; required unless mode is none",
    )
    database_instances: int | None = Field(
        default=None, ge=0, le=15,
        description="Aurora instances in the secondary cluster; default 0 in pilot_light (headless), "
        "1 reader in warm_standby",
    )
    node_min_size_per_az: int | None = Field(
        default=None, ge=1, le=MAX_NODES_PER_GROUP,
        description="Nodes per AZ the secondary keeps; default 1 in pilot_light, "
        "eks.node_pool.min_size_per_az in warm_standby",
    )
    platform_replicas: int = Field(
        default=2, ge=2, le=MAX_REPLICAS,
        description="Pods of Prefect server, background services, worker, model-api and ingress in the "
        "secondary (autoscaling raises them after failover); default 2, the HA floor",
    )
    serving: bool = Field(
        default=False,
        description="The secondary region serves Prefect: set true in the region failover runbook once the "
        "secondary Aurora cluster is promoted, then apply <env>-dr-platform. While false the DR platform runs the "
        "Prefect server, background services and worker at 0 pods (a global-database secondary is read-only and "
        "Prefect writes on start); default false",
    )
    replicate_delete_markers: bool = Field(
        default=False,
        description="Replicate S3 delete markers to the secondary; default false: a delete in the primary "
        "(by mistake or by an attacker) does not hide the object in the secondary copy",
    )
    state_bucket: str | None = Field(
        default=None,
        description="Terraform state bucket in the secondary region for the DR stacks; "
        "default <state.bucket>-<secondary_region>",
    )
    decision_seconds: int = Field(
        default=DEFAULT_DECISION_SECONDS, ge=0, le=SLO_MAX_SECONDS,
        description="Time the runbook budgets to decide a regional failover after detection; "
        f"default {DEFAULT_DECISION_SECONDS}",
    )
    dns: DnsFailover | None = Field(
        default=None,
        description="Route 53 failover records for the ingress; left out, failover of traffic is manual "
        "(the report says so)",
    )

    @field_validator("secondary_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return check_region(value) if value is not None else None

    @field_validator("network_cidr")
    @classmethod
    def _cidr(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as err:
            raise custom_error(f"not a valid IPv4 network ({err})", "write it like 10.31.0.0/16") from None
        if not 16 <= network.prefixlen <= 24 or not network.is_private:
            raise custom_error("a VPC CIDR is a private range between /16 and /24", "use e.g. 10.31.0.0/16")
        return value

    @field_validator("state_bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        problem = names.bucket_name_problem(value) if value is not None else None
        if problem:
            raise custom_error(problem, "choose a globally unique name such as acme-haflow-tfstate-us-west-2")
        return value

    @property
    def enabled(self) -> bool:
        return self.mode != "none"

    def secondary_database_instances(self) -> int:
        if self.database_instances is not None:
            return self.database_instances
        return 1 if self.mode == "warm_standby" else 0

    def secondary_nodes_per_az(self, primary_min_size_per_az: int) -> int:
        """Nodes per AZ the secondary keeps: node_min_size_per_az, else 1 in pilot_light, the primary's floor
        in warm_standby."""
        if self.node_min_size_per_az is not None:
            return self.node_min_size_per_az
        return 1 if self.mode == "pilot_light" else primary_min_size_per_az

    def state_bucket_for(self, primary_bucket: str) -> str:
        return self.state_bucket or f"{primary_bucket}-{self.secondary_region}"
