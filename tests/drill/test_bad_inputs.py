"""Bad input to the drill commands: a clear message, the documented exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from haflow.drill.clients import AwsClients
from haflow.drill.motoserver import free_port
from haflow.drill.plan import Plan
from tests.conftest import CONFIG_DIR, ENVIRONMENT_NAMES
from tests.drill.conftest import ENV

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["drill", *args, "--config-dir", str(CONFIG_DIR)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stderr + result.stdout


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["verify", "--env", "nope"], f"unknown environment 'nope' (available: {', '.join(ENVIRONMENT_NAMES)})"),
        (["failover", "aurora", "--env", "nope", "--yes"], "unknown environment 'nope'"),
        (["failover", "aurora", "--yes"], "say which one: --env ENV or --cluster-id ID"),
        (["failover", "aurora", "--cluster-id", "db", "--yes"], "no RTO to compare with"),
        (["failover", "redis", "--replication-group-id", "r", "--yes"], "no RTO to compare with"),
        (["verify", "--env", ENV, "--endpoint-url", "127.0.0.1:5000"], "is not an http(s)://host[:port] URL"),
    ],
    ids=["verify-unknown-env", "failover-unknown-env", "no-target", "no-rto", "redis-no-rto", "endpoint-not-a-url"],
)
def test_bad_arguments(command: list[str], message: str) -> None:
    code, output = run(*command)
    assert code == 2
    assert message in output


def test_endpoint_down(plan_dir: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    code, output = run("verify", "--env", ENV, "--from", str(plan_dir), "--endpoint-url", down)
    assert code == 2
    assert f"cannot reach endpoint {down.removeprefix('http://')}" in output


def test_missing_cluster(aws: AwsClients, moto_endpoint: str, tmp_path: Path) -> None:
    code, output = run(
        "failover", "aurora", "--cluster-id", "no-such-cluster", "--rto-seconds", "60", "--yes",
        "--endpoint-url", moto_endpoint, "--log", str(tmp_path / "log"),
    )
    assert code == 2
    assert "Aurora cluster 'no-such-cluster' not found" in output
    assert not (tmp_path / "log").exists()


def test_missing_replication_group(aws: AwsClients, moto_endpoint: str, tmp_path: Path) -> None:
    code, output = run(
        "failover", "redis", "--replication-group-id", "no-such-group", "--rto-seconds", "60", "--yes",
        "--endpoint-url", moto_endpoint, "--log", str(tmp_path / "log"),
    )
    assert code == 2
    assert "replication group 'no-such-group' not found" in output


def test_one_instance_cluster_is_refused(aws: AwsClients, moto_endpoint: str, tmp_path: Path) -> None:
    aws("rds").create_db_cluster(
        DBClusterIdentifier="single", Engine="aurora-postgresql", MasterUsername="haflow", ManageMasterUserPassword=True
    )
    aws("rds").create_db_instance(
        DBInstanceIdentifier="single-1", DBClusterIdentifier="single", Engine="aurora-postgresql",
        DBInstanceClass="db.r6g.large",
    )
    code, output = run(
        "failover", "aurora", "--cluster-id", "single", "--rto-seconds", "60", "--yes",
        "--endpoint-url", moto_endpoint, "--log", str(tmp_path / "log"),
    )
    assert code == 2
    assert "Aurora cluster 'single' has 1 instance(s) (single-1); a failover needs at least 2" in output


def test_without_yes_nothing_changes(deployed: Plan, aws: AwsClients, moto_endpoint: str, plan_dir: Path,
                                     tmp_path: Path) -> None:
    (cluster,) = deployed.resources("aws_rds_cluster")
    cluster_id = deployed.literal(cluster.body["cluster_identifier"])
    before = aws("rds").describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]["DBClusterMembers"]

    code, output = run(
        "failover", "aurora", "--env", ENV, "--from", str(plan_dir), "--endpoint-url", moto_endpoint,
        "--log", str(tmp_path / "log"),
    )

    assert code == 2
    assert f"would fail over Aurora cluster {cluster_id}" in output
    assert "Nothing was changed; re-run with --yes" in output
    after = aws("rds").describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]["DBClusterMembers"]
    assert after == before
    assert not (tmp_path / "log").exists()


def test_plan_without_the_target(tmp_path: Path) -> None:
    """An environment whose plan has no Aurora cluster names no target: say so and ask for the id."""
    empty = tmp_path / "cdktf.out" / "stacks" / f"{ENV}-foundation"
    empty.mkdir(parents=True)
    (empty / "cdk.tf.json").write_text('{"resource": {}}')
    code, output = run("failover", "aurora", "--env", ENV, "--from", str(tmp_path / "cdktf.out"),
                       "--endpoint-url", "http://127.0.0.1:1", "--log", str(tmp_path / "log"))
    assert code == 2
    assert "should hold exactly one aws_rds_cluster, found none; pass --cluster-id ID" in output
