"""The `network` section: the VPC, three subnet tiers in every availability zone (haflow.config.subnets)."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, field_validator

from haflow.config.section import LOG_RETENTION_MAX, LOG_RETENTION_MIN, Section, check_log_retention, custom_error


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
        return check_log_retention(value)
