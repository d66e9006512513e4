"""The deploy runner: a CodeBuild project inside a cluster's VPC that runs `cdktf deploy <platform stack>`.

The EKS API endpoint is private, and the platform stack's Helm and Kubernetes providers must reach it.
The runner lives in the private subnets, its security group is admitted to the cluster security group on
443, and an access entry makes its role cluster admin; CI starts it (`aws codebuild start-build`) with
the commit to deploy. Its role may read and write only its stacks' Terraform state, in the state bucket
of its own region (with the state key), and describe this cluster: the platform stack creates nothing in AWS.
Each region that runs a cluster has its own runner (<env>-platform-deploy in the primary region,
<env>-dr-platform-deploy in the secondary), so the DR platform deploys while the primary region is down.
https://docs.aws.amazon.com/codebuild/latest/userguide/vpc-support.html
https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html#private-access
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.codebuild_project import (
    CodebuildProject,
    CodebuildProjectArtifacts,
    CodebuildProjectEnvironment,
    CodebuildProjectEnvironmentEnvironmentVariable,
    CodebuildProjectLogsConfig,
    CodebuildProjectLogsConfigCloudwatchLogs,
    CodebuildProjectSource,
    CodebuildProjectVpcConfig,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from haflow.config.eks import DeployAccess
from haflow.config.model import StateBackend
from haflow.constructs.iam import assume_role_policy, policy_document

HTTPS_PORT = 443
# Amazon Linux 2023 standard image (Python 3.11, Node.js 20/22); the buildspec installs Terraform and cdktf.
# https://docs.aws.amazon.com/codebuild/latest/userguide/ec2-compute-images.html
RUNNER_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
# The Terraform the runner installs: the stacks need >= 1.11 (haflow.stacks.backend.REQUIRED_TERRAFORM).
TERRAFORM_VERSION = "1.14.3"
# What CodeBuild needs to run in a VPC: https://docs.aws.amazon.com/codebuild/latest/userguide/auth-and-access-control-iam-identity-based-access-control.html#customer-managed-policies-example-create-vpc-network-interface
VPC_DESCRIBE_ACTIONS = (
    "ec2:CreateNetworkInterface", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs",
)
STATE_OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")
STATE_KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
# The project's encryption_key: "The CodeBuild service role associated with the build project requires access
# to a KMS key in order to encrypt its build output artifacts" (CodeBuild User Guide, Data encryption; the
# actions: "Encrypt build outputs using a customer managed key"). The key's policy delegates to IAM.
PROJECT_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


class DeployRunner(Construct):
    """CodeBuild project ``<name>-platform-deploy`` in ``subnet_ids``, admitted to the cluster API.

    ``name`` prefixes its resources and the state objects it may use (``<key_prefix>/<name>-*`` in
    ``state``'s bucket: the platform stack's state and the foundation's it reads); ``environment`` is what
    the buildspec checks (``haflow check --env``) and ``stack_name`` the stack it deploys.
    """

    def __init__(
        self, scope: Construct, id_: str, *, name: str, environment: str, stack_name: str, config: DeployAccess,
        state: StateBackend, region: str, account_id: str, partition: str, vpc_id: str, subnet_ids: list[str],
        subnet_arns: list[str], cluster_arn: str, cluster_security_group_id: str, log_kms_key_arn: str,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        self.project_name = f"{name}-platform-deploy"
        log_group = CloudwatchLogGroup(
            self, "log-group", name=f"/haflow/{name}/platform-deploy", retention_in_days=log_retention_days,
            kms_key_id=log_kms_key_arn,
        )
        self.role = IamRole(self, "role", name=self.project_name,
                            assume_role_policy=assume_role_policy("codebuild.amazonaws.com"))
        bucket_arn = f"arn:{partition}:s3:::{state.bucket}"
        IamRolePolicy(self, "policy", name="platform-deploy", role=self.role.name, policy=policy_document(
            {"Effect": "Allow", "Action": list(LOG_ACTIONS), "Resource": [log_group.arn, f"{log_group.arn}:*"]},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn,
             "Condition": {"StringLike": {"s3:prefix": [f"{state.key_prefix}/*"]}}},
            {"Effect": "Allow", "Action": list(STATE_OBJECT_ACTIONS),
             "Resource": f"{bucket_arn}/{state.key_prefix}/{name}-*"},
            {"Effect": "Allow", "Action": list(STATE_KEY_ACTIONS), "Resource": "*",
             "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": state.kms_key_alias}}},
            {"Effect": "Allow", "Action": list(PROJECT_KEY_ACTIONS), "Resource": log_kms_key_arn},
            {"Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": cluster_arn},
            {"Effect": "Allow", "Action": list(VPC_DESCRIBE_ACTIONS), "Resource": "*"},
            {"Effect": "Allow", "Action": "ec2:CreateNetworkInterfacePermission",
             "Resource": f"arn:{partition}:ec2:{region}:{account_id}:network-interface/*",
             "Condition": {"StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
                           "ArnEquals": {"ec2:Subnet": subnet_arns}}},
        ))
        self.role_arn = self.role.arn
        self.security_group = SecurityGroup(
            self, "security-group", name=self.project_name, vpc_id=vpc_id,
            description=f"Deploy runner of {name}: HTTPS out (cluster API, registries, state)",
            tags={"Name": self.project_name},
        )
        # HTTPS to the cluster API, the chart repositories, PyPI/npm/HashiCorp releases, S3 and the RDS CA
        # bundle (through the NAT gateways); nothing may connect to the runner.
        VpcSecurityGroupEgressRule(
            self, "egress-https", security_group_id=self.security_group.id, cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT, description="HTTPS out",
        )
        VpcSecurityGroupIngressRule(
            self, "cluster-api-from-runner", security_group_id=cluster_security_group_id,
            referenced_security_group_id=self.security_group.id, ip_protocol="tcp", from_port=HTTPS_PORT,
            to_port=HTTPS_PORT, description="Kubernetes API from the deploy runner",
        )
        self.project = CodebuildProject(
            self, "project", name=self.project_name,
            description=f"Runs `cdktf deploy {stack_name}` from inside the VPC (private EKS endpoint)",
            service_role=self.role.arn, build_timeout=config.timeout_minutes, encryption_key=log_kms_key_arn,
            artifacts=CodebuildProjectArtifacts(type="NO_ARTIFACTS"),
            environment=CodebuildProjectEnvironment(
                compute_type=config.compute_type, image=RUNNER_IMAGE, type="LINUX_CONTAINER",
                image_pull_credentials_type="CODEBUILD", privileged_mode=False,
                environment_variable=[
                    CodebuildProjectEnvironmentEnvironmentVariable(name="HAFLOW_ENV", value=environment),
                    CodebuildProjectEnvironmentEnvironmentVariable(name="HAFLOW_STACK", value=stack_name),
                    CodebuildProjectEnvironmentEnvironmentVariable(name="TERRAFORM_VERSION",
                                                                   value=TERRAFORM_VERSION),
                ],
            ),
            source=CodebuildProjectSource(
                type="GITHUB", location=config.repository_url or "", buildspec=config.buildspec, git_clone_depth=1,
            ),
            vpc_config=CodebuildProjectVpcConfig(
                vpc_id=vpc_id, subnets=subnet_ids, security_group_ids=[self.security_group.id],
            ),
            logs_config=CodebuildProjectLogsConfig(
                cloudwatch_logs=CodebuildProjectLogsConfigCloudwatchLogs(group_name=log_group.name, status="ENABLED"),
            ),
        )
