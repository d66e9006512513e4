"""The drill recipe of docs/drills.md works end to end against a real moto_server: seed, verify, fail over."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from haflow.cli import app
from haflow.drill.clients import AwsClients
from haflow.drill.plan import Plan
from tests.conftest import CONFIG_DIR, REPO_ROOT
from tests.drill.conftest import ENV

runner = CliRunner()


def haflow(*args: str, env: dict[str, str | None] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["-q", *args, "--config-dir", str(CONFIG_DIR)], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_seed_then_verify_then_failover(aws: AwsClients, moto_endpoint: str, plan_dir: Path, tmp_path: Path) -> None:
    code, output = haflow("drill", "seed", "--env", ENV, "--endpoint-url", moto_endpoint, "--from", str(plan_dir))
    assert code == 0, output
    code, output = haflow("drill", "verify", "--env", ENV, "--endpoint-url", moto_endpoint, "--from", str(plan_dir))
    assert code == 0, output
    assert "live posture matches the plan" in output
    code, output = haflow("drill", "failover", "aurora", "--env", ENV, "--yes", "--from", str(plan_dir),
                          "--log", str(tmp_path / "drills.jsonl"),
                          env={"LOCALSTACK_HOST": moto_endpoint.removeprefix("http://")})
    assert code == 0, output
    assert f"Aurora cluster {ENV}-aurora" in output


def test_seeding_refuses_the_real_aws_apis(plan_dir: Path) -> None:
    code, output = haflow("drill", "seed", "--env", ENV, "--from", str(plan_dir), env={"LOCALSTACK_HOST": ""})
    assert code == 2 and "local endpoint only" in output


def test_a_dry_run_says_what_it_would_do_before_it_needs_credentials(plan_dir: Path, tmp_path: Path) -> None:
    no_credentials: dict[str, str | None] = {
                      "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_PROFILE": None,
                      "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                      "AWS_EC2_METADATA_DISABLED": "true", "LOCALSTACK_HOST": ""}
    code, output = haflow("drill", "failover", "aurora", "--env", ENV, "--from", str(plan_dir),
                          "--log", str(tmp_path / "drills.jsonl"), env=no_credentials)
    assert code == 2
    assert f"would fail over Aurora cluster {ENV}-aurora" in output
    assert output.index("would fail over") < output.index("no usable AWS credentials")


def test_the_drill_docs_use_the_real_identifiers(deployed: Plan) -> None:
    (cluster,) = deployed.resources("aws_rds_cluster")
    (group,) = deployed.resources("aws_elasticache_replication_group")
    real = {deployed.literal(cluster.body["cluster_identifier"]), deployed.literal(group.body["replication_group_id"])}
    for doc in (REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))):
        text = doc.read_text(encoding="utf-8")
        for option, value in re.findall(r"--(cluster-id|replication-group-id) (\S+)", text):
            assert value in real, f"{doc.name}: --{option} {value} is no identifier of the {ENV} plan ({real})"
        assert '"cluster": "prod"' not in text
