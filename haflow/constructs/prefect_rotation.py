"""Automatic rotation of Prefect's database password: haflow's alternating-users rotation function.

Secrets Manager rotates ``haflow/<env>/prefect-database`` every ``database.prefect_password_rotation_days`` with
the Lambda function ``<env>-prefect-database-rotation`` (``haflow.in_image.prefect_rotation``): each rotation
gives the *other* login role (``prefect`` <-> ``prefect_clone``) a new password and makes that the secret's
AWSCURRENT version, so pods still holding the previous secret keep signing in until External Secrets re-syncs
and Reloader rolls them (docs/security-prefect.md).

Why not AWS's SecretsManagerRDSPostgreSQLRotationMultiUser: it sends ``ALTER USER x WITH PASSWORD %s`` with the
parameter substituted on the client, so the plaintext password is in the statement that ``log_statement = ddl``
(haflow.constructs.database.QUERY_LOGGING) writes to the PostgreSQL log, which the cluster exports to CloudWatch
Logs. haflow's function sends a SCRAM-SHA-256 verifier instead, as the bootstrap Job does.

The function:
- is built from ``haflow/in_image`` at synth time (a ``TerraformAsset`` archive of a directory holding the
  rotation module and the verifier's module as package ``FUNCTION_PACKAGE``; no network, no dependency: the
  Python 3.12 runtime's boto3 and the standard library);
- runs in the private subnets with a security group of its own: out to Aurora on its port and HTTPS (Secrets
  Manager's endpoint and the RDS CA bundle through the NAT gateways), nothing in; Aurora's security group admits it;
- has a role that may read and stage versions of the Prefect database secret only, read the master secret only,
  ask Secrets Manager for a random password, use the secret's key (and decrypt with the master secret's) only
  through Secrets Manager, manage its ENIs, and write to its own log group (KMS-encrypted, retained as the
  database's logs);
- may be invoked by Secrets Manager for that secret only (``source_arn``, ``source_account``), one at a time
  (reserved concurrency 1).

The rotation is configured with ``rotate_immediately = false``: the foundation is applied before the platform's
bootstrap Job creates the roles, so the first rotation waits for the schedule (or ``aws secretsmanager
rotate-secret``). With a secondary region the secret's replica receives each new version from Secrets Manager's
replication; replicas are not rotated on their own, and no second function exists.
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda.html
https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets_lambda-functions.html
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from cdktf import AssetType, Fn, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionVpcConfig,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from haflow import contract, facts
from haflow.constructs.iam import assume_role_policy, policy_document
from haflow.in_image import prefect_rotation

RUNTIME = "python3.12"
FUNCTION_PACKAGE = "haflow_in_image"
# The modules the function needs, from haflow/in_image: the handler and the verifier it imports
FUNCTION_MODULES = ("prefect_rotation.py", "prefect_database.py")
# FUNCTION_PACKAGE + ".prefect_rotation." + prefect_rotation.HANDLER (tests/rules/test_rotation.py holds them equal)
HANDLER = contract.PREFECT_ROTATION_HANDLER
TIMEOUT_SECONDS = 60
MEMORY_MB = 256
# Secrets Manager runs one rotation of a secret at a time; one is all the function may run
RESERVED_CONCURRENCY = 1
HTTPS_PORT = 443
# Files in the archive carry this modification time (1980-01-01, the zip epoch), so its hash changes only
# with the content: an unchanged function is not redeployed.
FIXED_MTIME = 315532800
SECRETS_MANAGER_PRINCIPAL = "secretsmanager.amazonaws.com"
# What the four steps call on the rotated secret (AWS's rotation function policy, "Permissions for rotation"):
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets-required-permissions-function.html
ROTATED_SECRET_ACTIONS = (
    "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
)
MASTER_SECRET_ACTIONS = ("secretsmanager:GetSecretValue",)
RANDOM_PASSWORD_ACTION = "secretsmanager:GetRandomPassword"  # no resource: "*" is the only form IAM accepts
# The rotated secret's key: read and write versions; the master secret's key: read only
SECRET_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
MASTER_KEY_ACTIONS = ("kms:Decrypt",)
# AWSLambdaVPCAccessExecutionRole's actions (the function's ENIs in the private subnets):
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
VPC_ACCESS_ACTIONS = (
    "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
)
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


def function_name(name: str) -> str:
    return f"{name}-prefect-database-rotation"


def function_source() -> Path:
    """The function's directory (package ``FUNCTION_PACKAGE`` with ``FUNCTION_MODULES``), content-addressed in the
    temporary directory, with fixed file times: the archive is the same bytes for the same content."""
    package = resources.files("haflow.in_image")
    sources = {module: package.joinpath(module).read_bytes() for module in FUNCTION_MODULES}
    sources["__init__.py"] = b'"""haflow\'s rotation function of Prefect\'s database secret (haflow/in_image)."""\n'
    digest = hashlib.sha256(b"".join(name.encode() + b"\0" + text for name, text in sorted(sources.items())))
    root = Path(tempfile.gettempdir()) / f"haflow-prefect-rotation-{digest.hexdigest()[:16]}"
    if not root.exists():
        staging = Path(tempfile.mkdtemp(prefix=".haflow-prefect-rotation-", dir=root.parent))
        target = staging / FUNCTION_PACKAGE
        target.mkdir()
        for module, text in sources.items():
            (target / module).write_bytes(text)
            os.utime(target / module, (FIXED_MTIME, FIXED_MTIME))
        os.utime(target, (FIXED_MTIME, FIXED_MTIME))
        try:
            staging.rename(root)
        except OSError:  # another synth made it meanwhile: the same content
            shutil.rmtree(staging, ignore_errors=True)
    return root


class PrefectPasswordRotation(Construct):
    """The rotation function of Prefect's database secret, its permissions, network, log group and schedule."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        region: str,
        account_id: str,
        vpc_id: str,
        subnet_ids: list[str],
        database_security_group_id: str,
        database_port: int,
        database_endpoint: str,
        secret_arn: str,
        secret_key_arn: str,
        master_secret_arn: str,
        master_secret_key_arn: str,
        rotation_days: int,
        log_kms_key_arn: str,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function_name = function_name(name)
        self.log_group = CloudwatchLogGroup(
            self, "log-group", name=f"/aws/lambda/{self.function_name}", retention_in_days=log_retention_days,
            kms_key_id=log_kms_key_arn,
        )
        self.role = IamRole(self, "role", name=self.function_name,
                            assume_role_policy=assume_role_policy("lambda.amazonaws.com"))
        via_secrets_manager = {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}}
        IamRolePolicy(self, "policy", name="prefect-database-rotation", role=self.role.name, policy=policy_document(
            {"Effect": "Allow", "Action": list(ROTATED_SECRET_ACTIONS), "Resource": secret_arn},
            {"Effect": "Allow", "Action": list(MASTER_SECRET_ACTIONS), "Resource": master_secret_arn},
            {"Effect": "Allow", "Action": RANDOM_PASSWORD_ACTION, "Resource": "*"},
            {"Effect": "Allow", "Action": list(SECRET_KEY_ACTIONS), "Resource": secret_key_arn,
             "Condition": via_secrets_manager},
            {"Effect": "Allow", "Action": list(MASTER_KEY_ACTIONS), "Resource": master_secret_key_arn,
             "Condition": via_secrets_manager},
            {"Effect": "Allow", "Action": list(LOG_ACTIONS),
             "Resource": [self.log_group.arn, f"{self.log_group.arn}:*"]},
            {"Effect": "Allow", "Action": list(VPC_ACCESS_ACTIONS), "Resource": "*"},
        ))
        self.security_group = SecurityGroup(
            self, "security-group", name=self.function_name, vpc_id=vpc_id,
            description=f"Rotation function of {name}'s Prefect database secret: Aurora and HTTPS out, nothing in",
            tags={"Name": self.function_name},
        )
        VpcSecurityGroupEgressRule(
            self, "egress-aurora", security_group_id=self.security_group.id,
            referenced_security_group_id=database_security_group_id, ip_protocol="tcp", from_port=database_port,
            to_port=database_port, description="Aurora (the master sets the password; the new role signs in)",
        )
        VpcSecurityGroupEgressRule(
            self, "egress-https", security_group_id=self.security_group.id, cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT,
            description="HTTPS out: Secrets Manager's endpoint and the RDS CA bundle (through the NAT gateways)",
        )
        VpcSecurityGroupIngressRule(
            self, "aurora-from-rotation", security_group_id=database_security_group_id,
            referenced_security_group_id=self.security_group.id, ip_protocol="tcp", from_port=database_port,
            to_port=database_port, description="Aurora from the Prefect password rotation function",
        )
        archive = TerraformAsset(self, "code", path=str(function_source()), type=AssetType.ARCHIVE)
        self.function = LambdaFunction(
            self, "function", function_name=self.function_name,
            description=f"Rotates {name}'s Prefect database secret (alternating users, SCRAM verifiers)",
            role=self.role.arn, runtime=RUNTIME, handler=HANDLER, filename=archive.path,
            source_code_hash=Fn.filebase64sha256(archive.path), timeout=TIMEOUT_SECONDS, memory_size=MEMORY_MB,
            reserved_concurrent_executions=RESERVED_CONCURRENCY,
            vpc_config=LambdaFunctionVpcConfig(subnet_ids=subnet_ids, security_group_ids=[self.security_group.id]),
            logging_config=LambdaFunctionLoggingConfig(log_format="Text", log_group=self.log_group.name),
            environment=LambdaFunctionEnvironment(variables={
                prefect_rotation.LOGIN_ROLES_ENV: ",".join(contract.PREFECT_DATABASE_ROLES),
                prefect_rotation.OWNER_ROLE_ENV: contract.PREFECT_DATABASE_OWNER,
                prefect_rotation.DATABASE_HOST_ENV: database_endpoint,
                prefect_rotation.MASTER_SECRET_ARN_ENV: master_secret_arn,
                prefect_rotation.CA_BUNDLE_URL_ENV: facts.RDS_CA_BUNDLE.url,
            }),
            depends_on=[self.log_group],
        )
        self.permission = LambdaPermission(
            self, "invoke-from-secrets-manager", statement_id="SecretsManagerRotation", action="lambda:InvokeFunction",
            function_name=self.function.function_name, principal=SECRETS_MANAGER_PRINCIPAL, source_arn=secret_arn,
            source_account=account_id,
        )
        self.rotation = SecretsmanagerSecretRotation(
            self, "schedule", secret_id=secret_arn, rotation_lambda_arn=self.function.arn,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(automatically_after_days=rotation_days),
            rotate_immediately=False, depends_on=[self.permission],
        )
