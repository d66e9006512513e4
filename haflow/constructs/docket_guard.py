"""The Docket guard (``haflow.in_image.docket_guard``) shipped to Prefect's background services.

The guard is a program for the prefecthq/prefect image, not part of haflow: its source goes into a
ConfigMap (as the RDS CA bundle does, ``haflow.constructs.trust``), mounted read-only into the
background-services pods, where the image's Python runs it in place of ``prefect server services start``.
Its parameters are environment variables of the container; the source's SHA-256 is a pod annotation,
so that a change to the guard rolls the pods (a mounted ConfigMap changes under running processes,
which would keep the old code until they restart). Why the guard exists and when it can go:
docs/docket-guard.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources

from cdktf import ITerraformDependable, TerraformProvider
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1
from constructs import Construct

from haflow.in_image import docket_guard

CONFIG_MAP = "prefect-docket-guard"
SCRIPT_KEY = "docket_guard.py"
MOUNT_PATH = "/etc/haflow/docket-guard"
CHECKSUM_ANNOTATION = "haflow/docket-guard-sha256"


def guard_source() -> str:
    return resources.files("haflow.in_image").joinpath(SCRIPT_KEY).read_text(encoding="utf-8")


def script_path() -> str:
    return f"{MOUNT_PATH}/{SCRIPT_KEY}"


def guard_args() -> list[str]:
    """The container's args (run by the image's entrypoint, as the chart's default command is)."""
    return ["python", script_path()]


def guard_env(*, redelivery_seconds: int, stop_seconds: int) -> dict[str, str]:
    return {
        docket_guard.REDELIVERY_SECONDS_ENV: str(redelivery_seconds),
        docket_guard.STOP_SECONDS_ENV: str(stop_seconds),
    }


def guard_pod_annotations() -> dict[str, str]:
    return {CHECKSUM_ANNOTATION: hashlib.sha256(guard_source().encode()).hexdigest()}


def guard_volume() -> dict[str, object]:
    return {"name": CONFIG_MAP, "configMap": {"name": CONFIG_MAP}}


def guard_volume_mount() -> dict[str, object]:
    return {"name": CONFIG_MAP, "mountPath": MOUNT_PATH, "readOnly": True}


class DocketGuardScript(Construct):
    """ConfigMap ``prefect-docket-guard`` (key ``docket_guard.py``) in ``namespace``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, namespace: str, provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.config_map = ConfigMapV1(
            self, "config-map",
            metadata={"name": CONFIG_MAP, "namespace": namespace},
            data={SCRIPT_KEY: guard_source()},
            provider=provider,
            depends_on=list(depends_on) or None,
        )
