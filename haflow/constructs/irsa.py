"""IAM roles for Kubernetes service accounts (IRSA): a role only one service account can assume.

https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from haflow import contract
from haflow.constructs.iam import policy_document
from haflow.contract import ServiceAccount

# The audience the EKS Pod Identity Webhook puts into projected service-account tokens.
STS_AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True)
class OidcIssuer:
    """The cluster's IAM OIDC provider: its ARN and its issuer URL without https:// (the condition key prefix)."""

    provider_arn: str
    issuer_host: str


def web_identity_trust_policy(oidc: OidcIssuer, account: ServiceAccount) -> str:
    """Trust policy admitting tokens of exactly one service account, issued for STS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc.provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{oidc.issuer_host}:sub": account.subject,
                            f"{oidc.issuer_host}:aud": STS_AUDIENCE,
                        }
                    },
                }
            ],
        }
    )


class GrantableRole(Construct):
    """An IAM role whose permissions come from grants: other constructs call ``attach_policy``."""

    role: IamRole
    arn: str

    def attach_policy(self, id_: str, *statements: dict[str, Any]) -> None:
        """An inline policy named ``id_``; grant methods of other constructs call this."""
        IamRolePolicy(self, id_, name=id_, role=self.role.name, policy=policy_document(*statements))

    def attach_managed_policy(self, id_: str, policy_arn: str) -> None:
        IamRolePolicyAttachment(self, id_, role=self.role.name, policy_arn=policy_arn)


class ServiceAccountRole(GrantableRole):
    """An IAM role for one service account; permissions come from grants (``attach_policy``)."""

    def __init__(
        self, scope: Construct, id_: str, *, role_name: str, oidc: OidcIssuer, service_account: ServiceAccount
    ) -> None:
        super().__init__(scope, id_)
        self.service_account = service_account
        self.role = IamRole(
            self, "role", name=role_name, assume_role_policy=web_identity_trust_policy(oidc, service_account),
            description=f"IRSA role of {service_account.namespace}/{service_account.name}",
        )
        self.arn = self.role.arn


class ChainedRole(GrantableRole):
    """An IAM role only one other role may assume (``sts:AssumeRole``, role chaining): External Secrets' IRSA role
    assumes one per ClusterSecretStore, each reading only the secrets synced into that store's namespace."""

    def __init__(self, scope: Construct, id_: str, *, role_name: str, assumed_by: GrantableRole, description: str
                 ) -> None:
        super().__init__(scope, id_)
        self.role = IamRole(
            self, "role", name=role_name, description=description,
            assume_role_policy=policy_document(
                {"Effect": "Allow", "Principal": {"AWS": assumed_by.arn}, "Action": "sts:AssumeRole"}),
        )
        self.arn = self.role.arn


def workload_roles(
    scope: Construct, *, name: str, oidc: OidcIssuer, flow_run_namespace: str
) -> dict[str, ServiceAccountRole]:
    """One IRSA role per platform workload (``contract.workload_service_accounts``), named ``<name>-<workload>``
    and granted nothing yet: the stack grants each what that workload does."""
    return {
        key: ServiceAccountRole(scope, f"{key}-role", role_name=f"{name}-{key}", oidc=oidc, service_account=account)
        for key, account in contract.workload_service_accounts(flow_run_namespace).items()
    }


def secret_store_roles(
    scope: Construct, *, name: str, controller: GrantableRole, flow_run_namespace: str
) -> dict[str, ChainedRole]:
    """One role per External Secrets store (``contract.secret_store_namespaces``), named ``<name>-secrets-<key>``,
    assumable only from the controller's IRSA role, which may assume these and nothing else; the stack grants
    each store's role the secrets synced into its namespace."""
    roles = {
        key: ChainedRole(scope, f"secrets-{key}-role", role_name=f"{name}-secrets-{key}", assumed_by=controller,
                         description=f"What External Secrets syncs into namespace {namespace} of {name}")
        for key, namespace in contract.secret_store_namespaces(flow_run_namespace).items()
    }
    controller.attach_policy("assume-secret-store-roles", {
        "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [role.arn for role in roles.values()]})
    return roles
