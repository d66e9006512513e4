"""AWS FIS experiment templates that rehearse losing an AZ or a node, and the role FIS runs them as.

- ``<env>-az-power-interruption-<az>`` (one per AZ): the actions of FIS's "AZ Availability: Power
  Interruption" scenario that touch this platform's resources in that AZ: the EKS nodes stop (and start
  again after the outage), their root volumes' IO pauses, the AZ's private and data subnets lose all
  connectivity, Aurora fails over when its writer is there, and ElastiCache loses the AZ's nodes (a
  primary there fails over). https://docs.aws.amazon.com/fis/latest/userguide/az-availability-scenario.html
- ``<env>-node-termination``: terminates part of one general node group, picked at random.

Both stop on the region's CloudWatch alarms that mean "worse than the drill intends" (the Aurora writer's
CPU and memory, Redis memory: ``RegionAlarms.stop_condition_alarms``). Action ids, targets, target
parameters and the permissions of each action are FIS's:
https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html
https://docs.aws.amazon.com/fis/latest/userguide/targets.html (resource parameters, filters)
``haflow drill az`` / ``haflow drill node`` find the templates by their tags (haflow.contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.fis_experiment_template import (
    FisExperimentTemplate,
    FisExperimentTemplateAction,
    FisExperimentTemplateActionParameter,
    FisExperimentTemplateActionTarget,
    FisExperimentTemplateStopCondition,
    FisExperimentTemplateTarget,
    FisExperimentTemplateTargetFilter,
    FisExperimentTemplateTargetResourceTag,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from haflow import contract
from haflow.constructs.iam import policy_document
from haflow.fis import MAX_STOP_CONDITIONS, STOP_CONDITION_SOURCE

FIS_PRINCIPAL = "fis.amazonaws.com"
# How long the zone stays lost; the scenario's default outage is 30 minutes, a drill needs the failure, not
# the wait. ISO 8601, as FIS's duration parameters take it.
AZ_OUTAGE_DURATION = "PT10M"
# Share of the picked node group's instances the node drill terminates: one of two per AZ.
NODE_TERMINATION_PERCENTAGE = 50
# EKS tags the instances of a managed node group with the cluster's name.
# https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html
EKS_CLUSTER_NAME_TAG = "eks:cluster-name"
# FIS tags the network ACL it swaps in for aws:network:disrupt-connectivity, which the role may then
# change and delete (as AWS's managed policy AWSFaultInjectionSimulatorNetworkAccess scopes it).
FIS_MANAGED_TAG = "managedByFIS"

@dataclass(frozen=True)
class FisTargets:
    """What the experiments may touch, as the foundation stack knows it."""

    region: str
    account_id: str
    partition: str
    cluster_name: str
    node_group_arns: list[str]
    node_volume_name: str
    subnet_arns_by_az: dict[str, list[str]]
    vpc_arn: str
    aurora_cluster_arn: str
    cache_replication_group_arn: str
    stack_tag: dict[str, str]


def _target(name: str, resource_type: str, selection_mode: str = "ALL", **settings: Any) -> FisExperimentTemplateTarget:
    return FisExperimentTemplateTarget(name=name, resource_type=resource_type, selection_mode=selection_mode,
                                       **settings)


def _action(name: str, action_id: str, target_key: str, target: str, **parameters: str) -> FisExperimentTemplateAction:
    return FisExperimentTemplateAction(
        name=name, action_id=action_id, target=FisExperimentTemplateActionTarget(key=target_key, value=target),
        parameter=[FisExperimentTemplateActionParameter(key=key, value=value) for key, value in parameters.items()]
        or None,
    )


class FaultInjection(Construct):
    """The experiment role and the AZ and node experiment templates of one region."""

    def __init__(
        self, scope: Construct, id_: str, *, name: str, targets: FisTargets, stop_alarm_arns: list[str],
    ) -> None:
        """``stop_alarm_arns``: CloudWatch alarms that stop an experiment (at most five)."""
        super().__init__(scope, id_)
        if not stop_alarm_arns or len(stop_alarm_arns) > MAX_STOP_CONDITIONS:
            raise ValueError(f"an FIS template takes 1 to {MAX_STOP_CONDITIONS} stop conditions, "
                             f"got {len(stop_alarm_arns)}")
        self.role = IamRole(
            self, "role", name=f"{name}-fis-experiments",
            description=f"AWS FIS runs the AZ and node drills of {name} as this role",
            assume_role_policy=policy_document({
                "Effect": "Allow", "Principal": {"Service": FIS_PRINCIPAL}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": targets.account_id}},
            }),
        )
        IamRolePolicy(self, "policy", name="run-drills", role=self.role.id,
                      policy=policy_document(*experiment_statements(targets)))
        stop_conditions = [FisExperimentTemplateStopCondition(source=STOP_CONDITION_SOURCE, value=arn)
                           for arn in stop_alarm_arns]
        self.templates: dict[str, FisExperimentTemplate] = {}
        for az, subnet_arns in targets.subnet_arns_by_az.items():
            self.templates[f"az-{az}"] = FisExperimentTemplate(
                self, f"az-power-interruption-{az}",
                description=f"{name}: AZ Availability: Power Interruption of {az} (haflow drill az)",
                role_arn=self.role.arn, stop_condition=stop_conditions,
                target=az_targets(targets, az, subnet_arns), action=az_actions(),
                tags={"Name": contract.fis_template_name(name, contract.DRILL_AZ, az),
                      contract.TAG_DRILL: contract.DRILL_AZ, contract.TAG_DRILL_AZ: az},
            )
        self.templates["node"] = FisExperimentTemplate(
            self, "node-termination",
            description=f"{name}: terminate {NODE_TERMINATION_PERCENTAGE} % of one general node group "
            "(haflow drill node)",
            role_arn=self.role.arn, stop_condition=stop_conditions,
            target=[_target("NodeGroup", "aws:eks:nodegroup", "COUNT(1)", resource_arns=targets.node_group_arns)],
            action=[_action("terminate-nodes", "aws:eks:terminate-nodegroup-instances", "Nodegroups", "NodeGroup",
                            instanceTerminationPercentage=str(NODE_TERMINATION_PERCENTAGE))],
            tags={"Name": contract.fis_template_name(name, contract.DRILL_NODE),
                  contract.TAG_DRILL: contract.DRILL_NODE},
        )
        self.role_arn = self.role.arn


def az_targets(targets: FisTargets, az: str, subnet_arns: list[str]) -> list[FisExperimentTemplateTarget]:
    stack_tag = [FisExperimentTemplateTargetResourceTag(key=key, value=value)
                 for key, value in targets.stack_tag.items()]
    return [
        _target("Nodes", "aws:ec2:instance",
                resource_tag=[FisExperimentTemplateTargetResourceTag(key=EKS_CLUSTER_NAME_TAG,
                                                                     value=targets.cluster_name)],
                filter=[FisExperimentTemplateTargetFilter(path="Placement.AvailabilityZone", values=[az]),
                        FisExperimentTemplateTargetFilter(path="State.Name", values=["running"])]),
        _target("NodeVolumes", "aws:ec2:ebs-volume",
                resource_tag=[FisExperimentTemplateTargetResourceTag(key="Name", value=targets.node_volume_name)],
                parameters={"availabilityZoneIdentifier": az}),
        _target("Subnets", "aws:ec2:subnet", resource_arns=subnet_arns),
        _target("Database", "aws:rds:cluster", resource_arns=[targets.aurora_cluster_arn],
                parameters={"writerAvailabilityZoneIdentifiers": az}),
        # Replication groups are found by tag only (targets.html): the stack's own tag.
        _target("Cache", "aws:elasticache:replicationgroup", resource_tag=stack_tag,
                parameters={"availabilityZoneIdentifier": az}),
    ]


def az_actions() -> list[FisExperimentTemplateAction]:
    return [
        _action("stop-nodes", "aws:ec2:stop-instances", "Instances", "Nodes",
                startInstancesAfterDuration=AZ_OUTAGE_DURATION, completeIfInstancesTerminated="true"),
        _action("pause-node-volume-io", "aws:ebs:pause-volume-io", "Volumes", "NodeVolumes",
                duration=AZ_OUTAGE_DURATION),
        _action("disrupt-subnets", "aws:network:disrupt-connectivity", "Subnets", "Subnets",
                duration=AZ_OUTAGE_DURATION, scope="all"),
        _action("failover-database", "aws:rds:failover-db-cluster", "Clusters", "Database"),
        _action("interrupt-cache-az-power", "aws:elasticache:replicationgroup-interrupt-az-power",
                "ReplicationGroups", "Cache", duration=AZ_OUTAGE_DURATION),
    ]


def experiment_statements(targets: FisTargets) -> list[dict[str, Any]]:
    """Each FIS action's permissions, on the platform's own resources where IAM can scope them."""
    arn = f"arn:{targets.partition}:ec2:{targets.region}:{targets.account_id}"
    cluster_nodes = {"StringEquals": {f"aws:ResourceTag/{EKS_CLUSTER_NAME_TAG}": targets.cluster_name}}
    fis_acl = {"StringEquals": {f"aws:ResourceTag/{FIS_MANAGED_TAG}": "true"}}
    subnet_arns = sorted({subnet for arns in targets.subnet_arns_by_az.values() for subnet in arns})
    return [
        {"Sid": "StopStartTerminateClusterNodes", "Effect": "Allow",
         "Action": ["ec2:StopInstances", "ec2:StartInstances", "ec2:TerminateInstances"],
         "Resource": f"{arn}:instance/*", "Condition": cluster_nodes},
        {"Sid": "PauseNodeVolumes", "Effect": "Allow", "Action": "ec2:PauseVolumeIO", "Resource": f"{arn}:volume/*",
         "Condition": {"StringEquals": {"aws:ResourceTag/Name": targets.node_volume_name}}},
        {"Sid": "CreateDisruptingAcl", "Effect": "Allow", "Action": "ec2:CreateNetworkAcl",
         "Resource": [f"{arn}:network-acl/*", targets.vpc_arn]},
        {"Sid": "TagDisruptingAcl", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": f"{arn}:network-acl/*",
         "Condition": {"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl"}}},
        {"Sid": "ChangeDisruptingAcl", "Effect": "Allow",
         "Action": ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"], "Resource": f"{arn}:network-acl/*",
         "Condition": fis_acl},
        {"Sid": "SwapSubnetAcls", "Effect": "Allow", "Action": "ec2:ReplaceNetworkAclAssociation",
         "Resource": [*subnet_arns, f"{arn}:network-acl/*"]},
        {"Sid": "FailOverDatabase", "Effect": "Allow", "Action": "rds:FailoverDBCluster",
         "Resource": targets.aurora_cluster_arn},
        {"Sid": "InterruptCacheAz", "Effect": "Allow", "Action": "elasticache:InterruptClusterAzPower",
         "Resource": targets.cache_replication_group_arn},
        {"Sid": "DescribeNodeGroups", "Effect": "Allow", "Action": "eks:DescribeNodegroup",
         "Resource": targets.node_group_arns},
        # Describe and tag-lookup calls take no resource (the Service Authorization Reference lists none).
        {"Sid": "ResolveTargets", "Effect": "Allow", "Resource": "*", "Action": [
            "ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeManagedPrefixLists",
            "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
            "ec2:GetManagedPrefixListEntries", "rds:DescribeDBClusters",
            "elasticache:DescribeReplicationGroups", "tag:GetResources",
        ]},
    ]
