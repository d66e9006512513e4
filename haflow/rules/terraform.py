"""The Terraform gate's checks (haflow check --terraform, haflow/review/tfgate.py): the real terraform and
the AWS provider of the mirror judge every AWS-only stack. The engine does not run them per resource; the
gate turns what Terraform answered into findings of these rules, suppressed like any other."""

from __future__ import annotations

from haflow.rules.engine import ERROR, Rule, register_meta

FAMILY = "terraform"

VALIDATES = register_meta(
    Rule(
        id="HA-TF-001",
        level=ERROR,
        title="terraform validate accepts every AWS-only stack",
        rationale="What the AWS provider's schema refuses (a missing required-with argument, a wrong type) "
        "fails the deploy before any resource is made; no rule of the pack sees it, Terraform does.",
        fix="Fix the resource Terraform names, with its message; haflow check --terraform runs the gate again.",
        family=FAMILY,
    )
)

PLANS = register_meta(
    Rule(
        id="HA-TF-002",
        level=ERROR,
        title="terraform plan succeeds for every AWS-only stack (against a moto server)",
        rationale="A stack that validates can still fail to plan (a data source that cannot be read, a value "
        "the provider refuses while planning); the deploy would stop there.",
        fix="Fix the error of the plan the finding quotes; haflow check --terraform runs the gate again.",
        family=FAMILY,
    )
)

RULE_IDS = frozenset({VALIDATES.id, PLANS.id})
