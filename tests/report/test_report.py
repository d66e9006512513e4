"""haflow report: figures traceable to sources, the composite arithmetic, the real overlays, exit codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from haflow.config import Environment
from haflow.plan import StackJson
from haflow.report import estimate
from haflow.report.components import COMPONENTS, network, prefect
from haflow.report.format import to_json, to_markdown
from haflow.report.model import Component, Estimate, Figure, Slo
from haflow.report.plan import EnvironmentPlan
from haflow.report.sources import SOURCES
from tests.conftest import CONFIG_DIR, ENVIRONMENT_NAMES


def cited(document: dict[str, Any]) -> list[str]:
    ids = []
    for component in document["components"]:
        ids += [factor["source"] for factor in component["availability_factors"]]
        ids += [component[key]["source"] for key in ("rto_seconds", "rpo_seconds") if component[key]]
    return ids


@pytest.mark.parametrize("name", ENVIRONMENT_NAMES)
def test_every_figure_cites_a_source_with_url(
    name: str, synthesized: dict[str, StackJson], environments: dict[str, Environment]
) -> None:
    document = json.loads(to_json(name, estimate(synthesized, environments[name])))
    ids = cited(document)
    assert ids, "a report without figures proves nothing"
    for source_id in ids:
        assert source_id in SOURCES
        assert document["sources"][source_id]["url"].startswith("https://")
        assert document["sources"][source_id]["quote"]


@pytest.mark.parametrize("name", ENVIRONMENT_NAMES)
def test_every_component_is_found_in_the_real_plans(
    name: str, synthesized: dict[str, StackJson], environments: dict[str, Environment]
) -> None:
    result = estimate(synthesized, environments[name])
    assert result.missing == []
    assert len(result.components) == len(COMPONENTS)


def test_prod_is_redundant_everywhere(synthesized: dict[str, StackJson], environments: dict[str, Environment]) -> None:
    result = estimate(synthesized, environments["prod"])
    single = [c.title for c in result.components for f in c.availability_factors
              if f.source in ("ec2-instance-sla",) or "Single" in f.note]
    assert single == []
    assert result.rto_seconds is not None and result.rto_seconds <= environments["prod"].slo.rto_seconds
    assert result.rpo_seconds is not None and result.rpo_seconds <= environments["prod"].slo.rpo_seconds


def test_single_nat_gateway_makes_egress_rto_unbounded(synth_variant: Any, environments: dict[str, Environment]) -> None:
    stacks = synth_variant("prod", {"network": {"nat_gateways": "single"}})
    component = network(EnvironmentPlan({k: v for k, v in stacks.items() if k in ("prod-foundation", "prod-platform")}))
    assert component.replicas == 1
    assert [f.value for f in component.availability_factors] == [99.5]
    assert component.rto is not None and component.rto.value is None


def test_prefect_counts_its_thinnest_deployment_and_zone_anti_affinity(
    synthesized: dict[str, StackJson], synth_variant: Any
) -> None:
    # prod: 3 API pods, 3 workers, 2 background-services pods; the API spreads by zone anti-affinity.
    component = prefect(EnvironmentPlan({k: v for k, v in synthesized.items() if k in ("prod-foundation", "prod-platform")}))
    assert component.replicas == 2
    assert "spread over zones" in component.failover
    stacks = synth_variant("prod", {"prefect": {"background_services_replicas": 1}})
    single = prefect(EnvironmentPlan({k: v for k, v in stacks.items() if k in ("prod-foundation", "prod-platform")}))
    assert single.replicas == 1
    assert [f.value for f in single.availability_factors] == [99.5]


def test_composite_on_a_hand_checked_plan() -> None:
    # Two AZs, a NAT gateway in each (99.99), Aurora with two instances in distinct AZs (99.99, RTO 30 s,
    # RPO 300 s), a single-node Redis without failover (99.5, RTO unbounded). Nothing else is in the plan.
    # composite = 0.9999 x 0.9999 x 0.995 = 0.99980001 x 0.995 = 0.99480101 -> 99.4801 %
    subnet = lambda az, tier: {"availability_zone": az, "tags": {"haflow/tier": tier}}  # noqa: E731
    stack = {"resource": {
        "aws_subnet": {f"{tier}-{az}": subnet(az, tier) for az in ("a1", "b1") for tier in ("public", "private")},
        "aws_nat_gateway": {f"nat-{az}": {"subnet_id": f"${{aws_subnet.public-{az}.id}}"} for az in ("a1", "b1")},
        "aws_rds_cluster": {"db": {"backup_retention_period": 7}},
        "aws_rds_cluster_instance": {
            f"db-{az}": {"cluster_identifier": "${aws_rds_cluster.db.id}", "availability_zone": az}
            for az in ("a1", "b1")
        },
        "aws_elasticache_replication_group": {"redis": {"num_cache_clusters": 1}},
    }}
    env = Environment.model_validate({
        **yaml.safe_load((CONFIG_DIR / "base.yaml").read_text()), "name": "tiny",
        "slo": {"availability": 99.0, "rto_seconds": 600, "rpo_seconds": 300},
    })
    result = estimate({"tiny-foundation": stack}, env)
    present = {c.key: c for c in result.components if c.present}
    assert set(present) == {"network", "aurora", "redis"}
    assert present["network"].availability_percent == pytest.approx(99.99)
    assert present["aurora"].availability_percent == pytest.approx(99.99)
    assert present["redis"].availability_percent == pytest.approx(99.5)
    assert result.availability_percent == pytest.approx(99.480101, abs=1e-6)
    assert result.rto_seconds is None  # Redis cannot fail over
    assert result.rpo_seconds == 300  # Aurora point-in-time restore; Redis is not a store of record
    assert result.missing  # EKS, S3, ingress, ... are not in this plan
    assert not result.meets_slo
    assert "not present in plan" in to_markdown("tiny", result)


def test_composite_serial_rto_and_rpo_rules() -> None:
    # 0.9995 x 0.9999 = 0.99940005; C = 0.9999 x 0.995 = 0.99490050; 0.99940005 x 0.99490050 = 0.99430361
    # -> 99.4304 %. RTO = max(0, 30, 350) = 350 s; RPO = max(300, 0) = 300 s.
    figure = lambda value, source="eks-sla": Figure(value, source)  # noqa: E731
    components = [
        Component("a", "A", True, availability_factors=[figure(99.95)], rto=figure(0)),
        Component("b", "B", True, availability_factors=[figure(99.99)], rto=figure(30), rpo=figure(300)),
        Component("c", "C", True, availability_factors=[figure(99.99), figure(99.5)], rto=figure(350),
                  rpo=figure(0)),
    ]
    result = Estimate(components, Slo(99.4, 350, 300))
    assert result.availability_percent == pytest.approx(100 * 0.9995 * 0.9999 * 0.9999 * 0.995)
    assert round(result.availability_percent, 4) == 99.4304
    assert (result.rto_seconds, result.rpo_seconds) == (350, 300)
    assert result.meets_slo
    assert not Estimate(components, Slo(99.5, 350, 300)).meets_availability


def test_a_figure_must_cite_a_known_source() -> None:
    with pytest.raises(ValueError, match="unknown source"):
        Figure(99.9, "made-up")


def prod_plan(synthesized: dict[str, StackJson]) -> dict[str, StackJson]:
    return json.loads(json.dumps({name: stack for name, stack in synthesized.items() if name.startswith("prod-")}))


def test_one_aurora_instance_lowers_the_figure_and_loses_the_rto(
    synthesized: dict[str, StackJson], environments: dict[str, Environment]
) -> None:
    stacks = prod_plan(synthesized)
    instances = stacks["prod-foundation"]["resource"]["aws_rds_cluster_instance"]
    for name in sorted(instances)[1:]:
        del instances[name]
    aurora = next(c for c in estimate(stacks, environments["prod"]).components if c.key == "aurora")
    assert aurora.replicas == 1
    assert [(f.value, f.source) for f in aurora.availability_factors] == [(99.9, "aurora-sla")]
    assert aurora.rto is not None and aurora.rto.value is None


def test_redis_without_automatic_failover_is_single_az(
    synthesized: dict[str, StackJson], environments: dict[str, Environment]
) -> None:
    stacks = prod_plan(synthesized)
    for group in stacks["prod-foundation"]["resource"]["aws_elasticache_replication_group"].values():
        group["automatic_failover_enabled"] = False
    result = estimate(stacks, environments["prod"])
    redis = next(c for c in result.components if c.key == "redis")
    assert [f.value for f in redis.availability_factors] == [99.5]
    assert result.rto_seconds is None and not result.meets_rto
