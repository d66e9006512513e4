"""Whole-stack properties of <env>-foundation: no literal secrets, protected prod data, the platform contract."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest

from haflow.config import Environment
from haflow.constructs.platform_inputs import PlatformInputs
from haflow.constructs.prefect_credentials import api_auth_secret_name, database_secret_name
from tests.conftest import ENVIRONMENT_NAMES
from tests.plan import resources

# Attribute names that carry a credential when their value is a string.
SECRET_KEY = re.compile(r"(password|passwd|auth_token|secret_string|secret_key|access_key|private_key|token)$")
REFERENCE = re.compile(r"^\$\{[^}]+\}$")
STATEFUL_TYPES = (
    "aws_rds_cluster", "aws_rds_cluster_instance", "aws_elasticache_replication_group", "aws_s3_bucket",
    "aws_kms_key",
)
# Plain values the contract passes on from config rather than from a resource.
PLAIN_CONTRACT_FIELDS = {"region", "vpc_cidr", "database_name", "database_username"}


def literal_secrets(node: Any, path: str = "") -> Iterator[str]:
    """Paths of credential-named attributes whose value is a literal string, not a ${...} reference."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and SECRET_KEY.search(str(key).lower()) and not REFERENCE.match(value):
                yield where
            yield from literal_secrets(value, where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from literal_secrets(item, f"{path}[{index}]")


def test_literal_secret_scan_finds_literals_and_accepts_references() -> None:
    doc = {"resource": {"aws_x": {"a": {"master_password": "hunter2hunter2", "auth_token": "${aws_y.b.secret}",
                                        "nested": [{"token": "abc"}], "manage_master_user_password": True}}}}
    assert list(literal_secrets(doc)) == ["resource.aws_x.a.master_password", "resource.aws_x.a.nested[0].token"]


def test_no_stack_holds_a_literal_password_or_token(synthesized: dict[str, Any]) -> None:
    found = {name: list(literal_secrets(stack)) for name, stack in synthesized.items()}
    assert {name: paths for name, paths in found.items() if paths} == {}


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_stateful_resources_are_protected_where_the_environment_asks(
    synthesized: dict[str, Any], environments: dict[str, Environment], env: str
) -> None:
    stack = synthesized[f"{env}-foundation"]
    config = environments[env]
    protect = {
        "aws_rds_cluster": config.database.protect_from_destroy,
        "aws_rds_cluster_instance": config.database.protect_from_destroy,
        "aws_elasticache_replication_group": config.cache.protect_from_destroy,
        "aws_s3_bucket": config.artifacts.protect_from_destroy,
    }
    for rtype, expected in protect.items():
        for body in resources(stack, rtype).values():
            assert body.get("lifecycle", {}).get("prevent_destroy", False) is expected, rtype


def test_prod_protects_every_stateful_resource(synthesized: dict[str, Any]) -> None:
    stack = synthesized["prod-foundation"]
    for rtype in STATEFUL_TYPES:
        bodies = resources(stack, rtype).values()
        assert bodies and all(b["lifecycle"]["prevent_destroy"] is True for b in bodies), rtype


def test_platform_inputs_are_filled_from_resources(environments: dict[str, Environment]) -> None:
    from cdktf import App, Token

    from haflow.stacks.foundation import FoundationStack

    stack = FoundationStack(App(stack_traces=False), env=environments["dev"])
    values = dataclasses.asdict(stack.platform_inputs)
    assert set(values) == {field.name for field in dataclasses.fields(PlatformInputs)}
    # dev's NLB is internal without TLS: no certificate
    assert values.pop("certificate_arn") is None
    assert all(isinstance(value, str) and value for value in values.values())
    unresolved = {name for name, value in values.items() if Token.is_unresolved(value)}
    assert unresolved == set(values) - PLAIN_CONTRACT_FIELDS


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_outputs_cover_what_the_platform_stack_reads(synthesized: dict[str, Any],
                                                     environments: dict[str, Environment], env: str) -> None:
    outputs = synthesized[f"{env}-foundation"]["output"]
    wanted = {field.name for field in dataclasses.fields(PlatformInputs)} - PLAIN_CONTRACT_FIELDS
    if not environments[env].ingress.tls.hosted_zone_id:  # no certificate the foundation requests
        wanted.discard("certificate_arn")
    assert wanted <= set(outputs)


@pytest.mark.parametrize("env", ENVIRONMENT_NAMES)
def test_prefects_credentials_are_generated_in_secrets_manager_and_only_their_namespaces_stores_read_them(
    synthesized: dict[str, Any], environments: dict[str, Environment], env: str
) -> None:
    """The API password and Prefect's database role: generated inside Terraform (no literal), kept by a version
    that ignores later plans, replicated with a secondary region, readable only by the External Secrets stores of
    the namespaces they are synced into (and the database secret by its rotation function)."""
    stack = synthesized[f"{env}-foundation"]
    secrets = {body["name"]: (name, body) for name, body in resources(stack, "aws_secretsmanager_secret").items()}
    for wanted in (api_auth_secret_name(env), database_secret_name(env)):
        name, body = secrets[wanted]
        assert bool(body.get("replica")) is environments[env].dr.enabled, wanted
        [version] = [v for v in resources(stack, "aws_secretsmanager_secret_version").values()
                     if v["secret_id"] == f"${{aws_secretsmanager_secret.{name}.id}}"]
        assert version["lifecycle"]["ignore_changes"] == ["secret_string"]
        assert "data.aws_secretsmanager_random_password" in version["secret_string"] or \
            "local." in version["secret_string"], version["secret_string"]
        reading = [policy for policy in resources(stack, "aws_iam_role_policy").values()
                   if f"aws_secretsmanager_secret.{name}.arn" in policy["policy"]]
        # The database secret is also read (and rotated) by the rotation function (tests/rules/test_rotation.py)
        rotated = wanted == database_secret_name(env)
        assert {policy["name"] for policy in reading} == {
            "prefect-credentials-read", *(["prefect-database-rotation"] if rotated else [])}, reading
        reader_roles = {resources(stack, "aws_iam_role")[policy["role"].split(".")[1]]["name"] for policy in reading
                        if policy["name"] == "prefect-credentials-read"}
        # Only External Secrets' stores: the database role's secret by prefect's, the API password also by the
        # flow-run namespace's (the worker and the flow runs authenticate to the API).
        stores = {f"{env}-secrets-prefect"} | ({f"{env}-secrets-flow-runs"} if wanted == api_auth_secret_name(env)
                                               else set())
        assert reader_roles == stores, reader_roles
