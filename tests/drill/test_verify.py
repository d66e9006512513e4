"""haflow drill verify against a real moto_server holding what the prod plan describes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from haflow.cli import app
from haflow.drill.clients import AwsClients
from haflow.drill.plan import Plan, PlanResource
from haflow.plan import block
from tests.conftest import CONFIG_DIR
from tests.drill.conftest import ENV

runner = CliRunner()


def verify_json(endpoint: str, plan_dir: Path) -> tuple[Result, dict]:
    result = runner.invoke(app, [
        "drill", "verify", "--env", ENV, "--config-dir", str(CONFIG_DIR), "--from", str(plan_dir),
        "--endpoint-url", endpoint, "--format", "json",
    ])
    assert "Traceback" not in result.output
    return result, json.loads(result.stdout)


def drift_of(report: dict) -> list[tuple[str, str, str, str]]:
    return [(d["resource"], d["check"], d["expected"], d["found"]) for d in report["drift"]]


def the_one(plan: Plan, rtype: str, construct: str = "") -> PlanResource:
    """The single resource of ``rtype`` (under the construct ``construct``, when given)."""
    (resource,) = [r for r in plan.resources(rtype) if r.name.startswith(construct)]
    return resource


def subnet_az(plan: Plan, subnet_ref: str) -> str:
    ref = plan.reference(subnet_ref)
    assert ref is not None
    return str(plan.get(ref.rtype, ref.name).body["availability_zone"])


def test_fresh_deployment_matches_the_plan(
    deployed: Plan, dr_plan: Plan, moto_endpoint: str, plan_dir: Path
) -> None:
    """Both regions: the primary's foundation and the secondary's DR foundation."""
    result, report = verify_json(moto_endpoint, plan_dir)
    assert result.exit_code == 0, result.output
    assert report["match"] is True and report["drift"] == []
    planned = sum(len(list(plan.resources(rtype))) for plan in (deployed, dr_plan) for rtype in (
        "aws_subnet", "aws_eks_node_group", "aws_rds_cluster", "aws_rds_cluster_instance",
        "aws_elasticache_replication_group", "aws_s3_bucket", "aws_s3_bucket_versioning",
        "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_public_access_block",
    ))
    assert report["checked"] == planned
    assert report["plan"].count("cdk.tf.json") == 2


def test_a_secondary_outside_its_planned_global_database_is_drift(
    deployed: Plan, dr_plan: Plan, moto_endpoint: str, plan_dir: Path, tmp_path: Path,
) -> None:
    """The live secondary joined prod-global; a plan naming another global cluster must show the difference."""
    moved = tmp_path / "cdktf.out"
    shutil.copytree(plan_dir, moved)
    path = moved / "stacks" / f"{ENV}-dr-foundation" / "cdk.tf.json"
    stack = json.loads(path.read_text())
    for body in stack["resource"]["aws_rds_global_cluster"].values():
        body["global_cluster_identifier"] = "prod-global-elsewhere"
    path.write_text(json.dumps(stack))

    result, report = verify_json(moto_endpoint, moved)

    assert result.exit_code == 1
    assert [(d["expected"], d["found"]) for d in report["drift"] if d["check"] == "global cluster"] == [
        ("prod-global-elsewhere", "prod-global")]


def test_table_output_says_it_matches(deployed: Plan, moto_endpoint: str, plan_dir: Path) -> None:
    result = runner.invoke(app, [
        "drill", "verify", "--env", ENV, "--config-dir", str(CONFIG_DIR), "--from", str(plan_dir),
        "--endpoint-url", moto_endpoint,
    ])
    assert result.exit_code == 0, result.output
    assert "live posture matches the plan" in result.stdout


def test_localstack_host_variable_selects_the_local_endpoint(
    deployed: Plan, moto_endpoint: str, plan_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCALSTACK_HOST", moto_endpoint.removeprefix("http://"))
    result = runner.invoke(app, [
        "drill", "verify", "--env", ENV, "--config-dir", str(CONFIG_DIR), "--from", str(plan_dir), "--format", "json",
    ])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["where"] == f"endpoint {moto_endpoint.removeprefix('http://')}"


def test_suspended_versioning_is_the_only_drift(
    deployed: Plan, aws: AwsClients, moto_endpoint: str, plan_dir: Path
) -> None:
    bucket = deployed.literal(the_one(deployed, "aws_s3_bucket", "artifacts_").body["bucket"])
    aws("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})

    result, report = verify_json(moto_endpoint, plan_dir)

    assert result.exit_code == 1
    versioning = the_one(deployed, "aws_s3_bucket_versioning", "artifacts_")
    assert drift_of(report) == [(versioning.address, "versioning", "Enabled", "Suspended")]


def test_node_groups_scaled_into_one_az_is_the_only_drift(
    deployed: Plan, aws: AwsClients, moto_endpoint: str, plan_dir: Path
) -> None:
    """The general pool loses every AZ but the first: the other groups are scaled to zero."""
    general = [g for g in deployed.resources("aws_eks_node_group") if block(g.body["scaling_config"])["min_size"] > 0]
    assert len(general) >= 2, "the plan should have one general node group per AZ"
    kept, *scaled = general
    for group in scaled:
        aws("eks").update_nodegroup_config(
            clusterName=deployed.literal(group.body["cluster_name"]),
            nodegroupName=group.body["node_group_name"],
            scalingConfig={"minSize": 0, "maxSize": block(group.body["scaling_config"])["max_size"], "desiredSize": 0},
        )

    result, report = verify_json(moto_endpoint, plan_dir)

    assert result.exit_code == 1
    cluster = deployed.literal(kept.body["cluster_name"])
    planned_min = {g.address: str(block(g.body["scaling_config"])["min_size"]) for g in scaled}
    all_azs = sorted({subnet_az(deployed, ref) for group in general for ref in group.body["subnet_ids"]})
    kept_az = subnet_az(deployed, kept.body["subnet_ids"][0])
    assert drift_of(report) == [
        *[(address, "scaling min_size", expected, "0") for address, expected in planned_min.items()],
        (f"aws_eks_node_group.* (cluster {cluster})", "AZs with guaranteed nodes (min_size > 0)",
         ", ".join(all_azs), kept_az),
    ]


def test_deleted_reader_is_the_only_drift(
    deployed: Plan, aws: AwsClients, moto_endpoint: str, plan_dir: Path
) -> None:
    cluster_id = deployed.literal(the_one(deployed, "aws_rds_cluster").body["cluster_identifier"])
    members = aws("rds").describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]["DBClusterMembers"]
    reader = next(m["DBInstanceIdentifier"] for m in members if not m["IsClusterWriter"])
    aws("rds").delete_db_instance(DBInstanceIdentifier=reader, SkipFinalSnapshot=True)

    result, report = verify_json(moto_endpoint, plan_dir)

    assert result.exit_code == 1
    instance = next(i for i in deployed.resources("aws_rds_cluster_instance") if i.body["identifier"] == reader)
    az = instance.body["availability_zone"]
    assert drift_of(report) == [(instance.address, "cluster member", f"{reader} in {az}", "none")]


@pytest.mark.slow
def test_a_missing_plan_is_synthesized_without_touching_the_plan_dir(
    deployed: Plan, moto_endpoint: str, tmp_path: Path
) -> None:
    absent = tmp_path / "cdktf.out"
    result, report = verify_json(moto_endpoint, absent)
    assert result.exit_code == 0, result.output
    assert report["plan"].startswith(f"a fresh synth of {ENV}")
    assert not absent.exists()
