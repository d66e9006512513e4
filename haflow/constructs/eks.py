"""EKS: the control plane, one managed node group per AZ, an optional GPU group, add-ons and IRSA.

- Private API endpoint unless the environment asks for a public one (then only from an allow-list).
- Kubernetes secrets are envelope-encrypted with a customer-managed KMS key.
- authentication_mode API: access is granted with access entries, not the aws-auth ConfigMap.
- One node group per AZ, because the cluster autoscaler can only add a node in the AZ a pending
  pod needs (a zonal EBS volume, a topology spread) when each group lives in one AZ:
  https://docs.aws.amazon.com/eks/latest/best-practices/cas.html
- Nodes run in the cluster security group (no security groups in the launch template), which is
  the one group Aurora and Redis admit.
"""

from __future__ import annotations

import json
from typing import Any

from cdktf import Fn, TerraformLocal, Token
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.eks_access_entry import EksAccessEntry
from cdktf_cdktf_provider_aws.eks_access_policy_association import (
    EksAccessPolicyAssociation,
    EksAccessPolicyAssociationAccessScope,
)
from cdktf_cdktf_provider_aws.eks_addon import EksAddon
from cdktf_cdktf_provider_aws.eks_cluster import (
    EksCluster,
    EksClusterAccessConfig,
    EksClusterEncryptionConfig,
    EksClusterEncryptionConfigProvider,
    EksClusterKubernetesNetworkConfig,
    EksClusterUpgradePolicy,
    EksClusterVpcConfig,
    EksClusterZonalShiftConfig,
)
from cdktf_cdktf_provider_aws.eks_node_group import (
    EksNodeGroup,
    EksNodeGroupLaunchTemplate,
    EksNodeGroupScalingConfig,
    EksNodeGroupTaint,
    EksNodeGroupUpdateConfig,
)
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateMetadataOptions,
    LaunchTemplateTagSpecifications,
)
from constructs import Construct

from haflow import contract
from haflow.config.eks import GRAVITON_INSTANCE_TYPE
from haflow.config.eks import Eks as EksConfig
from haflow.constructs.iam import assume_role_policy
from haflow.constructs.irsa import STS_AUDIENCE, GrantableRole, OidcIssuer, ServiceAccount, ServiceAccountRole
from haflow.constructs.kms import EncryptionKey, prevent_destroy
from haflow.flows import VPC_CNI_CONFIGURATION

# IMDSv2 only (session tokens defeat SSRF-style credential theft). A hop limit of 1 keeps pods in
# their own network namespace from reaching the node's instance profile; every AWS-calling pod
# here uses IRSA instead, and hostNetwork pods (aws-node, kube-proxy) are unaffected.
# https://docs.aws.amazon.com/eks/latest/best-practices/identity-and-access-management.html#_restrict_access_to_the_instance_profile_assigned_to_the_worker_node
IMDS_HTTP_TOKENS = "required"
IMDS_HOP_LIMIT = 1
# AL2023 AMIs boot from /dev/xvda: https://docs.aws.amazon.com/eks/latest/userguide/eks-optimized-ami.html
ROOT_DEVICE = "/dev/xvda"
ROOT_VOLUME_TYPE = "gp3"
# Managed node group AMI types: https://docs.aws.amazon.com/eks/latest/APIReference/API_Nodegroup.html
AMI_TYPE_X86 = "AL2023_x86_64_STANDARD"
AMI_TYPE_ARM = "AL2023_ARM_64_STANDARD"
AMI_TYPE_GPU = "AL2023_x86_64_NVIDIA"
GPU_TAINT = {"key": contract.GPU_TAINT_KEY, "value": contract.GPU_TAINT_VALUE, "effect": contract.GPU_TAINT_EFFECT_EKS}
POOL_LABEL = "haflow/pool"
# The label the NVIDIA device plugin chart's default required node affinity accepts without Node Feature
# Discovery ("We allow a GPU deployment to be forced by setting the following label to true"):
# nvidia-device-plugin chart 0.17.4 values.yaml, affinity.nodeAffinity.
GPU_PRESENT_LABEL = {contract.GPU_PRESENT_LABEL_KEY: contract.GPU_PRESENT_LABEL_VALUE}
# AWS managed policies for the cluster and node roles:
# https://docs.aws.amazon.com/eks/latest/userguide/cluster-iam-role.html,
# https://docs.aws.amazon.com/eks/latest/userguide/create-node-role.html
CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonEKS_CNI_Policy")
EBS_CSI_POLICY = "service-role/AmazonEBSCSIDriverPolicy"
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
EBS_CSI_SERVICE_ACCOUNT = ServiceAccount("kube-system", "ebs-csi-controller-sa")
# Actions the cluster autoscaler needs on AWS (describe calls have no resource-level permissions):
# https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/cloudprovider/aws/README.md#iam-policy
AUTOSCALER_DESCRIBE_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
    "eks:DescribeNodegroup",
)
AUTOSCALER_SCALE_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents")


def ami_type_for(instance_types: list[str]) -> str:
    """AL2023 for arm64 when the types are Graviton, x86_64 otherwise (config forbids a mix)."""
    return AMI_TYPE_ARM if all(GRAVITON_INSTANCE_TYPE.match(t) for t in instance_types) else AMI_TYPE_X86


class Eks(Construct):
    """An EKS cluster with its node groups, add-ons, OIDC provider and container log group."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        config: EksConfig,
        private_subnet_ids_by_az: dict[str, str],
        log_kms_key_arn: str,
    ) -> None:
        """``private_subnet_ids_by_az``: one general node group per entry, in that order.
        ``log_kms_key_arn`` encrypts the control-plane and container log groups (a key CloudWatch Logs may use)."""
        super().__init__(scope, id_)
        self.name = name
        partition = DataAwsPartition(self, "partition")
        self._policy_arn_prefix = f"arn:{partition.partition}:iam::aws:policy"
        subnet_ids = list(private_subnet_ids_by_az.values())

        self.secrets_key = EncryptionKey(
            self, "secrets-key", alias=f"{name}/eks-secrets", protect=config.protect_from_destroy,
            description=f"Envelope encryption of Kubernetes secrets in EKS cluster {name}",
        )
        cluster_role = IamRole(self, "cluster-role", name=f"{name}-eks-cluster",
                               assume_role_policy=assume_role_policy("eks.amazonaws.com"))
        cluster_attachments = [
            IamRolePolicyAttachment(self, f"cluster-role-{policy}", role=cluster_role.name,
                                    policy_arn=self._managed_policy(policy))
            for policy in CLUSTER_POLICIES
        ]
        # EKS would create this group itself, with no retention; creating it first sets one.
        # https://docs.aws.amazon.com/eks/latest/userguide/control-plane-logs.html
        control_plane_logs = CloudwatchLogGroup(
            self, "control-plane-log-group", name=f"/aws/eks/{name}/cluster",
            retention_in_days=config.control_plane_log_retention_days, kms_key_id=log_kms_key_arn,
        )
        self.cluster = EksCluster(
            self, "cluster", name=name, version=config.kubernetes_version, role_arn=cluster_role.arn,
            vpc_config=EksClusterVpcConfig(
                subnet_ids=subnet_ids, endpoint_private_access=True,
                endpoint_public_access=config.endpoint_public_access,
                public_access_cidrs=config.public_access_cidrs if config.endpoint_public_access else None,
            ),
            access_config=EksClusterAccessConfig(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True
            ),
            encryption_config=EksClusterEncryptionConfig(
                resources=["secrets"], provider=EksClusterEncryptionConfigProvider(key_arn=self.secrets_key.arn)
            ),
            enabled_cluster_log_types=list(config.control_plane_log_types),
            kubernetes_network_config=EksClusterKubernetesNetworkConfig(
                ip_family="ipv4", service_ipv4_cidr=config.service_ipv4_cidr
            ),
            # Lets an operator (or ARC zonal autoshift) move load-balanced traffic away from an
            # impaired AZ: https://docs.aws.amazon.com/eks/latest/userguide/zone-shift.html
            zonal_shift_config=EksClusterZonalShiftConfig(enabled=True),
            # STANDARD: at the end of standard support EKS upgrades the cluster rather than billing extended
            # support. https://docs.aws.amazon.com/eks/latest/userguide/view-upgrade-policy.html
            upgrade_policy=EksClusterUpgradePolicy(support_type=config.support_type),
            deletion_protection=config.protect_from_destroy,
            lifecycle=prevent_destroy(config.protect_from_destroy),
            depends_on=[*cluster_attachments, control_plane_logs],
        )
        self.cluster_name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.certificate_authority_data = self.cluster.certificate_authority.get(0).data
        self.cluster_security_group_id = self.cluster.vpc_config.cluster_security_group_id

        # AWS no longer checks the thumbprint for the EKS OIDC issuer (its certificate chains to a
        # trusted root CA), and provider 6 computes thumbprint_list when it is left out, so no tls
        # provider is needed. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc_verify-thumbprint.html
        issuer = self.cluster.identity.get(0).oidc.get(0).issuer
        self.oidc_provider = IamOpenidConnectProvider(
            self, "oidc-provider", url=issuer, client_id_list=[STS_AUDIENCE],
        )
        # A local keeps quotes out of the policy documents that use it (they stay parseable JSON).
        issuer_host = TerraformLocal(self, "oidc-issuer-host", Fn.replace(issuer, "https://", ""))
        self.oidc = OidcIssuer(provider_arn=self.oidc_provider.arn, issuer_host=issuer_host.as_string)

        self._partition = partition.partition
        for index, role_arn in enumerate(config.admin_role_arns):
            self.grant_cluster_admin(role_arn, entry_id=f"admin-access-entry-{index}",
                                     policy_id=f"admin-access-policy-{index}")

        # vpc-cni and kube-proxy go first so that nodes join with networking ready; coredns and the
        # EBS CSI driver schedule pods, so they wait for nodes.
        network_addons = [
            self._addon("vpc-cni", config.addons.vpc_cni, configuration=VPC_CNI_CONFIGURATION),
            self._addon("kube-proxy", config.addons.kube_proxy),
        ]
        node_role = IamRole(self, "node-role", name=f"{name}-eks-node",
                            assume_role_policy=assume_role_policy("ec2.amazonaws.com"))
        node_attachments = [
            IamRolePolicyAttachment(self, f"node-role-{policy}", role=node_role.name,
                                    policy_arn=self._managed_policy(policy))
            for policy in NODE_POLICIES
        ]
        self.node_role_arn = node_role.arn
        node_dependencies: list[Any] = [*node_attachments, *network_addons]

        pool = config.node_pool
        general_template = self._launch_template("general", pool.disk_size_gib)
        self.node_groups: dict[str, EksNodeGroup] = {}
        for az, subnet_id in private_subnet_ids_by_az.items():
            self.node_groups[az] = EksNodeGroup(
                self, f"general-{az}", cluster_name=self.cluster.name, node_group_name=f"{name}-general-{az}",
                node_role_arn=node_role.arn, subnet_ids=[subnet_id], ami_type=ami_type_for(pool.instance_types),
                instance_types=pool.instance_types, capacity_type=pool.capacity_type,
                scaling_config=EksNodeGroupScalingConfig(
                    min_size=pool.min_size_per_az, desired_size=pool.desired_size_per_az,
                    max_size=pool.max_size_per_az,
                ),
                update_config=EksNodeGroupUpdateConfig(max_unavailable_percentage=pool.max_unavailable_percentage),
                launch_template=self._template_ref(general_template),
                labels={POOL_LABEL: "general"},
                # The cluster autoscaler owns desired_size once the group exists.
                lifecycle={"ignore_changes": ["scaling_config[0].desired_size"]},
                depends_on=node_dependencies,
            )

        self.gpu_node_group: EksNodeGroup | None = None
        gpu = config.gpu_node_pool
        if gpu.enabled:
            # One group over every AZ: GPU capacity is scarce in any single AZ, and inference pods
            # keep no zonal volumes.
            self.gpu_node_group = EksNodeGroup(
                self, "gpu", cluster_name=self.cluster.name, node_group_name=f"{name}-gpu",
                node_role_arn=node_role.arn, subnet_ids=subnet_ids, ami_type=AMI_TYPE_GPU,
                instance_types=gpu.instance_types, capacity_type=gpu.capacity_type,
                scaling_config=EksNodeGroupScalingConfig(
                    min_size=gpu.min_size, desired_size=gpu.desired_size, max_size=gpu.max_size
                ),
                update_config=EksNodeGroupUpdateConfig(max_unavailable=1),
                launch_template=self._template_ref(self._launch_template("gpu", gpu.disk_size_gib)),
                labels={POOL_LABEL: "gpu", **GPU_PRESENT_LABEL},
                taint=[EksNodeGroupTaint(**GPU_TAINT)],
                lifecycle={"ignore_changes": ["scaling_config[0].desired_size"]},
                depends_on=node_dependencies,
            )

        node_groups: list[Any] = list(self.node_groups.values())
        self._addon("coredns", config.addons.coredns, depends_on=node_groups)
        ebs_csi = ServiceAccountRole(self, "ebs-csi-role", role_name=f"{name}-ebs-csi", oidc=self.oidc,
                                     service_account=EBS_CSI_SERVICE_ACCOUNT)
        ebs_csi.attach_managed_policy("ebs-csi-policy", self._managed_policy(EBS_CSI_POLICY))
        self._addon("aws-ebs-csi-driver", config.addons.aws_ebs_csi_driver, role_arn=ebs_csi.arn,
                    depends_on=node_groups)

        self.container_log_group = CloudwatchLogGroup(
            self, "container-log-group", name=f"/haflow/{name}/containers",
            retention_in_days=config.container_log_retention_days, kms_key_id=log_kms_key_arn,
        )

    def grant_cluster_admin(self, role_arn: str, *, entry_id: str, policy_id: str) -> None:
        """An access entry (construct id ``entry_id``) with the cluster-admin access policy (``policy_id``)."""
        entry = EksAccessEntry(self, entry_id, cluster_name=self.cluster.name,
                               principal_arn=role_arn, type="STANDARD")
        EksAccessPolicyAssociation(
            self, policy_id, cluster_name=self.cluster.name, principal_arn=entry.principal_arn,
            policy_arn=f"arn:{self._partition}:eks::aws:cluster-access-policy/{CLUSTER_ADMIN_POLICY}",
            access_scope=EksAccessPolicyAssociationAccessScope(type="cluster"),
        )

    def grant_node_group_scaling(self, grantee: GrantableRole) -> None:
        """What the cluster autoscaler needs: describe everything, scale only this cluster's groups.

        Managed node groups tag their Auto Scaling groups k8s.io/cluster-autoscaler/<cluster>=owned.
        """
        grantee.attach_policy(
            "node-group-scaling",
            {"Effect": "Allow", "Action": list(AUTOSCALER_DESCRIBE_ACTIONS), "Resource": "*"},
            {
                "Effect": "Allow", "Action": list(AUTOSCALER_SCALE_ACTIONS), "Resource": "*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{self.name}": "owned"}},
            },
        )

    def grant_write_container_logs(self, grantee: GrantableRole) -> None:
        """Write log streams into the container log group only (the group itself exists already)."""
        grantee.attach_policy(
            "container-logs-write",
            {"Effect": "Allow", "Action": list(LOG_WRITE_ACTIONS),
             "Resource": [self.container_log_group.arn, f"{self.container_log_group.arn}:*"]},
        )

    def _managed_policy(self, policy: str) -> str:
        return f"{self._policy_arn_prefix}/{policy}"

    def _addon(
        self, addon: str, version: str, *, role_arn: str | None = None, depends_on: list[Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> EksAddon:
        return EksAddon(
            self, f"addon-{addon}", cluster_name=self.cluster.name, addon_name=addon, addon_version=version,
            configuration_values=json.dumps(configuration, sort_keys=True) if configuration else None,
            service_account_role_arn=role_arn, resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="PRESERVE", depends_on=depends_on,
        )

    def node_name(self, pool: str) -> str:
        """The Name tag of the instances and volumes of node pool ``pool`` (the AZ drill pauses those volumes)."""
        return f"{self.name}-{pool}-node"

    @property
    def node_volume_name(self) -> str:
        return self.node_name("general")

    def _launch_template(self, pool: str, disk_size_gib: int) -> LaunchTemplate:
        """IMDSv2-only metadata and an encrypted gp3 root volume; EKS picks the AMI and user data."""
        return LaunchTemplate(
            self, f"{pool}-launch-template", name=f"{self.name}-{pool}", update_default_version=True,
            description=f"EKS {pool} nodes of {self.name}: IMDSv2 only, encrypted gp3 root volume",
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens=IMDS_HTTP_TOKENS, http_put_response_hop_limit=IMDS_HOP_LIMIT,
            ),
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name=ROOT_DEVICE,
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        volume_size=disk_size_gib, volume_type=ROOT_VOLUME_TYPE, encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags={"Name": self.node_name(pool)})
                for kind in ("instance", "volume")
            ],
        )

    @staticmethod
    def _template_ref(template: LaunchTemplate) -> EksNodeGroupLaunchTemplate:
        return EksNodeGroupLaunchTemplate(id=template.id, version=Token.as_string(template.latest_version))
