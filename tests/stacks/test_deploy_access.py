"""How the deployer reaches the private EKS API: the runner the foundation creates, or an allow-listed endpoint."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from haflow.config import Environment
from haflow.plan import StackJson
from tests.conftest import REPO_ROOT
from tests.plan import resources


def only_one(stack: StackJson, rtype: str) -> tuple[str, dict[str, Any]]:
    (found,) = resources(stack, rtype).items()
    return found


def test_prod_deploys_through_a_runner_inside_the_vpc(
    synthesized: dict[str, StackJson], environments: dict[str, Environment]
) -> None:
    env = environments["prod"]
    stack = synthesized["prod-foundation"]
    cluster = resources(stack, "aws_eks_cluster")
    (cluster_id,) = cluster
    assert cluster[cluster_id]["vpc_config"]["endpoint_public_access"] is False
    _, project = only_one(stack, "aws_codebuild_project")
    assert project["name"] == "prod-platform-deploy"
    private = {f"${{aws_subnet.{logical_id}.id}}" for logical_id, subnet in resources(stack, "aws_subnet").items()
               if subnet["tags"]["haflow/tier"] == "private"}
    assert set(project["vpc_config"]["subnets"]) == private
    (runner_sg,) = project["vpc_config"]["security_group_ids"]
    assert project["source"]["location"] == env.eks.deploy_access.repository_url
    assert project["source"]["buildspec"] == "deploy/buildspec.yml"
    variables = {v["name"]: v["value"] for v in project["environment"]["environment_variable"]}
    assert variables["HAFLOW_ENV"] == "prod"
    assert variables["HAFLOW_STACK"] == "prod-platform"
    # The runner's security group may open 443 on the cluster security group.
    cluster_sg = f"${{aws_eks_cluster.{cluster_id}.vpc_config[0].cluster_security_group_id}}"
    ingress = [rule for rule in resources(stack, "aws_vpc_security_group_ingress_rule").values()
               if rule["security_group_id"] == cluster_sg]
    assert [(r["referenced_security_group_id"], r["from_port"], r["to_port"]) for r in ingress] == [
        (runner_sg, 443, 443)]
    # Its role is cluster admin through an access entry.
    role = project["service_role"]
    entries = [e for e in resources(stack, "aws_eks_access_entry").values() if e["principal_arn"] == role]
    assert len(entries) == 1
    policies = [p for p in resources(stack, "aws_eks_access_policy_association").values()
                if p["policy_arn"].endswith("AmazonEKSClusterAdminPolicy")]
    assert policies
    assert "deploy_runner_project" in stack["output"]


def test_prod_dr_deploys_through_its_own_runner_in_the_secondary_region(
    synthesized: dict[str, StackJson], environments: dict[str, Environment]
) -> None:
    """The primary's deploy path, in the secondary region (issue 18, fix 3): a runner in the DR VPC, admitted
    to the DR cluster, with rights on the secondary's state bucket only (the primary region may be down)."""
    env = environments["prod"]
    stack = synthesized["prod-dr-foundation"]
    (cluster_id,) = resources(stack, "aws_eks_cluster")
    _, project = only_one(stack, "aws_codebuild_project")
    assert project["name"] == "prod-dr-platform-deploy"
    variables = {v["name"]: v["value"] for v in project["environment"]["environment_variable"]}
    assert (variables["HAFLOW_ENV"], variables["HAFLOW_STACK"]) == ("prod", "prod-dr-platform")
    private = {f"${{aws_subnet.{logical_id}.id}}" for logical_id, subnet in resources(stack, "aws_subnet").items()
               if subnet["tags"]["haflow/tier"] == "private"}
    assert set(project["vpc_config"]["subnets"]) == private
    (runner_sg,) = project["vpc_config"]["security_group_ids"]
    cluster_sg = f"${{aws_eks_cluster.{cluster_id}.vpc_config[0].cluster_security_group_id}}"
    assert [(r["referenced_security_group_id"], r["from_port"]) for r in
            resources(stack, "aws_vpc_security_group_ingress_rule").values()
            if r["security_group_id"] == cluster_sg] == [(runner_sg, 443)]
    assert [e for e in resources(stack, "aws_eks_access_entry").values() if e["principal_arn"] == project["service_role"]]
    # State: the secondary's bucket, this DR environment's objects only; nothing of the primary's bucket.
    (policy,) = [p for p in resources(stack, "aws_iam_role_policy").values() if p["name"] == "platform-deploy"]
    document = policy["policy"]
    secondary_bucket = env.dr.state_bucket_for(env.state.bucket)
    assert f"arn:${{data.aws_partition.partition.partition}}:s3:::{secondary_bucket}/{env.state.key_prefix}/prod-dr-*" \
        in document
    assert f":::{env.state.bucket}/" not in document
    assert stack["terraform"]["backend"]["s3"]["bucket"] == secondary_bucket
    assert "deploy_runner_project" in stack["output"]


def test_the_buildspec_deploys_the_stack_its_runner_names() -> None:
    buildspec = yaml.safe_load((REPO_ROOT / "deploy" / "buildspec.yml").read_text(encoding="utf-8"))
    commands = [c for phase in buildspec["phases"].values() for c in phase["commands"]]
    assert any('cdktf deploy "$HAFLOW_STACK"' in command for command in commands)
    # before deploying: the pinned charts fetched (a runner has no ../shared), then the gate, refusing examples
    pull = next(i for i, c in enumerate(commands) if c.endswith("haflow charts pull"))
    check = next(i for i, c in enumerate(commands) if 'haflow check --env "$HAFLOW_ENV" --deploy' in c)
    deploy = next(i for i, c in enumerate(commands) if "cdktf deploy" in c)
    assert pull < check < deploy


def test_a_public_endpoint_deploy_path_has_no_runner_and_an_allow_list(
    synth_variant: Callable[[str, dict[str, Any]], dict[str, StackJson]],
) -> None:
    stacks = synth_variant("dev", {"eks": {"endpoint_public_access": True, "public_access_cidrs": ["203.0.113.0/24"],
                                           "deploy_access": {"mode": "public_endpoint"}}})
    stack = stacks["dev-foundation"]
    assert resources(stack, "aws_codebuild_project") == {}
    _, cluster = only_one(stack, "aws_eks_cluster")
    assert cluster["vpc_config"]["public_access_cidrs"] == ["203.0.113.0/24"]


def test_the_runner_role_may_use_the_projects_encryption_key(synthesized: dict[str, StackJson]) -> None:
    """CodeBuild encrypts with the project's encryption_key as the service role: the role needs the key's
    data actions (CodeBuild User Guide, Data encryption); the key's policy delegates to the account."""
    stack = synthesized["prod-foundation"]
    [project] = resources(stack, "aws_codebuild_project").values()
    role = project["service_role"].removesuffix(".arn}").removeprefix("${")
    [policy] = [body for body in resources(stack, "aws_iam_role_policy").values()
                if body["role"] == f"${{{role}.name}}"]
    statements = json.loads(policy["policy"])["Statement"]
    granted = {action for s in statements if s["Resource"] == project["encryption_key"] for action in s["Action"]}
    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"} <= granted
