"""Properties of the synthesized EKS cluster, node groups, add-ons and IRSA roles of every environment."""

from __future__ import annotations

import json
from typing import Any

import pytest

from haflow.config import Environment
from haflow.constructs.eks import AMI_TYPE_GPU, GPU_TAINT, POOL_LABEL
from tests.conftest import ENVIRONMENT_NAMES
from tests.plan import referenced, resources

ADDONS = {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"}


def foundation(synthesized: dict[str, Any], env: str) -> dict[str, Any]:
    stack: dict[str, Any] = synthesized[f"{env}-foundation"]
    return stack


def node_groups(stack: dict[str, Any], pool: str) -> list[dict[str, Any]]:
    return [g for g in resources(stack, "aws_eks_node_group").values() if g["labels"][POOL_LABEL] == pool]


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_one_general_node_group_per_az(
    synthesized: dict[str, Any], environments: dict[str, Environment], env: str
) -> None:
    stack = foundation(synthesized, env)
    groups = node_groups(stack, "general")
    azs = []
    for group in groups:
        (subnet_ref,) = group["subnet_ids"]  # a group confined to one subnet, hence one AZ
        _, _, subnet = referenced(stack, subnet_ref)
        azs.append(subnet["availability_zone"])
    assert len(set(azs)) >= 2
    assert len(azs) == len(set(azs)), "two general node groups in one AZ"
    assert sorted(azs) == sorted(environments[env].availability_zones)


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_general_node_groups_never_scale_an_az_to_zero(synthesized: dict[str, Any], env: str) -> None:
    for group in node_groups(foundation(synthesized, env), "general"):
        scaling = group["scaling_config"]
        assert 1 <= scaling["min_size"] <= scaling["desired_size"] <= scaling["max_size"]
        assert group["update_config"]["max_unavailable_percentage"] < 100


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_every_node_boots_with_imdsv2_and_encrypted_gp3(synthesized: dict[str, Any], env: str) -> None:
    stack = foundation(synthesized, env)
    groups = resources(stack, "aws_eks_node_group").values()
    assert groups
    for group in groups:
        _, _, template = referenced(stack, group["launch_template"]["id"])
        assert template["metadata_options"]["http_tokens"] == "required"
        assert template["metadata_options"]["http_put_response_hop_limit"] == 1
        (root,) = template["block_device_mappings"]
        assert root["ebs"]["encrypted"] == "true"
        assert root["ebs"]["volume_type"] == "gp3"
        assert "disk_size" not in group  # the launch template owns the volume
    for template in resources(stack, "aws_launch_template").values():
        assert template["metadata_options"]["http_tokens"] == "required"


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_gpu_group_is_tainted_and_scales_from_zero(
    synthesized: dict[str, Any], environments: dict[str, Environment], env: str
) -> None:
    groups = node_groups(foundation(synthesized, env), "gpu")
    assert len(groups) == (1 if environments[env].eks.gpu_node_pool.enabled else 0)
    for group in groups:
        assert group["ami_type"] == AMI_TYPE_GPU
        assert group["taint"] == [GPU_TAINT]
        assert group["scaling_config"]["min_size"] == 0


def test_prod_has_a_gpu_group(synthesized: dict[str, Any]) -> None:
    assert node_groups(foundation(synthesized, "prod"), "gpu")


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_cluster_is_private_encrypted_logged_and_uses_access_entries(
    synthesized: dict[str, Any], environments: dict[str, Environment], env: str
) -> None:
    stack = foundation(synthesized, env)
    (cluster,) = resources(stack, "aws_eks_cluster").values()
    config = environments[env].eks
    assert cluster["version"] == config.kubernetes_version
    assert cluster["vpc_config"]["endpoint_private_access"] is True
    assert cluster["vpc_config"]["endpoint_public_access"] is config.endpoint_public_access
    assert cluster["access_config"]["authentication_mode"] == "API"
    assert cluster["encryption_config"]["resources"] == ["secrets"]
    rtype, _, _ = referenced(stack, cluster["encryption_config"]["provider"]["key_arn"])
    assert rtype == "aws_kms_key"
    assert set(cluster["enabled_cluster_log_types"]) >= {"api", "audit", "authenticator"}
    assert cluster["zonal_shift_config"]["enabled"] is True


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_addons_are_pinned(synthesized: dict[str, Any], env: str) -> None:
    addons = {a["addon_name"]: a for a in resources(foundation(synthesized, env), "aws_eks_addon").values()}
    assert set(addons) == ADDONS
    assert all(a["addon_version"].startswith("v") and "-eksbuild." in a["addon_version"] for a in addons.values())
    assert addons["aws-ebs-csi-driver"]["service_account_role_arn"].startswith("${aws_iam_role.")


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_irsa_roles_trust_exactly_one_service_account(synthesized: dict[str, Any], env: str) -> None:
    stack = foundation(synthesized, env)
    (provider_id,) = resources(stack, "aws_iam_openid_connect_provider")
    provider = resources(stack, "aws_iam_openid_connect_provider")[provider_id]
    assert provider["url"].endswith(".identity[0].oidc[0].issuer}")
    web_identity_roles = 0
    for role in resources(stack, "aws_iam_role").values():
        (statement,) = json.loads(role["assume_role_policy"])["Statement"]
        if statement["Action"] != "sts:AssumeRoleWithWebIdentity":
            continue
        web_identity_roles += 1
        assert statement["Principal"]["Federated"] == f"${{aws_iam_openid_connect_provider.{provider_id}.arn}}"
        conditions = statement["Condition"]["StringEquals"]
        subjects = [value for key, value in conditions.items() if key.endswith(":sub")]
        assert len(subjects) == 1 and "*" not in subjects[0]
        assert subjects[0].startswith("system:serviceaccount:")
    # prefect-worker, model-api, autoscaler, fluent-bit, external-secrets, alertmanager, ebs-csi
    assert web_identity_roles == 7
