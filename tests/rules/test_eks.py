"""EKS rules: a compliant and a non-compliant cluster or node group for each."""

from __future__ import annotations

from typing import Any

import pytest

from haflow.config import Environment
from haflow.rules.engine import Status
from tests.rules.fragments import Resources, messages, ref, statuses

AZS = ("us-east-1a", "us-east-1b")


def eks(*, public: bool = False, private: bool = True, encryption: bool = True,
        logs: tuple[str, ...] = ("api", "audit", "authenticator"),
        group_azs: tuple[tuple[str, ...], ...] = (("us-east-1a",), ("us-east-1b",)), min_size: int = 1,
        http_tokens: str | None = "required", taint: bool = False) -> Resources:
    cluster: dict[str, Any] = {
        "name": "prod",
        "vpc_config": {"endpoint_public_access": public, "endpoint_private_access": private, "subnet_ids": []},
        "enabled_cluster_log_types": list(logs),
    }
    if encryption:
        cluster["encryption_config"] = {"resources": ["secrets"], "provider": {"key_arn": ref("aws_kms_key", "k", "arn")}}
    groups: dict[str, Any] = {}
    for index, azs in enumerate(group_azs):
        group: dict[str, Any] = {
            "cluster_name": ref("aws_eks_cluster", "cluster", "name"),
            "subnet_ids": [ref("aws_subnet", f"private-{az}") for az in azs],
            "scaling_config": {"min_size": min_size, "desired_size": min_size, "max_size": 3},
        }
        if http_tokens is not None:
            group["launch_template"] = {"id": ref("aws_launch_template", "nodes"), "version": "1"}
        if taint:
            group["taint"] = [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
        groups[f"nodes-{index}"] = group
    return {
        "aws_eks_cluster": {"cluster": cluster},
        "aws_eks_node_group": groups,
        "aws_subnet": {f"private-{az}": {"availability_zone": az} for az in AZS},
        "aws_launch_template": {"nodes": {"metadata_options": {"http_tokens": http_tokens or "optional"}}},
    }


@pytest.mark.parametrize(
    ("rule_id", "non_compliant", "expected"),
    [
        ("HA-EKS-001", eks(group_azs=(("us-east-1a",),)), "guarantee nodes in 1 AZ (us-east-1a)"),
        ("HA-EKS-001", eks(group_azs=(AZS,), min_size=1), "guarantee nodes in 0 AZ (none)"),
        ("HA-EKS-001", eks(taint=True), "no untainted managed node group"),
        ("HA-EKS-002", eks(http_tokens="optional"), "http_tokens = 'optional'"),
        ("HA-EKS-002", eks(http_tokens=None), "no launch template"),
        ("HA-EKS-003", eks(public=True), "endpoint_public_access is true"),
        ("HA-EKS-003", eks(private=False), "endpoint_private_access is false"),
        ("HA-EKS-004", eks(encryption=False), "encryption_config is not set"),
        ("HA-EKS-005", eks(logs=("api",)), "lacks audit, authenticator"),
    ],
)
def test_eks_rule(rule_id: str, non_compliant: Resources, expected: str, environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    assert statuses(rule_id, eks(), env) == {Status.COMPLIANT}
    assert any(expected in message for message in messages(rule_id, non_compliant, env))


def test_one_group_over_two_azs_with_two_nodes_covers_both(environments: dict[str, Environment]) -> None:
    assert statuses("HA-EKS-001", eks(group_azs=(AZS,), min_size=2), environments["prod"]) == {Status.COMPLIANT}


def test_public_access_left_to_the_provider_default_is_public(environments: dict[str, Environment]) -> None:
    resources = eks()
    del resources["aws_eks_cluster"]["cluster"]["vpc_config"]["endpoint_public_access"]
    assert "the provider default" in messages("HA-EKS-003", resources, environments["prod"])[0]
