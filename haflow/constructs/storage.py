"""The cluster's default StorageClass: encrypted gp3 through the EBS CSI driver (a foundation add-on).

EKS clusters from Kubernetes 1.30 on no longer mark the legacy in-tree gp2 class as default, so a
PersistentVolumeClaim without a class (Prometheus, Alertmanager) would stay Pending without this.
https://docs.aws.amazon.com/eks/latest/userguide/ebs-csi.html
"""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_kubernetes.storage_class_v1 import StorageClassV1
from constructs import Construct

STORAGE_CLASS = "gp3-encrypted"
EBS_CSI_PROVISIONER = "ebs.csi.aws.com"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


class DefaultStorageClass(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, provider: TerraformProvider) -> None:
        super().__init__(scope, construct_id)
        self.name = STORAGE_CLASS
        self.storage_class = StorageClassV1(
            self, "gp3",
            metadata={"name": STORAGE_CLASS, "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
            storage_provisioner=EBS_CSI_PROVISIONER,
            parameters={"type": "gp3", "encrypted": "true"},
            # A volume is created in the AZ its pod is scheduled to, never in another one.
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Retain",
            provider=provider,
        )
