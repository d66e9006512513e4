"""haflow drill failover region against a real moto_server.

What moto 5.2 does with global databases: it keeps global clusters in its us-east-1 backend only.
CreateGlobalCluster resolves SourceDBClusterIdentifier there only, and RemoveFromGlobalCluster finds
the global cluster only for a cluster of us-east-1 (elsewhere it answers without a GlobalCluster and
changes nothing); SwitchoverGlobalCluster and FailoverGlobalCluster are not implemented (an HTML 500).
So the drill is run on a prod variant whose secondary is us-east-1 (primary us-west-2), and prod itself
(secondary us-west-2) shows the drill's "not implemented here" exit 2, like the Redis drill.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from haflow.drill.clients import aws_clients
from haflow.plan import STACK_FILE, StackJson, resources
from tests.config.overlays import config_dir_with
from tests.conftest import CONFIG_DIR
from tests.drill.conftest import reset_moto

runner = CliRunner()
Variant = Callable[[str, dict[str, Any]], dict[str, StackJson]]
PROD = (CONFIG_DIR / "prod.yaml").read_text(encoding="utf-8")
# prod with the regions swapped so that its secondary lives where moto keeps global clusters.
SWAPPED = (PROD.replace("us-east-1", "@").replace("us-west-2", "us-east-1").replace("@", "us-west-2")
           + "region: us-west-2\nstate: {region: us-west-2}\n")


def write_plan(root: Path, stacks: dict[str, StackJson]) -> Path:
    for name, stack in stacks.items():
        path = root / "stacks" / name / STACK_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stack), encoding="utf-8")
    return root


def deploy_global_database(endpoint: str, stacks: dict[str, StackJson], env_name: str) -> None:
    """The primary cluster and its instances, the global cluster, the secondary and its instances, from the plan.

    moto cannot make a global cluster from a cluster outside us-east-1, so the global cluster is created
    empty and the primary joins it first (which makes it the writer, as SourceDBClusterIdentifier would).
    """
    foundation, dr_foundation = stacks[f"{env_name}-foundation"], stacks[f"{env_name}-dr-foundation"]
    primary_region = foundation["provider"]["aws"][0]["region"]
    secondary_region = dr_foundation["provider"]["aws"][0]["region"]
    (global_cluster,) = resources(dr_foundation, "aws_rds_global_cluster")
    global_id = global_cluster.body["global_cluster_identifier"]
    aws_clients(secondary_region, endpoint)("rds").create_global_cluster(
        GlobalClusterIdentifier=global_id, Engine="aurora-postgresql")
    for stack, region in ((foundation, primary_region), (dr_foundation, secondary_region)):
        rds = aws_clients(region, endpoint)("rds")
        (cluster,) = resources(stack, "aws_rds_cluster")
        identifier = cluster.body["cluster_identifier"]
        rds.create_db_cluster(DBClusterIdentifier=identifier, Engine=cluster.body["engine"],
                              GlobalClusterIdentifier=global_id)
        for instance in resources(stack, "aws_rds_cluster_instance"):
            rds.create_db_instance(DBInstanceIdentifier=instance.body["identifier"], DBClusterIdentifier=identifier,
                                   Engine=instance.body["engine"], DBInstanceClass=instance.body["instance_class"],
                                   AvailabilityZone=instance.body["availability_zone"])


@pytest.fixture(scope="module")
def swapped(tmp_path_factory: pytest.TempPathFactory, synth_variant: Variant) -> tuple[Path, Path]:
    """(config dir, plan dir) of prod with us-west-2 primary and us-east-1 secondary."""
    config_dir = config_dir_with(tmp_path_factory.mktemp("swapped"), {"prod.yaml": SWAPPED})
    from haflow.config import load_environments
    from haflow.synthesis import synthesize

    (env,) = load_environments(["prod"], config_dir)
    stacks = synthesize([env], tmp_path_factory.mktemp("swapped-synth") / "cdktf.out")
    return config_dir, write_plan(tmp_path_factory.mktemp("swapped-plan") / "cdktf.out", stacks)


def drill(config_dir: Path, plan_dir: Path, endpoint: str, log: Path, *extra: str) -> Any:
    return runner.invoke(app, [
        "drill", "failover", "region", "--env", "prod", "--config-dir", str(config_dir), "--from", str(plan_dir),
        "--endpoint-url", endpoint, "--timeout", "30", "--format", "json", "--log", str(log), *extra,
    ])


def read_plan(plan_dir: Path) -> dict[str, StackJson]:
    return {p.parent.name: json.loads(p.read_text()) for p in (plan_dir / "stacks").glob(f"*/{STACK_FILE}")}


def test_unplanned_failover_makes_the_secondary_the_writable_writer(
    swapped: tuple[Path, Path], moto_endpoint: str, tmp_path: Path
) -> None:
    config_dir, plan_dir = swapped
    reset_moto(moto_endpoint)
    deploy_global_database(moto_endpoint, read_plan(plan_dir), "prod")
    log = tmp_path / "drills.jsonl"

    dry = drill(config_dir, plan_dir, moto_endpoint, log)
    assert dry.exit_code == 2 and "Nothing was changed" in dry.output and not log.exists()

    result = drill(config_dir, plan_dir, moto_endpoint, log, "--yes")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["method"] == "detach-and-promote" and report["secondary_region"] == "us-east-1"
    assert report["writer"] is True and report["writable"] is True and report["met"] is True
    assert report["rto_seconds"] == 1800 and 0 <= report["seconds"] < 30
    members = aws_clients("us-east-1", moto_endpoint)("rds").describe_global_clusters(
        GlobalClusterIdentifier="prod-global")["GlobalClusters"][0]["GlobalClusterMembers"]
    assert not any(":cluster:prod-dr-aurora" in m["DBClusterArn"] for m in members)
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["drill"] == "failover-region" and entry["planned"] is False and entry["met"] is True

    again = drill(config_dir, plan_dir, moto_endpoint, log, "--yes")
    assert again.exit_code == 2 and "not a member" in again.output


def test_a_headless_secondary_gets_a_writer_instance(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, tmp_path: Path
) -> None:
    pilot = SWAPPED.replace("  mode: warm_standby\n", "  mode: pilot_light\n").replace(
        "region_rto_seconds: 1800", "region_rto_seconds: 2400")
    config_dir = config_dir_with(tmp_path_factory.mktemp("pilot"), {"prod.yaml": pilot})
    from haflow.config import load_environments
    from haflow.synthesis import synthesize

    (env,) = load_environments(["prod"], config_dir)
    stacks = synthesize([env], tmp_path / "synth" / "cdktf.out")
    assert not list(resources(stacks["prod-dr-foundation"], "aws_rds_cluster_instance"))
    plan_dir = write_plan(tmp_path / "plan", stacks)
    reset_moto(moto_endpoint)
    deploy_global_database(moto_endpoint, stacks, "prod")

    result = drill(config_dir, plan_dir, moto_endpoint, tmp_path / "log.jsonl", "--yes")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["created_instance"] == "prod-dr-aurora-promoted" == report["writer_instance"]
    assert report["writable"] is True


def test_planned_switchover_is_not_implemented_by_moto(
    swapped: tuple[Path, Path], moto_endpoint: str, tmp_path: Path
) -> None:
    config_dir, plan_dir = swapped
    reset_moto(moto_endpoint)
    deploy_global_database(moto_endpoint, read_plan(plan_dir), "prod")

    result = drill(config_dir, plan_dir, moto_endpoint, tmp_path / "log.jsonl", "--yes", "--planned")

    assert result.exit_code == 2
    assert "does not implement RDS SwitchoverGlobalCluster" in result.output


def test_prods_secondary_outside_us_east_1_is_not_implemented_by_moto(
    synthesized: dict[str, StackJson], moto_endpoint: str, tmp_path: Path
) -> None:
    prod = {name: stack for name, stack in synthesized.items() if name.startswith("prod-")}
    plan_dir = write_plan(tmp_path / "plan", prod)
    reset_moto(moto_endpoint)
    deploy_global_database(moto_endpoint, prod, "prod")

    result = drill(CONFIG_DIR, plan_dir, moto_endpoint, tmp_path / "log.jsonl", "--yes")

    assert result.exit_code == 2
    assert "does not implement RDS RemoveFromGlobalCluster for a cluster in us-west-2" in result.output


def test_an_environment_without_dr_is_refused(plan_dir: Path, moto_endpoint: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["drill", "failover", "region", "--env", "dev", "--config-dir", str(CONFIG_DIR),
                                 "--from", str(plan_dir), "--endpoint-url", moto_endpoint, "--yes"])
    assert result.exit_code == 2 and "dr.mode none" in result.output
