"""Fix 8 asked of the real provider: after AWS's automatic minor upgrade (the state says 16.8), a cluster
pinned to 16.6 plans a downgrade, unless engine_version is in lifecycle.ignore_changes as haflow's
synthesized cluster has it. Plans are made offline (tests/review/realplans.py: a crafted state)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from haflow.plan import StackJson
from haflow.review.terraform import Workdir
from tests.conftest import resources
from tests.review import realplans

pytestmark = pytest.mark.slow

CLUSTER: dict[str, Any] = {
    "cluster_identifier": "haflow-minor", "engine": "aurora-postgresql", "engine_version": "16.6",
    "master_username": "haflow", "manage_master_user_password": True, "skip_final_snapshot": True,
}


def engine_change(workdir: Workdir, objects: list[dict[str, Any]], lifecycle: dict[str, Any] | None,
                  name: str) -> list[str]:
    """The actions Terraform plans for the cluster, the state saying AWS upgraded it to 16.8."""
    upgraded = copy.deepcopy(objects)
    upgraded[0]["attributes"]["engine_version"] = "16.8"
    config = {"aws_rds_cluster": {"db": {**CLUSTER, **({"lifecycle": lifecycle} if lifecycle else {})}}}
    document, _ = realplans.plan_with_state(workdir, upgraded, config, None, name)
    [change] = [c for c in document["resource_changes"] if c["address"] == "aws_rds_cluster.db"]
    before, after = change["change"]["before"], change["change"]["after"]
    assert before["engine_version"] == "16.8"
    return [*change["change"]["actions"], f"{before['engine_version']}->{after['engine_version']}"]


def test_after_an_automatic_minor_upgrade_only_ignore_changes_keeps_the_plan_clean(
        tmp_path: Path, aws_version: str, tf_schemas: dict[str, Any], synthesized: dict[str, StackJson]) -> None:
    [haflow_cluster] = resources(synthesized["prod-foundation"], "aws_rds_cluster").values()
    ignored = haflow_cluster["lifecycle"]["ignore_changes"]
    assert "engine_version" in ignored
    workdir = Workdir.create(tmp_path, aws_version)
    workdir.write_config({"aws_rds_cluster": {"db": CLUSTER}})
    workdir.init()
    objects = realplans.settled_state(workdir, {"aws_rds_cluster": {"db": CLUSTER}}, tf_schemas)
    assert engine_change(workdir, objects, None, "pinned") == ["update", "16.8->16.6"]  # the downgrade
    assert engine_change(workdir, objects, {"ignore_changes": ignored}, "ignored") == ["no-op", "16.8->16.8"]
