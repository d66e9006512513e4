"""haflow drill az / node against a real moto_server holding what the prod plan describes (alarms, topics, the
FIS experiment role and templates included: haflow/drill/seed.py).

What moto 5.2.5 does: it stores the experiment templates and runs an experiment through its states (pending,
initiating, running, completed), advancing on each GetExperiment, and performs no action: no instance stops,
no subnet loses connectivity, Aurora does not fail over. So these tests prove the drill's calls, the following
of the experiment, the recovery checks (node groups in service, the writer serving) and the timing and log;
how the platform recovers from a real AZ loss is proven only in a real account.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow import contract
from haflow.cli import app
from haflow.config import Environment
from haflow.drill import zonal
from haflow.drill.clients import AwsClients
from haflow.drill.plan import Plan
from tests.conftest import CONFIG_DIR
from tests.drill.conftest import ENV

runner = CliRunner()


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zonal, "POLL_SECONDS", 0.05)


def drill(kind: str, moto_endpoint: str, plan_dir: Path, drill_log: Path, *extra: str) -> object:
    return runner.invoke(app, [
        "drill", kind, "--env", ENV, "--config-dir", str(CONFIG_DIR), "--from", str(plan_dir),
        "--endpoint-url", moto_endpoint, "--log", str(drill_log), *extra,
    ])


def test_the_seeded_templates_stop_on_the_foundations_alarms(deployed: Plan, aws: AwsClients,
                                                            environments: dict[str, Environment]) -> None:
    env = environments[ENV]
    templates = aws("fis").list_experiment_templates()["experimentTemplates"]
    names = sorted(t["tags"]["Name"] for t in templates)
    assert names == sorted([contract.fis_template_name(ENV, contract.DRILL_NODE)] + [
        contract.fis_template_name(ENV, contract.DRILL_AZ, az) for az in env.availability_zones])
    alarms = {a["AlarmArn"] for a in aws("cloudwatch").describe_alarms(MaxRecords=100)["MetricAlarms"]}
    for summary in templates:
        template = aws("fis").get_experiment_template(id=summary["id"])["experimentTemplate"]
        stops = [c["value"] for c in template["stopConditions"]]
        assert stops and set(stops) <= alarms, (stops, alarms)
    topics = [t["TopicArn"].rsplit(":", 1)[1] for t in aws("sns").list_topics()["Topics"]]
    assert f"{ENV}-alerts" in topics


def test_az_drill_dry_run_changes_nothing(deployed: Plan, aws: AwsClients, moto_endpoint: str, plan_dir: Path,
                                         drill_log: Path, environments: dict[str, Environment]) -> None:
    az = environments[ENV].availability_zones[1]
    result = drill("az", moto_endpoint, plan_dir, drill_log, "--az", az)
    assert result.exit_code == 2, result.output
    assert f"would start FIS experiment template {contract.fis_template_name(ENV, 'az', az)}" in result.output
    assert "aws:rds:failover-db-cluster" in result.output and "platform now: healthy" in result.output
    assert aws("fis").list_experiments()["experiments"] == []
    assert not drill_log.exists()


@pytest.mark.parametrize("kind", ["az", "node"])
def test_drill_runs_the_experiment_to_completion_and_times_recovery(
    kind: str, deployed: Plan, aws: AwsClients, moto_endpoint: str, plan_dir: Path, drill_log: Path,
    environments: dict[str, Environment],
) -> None:
    env = environments[ENV]
    extra = ["--az", env.availability_zones[0]] if kind == "az" else []
    result = drill(kind, moto_endpoint, plan_dir, drill_log, *extra, "--yes", "--timeout", "60", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["experiment_status"] == "completed"
    assert report["states"][-1] == "completed" and len(report["states"]) > 1
    assert report["recovered"] is True and report["met"] is True and report["pods_checked"] is False
    assert report["rto_seconds"] == env.slo.rto_seconds and 0 <= report["seconds"] < 60
    (experiment,) = aws("fis").list_experiments()["experiments"]
    assert experiment["id"] == report["experiment_id"]
    (entry,) = [json.loads(line) for line in drill_log.read_text().splitlines()]
    assert entry["drill"] == kind and entry["environment"] == ENV and entry["met"] is True


def test_drill_refuses_a_platform_that_is_already_down(deployed: Plan, aws: AwsClients, moto_endpoint: str,
                                                      plan_dir: Path, drill_log: Path) -> None:
    # A node group short of its desired nodes: the drill must not start an experiment on top of it.
    (group_name,) = [g["AutoScalingGroupName"] for g in aws("autoscaling").describe_auto_scaling_groups()[
        "AutoScalingGroups"]][:1]
    aws("autoscaling").update_auto_scaling_group(AutoScalingGroupName=group_name, MinSize=0, DesiredCapacity=0)
    result = drill("node", moto_endpoint, plan_dir, drill_log, "--yes", "--timeout", "5")
    assert result.exit_code == 2, result.output
    assert "not healthy before the drill" in result.output and "nodes in service" in result.output
    assert aws("fis").list_experiments()["experiments"] == []


def test_az_drill_refuses_an_az_of_another_environment(moto_endpoint: str, plan_dir: Path, drill_log: Path) -> None:
    result = drill("az", moto_endpoint, plan_dir, drill_log, "--az", "eu-west-1a")
    assert result.exit_code == 2
    assert "--az eu-west-1a: not an AZ of prod; allowed:" in result.output


def test_pods_not_ready_reads_kubectls_pod_list() -> None:
    pods = {"items": [
        {"metadata": {"namespace": "a", "name": "ready"}, "status": {"phase": "Running",
                                                                     "conditions": [{"type": "Ready", "status": "True"}]}},
        {"metadata": {"namespace": "a", "name": "done"}, "status": {"phase": "Succeeded"}},
        {"metadata": {"namespace": "b", "name": "starting"}, "status": {"phase": "Pending", "conditions": []}},
    ]}
    assert zonal.pods_not_ready(pods) == ["pod b/starting is not Ready (Pending)"]
