"""The review of real plans (one ``terraform show -json`` per stack): data-loss risks from the plans' own
actions and HA regressions from the rule pack run over the planned values.

The rule pack reads synthesized stacks; a plan's values are the same attributes with references resolved
(or unknown until apply). It is run twice per stack: over ``change.before`` of the resources that exist
and over the planned values. A finding only on the planned side is a regression; a finding whose value
the plan does not hold yet ("cannot verify ...") is not one, it is counted as not readable. A rule that
already failed for the resource before the plan (same rule, stack and address, whatever its message)
is not new: findings both sides share (a value the plan shows differently from a synthesized stack)
cancel out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from haflow.config.model import Environment
from haflow.review import Regression
from haflow.review.tfplan import PlanRisk, StackPlan

UNREADABLE_PREFIX = "cannot verify "


@dataclass
class PlanReview:
    stacks: list[StackPlan]
    regressions: list[Regression] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)
    """The environment of each stack ("" for a stack no environment owns, e.g. bootstrap)."""

    @property
    def risks(self) -> list[PlanRisk]:
        return [risk for stack in self.stacks for risk in stack.risks]


def as_stack(values: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Plan values by address in the shape of a synthesized stack: ``resource.<type>.<name>``."""
    resource: dict[str, dict[str, Any]] = {}
    for address, body in values.items():
        if address.startswith(("data.", "module.")):
            continue
        rtype, _, name = address.partition(".")
        resource.setdefault(rtype, {})[name] = dict(body)
    return {"resource": resource}


def plan_regressions(plans: list[StackPlan], env: Environment) -> tuple[list[Regression], str]:
    """Rule findings the planned values have and the values before the plan do not, for ``env``'s stacks."""
    from haflow.rules import evaluate

    before = {plan.stack: as_stack(plan.before) for plan in plans}
    after = {plan.stack: as_stack(plan.planned) for plan in plans}
    try:
        old = {(f.rule_id, f.stack, f.address) for f in evaluate(before, env).findings}
        new = evaluate(after, env).findings
    except Exception as err:  # a failing rule pack must not hide the data-loss review
        return [], f"rule pack failed over the planned values, HA regressions not assessed: {type(err).__name__}: {err}"
    regressions, unreadable = [], 0
    for finding in new:
        if (finding.rule_id, finding.stack, finding.address) in old:
            continue
        if str(finding.message).startswith(UNREADABLE_PREFIX):
            unreadable += 1
            continue
        regressions.append(Regression(str(finding.rule_id), str(getattr(finding.level, "value", finding.level)),
                                      str(finding.stack), str(finding.address), str(finding.message),
                                      str(finding.fix)))
    note = (f"{env.name}: {unreadable} rule check(s) need values the plan knows only after apply: not assessed"
            if unreadable else "")
    return regressions, note
