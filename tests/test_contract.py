"""The stack-name contract: every name the app synthesizes reads back to the environment that made it."""

from __future__ import annotations

import pytest

from haflow import contract
from haflow.contract import StackRole, stack_owner, stack_role
from haflow.plan import StackJson


@pytest.mark.parametrize(("stack", "owner", "role"), [
    ("bootstrap", None, None),
    ("prod-foundation", "prod", StackRole.FOUNDATION),
    ("prod-platform", "prod", StackRole.PLATFORM),
    # the DR pair belongs to prod, not to a phantom environment "prod-dr"
    ("prod-dr-foundation", "prod", StackRole.DR_FOUNDATION),
    ("prod-dr-platform", "prod", StackRole.DR_PLATFORM),
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
