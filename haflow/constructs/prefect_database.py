"""The bootstrap of Prefect's own database roles: a Helm hook Job that holds the master credentials only while it runs.

Prefect signs in to Aurora as ``prefect`` (or ``prefect_clone`` after a rotation), never as the master user. Those
roles are created by ``haflow.in_image.prefect_database`` run as the master, in a Job of the release
``prefect-database-bootstrap`` (the local manifests chart), installed before prefect-server. Every object of the
release is a ``pre-install,pre-upgrade`` hook, deleted by Helm once the hooks have succeeded:

1. (weight -10) ConfigMap ``prefect-database-bootstrap`` with the program, and ExternalSecret
   ``prefect-database-bootstrap``, which builds a Secret of the same name from the master secret and Prefect's
   database secret;
2. (weight 0) Job ``prefect-database-bootstrap`` runs the program with them (its pod starts once External Secrets
   has written the Secret: the kubelet retries a missing secretKeyRef).

So the master credentials are in the cluster for the minutes of a bootstrap (first install, an upgrade of this
release, a rotation's re-run), not as a long-lived Secret any workload mounts. Helm's hook order: helm/helm
pkg/action/hooks.go (execHook sorts by weight; hook-succeeded deletion after every hook of the event succeeded).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from haflow import contract, images
from haflow.constructs.helm import manifests_release
from haflow.constructs.platform_inputs import PlatformInputs
from haflow.constructs.prefect_migrations import IMAGE_ENTRYPOINT, RESOURCES, SECURITY_CONTEXT
from haflow.constructs.secrets import SyncedSecret, external_secret
from haflow.constructs.trust import ca_file, ca_volume, ca_volume_mount
from haflow.in_image import prefect_database

RELEASE_NAME = "prefect-database-bootstrap"
NAME = RELEASE_NAME  # the ConfigMap, ExternalSecret, Secret and Job
SCRIPT_KEY = "prefect_database.py"
MOUNT_PATH = "/etc/haflow/prefect-database"
# The prefect-server chart's image (values.yaml global.prefect.image at 2026.8.18172642): the bootstrap needs the
# image's Python and asyncpg, and the tests check that the rendered Job runs the same image as the API.
PREFECT_REPOSITORY = "prefecthq/prefect"  # Docker Hub, as the prefect-server chart names it
POD_LABELS = {"app.kubernetes.io/name": RELEASE_NAME, "app.kubernetes.io/part-of": "haflow"}
HOOK_EVENTS = "pre-install,pre-upgrade"
# Helm deletes the hooks once all have succeeded; the ConfigMap and ExternalSecret (and with it the Secret
# External Secrets owns) also when a hook fails, so a failed bootstrap leaves no master credential behind.
INPUT_DELETE_POLICY = "before-hook-creation,hook-succeeded,hook-failed"
JOB_DELETE_POLICY = "before-hook-creation,hook-succeeded"
INPUT_WEIGHT = -10
JOB_WEIGHT = 0
BACKOFF_LIMIT = 4
ACTIVE_DEADLINE_SECONDS = 600
# Keys of the bootstrap Secret
MASTER_USERNAME_KEY = "master-username"
MASTER_PASSWORD_KEY = "master-password"
ROLE_KEY = "role"
ROLE_PASSWORD_KEY = "role-password"
SCRATCH_VOLUME = "scratch"


def program_source() -> str:
    return resources.files("haflow.in_image").joinpath(SCRIPT_KEY).read_text(encoding="utf-8")


def hook_annotations(weight: int, delete_policy: str) -> dict[str, str]:
    return {"helm.sh/hook": HOOK_EVENTS, "helm.sh/hook-weight": str(weight),
            "helm.sh/hook-delete-policy": delete_policy}


def bootstrap_secret(inputs: PlatformInputs, namespace: str) -> SyncedSecret:
    """The master user and the login role of Prefect's database secret, for the Job's environment."""
    return SyncedSecret(
        name=NAME, namespace=namespace,
        remote={
            "master_username": (inputs.database_secret_arn, "username"),
            "master_password": (inputs.database_secret_arn, "password"),
            "role": (inputs.prefect_database_secret_arn, "username"),
            "role_password": (inputs.prefect_database_secret_arn, "password"),
        },
        template={
            MASTER_USERNAME_KEY: "{{ .master_username }}", MASTER_PASSWORD_KEY: "{{ .master_password }}",
            ROLE_KEY: "{{ .role }}", ROLE_PASSWORD_KEY: "{{ .role_password }}",
        },
    )


def _from_secret(variable: str, key: str) -> dict[str, Any]:
    return {"name": variable, "valueFrom": {"secretKeyRef": {"name": NAME, "key": key}}}


def bootstrap_job(inputs: PlatformInputs, namespace: str) -> dict[str, Any]:
    env = [
        {"name": "HOME", "value": "/tmp"},
        # One value: a port alone would be a YAML number in the values, which an env value cannot be
        {"name": prefect_database.ADDRESS_ENV, "value": f"{inputs.database_endpoint}:{inputs.database_port}"},
        {"name": prefect_database.DATABASE_ENV, "value": inputs.database_name},
        {"name": prefect_database.OWNER_ROLE_ENV, "value": contract.PREFECT_DATABASE_OWNER},
        {"name": prefect_database.LOGIN_ROLES_ENV, "value": ",".join(contract.PREFECT_DATABASE_ROLES)},
        {"name": prefect_database.CA_FILE_ENV, "value": ca_file()},
        _from_secret(prefect_database.MASTER_USER_ENV, MASTER_USERNAME_KEY),
        _from_secret(prefect_database.MASTER_PASSWORD_ENV, MASTER_PASSWORD_KEY),
        _from_secret(prefect_database.ROLE_ENV, ROLE_KEY),
        _from_secret(prefect_database.ROLE_PASSWORD_ENV, ROLE_PASSWORD_KEY),
    ]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": NAME, "namespace": namespace, "labels": dict(POD_LABELS),
                     "annotations": hook_annotations(JOB_WEIGHT, JOB_DELETE_POLICY)},
        "spec": {
            "backoffLimit": BACKOFF_LIMIT,
            "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
            "template": {
                "metadata": {
                    "labels": dict(POD_LABELS),
                    # A changed program is a changed release: the hook runs again with it.
                    "annotations": {"haflow/program-sha256": hashlib.sha256(program_source().encode()).hexdigest()},
                },
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "bootstrap",
                        "image": f"{PREFECT_REPOSITORY}:{images.pinned(images.PREFECT).tag_and_digest}",
                        "command": list(IMAGE_ENTRYPOINT),
                        "args": ["python", f"{MOUNT_PATH}/{SCRIPT_KEY}"],
                        "env": env,
                        "resources": {kind: dict(amounts) for kind, amounts in RESOURCES.items()},
                        "securityContext": {**SECURITY_CONTEXT, "capabilities": {"drop": ["ALL"]},
                                            "seccompProfile": {"type": "RuntimeDefault"}},
                        "volumeMounts": [
                            {"name": NAME, "mountPath": MOUNT_PATH, "readOnly": True},
                            ca_volume_mount(),
                            {"name": SCRATCH_VOLUME, "mountPath": "/tmp"},
                        ],
                    }],
                    "volumes": [
                        {"name": NAME, "configMap": {"name": NAME}},
                        ca_volume(),
                        {"name": SCRATCH_VOLUME, "emptyDir": {}},
                    ],
                },
            },
        },
    }


def bootstrap_objects(inputs: PlatformInputs, *, namespace: str, refresh_interval: str) -> list[dict[str, Any]]:
    """The release's objects, every one a hook (values of the local manifests chart)."""
    config_map = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": NAME, "namespace": namespace,
                     "annotations": hook_annotations(INPUT_WEIGHT, INPUT_DELETE_POLICY)},
        "data": {SCRIPT_KEY: program_source()},
    }
    secret = external_secret(bootstrap_secret(inputs, namespace), refresh_interval)
    secret["metadata"]["annotations"] = hook_annotations(INPUT_WEIGHT, INPUT_DELETE_POLICY)
    return [config_map, secret, bootstrap_job(inputs, namespace)]


class PrefectDatabaseBootstrap(Construct):
    """The ``prefect-database-bootstrap`` release (hooks only), to be installed before prefect-server."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        inputs: PlatformInputs,
        namespace: str,
        refresh_interval: str,
        provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.release = manifests_release(
            self, "release", name=RELEASE_NAME, namespace=namespace,
            values={"objects": bootstrap_objects(inputs, namespace=namespace, refresh_interval=refresh_interval)},
            wait=True, provider=provider, depends_on=depends_on,
        )
