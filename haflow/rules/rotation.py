"""Rotation rules: Prefect's database password is rotated by haflow's function, which can do nothing else.

The function (haflow.constructs.prefect_rotation, code in haflow.in_image.prefect_rotation) is recognised by its
handler (``contract.PREFECT_ROTATION_HANDLER``); AWS's own PostgreSQL rotation functions send the new password as
plaintext in an ``ALTER USER`` statement that Aurora's DDL logging writes to CloudWatch Logs. Docs:
docs/security-prefect.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from haflow import contract
from haflow.config.limits import PREFECT_PASSWORD_ROTATION_RANGE
from haflow.in_image.prefect_rotation import MASTER_SECRET_ARN_ENV
from haflow.rules.engine import ERROR, NOT_APPLICABLE, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack, Unverifiable

if TYPE_CHECKING:
    from haflow.config.model import Environment

SECRET = "aws_secretsmanager_secret"
ROTATION = "aws_secretsmanager_secret_rotation"
FUNCTION = "aws_lambda_function"
PERMISSION = "aws_lambda_permission"
ROLE = "aws_iam_role"
ROLE_POLICY = "aws_iam_role_policy"
MANAGED_POLICY_ATTACHMENTS = ("aws_iam_role_policy_attachment", "aws_iam_role_policy_attachments_exclusive")
SECURITY_GROUP = "aws_security_group"
INGRESS_RULE = "aws_vpc_security_group_ingress_rule"
EGRESS_RULE = "aws_vpc_security_group_egress_rule"
SECRETS_MANAGER_PRINCIPAL = "secretsmanager.amazonaws.com"
HTTPS_PORT = 443
# What the function may do to the secret it rotates, and to the master secret (read only)
ROTATED_SECRET_ACTIONS = frozenset({
    "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
})
MASTER_SECRET_ACTIONS = frozenset({"secretsmanager:GetSecretValue"})
RESOURCELESS_ACTIONS = frozenset({"secretsmanager:GetRandomPassword"})
VIA_SERVICE = "kms:ViaService"


def rotation_function(resource: LiteralResource) -> bool:
    return resource.body.get("handler") == contract.PREFECT_ROTATION_HANDLER


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(policy: LiteralResource) -> Iterator[Mapping[str, Any]]:
    raw = policy.body.get("policy")
    try:
        document = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        document = None
    if not isinstance(document, Mapping):
        raise Unverifiable("policy", f"{raw!r} is not a JSON policy document in the plan")
    for statement in _as_list(document.get("Statement") or []):
        if isinstance(statement, Mapping) and statement.get("Effect") == "Allow":
            yield statement


@rule(
    id="HA-SEC-034",
    level=ERROR,
    title="Prefect's database secret is rotated by haflow's function, at least once a year",
    rationale="A password that never changes stays valid for whoever once read it (a pod, a log, a backup of the "
    "cluster's Secrets). AWS's PostgreSQL rotation functions send the new password in plain text in an ALTER "
    "USER statement, which Aurora's DDL logging (log_statement = ddl) writes to CloudWatch Logs; haflow's function "
    "sends a SCRAM-SHA-256 verifier.",
    fix="Keep haflow.constructs.prefect_rotation.PrefectPasswordRotation next to PrefectCredentials in the "
    "foundation stack, with database.prefect_password_rotation_days of at most 365.",
    subjects=(SECRET,),
)
def prefect_secret_rotated(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if resource.body.get("name") != contract.prefect_database_secret_name(env.name):
        return NOT_APPLICABLE
    rotations = stack.referencing(resource, ROTATION, "secret_id")
    if not rotations:
        return [f"{resource.address} has no {ROTATION}: Prefect's database password never changes"]
    problems = []
    for rotation in rotations:
        raw = rotation.body.get("rotation_lambda_arn")
        function = stack.resolve(raw, FUNCTION)
        if function is None or not rotation_function(function):
            problems.append(f"{rotation.address}: rotation_lambda_arn {raw!r} is not haflow's rotation function "
                            f"(handler {contract.PREFECT_ROTATION_HANDLER}); AWS's PostgreSQL functions log the "
                            "plaintext password through log_statement = ddl")
        days = rotation.integer("rotation_rules.automatically_after_days")
        if days > PREFECT_PASSWORD_ROTATION_RANGE[1]:
            problems.append(f"{rotation.address}: rotation_rules.automatically_after_days = {days}; at most "
                            f"{PREFECT_PASSWORD_ROTATION_RANGE[1]}")
    return problems


@rule(
    id="HA-SEC-035",
    level=ERROR,
    title="The rotation function's role can change only the secret it rotates and read only the master secret",
    rationale="The function holds the master user's password while it runs; a role that could read other secrets, "
    "change the master secret, or decrypt with any key outside Secrets Manager would turn a bug or a poisoned "
    "dependency in it into access to everything the account keeps.",
    fix="Grant (haflow/constructs/prefect_rotation.py) the four rotation actions on the rotated secret, "
    "GetSecretValue on the master secret, GetRandomPassword, KMS only with kms:ViaService Secrets Manager, "
    "the VPC ENI actions and its own log group; attach no managed policy.",
    subjects=(FUNCTION,),
)
def rotation_role_least_privilege(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not rotation_function(resource):
        return NOT_APPLICABLE
    role = stack.referenced(resource, "role", ROLE)
    rotated = {str(rotation.body.get("secret_id"))
               for rotation in stack.referencing(resource, ROTATION, "rotation_lambda_arn")}
    master = str(((resource.body.get("environment") or {}).get("variables") or {}).get(MASTER_SECRET_ARN_ENV, ""))
    problems = [f"{attachment.address} attaches a managed policy to {role.address}: its actions are not reviewed "
                "here" for attachment in stack.resources(*MANAGED_POLICY_ATTACHMENTS)
                if stack.resolve(attachment.body.get("role"), ROLE) == role]
    if role.body.get("managed_policy_arns"):
        problems.append(f"{role.address} has managed_policy_arns")
    for policy in stack.referencing(role, ROLE_POLICY, "role"):
        for statement in _statements(policy):
            actions = [str(action) for action in _as_list(statement.get("Action"))]
            targets = {str(item) for item in _as_list(statement.get("Resource"))}
            for action in actions:
                service = action.split(":", 1)[0]
                if action == "*" or action.endswith(":*"):
                    problems.append(f"{policy.address}: {action} allows every action of {service or 'every service'}")
                elif service == "secretsmanager" and action not in RESOURCELESS_ACTIONS:
                    if targets <= rotated and action in ROTATED_SECRET_ACTIONS:
                        continue
                    if targets <= {master} and action in MASTER_SECRET_ACTIONS:
                        continue
                    problems.append(f"{policy.address}: {action} on {sorted(targets)}: only the rotated secret "
                                    f"({sorted(rotated) or 'none'}) and reading the master secret ({master or 'none'}) "
                                    "are allowed")
                elif service == "kms":
                    condition = statement.get("Condition") or {}
                    via = {str(value) for operator in condition.values() if isinstance(operator, Mapping)
                           for value in _as_list(operator.get(VIA_SERVICE, []))}
                    if not via or not all(value.startswith("secretsmanager.") for value in via):
                        problems.append(f"{policy.address}: {action} without a {VIA_SERVICE} condition naming "
                                        "Secrets Manager: the role could decrypt anything the keys protect")
    return sorted(set(problems))


@rule(
    id="HA-SEC-036",
    level=ERROR,
    title="The rotation function runs in the VPC, reaching only Aurora and HTTPS, reachable by nothing",
    rationale="Aurora is in private subnets: the function must run in the VPC to reach it. A security group of its "
    "own that admits nothing and lets out only Aurora's port and HTTPS (Secrets Manager, the RDS CA bundle) keeps "
    "the master credentials it holds from travelling anywhere else.",
    fix="Give the function vpc_config with the private subnets and its own security group "
    "(haflow/constructs/prefect_rotation.py): egress to Aurora's security group on its port and to 443, no ingress.",
    subjects=(FUNCTION,),
)
def rotation_function_in_vpc(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not rotation_function(resource):
        return NOT_APPLICABLE
    if not resource.strings("vpc_config.subnet_ids", []):
        return [f"{resource.address} has no vpc_config.subnet_ids: it runs outside the VPC and cannot reach Aurora"]
    groups = stack.referenced_list(resource, "vpc_config.security_group_ids", SECURITY_GROUP)
    if not groups:
        return [f"{resource.address} has no vpc_config.security_group_ids"]
    problems = []
    for group in groups:
        if group.body.get("ingress") or stack.referencing(group, INGRESS_RULE, "security_group_id"):
            problems.append(f"{group.address} admits traffic: nothing needs to connect to the rotation function")
        if group.body.get("egress"):
            problems.append(f"{group.address} has inline egress rules (not reviewed here)")
        for egress in stack.referencing(group, EGRESS_RULE, "security_group_id"):
            port = (egress.body.get("from_port"), egress.body.get("to_port"))
            to_group = egress.body.get("referenced_security_group_id")
            to_aurora = to_group is not None and port == (contract.POSTGRES_PORT, contract.POSTGRES_PORT)
            if egress.body.get("ip_protocol") != "tcp" or not (to_aurora or port == (HTTPS_PORT, HTTPS_PORT)):
                problems.append(f"{egress.address} lets out {egress.body.get('ip_protocol')} {port[0]}-{port[1]}: "
                                f"only Aurora ({contract.POSTGRES_PORT}, to its security group) and HTTPS "
                                f"({HTTPS_PORT})")
    return problems


@rule(
    id="HA-SEC-037",
    level=ERROR,
    title="Only Secrets Manager, for the rotated secret of this account, may invoke the rotation function",
    rationale="A resource policy letting secretsmanager.amazonaws.com invoke the function without a source ARN "
    "lets any secret's rotation (in any account, the confused deputy) run it with its master credentials.",
    fix="Set source_arn to the rotated secret and source_account on the aws_lambda_permission "
    "(haflow/constructs/prefect_rotation.py).",
    subjects=(PERMISSION,),
)
def rotation_invoked_for_its_secret(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    function = stack.resolve(resource.body.get("function_name"), FUNCTION)
    if function is None or not rotation_function(function):
        return NOT_APPLICABLE
    rotated = {str(rotation.body.get("secret_id"))
               for rotation in stack.referencing(function, ROTATION, "rotation_lambda_arn")}
    problems = []
    if resource.body.get("principal") != SECRETS_MANAGER_PRINCIPAL:
        problems.append(f"{resource.address}: principal {resource.body.get('principal')!r} may invoke the rotation "
                        f"function; only {SECRETS_MANAGER_PRINCIPAL}")
    source = resource.body.get("source_arn")
    if str(source) not in rotated:
        problems.append(f"{resource.address}: source_arn {source!r} is not the rotated secret ({sorted(rotated)})")
    if not resource.body.get("source_account"):
        problems.append(f"{resource.address}: no source_account")
    return problems
