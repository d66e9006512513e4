"""SLO / availability / RTO / RPO report of one environment's synthesized plan."""

from __future__ import annotations

from haflow.config.model import Environment
from haflow.plan import StackJson
from haflow.report.components import COMPONENTS
from haflow.report.model import Component, Estimate, Figure, Slo
from haflow.report.plan import EnvironmentPlan

__all__ = ["Component", "Estimate", "Figure", "Slo", "estimate"]


def estimate(stacks: dict[str, StackJson], env: Environment) -> Estimate:
    """The report for ``env`` from the synthesized stacks (other environments' stacks are ignored)."""
    own = {
        name: stack for name, stack in stacks.items() if name in (env.foundation_stack_name, env.platform_stack_name)
    }
    plan = EnvironmentPlan(own)
    slo = Slo(env.slo.availability, env.slo.rto_seconds, env.slo.rpo_seconds)
    return Estimate([analyse(plan) for analyse in COMPONENTS], slo)
