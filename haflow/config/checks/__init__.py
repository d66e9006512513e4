"""Cross-field rules over a structurally valid environment: a table of checks, all run, all reported.

Each check yields Violation(key path, value, problem, fix). The table is the sections' own tables, in
stack order: the general keys, the foundation sections, the platform sections, disaster recovery.
"""

from __future__ import annotations

from haflow.config.checks import dr, environment, foundation, platform
from haflow.config.checks.violation import Check, Violation
from haflow.config.model import Environment

CHECKS: tuple[Check, ...] = (*environment.CHECKS, *foundation.CHECKS, *platform.CHECKS, *dr.CHECKS)


def run_checks(env: Environment) -> list[Violation]:
    return [violation for check in CHECKS for violation in check(env)]


__all__ = ["CHECKS", "Check", "Violation", "run_checks"]
