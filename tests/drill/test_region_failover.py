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
from haflow.drill.motoserver import reset
from haflow.plan import STACK_FILE, StackJson, resources
from tests.config.overlays import config_dir_with
from tests.conftest import CONFIG_DIR

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


def seed(config_dir: Path, plan_dir: Path, endpoint: str) -> None:
    """The drill recipe (docs/drills.md): `haflow drill seed` (both regions, the primary the global writer), on a reset moto."""
    reset(endpoint)
    result = runner.invoke(app, ["-q", "drill", "seed", "--env", "prod", "--config-dir", str(config_dir),
                                 "--from", str(plan_dir), "--endpoint-url", endpoint])
    assert result.exit_code == 0, result.output


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


def test_unplanned_failover_makes_the_secondary_the_writable_writer(
    swapped: tuple[Path, Path], moto_endpoint: str, tmp_path: Path
) -> None:
    config_dir, plan_dir = swapped
    seed(config_dir, plan_dir, moto_endpoint)
    log = tmp_path / "drills.jsonl"

    dry = drill(config_dir, plan_dir, moto_endpoint, log)
    assert dry.exit_code == 2 and "Nothing was changed" in dry.output and not log.exists()
    assert "would fail over global cluster prod-global: writer prod-aurora -> prod-dr-aurora" in dry.output
    assert "1. RemoveFromGlobalCluster prod-dr-aurora" in dry.output

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
        "region_rto_seconds: 1800", "region_rto_seconds: 2700")
    config_dir = config_dir_with(tmp_path_factory.mktemp("pilot"), {"prod.yaml": pilot})
    from haflow.config import load_environments
    from haflow.synthesis import synthesize

    (env,) = load_environments(["prod"], config_dir)
    stacks = synthesize([env], tmp_path / "synth" / "cdktf.out")
    assert not list(resources(stacks["prod-dr-foundation"], "aws_rds_cluster_instance"))
    plan_dir = write_plan(tmp_path / "plan", stacks)
    seed(config_dir, plan_dir, moto_endpoint)
    dry = drill(config_dir, plan_dir, moto_endpoint, tmp_path / "log.jsonl")
    assert "headless" in dry.output and "2. CreateDBInstance prod-dr-aurora-promoted" in dry.output

    result = drill(config_dir, plan_dir, moto_endpoint, tmp_path / "log.jsonl", "--yes")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["created_instance"] == "prod-dr-aurora-promoted" == report["writer_instance"]
    assert report["writable"] is True


def test_planned_switchover_is_not_implemented_by_moto(
    swapped: tuple[Path, Path], moto_endpoint: str, tmp_path: Path
) -> None:
    config_dir, plan_dir = swapped
    seed(config_dir, plan_dir, moto_endpoint)

    result = drill(config_dir, plan_dir, moto_endpoint, tmp_path / "log.jsonl", "--yes", "--planned")

    assert result.exit_code == 2
    assert "does not implement RDS SwitchoverGlobalCluster" in result.output


def test_the_readme_recipe_on_prod_says_what_moto_lacks_after_a_fresh_seed(
    synthesized: dict[str, StackJson], moto_endpoint: str, tmp_path: Path
) -> None:
    """docs/drills.md: `drill seed`, then the dry run, --planned --yes and --yes (issue 22: all three said
    "prod-dr-aurora already is the writer of prod-global" because the seed left the primary out)."""
    prod = {name: stack for name, stack in synthesized.items() if name.startswith("prod-")}
    plan_dir = write_plan(tmp_path / "plan", prod)
    seed(CONFIG_DIR, plan_dir, moto_endpoint)
    log = tmp_path / "log.jsonl"

    dry = drill(CONFIG_DIR, plan_dir, moto_endpoint, log)
    assert dry.exit_code == 2, dry.output
    assert dry.output.startswith("dry run: would run the unplanned failover (detach and promote) of global cluster "
                                 "prod-global, making prod-dr-aurora (us-west-2, endpoint 127.0.0.1:")
    assert "would fail over global cluster prod-global: writer prod-aurora -> prod-dr-aurora (now available, " \
           "writer instance " in dry.output
    assert "1. RemoveFromGlobalCluster prod-dr-aurora" in dry.output and "already is the writer" not in dry.output
    planned_dry = drill(CONFIG_DIR, plan_dir, moto_endpoint, log, "--planned")
    assert planned_dry.exit_code == 2 and "1. SwitchoverGlobalCluster prod-global -> prod-dr-aurora" in planned_dry.output

    planned = drill(CONFIG_DIR, plan_dir, moto_endpoint, log, "--planned", "--yes")
    assert planned.exit_code == 2
    assert "does not implement RDS SwitchoverGlobalCluster" in planned.output

    unplanned = drill(CONFIG_DIR, plan_dir, moto_endpoint, log, "--yes")
    assert unplanned.exit_code == 2
    assert "does not implement RDS RemoveFromGlobalCluster for a cluster in us-west-2" in unplanned.output
    assert not log.exists()


def test_an_environment_without_dr_is_refused(plan_dir: Path, moto_endpoint: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["drill", "failover", "region", "--env", "dev", "--config-dir", str(CONFIG_DIR),
                                 "--from", str(plan_dir), "--endpoint-url", moto_endpoint, "--yes"])
    assert result.exit_code == 2 and "dr.mode none" in result.output
