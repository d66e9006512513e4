"""The engine: suppressions (applied, by resource, unused, unknown ids), stack selection, RULES.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from haflow.config import ConfigError, Environment, load_environments
from haflow.rules import RULES, evaluate
from haflow.rules.engine import stacks_of
from tests.config.overlays import config_dir_with
from tests.conftest import CHECK_DATE, CONFIG_DIR
from tests.rules.test_network import network

TWO_NAT_FINDINGS = {"aws_subnet.private-us-east-1b", "aws_subnet.private-us-east-1c"}
# The pack less the rules that judge a whole foundation (its alarms, its FIS templates): a network fragment is
# not one, and these tests are about the engine.
FRAGMENT_RULES = [rule for rule in RULES if rule.id not in {"HA-OBS-020", "HA-DR-020"}]


def single_nat_stacks(env: Environment) -> dict[str, dict[str, object]]:
    azs = ("us-east-1a", "us-east-1b", "us-east-1c")
    return {env.foundation_stack_name: {"resource": network(azs=azs, nat_azs=("us-east-1a",))}}


def with_suppressions(env: Environment, *suppressions: dict[str, object]) -> Environment:
    return Environment.model_validate({**env.model_dump(), "suppressions": list(suppressions)})


def test_findings_carry_rule_level_stack_address_and_fix(environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    evaluation = evaluate(single_nat_stacks(env), env, FRAGMENT_RULES, as_of=CHECK_DATE)
    assert {f.address for f in evaluation.errors} == TWO_NAT_FINDINGS
    finding = evaluation.errors[0]
    assert (finding.rule_id, finding.level, finding.env, finding.stack) == ("HA-NET-002", "error", "prod",
                                                                            "prod-foundation")
    assert finding.fix == "Set network.nat_gateways: per_az."


def test_a_suppression_hides_the_findings_of_its_rule(environments: dict[str, Environment]) -> None:
    env = with_suppressions(environments["prod"], {"rule": "HA-NET-002", "reason": "one NAT is enough for this test"})
    evaluation = evaluate(single_nat_stacks(env), env, FRAGMENT_RULES, as_of=CHECK_DATE)
    assert evaluation.findings == []
    assert {item.finding.address for item in evaluation.suppressed} == TWO_NAT_FINDINGS
    assert evaluation.suppressed[0].reason == "one NAT is enough for this test"


def test_a_suppression_with_resources_hides_only_those(environments: dict[str, Environment]) -> None:
    env = with_suppressions(environments["prod"], {
        "rule": "HA-NET-002", "reason": "accepted for one subnet only", "resources": ["aws_subnet.private-us-east-1b"]})
    evaluation = evaluate(single_nat_stacks(env), env, FRAGMENT_RULES, as_of=CHECK_DATE)
    assert [f.address for f in evaluation.errors] == ["aws_subnet.private-us-east-1c"]


def test_unused_suppressions_are_reported_as_warnings(environments: dict[str, Environment]) -> None:
    env = with_suppressions(
        environments["prod"],
        {"rule": "HA-DB-002", "reason": "nothing to suppress in this stack"},
        {"rule": "HA-NET-002", "reason": "one listed subnet is fine",
         "resources": ["aws_subnet.private-us-east-1b", "aws_subnet.gone"]},
    )
    evaluation = evaluate(single_nat_stacks(env), env, FRAGMENT_RULES, as_of=CHECK_DATE)
    assert [s.rule for s in evaluation.unused_suppressions] == ["HA-DB-002", "HA-NET-002"]
    unused = [(f.rule_id, f.level, f.address, f.message) for f in evaluation.warnings]
    assert unused == [
        ("HA-SUP-001", "warning", "suppressions[0]", "suppression of HA-DB-002 is unused: it matches no HA-DB-002 finding"),
        ("HA-SUP-001", "warning", "suppressions[1]",
         "suppression of HA-NET-002 is unused: resources aws_subnet.gone have no HA-NET-002 finding"),
    ]


@pytest.mark.parametrize(
    ("suppression", "path", "problem"),
    [
        ("{rule: HA-NET-02, reason: a typo in the rule id}", "suppressions[0].rule", "did you mean HA-NET-002?"),
        ("{rule: NOPE, reason: no such rule at all}", "suppressions[0].rule", "is not a rule id"),
        ("{rule: HA-NET-002, reason: a bad address, resources: [nat]}", "suppressions[0].resources[0]",
         "is neither a resource address"),
        ("{rule: HA-NET-002, reason: short}", "suppressions[0].reason", "at least 10 characters"),
    ],
)
def test_bad_suppressions_are_config_errors(tmp_path: Path, suppression: str, path: str, problem: str) -> None:
    prod = (CONFIG_DIR / "prod.yaml").read_text(encoding="utf-8")
    # prepended to prod's own list, so it is suppressions[0]
    overlay = (prod.replace("\nsuppressions:\n", f"\nsuppressions:\n  - {suppression}\n", 1)
               if "\nsuppressions:\n" in prod else f"{prod}suppressions:\n  - {suppression}\n")
    config_dir = config_dir_with(tmp_path, {"prod.yaml": overlay})
    with pytest.raises(ConfigError) as raised:
        load_environments(["prod"], config_dir)
    [issue] = raised.value.issues
    assert issue.path == path
    assert problem in str(issue)
    assert issue.file.endswith("prod.yaml")


def test_an_environment_is_evaluated_on_its_own_stacks_and_bootstrap(environments: dict[str, Environment]) -> None:
    names = ["bootstrap", "dev-foundation", "prod-foundation", "prod-platform", "prod-eu-foundation",
             "prod-dr-foundation", "prod-eu-dr-platform"]
    assert stacks_of(environments["prod"], dict.fromkeys(names)) == [
        "bootstrap", "prod-foundation", "prod-platform", "prod-dr-foundation"]


def test_rule_ids_are_unique_and_every_rule_is_documented() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    assert all(rule.title and rule.rationale and rule.fix for rule in RULES)
