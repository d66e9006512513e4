"""cluster-autoscaler: grows and shrinks the per-AZ managed node groups it discovers by tag.

The foundation tags each node group's Auto Scaling group with k8s.io/cluster-autoscaler/enabled and
k8s.io/cluster-autoscaler/<cluster>; the autoscaler finds them (auto-discovery) and, with
balance-similar-node-groups, keeps the per-AZ groups the same size so capacity stays zone-balanced.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from haflow import contract, images
from haflow.constructs.helm import CLUSTER_AUTOSCALER, helm_release, requests, spread_across_zones_and_hosts

NAMESPACE = contract.CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.namespace
RELEASE_NAME = "cluster-autoscaler"
# Two pods with leader election: a lost node does not stop scaling for the time a reschedule takes.
REPLICAS = 2
# The chart's pod labels (fullname aws-cluster-autoscaler for cloudProvider aws).
POD_LABELS = {"app.kubernetes.io/name": "aws-cluster-autoscaler", "app.kubernetes.io/instance": RELEASE_NAME}


def cluster_autoscaler_values(cluster_name: str, region: str, role_arn: str) -> dict[str, Any]:
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "replicaCount": REPLICAS,
        # The chart renders repository:tag and has no digest value: the digest rides in the tag (haflow.images).
        "image": {"tag": images.pinned(images.CLUSTER_AUTOSCALER).tag_and_digest},
        "rbac": {
            "serviceAccount": {"create": True, "name": contract.CLUSTER_AUTOSCALER_SERVICE_ACCOUNT.name,
                               "annotations": {contract.IRSA_ANNOTATION: role_arn}}
        },
        "extraArgs": {
            "balance-similar-node-groups": True,
            "expander": "least-waste",
            "skip-nodes-with-system-pods": False,
            "skip-nodes-with-local-storage": False,
        },
        "podDisruptionBudget": {"maxUnavailable": 1},
        "topologySpreadConstraints": spread_across_zones_and_hosts(POD_LABELS),
        # The upstream chart's example request (cluster-autoscaler FAQ: 100m CPU, 600Mi for large clusters).
        "resources": requests("100m", "600Mi"),
    }


class ClusterAutoscaler(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_name: str,
        region: str,
        role_arn: str,
        provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.release = helm_release(
            self, "release", chart=CLUSTER_AUTOSCALER, release_name=RELEASE_NAME, namespace=NAMESPACE,
            values=cluster_autoscaler_values(cluster_name, region, role_arn), provider=provider,
            depends_on=depends_on, create_namespace=False,
        )
