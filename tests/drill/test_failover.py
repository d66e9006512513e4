"""haflow drill failover against a real moto_server holding what the prod plan describes.

What moto 5.2 does: FailoverDBCluster moves IsClusterWriter to another available member at once
and the cluster stays "available" throughout, so the measured time is the API round trips (well
under a second), not a real Aurora failover (typically 30-60 s). ElastiCache TestFailover is not
implemented by moto (its server answers with an HTML 500), so the Redis drill can only show its
"not implemented here" path locally.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from haflow.cli import app
from haflow.config import Environment
from haflow.drill.clients import AwsClients
from haflow.drill.failover import aurora_failover
from haflow.drill.plan import Plan
from tests.conftest import CONFIG_DIR
from tests.drill.conftest import ENV

runner = CliRunner()


def writer_of(aws: AwsClients, cluster_id: str) -> str:
    members = aws("rds").describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]["DBClusterMembers"]
    (writer,) = [m["DBInstanceIdentifier"] for m in members if m["IsClusterWriter"]]
    return str(writer)


def planned_cluster_id(plan: Plan) -> str:
    (cluster,) = plan.resources("aws_rds_cluster")
    return str(plan.literal(cluster.body["cluster_identifier"]))


def test_aurora_failover_changes_the_writer_and_measures_it(
    deployed: Plan, aws: AwsClients, moto_endpoint: str, plan_dir: Path, drill_log: Path,
    environments: dict[str, Environment],
) -> None:
    cluster_id = planned_cluster_id(deployed)
    before = writer_of(aws, cluster_id)

    result = runner.invoke(app, [
        "drill", "failover", "aurora", "--env", ENV, "--config-dir", str(CONFIG_DIR), "--from", str(plan_dir),
        "--endpoint-url", moto_endpoint, "--yes", "--timeout", "30", "--format", "json", "--log", str(drill_log),
    ])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["cluster"] == cluster_id
    assert report["old_writer"] == before
    assert report["new_writer"] == writer_of(aws, cluster_id) != before
    assert isinstance(report["seconds"], float) and 0 <= report["seconds"] < 30
    assert report["rto_seconds"] == environments[ENV].slo.rto_seconds
    assert report["met"] is True
    (entry,) = [json.loads(line) for line in drill_log.read_text().splitlines()]
    assert entry["drill"] == "failover-aurora" and entry["environment"] == ENV
    assert {key: entry[key] for key in report} == report


def test_posture_still_matches_after_a_failover(
    deployed: Plan, aws: AwsClients, moto_endpoint: str, plan_dir: Path
) -> None:
    """A new writer among the planned members is not drift: verify checks one writer, not which one."""
    aws("rds").failover_db_cluster(DBClusterIdentifier=planned_cluster_id(deployed))
    result = runner.invoke(app, [
        "drill", "verify", "--env", ENV, "--config-dir", str(CONFIG_DIR), "--from", str(plan_dir),
        "--endpoint-url", moto_endpoint,
    ])
    assert result.exit_code == 0, result.output


def test_table_output_and_an_rto_given_explicitly(
    deployed: Plan, aws: AwsClients, moto_endpoint: str, drill_log: Path
) -> None:
    cluster_id = planned_cluster_id(deployed)
    result = runner.invoke(app, [
        "drill", "failover", "aurora", "--cluster-id", cluster_id, "--rto-seconds", "60",
        "--endpoint-url", moto_endpoint, "--yes", "--log", str(drill_log),
    ])
    assert result.exit_code == 0, result.output
    assert f"Aurora cluster {cluster_id}" in result.stdout
    assert "within the RTO of 60 s" in result.stdout


class StuckCluster:
    """An RDS client whose failover never takes effect (the writer stays where it was)."""

    def describe_db_clusters(self, DBClusterIdentifier: str) -> dict[str, Any]:
        members = [
            {"DBInstanceIdentifier": "db-1", "IsClusterWriter": True},
            {"DBInstanceIdentifier": "db-2", "IsClusterWriter": False},
        ]
        return {"DBClusters": [{"Status": "available", "DBClusterMembers": members}]}

    def failover_db_cluster(self, DBClusterIdentifier: str) -> None:
        return None


def test_no_new_writer_within_the_timeout_is_reported_not_met() -> None:
    ticks = iter(range(100))
    stuck = AwsClients(region="us-east-1", endpoint="stub:1", _cache={"rds": StuckCluster()})

    result = aurora_failover(stuck, "db", rto_seconds=60, timeout_seconds=5,
                             clock=lambda: float(next(ticks)), sleep=lambda _: None)

    assert (result.completed, result.met, result.new_leader, result.old_leader) == (False, False, None, "db-1")
    assert result.seconds >= 5


def test_redis_failover_where_the_endpoint_lacks_test_failover(
    deployed: Plan, moto_endpoint: str, plan_dir: Path, drill_log: Path
) -> None:
    result = runner.invoke(app, [
        "drill", "failover", "redis", "--env", ENV, "--config-dir", str(CONFIG_DIR), "--from", str(plan_dir),
        "--endpoint-url", moto_endpoint, "--yes", "--log", str(drill_log),
    ])
    assert result.exit_code == 2
    assert "does not implement ElastiCache TestFailover" in result.stderr
    assert "Traceback" not in result.output
    assert not drill_log.exists()
