"""The region level of the report: what losing the primary region costs, from the plan and sourced figures.

Model (also in docs/report.md):

- Region RTO = the steps of a regional failover added up: detection (Route 53 health checks), the
  runbook's decision, Aurora's promotion, the DNS TTL, and for a headless secondary the instance
  creation, for pilot light the node scale-up (haflow.region_recovery.region_recovery_seconds, which
  validation shares). Without the DR stacks in the plan it is unbounded.
- Region RPO = the largest loss among the stores of record replicated to the secondary: Aurora's typical
  global-database lag, S3 RTC's 15-minute bound. A store without a copy makes it unbounded.
- Region availability: the secondary is a parallel path. Conservatively the primary's monthly downtime is
  one outage; the secondary covers it after the region RTO, so
  unavailability = min(RTO, D) / T + max(D - RTO, 0) / T x (1 - A_secondary), with D the primary's downtime
  per month T. Without the DR stacks it is the primary's availability.
- Each stateful resource of the primary foundation is replicated, rebuilt, or lost (haflow.dr_posture);
  compute and releases are rebuilt by the DR stacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from haflow import dr_posture, plan
from haflow.config.model import Environment
from haflow.plan import StackJson
from haflow.region_recovery import region_data_loss_seconds, region_recovery_seconds
from haflow.report import sources as aws
from haflow.report.components import COMPONENTS
from haflow.report.model import Estimate, Figure, Slo
from haflow.report.plan import EnvironmentPlan

SECONDS_PER_MONTH = 30 * 24 * 3600
STEP_SOURCES = {
    "detection": aws.ROUTE53_HEALTH_CHECKS.id,
    "decision": aws.DR_DECISION.id,
    "database promotion": aws.AURORA_GLOBAL_PROMOTION.id,
    "DNS TTL": aws.ROUTE53_HEALTH_CHECKS.id,
    "database instance creation": aws.AURORA_INSTANCE_CREATE.id,
    "node scale-up": aws.EKS_NODE_SCALE_UP.id,
    "Prefect start after promotion": aws.PREFECT_DR_START.id,
}
STORE_SOURCES = {"Aurora (global database lag)": aws.AURORA_GLOBAL_LAG.id, "S3 (RTC)": aws.S3_RTC.id}


@dataclass(frozen=True)
class DrComponent:
    title: str
    posture: str  # replicated | rebuilt | lost | missing
    how: str


@dataclass
class RegionEstimate:
    mode: str
    primary_region: str
    secondary_region: str | None
    rto_steps: list[tuple[str, Figure]]
    rpo_stores: list[tuple[str, Figure]]
    components: list[DrComponent]
    traffic: str
    availability_primary: float
    availability_secondary: float | None
    rto_objective: int | None
    rpo_objective: int | None
    problems: list[str] = field(default_factory=list)

    @property
    def rto_seconds(self) -> float | None:
        if self.problems or not self.rto_steps:
            return None
        return sum(figure.value or 0 for _, figure in self.rto_steps)

    @property
    def rpo_seconds(self) -> float | None:
        if self.problems or not self.rpo_stores or any(f.value is None for _, f in self.rpo_stores):
            return None
        return max(figure.value or 0 for _, figure in self.rpo_stores)

    @property
    def availability_percent(self) -> float:
        if self.availability_secondary is None or self.rto_seconds is None:
            return self.availability_primary
        downtime = (100 - self.availability_primary) / 100 * SECONDS_PER_MONTH
        switching = min(self.rto_seconds, downtime)
        uncovered = max(downtime - self.rto_seconds, 0) * (100 - self.availability_secondary) / 100
        return 100 * (1 - (switching + uncovered) / SECONDS_PER_MONTH)

    @property
    def meets_rto(self) -> bool:
        return self.rto_objective is None or (self.rto_seconds is not None and self.rto_seconds <= self.rto_objective)

    @property
    def meets_rpo(self) -> bool:
        return self.rpo_objective is None or (self.rpo_seconds is not None and self.rpo_seconds <= self.rpo_objective)

    @property
    def meets(self) -> bool:
        return self.meets_rto and self.meets_rpo

    @property
    def cited(self) -> list[str]:
        return sorted({figure.source for _, figure in (*self.rto_steps, *self.rpo_stores)})


def region_estimate(stacks: dict[str, StackJson], env: Environment, primary: Estimate) -> RegionEstimate:
    """The region level for ``env``: ``primary`` is the AZ-level estimate of its primary stacks."""
    dr = env.dr
    result = RegionEstimate(
        mode=dr.mode, primary_region=env.region, secondary_region=dr.secondary_region, rto_steps=[], rpo_stores=[],
        components=[], traffic="", availability_primary=primary.availability_percent, availability_secondary=None,
        rto_objective=env.slo.region_rto_seconds, rpo_objective=env.slo.region_rpo_seconds,
    )
    foundation = stacks.get(env.foundation_stack_name, {})
    dr_foundation = stacks.get(env.dr_foundation_stack_name)
    for resource in plan.resources(foundation, *dr_posture.STATEFUL_TYPES):
        found = dr_posture.posture(resource, foundation)
        result.components.append(DrComponent(resource.address, found.kind or "lost", found.how))
    if not dr.enabled or dr_foundation is None:
        result.traffic = "none: the platform is down until the primary region returns"
        result.problems.append("no DR stacks in the plan (dr.mode none): losing the region loses the platform")
        return result

    result.rto_steps = [(step, Figure(seconds, STEP_SOURCES[step])) for step, seconds in
                        region_recovery_seconds(env.dr).items()]
    secondary_members = [cluster for cluster in plan.resources(dr_foundation, "aws_rds_cluster")
                         if cluster.body.get("global_cluster_identifier")]
    replicated = {component.title for component in result.components if component.posture == dr_posture.REPLICATED}
    for store, seconds in region_data_loss_seconds().items():
        if store.startswith("Aurora"):
            present = bool(secondary_members) and any(c.startswith("aws_rds_cluster.") for c in replicated)
        else:
            present = any(c.startswith("aws_s3_bucket.") for c in replicated)
        result.rpo_stores.append((store, Figure(seconds if present else None, STORE_SOURCES[store],
                                                "" if present else "no cross-region copy in the plan")))
    result.components += [
        DrComponent("network, EKS and node groups", dr_posture.REBUILT,
                    f"{env.dr_foundation_stack_name} runs them in {dr.secondary_region}, sized for {dr.mode}"),
        DrComponent("platform releases", dr_posture.REBUILT,
                    f"{env.dr_platform_stack_name} installs the same releases at {dr.platform_replicas} pods each; "
                    "images and charts come from public registries (public.ecr.aws and the charts' repositories), "
                    "reachable without the primary region"),
    ]
    # Failover records only: the ingress certificate's validation records (ingress.tls) route no traffic.
    records = [record for record in plan.resources(dr_foundation, "aws_route53_record")
               if record.body.get("failover_routing_policy")]
    result.traffic = (
        f"Route 53 failover records ({len(records)}) with health checks: clients move after detection + TTL"
        if records else "manual: no hosted zone in dr.dns; point clients at the secondary's load balancer by hand"
    )
    secondary_plan = EnvironmentPlan({name: stacks[name]
                                      for name in (env.dr_foundation_stack_name, env.dr_platform_stack_name)
                                      if name in stacks})
    secondary = Estimate([analyse(secondary_plan) for analyse in COMPONENTS], Slo(0, 0, 0))
    result.availability_secondary = secondary.availability_percent
    return result
