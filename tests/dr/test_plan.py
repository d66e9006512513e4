"""The DR stacks in the synthesized plan and the region report (the HA-DR rules: tests/rules/test_dr.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from haflow.config import Environment
from haflow.plan import StackJson
from haflow.report import estimate
from haflow.report.region import region_estimate
from tests.plan import own, resources, unreplicated_bucket

Variant = Callable[[str, dict[str, Any]], dict[str, StackJson]]


@pytest.fixture(scope="module")
def pilot_light(synth_variant: Variant) -> dict[str, StackJson]:
    return synth_variant("prod", {"dr": {"mode": "pilot_light", "database_instances": 0},
                                  "slo": {"region_rto_seconds": 2700}})


def test_prod_synthesizes_the_dr_pair_in_the_secondary_region(synthesized: dict[str, StackJson]) -> None:
    dr_foundation = synthesized["prod-dr-foundation"]
    assert dr_foundation["provider"]["aws"][0]["region"] == "us-west-2"
    assert dr_foundation["terraform"]["backend"]["s3"]["region"] == "us-west-2"
    (global_cluster,) = resources(dr_foundation, "aws_rds_global_cluster").values()
    assert ":rds:us-east-1:" in global_cluster["source_db_cluster_identifier"]
    (secondary,) = resources(dr_foundation, "aws_rds_cluster").values()
    assert "master_username" not in secondary and secondary["storage_encrypted"] is True
    assert len(resources(dr_foundation, "aws_rds_cluster_instance")) == 1  # warm standby: one reader
    general = [g for g in resources(dr_foundation, "aws_eks_node_group").values()
               if g["node_group_name"].startswith("prod-dr-general")]
    assert len(general) == 3  # one per secondary AZ
    remote = synthesized["prod-dr-platform"]["data"]["terraform_remote_state"]
    assert all(state["config"]["region"] == "us-west-2" for state in remote.values())
    buckets = {b["bucket"] for b in resources(synthesized["bootstrap"], "aws_s3_bucket").values()}
    assert "haflow-terraform-state-us-west-2" in buckets
    assert "prod-dr-foundation" not in synthesized.get("dev-foundation", {})


def test_primary_joins_the_global_database_without_a_stored_password(synthesized: dict[str, StackJson]) -> None:
    foundation = synthesized["prod-foundation"]
    (cluster,) = resources(foundation, "aws_rds_cluster").values()
    assert "manage_master_user_password" not in cluster and "master_password" not in cluster
    assert "aws_secretsmanager_secret_version" in cluster["master_password_wo"]
    assert cluster["lifecycle"]["ignore_changes"] == [
        "engine_version", "global_cluster_identifier", "replication_source_identifier"]
    replicated = [s for s in resources(foundation, "aws_secretsmanager_secret").values() if s.get("replica")]
    # The master secret and Prefect's own credentials (API password, database role) are replicated, to the DR
    # region only
    assert {s["replica"][0]["region"] for s in replicated} == {"us-west-2"} and len(replicated) == 3
    (replication,) = resources(foundation, "aws_s3_bucket_replication_configuration").values()
    (rule,) = replication["rule"]
    assert rule["destination"]["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}
    assert rule["delete_marker_replication"]["status"] == "Disabled"


def test_dev_egresses_through_a_regional_nat_gateway(synthesized: dict[str, StackJson],
                                                     environments: dict[str, Environment]) -> None:
    (nat,) = resources(synthesized["dev-foundation"], "aws_nat_gateway").values()
    assert nat["availability_mode"] == "regional" and "subnet_id" not in nat
    dev = estimate({k: v for k, v in synthesized.items() if k.startswith("dev-")}, environments["dev"])
    network = next(c for c in dev.components if c.key == "network")
    assert network.rto is not None and network.rto.value == 0 and "regional" in network.failover


def test_prods_primary_state_replicates_to_the_dr_state_bucket(synthesized: dict[str, StackJson],
                                                                environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    bootstrap = synthesized["bootstrap"]
    buckets = {name: body["bucket"] for name, body in resources(bootstrap, "aws_s3_bucket").items()}
    keys = {name: body for name, body in resources(bootstrap, "aws_kms_key").items()}
    (configuration,) = resources(bootstrap, "aws_s3_bucket_replication_configuration").values()
    assert configuration["bucket"].startswith("${aws_s3_bucket.")
    assert buckets[configuration["bucket"].split(".")[1]] == env.state.bucket
    assert {rule["filter"]["prefix"] for rule in configuration["rule"]} == {
        f"{env.state.key_prefix}/prod-foundation.tfstate", f"{env.state.key_prefix}/prod-platform.tfstate"}
    for rule in configuration["rule"]:
        destination = rule["destination"]
        assert buckets[destination["bucket"].split(".")[1]] == f"{env.state.bucket}-us-west-2"
        replica_key = destination["encryption_configuration"]["replica_kms_key_id"].split(".")[1]
        assert keys[replica_key]["provider"] == "aws.us-west-2"
    # dev's and staging's state (no DR) is not copied
    assert not any("dev" in rule["filter"]["prefix"] or "staging" in rule["filter"]["prefix"]
                   for rule in configuration["rule"])


def test_region_report_meets_prods_objectives_with_sources(synthesized: dict[str, StackJson],
                                                           environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    primary = estimate(synthesized, env)
    region = region_estimate(synthesized, env, primary)
    assert region.meets and not region.problems
    assert region.rto_seconds is not None and region.rto_seconds <= (env.slo.region_rto_seconds or 0)
    assert region.rpo_seconds == 900
    assert region.availability_percent > primary.availability_percent
    postures = {c.title.split(".")[0]: c.posture for c in region.components}
    assert postures["aws_rds_cluster"] == "replicated" and postures["aws_elasticache_replication_group"] == "rebuilt"
    assert {"s3-replication-time-control", "aurora-global-database", "aurora-global-promotion"} <= set(region.cited)
    assert "manual" in region.traffic


def test_region_report_misses_when_a_copy_is_gone(synthesized: dict[str, StackJson],
                                                  environments: dict[str, Environment]) -> None:
    env = environments["prod"]
    stacks = own(synthesized, env)
    unreplicated_bucket(stacks)
    region = region_estimate(stacks, env, estimate(stacks, env))
    assert region.rpo_seconds is None and not region.meets_rpo and not region.meets


def test_pilot_light_is_headless_with_one_node_per_az(pilot_light: dict[str, StackJson],
                                                      environments: dict[str, Environment]) -> None:
    dr_foundation = pilot_light["prod-dr-foundation"]
    assert not resources(dr_foundation, "aws_rds_cluster_instance")
    sizes = {g["scaling_config"]["min_size"] for g in resources(dr_foundation, "aws_eks_node_group").values()
             if g["node_group_name"].startswith("prod-dr-general")}
    assert sizes == {1}


# Services whose control plane (the API a refresh or an update calls) is in us-east-1 for every region:
# https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/global-services.html
US_EAST_1_CONTROL_PLANES = ("aws_iam_", "aws_route53_")


def test_the_failover_change_touches_no_resource_managed_from_us_east_1(
    pilot_light: dict[str, StackJson], synthesized: dict[str, StackJson]
) -> None:
    """Pilot light -> warm standby, the DR foundation's change during a failover, changes only regional resources,
    so `terraform apply -refresh=false` of it calls no IAM or Route 53 API while us-east-1 is down
    (docs/dr-plans-after-failover.md; issue 18, 11)."""
    before, after = pilot_light["prod-dr-foundation"]["resource"], synthesized["prod-dr-foundation"]["resource"]
    changed = sorted(
        f"{rtype}.{name}" for rtype in before.keys() | after.keys()
        for name in (before.get(rtype) or {}).keys() | (after.get(rtype) or {}).keys()
        if (before.get(rtype) or {}).get(name) != (after.get(rtype) or {}).get(name)
    )
    assert any(address.startswith("aws_rds_cluster_instance.") for address in changed), changed
    assert any(address.startswith("aws_eks_node_group.") for address in changed), changed
    assert [address for address in changed if address.startswith(US_EAST_1_CONTROL_PLANES)] == []
