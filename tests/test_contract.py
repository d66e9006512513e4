"""The stack-name contract: every name the app synthesizes reads back to the environment that made it."""

from __future__ import annotations

import json

import pytest

from haflow import contract
from haflow.constructs.eks import EBS_CSI_SERVICE_ACCOUNT
from haflow.contract import StackRole, stack_owner, stack_role
from haflow.plan import StackJson


@pytest.mark.parametrize(("stack", "owner", "role"), [
    ("bootstrap", None, None),
    ("prod-foundation", "prod", StackRole.FOUNDATION),
    ("prod-platform", "prod", StackRole.PLATFORM),
    # the DR pair belongs to prod, not to a phantom environment "prod-dr"
    ("prod-dr-foundation", "prod", StackRole.DR_FOUNDATION),
    ("prod-dr-platform", "prod", StackRole.DR_PLATFORM),
    ("prod-dns-alarms", "prod", StackRole.DNS_ALARMS),
    # an environment whose name has a hyphen is no prefix of another's
    ("prod-eu-foundation", "prod-eu", StackRole.FOUNDATION),
    ("prod-eu-dr-platform", "prod-eu", StackRole.DR_PLATFORM),
    ("-foundation", None, None),
    ("foundation", None, None),
    ("prod-network", None, None),
])
def test_stack_owner_reads_the_environment_back(stack: str, owner: str | None, role: StackRole | None) -> None:
    assert stack_owner(stack) == owner
    assert stack_role(stack) is role


def test_every_synthesized_stack_has_the_owner_whose_config_made_it(
    synthesized: dict[str, StackJson], environments: dict,
) -> None:
    owners = {name: stack_owner(name) for name in synthesized}
    assert owners.pop(contract.BOOTSTRAP_STACK) is None
    expected = {stack: env.name for env in environments.values() for stack in env.stack_names}
    assert owners == expected


def test_environment_stacks_include_the_dr_pair_only_with_dr() -> None:
    assert contract.environment_stacks("qa", dr=False) == ("qa-foundation", "qa-platform")
    assert contract.environment_stacks("qa", dr=True)[2:] == ("qa-dr-foundation", "qa-dr-platform")


def test_environment_stacks_include_the_health_check_alarms_only_with_dr_and_dns() -> None:
    assert contract.environment_stacks("qa", dr=False, dns=True) == ("qa-foundation", "qa-platform")
    assert contract.environment_stacks("qa", dr=True, dns=True)[2:] == (
        "qa-dr-foundation", "qa-dr-platform", "qa-dns-alarms")


def test_the_variant_with_dns_failover_synthesizes_exactly_its_stack_names(dns_variant: tuple) -> None:
    env, stacks = dns_variant
    assert env.dns_alarms_stack_name in env.stack_names
    assert sorted(stacks) == sorted((contract.BOOTSTRAP_STACK, *env.stack_names))
    assert {stack_owner(name) for name in env.stack_names} == {"prod"}


def test_both_foundations_create_one_irsa_role_per_workload_service_account(
    synthesized: dict[str, StackJson], environments: dict,
) -> None:
    """The workloads with IRSA roles are listed once (contract.workload_service_accounts); the primary's and the
    DR foundation each trust exactly those accounts (and the EBS CSI add-on's), one role each, named
    <name>-<workload>."""
    for env in environments.values():
        accounts = contract.workload_service_accounts(env.prefect.flow_run_namespace)
        prefixes = {env.foundation_stack_name: env.name}
        if env.dr.enabled:
            prefixes[env.dr_foundation_stack_name] = f"{env.name}-dr"
        for stack, prefix in prefixes.items():
            roles = synthesized[stack]["resource"]["aws_iam_role"].values()
            trusted = {
                role["name"]: condition
                for role in roles
                for statement in json.loads(role["assume_role_policy"])["Statement"]
                for condition in statement.get("Condition", {}).get("StringEquals", {}).values()
                if str(condition).startswith("system:serviceaccount:")
            }
            addon = {f"{prefix}-ebs-csi": EBS_CSI_SERVICE_ACCOUNT.subject}  # the EKS add-on's own role
            assert trusted == {**{f"{prefix}-{key}": account.subject for key, account in accounts.items()}, **addon}, stack
