"""One environment's synthesized plan as the SLO report reads it: resources of every stack by type, and
the resources a value refers to.

Blocks with at most one item may appear as an object or as a one-item list (``haflow.plan.block``);
anything missing or unresolvable reads as None or nothing, never raises: the component it belongs to is
then not counted as redundant.
"""

from __future__ import annotations

from typing import Any

from haflow import plan
from haflow.plan import HELM_RELEASE, Resource, StackJson


class EnvironmentPlan:
    """The stacks of one environment (foundation and platform), searchable by resource type."""

    def __init__(self, stacks: dict[str, StackJson]) -> None:
        self.stacks = stacks

    def resources(self, *types: str) -> list[Resource]:
        return [resource for stack in self.stacks.values() for resource in plan.resources(stack, *types)]

    def find(self, rtype: str, name: str) -> Resource | None:
        for stack in self.stacks.values():
            resource = plan.find(stack, rtype, name)
            if resource is not None:
                return resource
        return None

    def referenced(self, value: Any, rtype: str) -> list[Resource]:
        """The resources of ``rtype`` that ``value`` (a token string or a list of them) refers to."""
        found = [self.find(ref.rtype, ref.name) for ref in plan.references(value) if ref.rtype == rtype]
        return [resource for resource in found if resource is not None]

    def helm_release(self, *names: str) -> Resource | None:
        """The first helm_release whose release name or chart name is one of ``names``."""
        return plan.helm_release(self.resources(HELM_RELEASE), *names)

    def subnet_azs(self, subnet_ids: Any) -> list[str]:
        """AZs of the subnets that ``subnet_ids`` refers to (literal AZs are not in a plan's ids)."""
        azs = {
            str(subnet.body.get("availability_zone"))
            for subnet in self.referenced(subnet_ids, "aws_subnet")
            if subnet.body.get("availability_zone")
        }
        return sorted(azs)
