"""NVIDIA device plugin: makes the GPU node group's GPUs schedulable as ``nvidia.com/gpu``.

The EKS-optimized AL2023 NVIDIA AMI ships the driver and container toolkit but not the device
plugin; without it no pod can request a GPU:
https://docs.aws.amazon.com/eks/latest/userguide/ml-eks-k8s-device-plugin.html
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from haflow import contract, images
from haflow.constructs.eks import POOL_LABEL
from haflow.constructs.helm import NVIDIA_DEVICE_PLUGIN, helm_release, requests

NAMESPACE = "kube-system"
RELEASE_NAME = "nvidia-device-plugin"


def device_plugin_values() -> dict[str, Any]:
    return {
        # Only the GPU node group runs the DaemonSet. The chart's default required node affinity stays (Helm
        # merges maps: an empty one would not remove it); the GPU group carries nvidia.com/gpu.present=true,
        # a term it accepts, since EKS nodes have no Node Feature Discovery labels.
        "nodeSelector": {POOL_LABEL: "gpu"},
        "tolerations": [
            dict(contract.GPU_TOLERATION),
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
        ],
        # A GPU node without its plugin advertises no GPUs: never evict it for ordinary pods.
        "priorityClassName": "system-node-critical",
        "resources": requests("10m", "32Mi"),
        # The chart renders repository:tag and has no digest value: the digest rides in the tag (haflow.images).
        "image": {"tag": images.pinned(images.NVIDIA_DEVICE_PLUGIN).tag_and_digest},
    }


class NvidiaDevicePlugin(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.release = helm_release(
            self, "release", chart=NVIDIA_DEVICE_PLUGIN, release_name=RELEASE_NAME, namespace=NAMESPACE,
            values=device_plugin_values(), provider=provider, depends_on=depends_on, create_namespace=False,
        )
