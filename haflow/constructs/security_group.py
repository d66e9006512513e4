"""A data store's security group: one port, open only to the EKS cluster security group."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct


def admit_only_eks(
    scope: Construct, *, name: str, description: str, service: str, vpc_id: str, port: int,
    client_security_group_id: str,
) -> SecurityGroup:
    """Security group ``name`` admitting TCP ``port`` from ``client_security_group_id`` and nothing else.

    Resources are added to ``scope`` with the ids security-group and ingress-from-eks.
    """
    group = SecurityGroup(
        scope, "security-group", name=name, vpc_id=vpc_id,
        description=description,
        tags={"Name": name},
    )
    VpcSecurityGroupIngressRule(
        scope, "ingress-from-eks", security_group_id=group.id, referenced_security_group_id=client_security_group_id,
        ip_protocol="tcp", from_port=port, to_port=port, description=f"{service} from EKS nodes",
    )
    return group
