"""The rule engine: rule metadata, the registry, evaluation of stacks and the application of suppressions.

A rule is one small pure function registered with ``@rule(...)``, its metadata beside it (model:
cdk-nag's ``NagRules``). The engine calls it once per subject of its ``subjects`` types, found in what
the rule ``reads``: a synthesized stack (``PLAN``: its resources) or the render gate's cluster
(``RENDERED``: its objects and releases). The function returns the problems it found (an empty list:
compliant) or ``NOT_APPLICABLE``; either way the engine records one ``Result`` per subject. An
``Unverifiable`` value raised inside a rule is a non-compliant result that says what could not be verified.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from haflow import contract
from haflow.rules.stack import Stack, Unverifiable

if TYPE_CHECKING:
    from haflow.config.model import Environment, Suppression

Level = Literal["error", "warning"]
ERROR: Level = "error"
WARNING: Level = "warning"

class Status(Enum):
    COMPLIANT = "compliant"
    NON_COMPLIANT = "non-compliant"
    NOT_APPLICABLE = "not-applicable"


NOT_APPLICABLE = None
Outcome = list[str] | None
# What a rule reads: the synthesized stack, or the objects the render gate made of the platform stack.
Reads = Literal["plan", "rendered"]
PLAN: Reads = "plan"
RENDERED: Reads = "rendered"


class Scope(Protocol):
    """What a rule's subjects are found in: a ``Stack`` (``PLAN``) or a rendered cluster (``RENDERED``)."""

    @property
    def name(self) -> str:
        """The stack findings name."""
        ...

    @property
    def reads(self) -> Reads:
        ...

    def subjects(self, *types: str) -> Sequence[Any]:
        """What the rule judges, each with an ``address``: resources, objects or releases of ``types``."""
        ...


# A rule's function: (subject, the scope it was found in, the environment) -> its problems or NOT_APPLICABLE.
RuleFunction = Callable[[Any, Any, "Environment"], Outcome]


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    title: str
    rationale: str
    fix: str
    family: str
    subjects: tuple[str, ...] = ()
    check: RuleFunction | None = field(default=None, repr=False, compare=False)
    reads: Reads = PLAN


REGISTRY: dict[str, Rule] = {}


def rule(
    *, id: str, level: Level, title: str, rationale: str, fix: str, subjects: tuple[str, ...] = (),
    reads: Reads = PLAN,
) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated function as rule ``id``, checked on every subject of the ``subjects`` types
    in what it ``reads``; its family is its module's name.

    No subjects means every resource of the stack.
    """

    def register(check: RuleFunction) -> RuleFunction:
        if id in REGISTRY:
            raise ValueError(f"rule id {id} is registered twice")
        family = check.__module__.rsplit(".", 1)[-1]
        REGISTRY[id] = Rule(id, level, title, rationale, fix, family, subjects, check, reads)
        return check

    return register


def register_meta(meta: Rule) -> Rule:
    """Register a rule the engine itself applies (no per-resource check)."""
    if meta.id in REGISTRY:
        raise ValueError(f"rule id {meta.id} is registered twice")
    REGISTRY[meta.id] = meta
    return meta


UNUSED_SUPPRESSION = register_meta(
    Rule(
        id="HA-SUP-001",
        level=WARNING,
        title="Every suppression matches a finding",
        rationale="A suppression that matches nothing hides the next, unrelated finding of that rule and "
        "tells reviewers a risk is accepted that no longer exists.",
        fix="Remove the suppression (or the resource address that no longer has a finding) from the overlay.",
        family="suppressions",
    )
)


UNUSED_CHECKOV_SKIP = register_meta(
    Rule(
        id="HA-SUP-002",
        level=WARNING,
        title="Every checkov skip matches a checkov failure",
        rationale="A skip that matches nothing would silently accept the next failure of that check on "
        "those resources.",
        fix="Remove the skip from checkov-skips.yaml.",
        family="suppressions",
    )
)


@dataclass(frozen=True)
class Result:
    """What one rule said about one resource."""

    rule_id: str
    stack: str
    address: str
    status: Status
    messages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    rule_id: str
    level: Level
    env: str
    stack: str
    address: str
    message: str
    fix: str


@dataclass(frozen=True)
class SuppressedFinding:
    finding: Finding
    reason: str


@dataclass
class Evaluation:
    """The outcome for one environment: unsuppressed findings, what suppressions hid, and what they missed."""

    env: str
    results: list[Result]
    findings: list[Finding]
    suppressed: list[SuppressedFinding]
    unused_suppressions: list[Suppression]

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.level == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.level == WARNING]


def stacks_of(env: Environment, stacks: Mapping[str, Any]) -> list[str]:
    """The stacks of ``stacks`` that belong to ``env``: the shared bootstrap stack, its own two, and its DR
    pair when synthesized (named whatever dr.mode says, so a plan that still has them is judged)."""
    return [name for name in stacks if name == contract.BOOTSTRAP_STACK or contract.stack_owner(name) == env.name]


def check_scope(scope: Scope, env: Environment, rules: Sequence[Rule]) -> list[Result]:
    """Every result of the rules among ``rules`` that read what ``scope`` is, on each of their subjects."""
    results: list[Result] = []
    for current in rules:
        if current.check is None or current.reads != scope.reads:
            continue
        for subject in scope.subjects(*current.subjects):
            results.append(_run(current, current.check, subject, scope, env))
    return results


def _run(current: Rule, check: RuleFunction, subject: Any, scope: Scope, env: Environment) -> Result:
    try:
        outcome = check(subject, scope, env)
    except Unverifiable as unverifiable:
        outcome = [str(unverifiable)]
    if outcome is NOT_APPLICABLE:
        return Result(current.id, scope.name, subject.address, Status.NOT_APPLICABLE)
    if not outcome:
        return Result(current.id, scope.name, subject.address, Status.COMPLIANT)
    return Result(current.id, scope.name, subject.address, Status.NON_COMPLIANT, tuple(outcome))


def findings_of(env: Environment, results: list[Result]) -> list[Finding]:
    """One finding per message of each non-compliant result, before suppressions."""
    return [
        Finding(result.rule_id, REGISTRY[result.rule_id].level, env.name, result.stack, result.address,
                message, REGISTRY[result.rule_id].fix)
        for result in results
        if result.status is Status.NON_COMPLIANT
        for message in result.messages
    ]


def evaluate(
    stacks: Mapping[str, Mapping[str, Any]], env: Environment, rules: list[Rule] | None = None,
    extra: list[Finding] | None = None, not_run: frozenset[str] = frozenset(), *, as_of: date | None = None,
) -> Evaluation:
    """Run every rule over ``env``'s stacks in ``stacks`` on the day ``as_of`` (default today) and apply
    ``env``'s suppressions.

    ``extra``: findings of rules the engine does not run itself (the render gate's), suppressed alike;
    ``not_run``: rule ids that did not run, whose suppressions are therefore not reported unused.
    """
    chosen = list(REGISTRY.values()) if rules is None else rules
    day = as_of or date.today()
    results: list[Result] = []
    own = {name: stacks[name] for name in stacks_of(env, stacks)}
    for name in own:
        results.extend(check_scope(Stack(name, stacks[name], as_of=day, others=own), env, chosen))
    return apply_suppressions(env, results, findings_of(env, results) + list(extra or []), not_run)


def apply_suppressions(env: Environment, results: list[Result], raw: list[Finding],
                       not_run: frozenset[str] = frozenset()) -> Evaluation:
    findings: list[Finding] = []
    suppressed: list[SuppressedFinding] = []
    matched: dict[int, set[str]] = {index: set() for index in range(len(env.suppressions))}
    for finding in raw:
        hit = next(
            (
                index
                for index, suppression in enumerate(env.suppressions)
                if suppression.rule == finding.rule_id
                and (not suppression.resources or finding.address in suppression.resources)
            ),
            None,
        )
        if hit is None:
            findings.append(finding)
        else:
            matched[hit].add(finding.address)
            suppressed.append(SuppressedFinding(finding, env.suppressions[hit].reason))
    unused: list[Suppression] = []
    for index, suppression in enumerate(env.suppressions):
        stale = [address for address in suppression.resources if address not in matched[index]]
        if (matched[index] and not stale) or suppression.rule in not_run:
            continue
        unused.append(suppression)
        what = f"resources {', '.join(stale)} have" if matched[index] else "it matches"
        findings.append(
            Finding(
                UNUSED_SUPPRESSION.id, UNUSED_SUPPRESSION.level, env.name, "", f"suppressions[{index}]",
                f"suppression of {suppression.rule} is unused: {what} no {suppression.rule} finding",
                UNUSED_SUPPRESSION.fix,
            )
        )
    return Evaluation(env.name, results, findings, suppressed, unused)
