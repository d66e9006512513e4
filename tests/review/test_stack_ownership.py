"""haflow diff groups stacks by the environment that owns them (haflow.contract.stack_owner), not by name prefix."""

from __future__ import annotations

import copy
from collections import Counter

from haflow.config import Environment
from haflow.plan import StackJson
from haflow.review import environments_of, review
from tests.conftest import ENVIRONMENT_NAMES


def _prod_plans(synthesized: dict[str, StackJson]) -> dict[str, StackJson]:
    prod = ("bootstrap", "prod-foundation", "prod-platform", "prod-dr-foundation", "prod-dr-platform")
    return {name: copy.deepcopy(synthesized[name]) for name in prod}


def test_the_dr_stacks_are_no_phantom_environment(synthesized: dict[str, StackJson]) -> None:
    assert environments_of(synthesized) == sorted(ENVIRONMENT_NAMES)


def test_a_protection_turned_off_in_both_regions_is_counted_once_per_stack(
    synthesized: dict[str, StackJson], environments: dict[str, Environment],
) -> None:
    base = _prod_plans(synthesized)
    head = copy.deepcopy(base)
    unprotected = 0
    for name in ("prod-foundation", "prod-dr-foundation"):
        for body in head[name]["resource"]["aws_elasticache_replication_group"].values():
            body.get("lifecycle", {}).pop("prevent_destroy")
            unprotected += 1

    result = review("main", base, head, [environments["prod"]], environments_of(base))

    assert [env.name for env in result.environments] == ["bootstrap", "prod"]
    risks = Counter((risk.stack, risk.address) for risk in result.risks)
    assert len(risks) == unprotected and set(risks.values()) == {1}, risks
    assert {stack for stack, _ in risks} == {"prod-foundation", "prod-dr-foundation"}


def test_an_environment_named_with_a_hyphen_keeps_its_own_stacks(
    synthesized: dict[str, StackJson], environments: dict[str, Environment],
) -> None:
    base = _prod_plans(synthesized)
    head = copy.deepcopy(base)
    # a new environment prod-eu: its stacks start with "prod-" but are not prod's
    for name in ("prod-foundation", "prod-platform"):
        head[name.replace("prod-", "prod-eu-", 1)] = copy.deepcopy(base[name])
    prod_eu = environments["prod"].model_copy(update={"name": "prod-eu"})

    result = review("main", base, head, [environments["prod"], prod_eu], environments_of(base))

    stacks = {env.name: [stack.stack for stack in env.stacks] for env in result.environments}
    assert stacks["prod"] == ["prod-dr-foundation", "prod-dr-platform", "prod-foundation", "prod-platform"]
    assert stacks["prod-eu"] == ["prod-eu-foundation", "prod-eu-platform"]


def test_the_health_check_alarms_stack_belongs_to_its_environment(dns_variant: tuple) -> None:
    """prod-dns-alarms (only with dr.dns) is prod's, not a phantom environment "prod-dns"."""
    env, stacks = dns_variant
    assert env.dns_alarms_stack_name == "prod-dns-alarms"
    assert environments_of(stacks) == ["prod"]
