"""Prefect's own credentials, generated in Secrets Manager: the API's basic-auth password and the database role.

Both are generated the way the Redis AUTH token is (``haflow.constructs.cache``): Secrets Manager's random
password inside Terraform, kept by a secret version that ignores later plans, so no literal is in the plan or
the repository. External Secrets syncs them into the cluster (``haflow.constructs.prefect``); the bootstrap
Job (``haflow.constructs.prefect_database``) creates the database roles from the database secret.

- ``api_auth_secret``: the password of Prefect's basic auth (PREFECT_SERVER_API_AUTH_STRING on the server,
  PREFECT_API_AUTH_STRING on the worker and the flow runs), the secret's whole string.
- ``database_secret``: the login role Prefect signs in to Aurora as, in the JSON Secrets Manager's
  alternating-users rotation reads (engine, host, port, dbname, username, password, masterarn):
  https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html#reference_secret_json_structure_rds-postgres
  It names ``prefect`` at first; a rotation switches it between ``prefect`` and ``prefect_clone``, both members of
  the NOLOGIN role that owns Prefect's database (docs/security-prefect.md).

With a secondary region both secrets are replicated there (as the global database's master secret is): the
promoted DR tier signs in as the same, replicated, roles and clients keep the same API password.
"""

from __future__ import annotations

from cdktf import Fn, TerraformLocal
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import DataAwsSecretsmanagerRandomPassword
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret, SecretsmanagerSecretReplica
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

from haflow import contract
from haflow.constructs.database import SECRET_READ_ACTIONS
from haflow.constructs.irsa import GrantableRole
from haflow.constructs.kms import EncryptionKey, prevent_destroy

API_PASSWORD_LENGTH = 48
DATABASE_PASSWORD_LENGTH = 40
SECRET_RECOVERY_WINDOW_DAYS = 30
# The engine name the alternating-users rotation function expects for PostgreSQL
ROTATION_ENGINE = "postgres"


def api_auth_secret_name(name: str) -> str:
    return f"haflow/{name}/prefect-api-auth"


def database_secret_name(name: str) -> str:
    return contract.prefect_database_secret_name(name)


class PrefectCredentials(Construct):
    """The two secrets and the key that encrypts them."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        region: str,
        protect: bool,
        database_endpoint: str,
        database_port: str,
        database_name: str,
        master_secret_arn: str,
        replica_region: str | None = None,
    ) -> None:
        """``replica_region`` left out: no replica (no secondary region)."""
        super().__init__(scope, construct_id)
        self.region = region
        self.key = EncryptionKey(
            self, "key", alias=f"{name}/prefect-credentials", protect=protect,
            description=f"Prefect's API password and database role secrets of {name}",
        )
        replicas = [SecretsmanagerSecretReplica(region=replica_region)] if replica_region else None
        self.api_auth_secret = SecretsmanagerSecret(
            self, "api-auth-secret", name=api_auth_secret_name(name), kms_key_id=self.key.arn,
            description=f"Basic-auth password of the {name} Prefect API (user {contract.PREFECT_API_USER})",
            replica=replicas, recovery_window_in_days=SECRET_RECOVERY_WINDOW_DAYS if protect else 0,
            lifecycle=prevent_destroy(protect),
        )
        api_password = DataAwsSecretsmanagerRandomPassword(
            self, "api-auth-generator", password_length=API_PASSWORD_LENGTH, exclude_punctuation=True,
            include_space=False,
        )
        # The version keeps the first password (the data source yields a new one on every plan).
        SecretsmanagerSecretVersion(
            self, "api-auth", secret_id=self.api_auth_secret.id, secret_string=api_password.random_password,
            lifecycle={"ignore_changes": ["secret_string"]},
        )

        self.database_secret = SecretsmanagerSecret(
            self, "database-secret", name=database_secret_name(name), kms_key_id=self.key.arn,
            description=f"The login role Prefect signs in to the {name} Aurora cluster as (not the master user)",
            replica=replicas, recovery_window_in_days=SECRET_RECOVERY_WINDOW_DAYS if protect else 0,
            lifecycle=prevent_destroy(protect),
        )
        database_password = DataAwsSecretsmanagerRandomPassword(
            self, "database-password-generator", password_length=DATABASE_PASSWORD_LENGTH,
            exclude_punctuation=True, include_space=False,
        )
        document = TerraformLocal(self, "database-secret-document", Fn.jsonencode({
            "engine": ROTATION_ENGINE, "host": database_endpoint, "port": database_port, "dbname": database_name,
            "username": contract.PREFECT_DATABASE_ROLES[0], "password": database_password.random_password,
            "masterarn": master_secret_arn,
        }))
        SecretsmanagerSecretVersion(
            self, "database", secret_id=self.database_secret.id, secret_string=document.as_string,
            lifecycle={"ignore_changes": ["secret_string"]},
        )
        self.api_auth_secret_arn = self.api_auth_secret.arn
        self.database_secret_arn = self.database_secret.arn

    def grant_read(self, grantee: GrantableRole, *, database: bool = True) -> None:
        """Read the API password and, with ``database``, the database role's secret (decrypting through Secrets
        Manager only)."""
        grantee.attach_policy(
            "prefect-credentials-read",
            {"Effect": "Allow", "Action": list(SECRET_READ_ACTIONS),
             "Resource": [self.api_auth_secret_arn, *([self.database_secret_arn] if database else [])]},
            {
                "Effect": "Allow", "Action": "kms:Decrypt", "Resource": self.key.arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{self.region}.amazonaws.com"}},
            },
        )
