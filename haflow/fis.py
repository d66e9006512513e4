"""AWS FIS facts the producer (haflow.constructs.fault_injection) and the readers (rules, drills) share.

The IAM actions each FIS action needs, as the FIS actions reference lists them under "Permissions":
https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html (re-read 2026-12-07: the node
action lists tag:GetResources too). ``aws:ec2:stop-instances`` with ``startInstancesAfterDuration`` also needs
``kms:CreateGrant`` when a volume is encrypted with a customer-managed key; the nodes' root volumes use the
account's EBS default key (``aws/ebs`` unless the account set another), whose key policy already lets EC2 use it
for the account's principals (docs/drills.md).
"""

from __future__ import annotations

STOP_CONDITION_SOURCE = "aws:cloudwatch:alarm"
# FIS accepts at most five stop conditions per template (https://docs.aws.amazon.com/fis/latest/userguide/fis-quotas.html).
MAX_STOP_CONDITIONS = 5

ACTION_PERMISSIONS: dict[str, frozenset[str]] = {
    "aws:ec2:stop-instances": frozenset({"ec2:StopInstances", "ec2:StartInstances", "ec2:DescribeInstances"}),
    "aws:ebs:pause-volume-io": frozenset({"ec2:PauseVolumeIO", "ec2:DescribeVolumes"}),
    "aws:network:disrupt-connectivity": frozenset({
        "ec2:CreateNetworkAcl", "ec2:CreateNetworkAclEntry", "ec2:CreateTags", "ec2:DeleteNetworkAcl",
        "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
        "ec2:GetManagedPrefixListEntries", "ec2:ReplaceNetworkAclAssociation",
    }),
    "aws:rds:failover-db-cluster": frozenset({"rds:FailoverDBCluster", "rds:DescribeDBClusters", "tag:GetResources"}),
    "aws:elasticache:replicationgroup-interrupt-az-power": frozenset({
        "elasticache:InterruptClusterAzPower", "elasticache:DescribeReplicationGroups", "tag:GetResources",
    }),
    "aws:eks:terminate-nodegroup-instances": frozenset({
        "ec2:DescribeInstances", "ec2:TerminateInstances", "eks:DescribeNodegroup", "tag:GetResources",
    }),
}
