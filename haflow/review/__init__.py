"""Plan review: what a change does to each environment's synthesized plan, compared with a base git ref."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from haflow import contract
from haflow.config.model import Environment
from haflow.plan import StackJson
from haflow.review.plandiff import Risk, StackDiff, diff_stacks


@dataclass(frozen=True)
class Regression:
    """A rule finding the change introduces (present now, absent on the base)."""

    rule_id: str
    level: str
    stack: str
    address: str
    message: str
    fix: str


@dataclass
class EnvironmentReview:
    name: str
    stacks: list[StackDiff] = field(default_factory=list)
    regressions: list[Regression] = field(default_factory=list)
    rules_note: str = ""

    @property
    def risks(self) -> list[Risk]:
        return [risk for stack in self.stacks for risk in stack.risks]


@dataclass
class Review:
    base: str
    environments: list[EnvironmentReview]

    @property
    def risks(self) -> list[Risk]:
        return [risk for env in self.environments for risk in env.risks]

    @property
    def regressions(self) -> list[Regression]:
        return [regression for env in self.environments for regression in env.regressions]


def environments_of(stacks: Iterable[str]) -> list[str]:
    """The environments that own the named stacks (the bootstrap stack is nobody's), sorted."""
    return sorted({owner for name in stacks if (owner := contract.stack_owner(name)) is not None})


def review(base: str, base_stacks: dict[str, StackJson], head_stacks: dict[str, StackJson],
           environments: list[Environment], base_env_names: list[str]) -> Review:
    """Compare the plans; ``environments`` are the head's, ``base_env_names`` those the base had."""
    head_names = [env.name for env in environments]
    names = head_names + [name for name in base_env_names if name not in head_names]
    reviews = []
    shared = contract.BOOTSTRAP_STACK
    if shared in base_stacks or shared in head_stacks:
        reviews.append(EnvironmentReview(shared, [diff_stacks(shared, base_stacks.get(shared),
                                                              head_stacks.get(shared))]))
    by_name = {env.name: env for env in environments}
    for name in names:
        stack_names = sorted({s for s in (*base_stacks, *head_stacks) if contract.stack_owner(s) == name})
        env_review = EnvironmentReview(name, [diff_stacks(s, base_stacks.get(s), head_stacks.get(s))
                                              for s in stack_names])
        env = by_name.get(name)
        if env is None:
            env_review.rules_note = "environment removed: no rule comparison"
        else:
            env_review.regressions, env_review.rules_note = _regressions(env, base_stacks, head_stacks)
        reviews.append(env_review)
    return Review(base, reviews)


def _regressions(env: Environment, base_stacks: dict[str, StackJson],
                 head_stacks: dict[str, StackJson]) -> tuple[list[Regression], str]:
    """Findings of the rule pack on the head plan that the base plan did not have.

    Both plans are judged by this checkout's rule pack and environment config, so only the plan's
    change shows (a rule added by the change is not reported as a regression of the base).
    """
    try:
        from haflow.rules import evaluate
    except ImportError:
        return [], "rule pack (haflow.rules.evaluate) not available: HA regressions not assessed"
    # the shared bootstrap stack too: it holds the environment's state bucket (and its replication)
    own = {contract.BOOTSTRAP_STACK, *(name for name in (*head_stacks, *base_stacks)
                                       if contract.stack_owner(name) == env.name)}
    head = {name: stack for name, stack in head_stacks.items() if name in own}
    base = {name: stack for name, stack in base_stacks.items() if name in own}
    try:
        head_evaluation = evaluate(head, env)
        base_evaluation = evaluate(base, env) if base else None
        now = _findings(head_evaluation)
        before = {(f.rule_id, f.stack, f.address) for f in _findings(base_evaluation)} if base_evaluation else set()
    except Exception as err:  # a failing rule pack must not hide the data-loss review
        return [], f"rule pack failed, HA regressions not assessed: {type(err).__name__}: {err}"
    new = [f for f in now if (f.rule_id, f.stack, f.address) not in before]
    if base_evaluation is not None:
        new += _lost_dr_guarantees(base_evaluation, head_evaluation)
    return new, ""


DR_RULE_PREFIX = "HA-DR-"


def _lost_dr_guarantees(base: Any, head: Any) -> list[Regression]:
    """HA-DR rules the base plan satisfied and the head plan no longer does: removing the secondary, the
    global cluster, replication or DNS failover leaves nothing for the rule to find, so it is not a new
    finding, yet it is an HA regression."""
    from haflow.rules import REGISTRY
    from haflow.rules.engine import Status

    def held(evaluation: Any) -> dict[str, Any]:
        return {r.rule_id: r for r in evaluation.results
                if r.rule_id.startswith(DR_RULE_PREFIX) and r.status is Status.COMPLIANT}

    now = held(head)
    return [
        Regression(rule_id, str(REGISTRY[rule_id].level), result.stack, result.address,
                   f"no longer holds: {REGISTRY[rule_id].title} (it did on the base, for {result.address})",
                   REGISTRY[rule_id].fix)
        for rule_id, result in sorted(held(base).items()) if rule_id not in now
    ]


def _findings(evaluation: Any) -> list[Regression]:
    return [Regression(str(f.rule_id), str(getattr(f.level, "value", f.level)), str(f.stack), str(f.address),
                       str(f.message), str(f.fix)) for f in evaluation.findings]
