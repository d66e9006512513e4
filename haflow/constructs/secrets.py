"""External Secrets Operator: this environment's Secrets Manager secrets, synced into Kubernetes.

The operator's service account assumes the IRSA role the foundation made for it. One
ClusterSecretStore per namespace reads Secrets Manager in the environment's region as a role of its own (assumed
from the operator's role) that reads only that namespace's secrets; ExternalSecrets build the
Kubernetes Secrets Prefect and model-api mount. They are re-read every ``refresh_interval``, so a
rotation of the Aurora master password (managed by RDS in Secrets Manager) reaches the pods with no
Terraform run. The custom resources are rendered by a release of the small local chart
``haflow/charts/manifests`` instead of ``kubernetes_manifest``, which needs a reachable cluster at plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdktf import ITerraformDependable, TerraformProvider
from constructs import Construct

from haflow import contract, images
from haflow.config.platform import Secrets
from haflow.constructs.helm import (
    EXTERNAL_SECRETS,
    helm_release,
    manifests_release,
    requests,
    spread_across_zones_and_hosts,
)

NAMESPACE = contract.EXTERNAL_SECRETS_SERVICE_ACCOUNT.namespace
RELEASE_NAME = "external-secrets"
# external-secrets.io/v1 is the served API from ESO 0.17 on (v1beta1 was removed in 1.0).
ESO_API = "external-secrets.io/v1"
CONTROLLER_LABELS = {"app.kubernetes.io/name": "external-secrets", "app.kubernetes.io/instance": RELEASE_NAME}
WEBHOOK_LABELS = {"app.kubernetes.io/name": "external-secrets-webhook", "app.kubernetes.io/instance": RELEASE_NAME}
CERT_CONTROLLER_LABELS = {
    "app.kubernetes.io/name": "external-secrets-cert-controller", "app.kubernetes.io/instance": RELEASE_NAME,
}
# The webhook and the cert controller (which keeps the webhook's certificate current) run two pods each:
# with one, a drained node blocks every ExternalSecret change until it is rescheduled.
WEBHOOK_REPLICAS = 2
# How the foundation stores each ElastiCache RBAC user's password: the secret's whole string (no JSON property).
CACHE_USER_SECRET_PROPERTY: str | None = None


@dataclass(frozen=True)
class SyncedSecret:
    """A Kubernetes Secret built from Secrets Manager values through an ESO template.

    ``remote`` maps a template variable to (secret ARN, JSON property or None for the whole string);
    ``template`` maps each key of the Kubernetes Secret to a Go template over those variables.
    """

    name: str
    namespace: str
    remote: dict[str, tuple[str, str | None]]
    template: dict[str, str]


def external_secrets_values(config: Secrets, role_arn: str) -> dict[str, Any]:
    """Values for the external-secrets chart."""
    ha = config.operator_replicas > 1
    return {
        "installCRDs": True,
        # Only the ClusterSecretStore haflow writes (usable from the namespaces its conditions list) reaches Secrets
        # Manager: without the SecretStore CRD nobody can create a namespaced store, whose provider block with no
        # auth would run on the controller's own IRSA role; the reconciler is off as the chart requires with it.
        # PushSecret and ClusterPushSecret are off too: nothing in haflow writes back to Secrets Manager.
        "crds": {"createSecretStore": False, "createPushSecret": False, "createClusterPushSecret": False},
        "processSecretStore": False,
        "processPushSecret": False,
        "processClusterPushSecret": False,
        # No TokenRequest for any service account (the chart's default ClusterRole may create one for every account,
        # which with IRSA is every account's IAM role): the stores sign in with the controller's own IRSA
        # credentials and chain to their roles, no auth block, no token (rule HA-SEC-071).
        "rbac": {"serviceAccountTokenCreate": False},
        "replicaCount": config.operator_replicas,
        # The chart renders repository:tag and has no digest value: the digest rides in the tag (haflow.images).
        "image": {"tag": images.pinned(images.EXTERNAL_SECRETS).tag_and_digest},
        # Also the cert controller's: --enable-leader-election.
        "leaderElect": ha,
        "serviceAccount": {"create": True, "name": contract.EXTERNAL_SECRETS_SERVICE_ACCOUNT.name,
                           "annotations": {contract.IRSA_ANNOTATION: role_arn}},
        "podDisruptionBudget": {"enabled": ha, "minAvailable": 1},
        "topologySpreadConstraints": spread_across_zones_and_hosts(CONTROLLER_LABELS),
        "livenessProbe": {"enabled": True},
        "resources": requests("50m", "128Mi"),
        "webhook": {
            "image": {"tag": images.pinned(images.EXTERNAL_SECRETS).tag_and_digest},
            "replicaCount": WEBHOOK_REPLICAS,
            "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
            "topologySpreadConstraints": spread_across_zones_and_hosts(WEBHOOK_LABELS),
            "livenessProbe": {"enabled": True},
            "resources": requests("20m", "64Mi"),
        },
        "certController": {
            "image": {"tag": images.pinned(images.EXTERNAL_SECRETS).tag_and_digest},
            "replicaCount": WEBHOOK_REPLICAS if ha else 1,
            "podDisruptionBudget": {"enabled": ha, "minAvailable": 1},
            "topologySpreadConstraints": spread_across_zones_and_hosts(CERT_CONTROLLER_LABELS),
            "livenessProbe": {"enabled": True},
            "resources": requests("20m", "64Mi"),
        },
    }


def secret_store(region: str, namespace: str, role_arn: str) -> dict[str, Any]:
    """The ClusterSecretStore of one namespace: usable only from there, reading as that namespace's role."""
    return {
        "apiVersion": ESO_API,
        "kind": "ClusterSecretStore",
        "metadata": {"name": contract.secret_store_name(namespace)},
        "spec": {
            # No auth block: the controller's IRSA credentials assume the store's role (role chaining), which
            # reads only the secrets synced into this namespace.
            "provider": {"aws": {"service": "SecretsManager", "region": region, "role": role_arn}},
            "conditions": [{"namespaces": [namespace]}],
        },
    }


def external_secret(secret: SyncedSecret, refresh_interval: str) -> dict[str, Any]:
    data = []
    for variable, (arn, json_property) in sorted(secret.remote.items()):
        remote_ref: dict[str, str] = {"key": arn}
        if json_property:
            remote_ref["property"] = json_property
        data.append({"secretKey": variable, "remoteRef": remote_ref})
    return {
        "apiVersion": ESO_API,
        "kind": "ExternalSecret",
        "metadata": {"name": secret.name, "namespace": secret.namespace},
        "spec": {
            "refreshInterval": refresh_interval,
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": contract.secret_store_name(secret.namespace)},
            "target": {
                "name": secret.name,
                "creationPolicy": "Owner",
                "template": {"engineVersion": "v2", "data": dict(secret.template)},
            },
            "data": data,
        },
    }


def manifests_values(config: Secrets, region: str, secrets: Sequence[SyncedSecret],
                     store_roles: Mapping[str, str]) -> dict[str, Any]:
    """Values for the local manifests chart: a store per namespace synced into, and one ExternalSecret per secret.
    ``store_roles``: the role each namespace's store assumes (PlatformInputs.secret_store_roles)."""
    namespaces = sorted({s.namespace for s in secrets})
    if missing := [namespace for namespace in namespaces if namespace not in store_roles]:
        raise ValueError(f"no secret store role for namespace(s) {', '.join(missing)}: add them to "
                         "contract.secret_store_namespaces (the foundation creates a role per entry)")
    objects = [secret_store(region, namespace, store_roles[namespace]) for namespace in namespaces]
    objects.extend(external_secret(s, config.refresh_interval) for s in sorted(secrets, key=lambda s: s.name))
    return {"objects": objects}


class ExternalSecrets(Construct):
    """The operator (Helm) plus the store and ExternalSecrets (local chart), in that order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: Secrets,
        region: str,
        role_arn: str,
        store_roles: Mapping[str, str],
        secrets: Sequence[SyncedSecret],
        provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.operator = helm_release(
            self, "operator", chart=EXTERNAL_SECRETS, release_name=RELEASE_NAME, namespace=NAMESPACE,
            values=external_secrets_values(config, role_arn), provider=provider, depends_on=depends_on,
        )
        # The CRDs come with the operator release; the custom resources can only be applied after it.
        self.synced = manifests_release(
            self, "synced-secrets", name="synced-secrets", namespace=NAMESPACE,
            values=manifests_values(config, region, secrets, store_roles), provider=provider,
            depends_on=[self.operator, *depends_on],
        )
