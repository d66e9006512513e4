"""Reloader: rolls a Deployment when a Secret it names changes, so rotated credentials reach the pods.

RDS rotates the Aurora master password (every 7 days); External Secrets re-reads Secrets Manager every
``secrets.refresh_interval`` and rewrites the Kubernetes Secret; Reloader sees the change and does a
rolling restart of the Deployments annotated ``secret.reloader.stakater.com/reload: <secret,...>``. The
rollout keeps every old pod until its replacement is ready (maxUnavailable 0%), and the old pods keep
serving on the database sessions they already hold: PostgreSQL does not end a session when the role's
password changes. See docs/deploy.md, "Credential rotation".
https://github.com/stakater/Reloader#how-to-use-reloader
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from haflow import contract, images
from haflow.constructs.helm import RELOADER, helm_release, requests, spread_across_zones_and_hosts

NAMESPACE = "reloader"
RELEASE_NAME = "reloader"
FULLNAME = f"{RELEASE_NAME}-reloader"  # the chart's fullname: <release>-<chart>
RELOADER_SECRET_ANNOTATION = contract.RELOADER_SECRET_ANNOTATION
REPLICAS = 2
POD_LABELS = {"app": FULLNAME, "release": RELEASE_NAME}


def reload_on(secrets: Sequence[str]) -> dict[str, str]:
    """The annotation that makes Reloader roll a Deployment when any of ``secrets`` changes."""
    return {RELOADER_SECRET_ANNOTATION: ",".join(sorted(secrets))}


def reloader_values(watched_namespaces: Sequence[str]) -> dict[str, Any]:
    """Reloader scoped to ``watched_namespaces``: the chart then creates a Role + RoleBinding in each (and its own
    namespace, for leader election) and no ClusterRole, so it can restart nothing outside them."""
    return {
        "reloader": {
            "watchGlobally": False,
            "namespaces": sorted(set(watched_namespaces)),
            # Two pods with leader election: a lost node does not miss a rotation.
            "enableHA": True,
            "reloadOnCreate": False,
            "deployment": {
                "replicas": REPLICAS,
                "topologySpreadConstraints": spread_across_zones_and_hosts(POD_LABELS),
                "resources": requests("10m", "64Mi"),
            },
            "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
        },
        # The chart renders repository@digest when image.digest is set (haflow.images).
        "image": {"digest": images.pinned(images.RELOADER).digest},
    }


class Reloader(Construct):
    """Reloader, watching only ``watched_namespaces`` (they must exist: pass their resources in ``depends_on``)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, watched_namespaces: Sequence[str], provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.release = helm_release(
            self, "release", chart=RELOADER, release_name=RELEASE_NAME, namespace=NAMESPACE,
            values=reloader_values(watched_namespaces), provider=provider, depends_on=depends_on,
        )
