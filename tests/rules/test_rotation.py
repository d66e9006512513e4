"""Rotation rules (HA-SEC-034..037) on prod's synthesized foundation: it passes; each edit a construct change could
make fails with the rule's message."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from haflow import contract
from haflow.config import Environment
from haflow.plan import StackJson
from haflow.rules import Status, evaluate
from haflow.rules.rotation import ROTATION
from tests.conftest import CHECK_DATE, resources

FOUNDATION = "prod-foundation"
RULE_IDS = ("HA-SEC-034", "HA-SEC-035", "HA-SEC-036", "HA-SEC-037")


def outcome(stacks: dict[str, StackJson], env: Environment, rule_id: str) -> tuple[set[Status], list[str]]:
    results = [result for result in evaluate(stacks, env, as_of=CHECK_DATE).results
               if result.rule_id == rule_id and result.stack == FOUNDATION]
    return {result.status for result in results}, [message for result in results for message in result.messages]


def only(stack: StackJson, rtype: str) -> dict[str, Any]:
    [body] = resources(stack, rtype).values()
    return body


def policy_of(stack: StackJson) -> dict[str, Any]:
    [body] = [body for body in resources(stack, "aws_iam_role_policy").values()
              if body["name"] == "prefect-database-rotation"]
    return body


def edit_policy(stack: StackJson, change: Callable[[list[dict[str, Any]]], None]) -> None:
    body = policy_of(stack)
    document = json.loads(body["policy"])
    change(document["Statement"])
    body["policy"] = json.dumps(document)


def no_rotation(stack: StackJson) -> None:
    del stack["resource"][ROTATION]


def aws_function(stack: StackJson) -> None:
    only(stack, "aws_lambda_function")["handler"] = "lambda_function.lambda_handler"


def yearly_and_more(stack: StackJson) -> None:
    only(stack, ROTATION)["rotation_rules"]["automatically_after_days"] = 400


def read_every_secret(stack: StackJson) -> None:
    edit_policy(stack, lambda statements: statements[1].update(Resource="*"))


def change_the_master_secret(stack: StackJson) -> None:
    edit_policy(stack, lambda statements: statements[1].update(
        Action=["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]))


def decrypt_directly(stack: StackJson) -> None:
    edit_policy(stack, lambda statements: statements[3].pop("Condition"))


def managed_policy(stack: StackJson) -> None:
    role = next(name for name, body in resources(stack, "aws_iam_role").items()
                if body["name"] == only(stack, "aws_lambda_function")["function_name"])
    stack["resource"].setdefault("aws_iam_role_policy_attachment", {})["extra"] = {
        "role": f"${{aws_iam_role.{role}.name}}", "policy_arn": "arn:aws:iam::aws:policy/SecretsManagerReadWrite"}


def outside_the_vpc(stack: StackJson) -> None:
    del only(stack, "aws_lambda_function")["vpc_config"]


def any_egress(stack: StackJson) -> None:
    group = only(stack, "aws_lambda_function")["vpc_config"]["security_group_ids"][0]
    stack["resource"]["aws_vpc_security_group_egress_rule"]["extra"] = {
        "security_group_id": group, "cidr_ipv4": "0.0.0.0/0", "ip_protocol": "-1"}


def any_secret_invokes(stack: StackJson) -> None:
    del only(stack, "aws_lambda_permission")["source_arn"]


MUTATIONS = [
    pytest.param("HA-SEC-034", no_rotation, "has no aws_secretsmanager_secret_rotation", id="not-rotated"),
    pytest.param("HA-SEC-034", aws_function, "is not haflow's rotation function", id="aws-rotation-function"),
    pytest.param("HA-SEC-034", yearly_and_more, "automatically_after_days = 400; at most 365", id="400-days"),
    pytest.param("HA-SEC-035", read_every_secret, "secretsmanager:GetSecretValue on ['*']", id="reads-every-secret"),
    pytest.param("HA-SEC-035", change_the_master_secret, "secretsmanager:PutSecretValue on", id="writes-master"),
    pytest.param("HA-SEC-035", decrypt_directly, "kms:Decrypt without a kms:ViaService", id="decrypts-directly"),
    pytest.param("HA-SEC-035", managed_policy, "attaches a managed policy", id="managed-policy"),
    pytest.param("HA-SEC-036", outside_the_vpc, "has no vpc_config.subnet_ids", id="outside-the-vpc"),
    pytest.param("HA-SEC-036", any_egress, "lets out -1", id="any-egress"),
    pytest.param("HA-SEC-037", any_secret_invokes, "source_arn None is not the rotated secret", id="any-secret"),
]


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_prod_complies(rule_id: str, synthesized: dict[str, StackJson], environments: dict[str, Environment]) -> None:
    statuses, messages = outcome(synthesized, environments["prod"], rule_id)
    assert Status.COMPLIANT in statuses and statuses <= {Status.COMPLIANT, Status.NOT_APPLICABLE}, messages


@pytest.mark.parametrize(("rule_id", "mutate", "expected"), MUTATIONS)
def test_a_weakened_rotation_fails_its_rule(rule_id: str, mutate: Callable[[StackJson], None], expected: str,
                                            synthesized: dict[str, StackJson],
                                            environments: dict[str, Environment]) -> None:
    stacks = copy.deepcopy(synthesized)
    mutate(stacks[FOUNDATION])
    statuses, messages = outcome(stacks, environments["prod"], rule_id)
    assert Status.NON_COMPLIANT in statuses
    assert any(expected in message for message in messages), messages


def test_the_handler_the_rules_know_is_the_shipped_modules() -> None:
    from haflow.constructs import prefect_rotation as construct
    from haflow.in_image import prefect_rotation

    package, module, function = contract.PREFECT_ROTATION_HANDLER.split(".")
    assert (package, module, function) == (construct.FUNCTION_PACKAGE, "prefect_rotation", prefect_rotation.HANDLER)
    assert callable(getattr(prefect_rotation, function))
