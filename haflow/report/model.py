"""The availability model: per-component figures, their serial composition, and the SLO comparison.

Model (also in docs/report.md):

- Every component on the platform's critical path must be up for the platform to serve, so the
  composite availability is the product of the components' availabilities (serial composition).
- A component's availability is the product of its factors, each a published figure: a component
  redundant across AZs uses the service's multi-AZ SLA; a single-AZ or single-replica one uses the
  lower single-AZ / instance-level figure. Kubernetes workloads with >= 2 replicas add no factor of
  their own: they run on the node groups, which are already in the product (counted once).
- RTO of the platform = the longest component RTO (after the loss of one AZ); RPO = the largest
  RPO among the stateful components of record. None means unbounded: recovery needs a human or the
  AZ to come back, so no finite objective is met.
- A component absent from the plan is reported as "not present in plan"; the SLO then cannot be
  shown to be met.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from haflow.report.sources import SOURCES


@dataclass(frozen=True)
class Figure:
    """One number and where it comes from. ``value`` None: unbounded (no automatic recovery)."""

    value: float | None
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"figure cites unknown source {self.source!r}")


@dataclass(frozen=True)
class Component:
    key: str
    title: str
    present: bool
    resources: list[str] = field(default_factory=list)
    azs: list[str] = field(default_factory=list)
    replicas: int | None = None
    failover: str = ""
    availability_factors: list[Figure] = field(default_factory=list)
    rto: Figure | None = None
    rpo: Figure | None = None  # None: not a store of record
    notes: list[str] = field(default_factory=list)

    @property
    def availability_percent(self) -> float | None:
        if not self.present:
            return None
        return 100.0 * math.prod(
            factor.value / 100.0 for factor in self.availability_factors if factor.value is not None
        )


def absent(key: str, title: str, looked_for: str) -> Component:
    return Component(key, title, present=False, notes=[f"not present in plan (looked for {looked_for})"])


@dataclass(frozen=True)
class Slo:
    availability_percent: float
    rto_seconds: int
    rpo_seconds: int


@dataclass(frozen=True)
class Estimate:
    components: list[Component]
    slo: Slo

    @property
    def missing(self) -> list[str]:
        return [component.title for component in self.components if not component.present]

    @property
    def availability_percent(self) -> float:
        """Serial composition over the components present in the plan."""
        return 100.0 * math.prod(
            (component.availability_percent or 100.0) / 100.0 for component in self.components if component.present
        )

    @property
    def rto_seconds(self) -> float | None:
        return _max_or_unbounded([c.rto for c in self.components if c.present and c.rto is not None])

    @property
    def rpo_seconds(self) -> float | None:
        return _max_or_unbounded([c.rpo for c in self.components if c.present and c.rpo is not None])

    @property
    def meets_availability(self) -> bool:
        return not self.missing and _round(self.availability_percent) >= self.slo.availability_percent

    @property
    def meets_rto(self) -> bool:
        return not self.missing and self.rto_seconds is not None and self.rto_seconds <= self.slo.rto_seconds

    @property
    def meets_rpo(self) -> bool:
        return not self.missing and self.rpo_seconds is not None and self.rpo_seconds <= self.slo.rpo_seconds

    @property
    def meets_slo(self) -> bool:
        return self.meets_availability and self.meets_rto and self.meets_rpo


def _max_or_unbounded(figures: list[Figure]) -> float | None:
    if any(figure.value is None for figure in figures):
        return None
    return max((figure.value for figure in figures if figure.value is not None), default=0.0)


def _round(percent: float) -> float:
    # Compare at the precision the report prints, so a printed 99.9000 never "misses" 99.9.
    return round(percent, 4)
