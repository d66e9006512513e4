"""Real plans for the plan review's tests: the shared plans of other projects, and plans this machine's
terraform makes offline (tests/review/realplans.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from haflow.review.terraform import Workdir
from tests.conftest import REPO_ROOT
from tests.review import realplans

# ../shared beside the repository (CI's layout); HAFLOW_SHARED_DIR for a checkout elsewhere (a git worktree)
SHARED_PLANS = Path(os.environ.get("HAFLOW_SHARED_DIR") or REPO_ROOT.parent / "shared") / "reference" / "plans"


def shared_plan(name: str) -> Path:
    """A plan of ../shared/reference/plans; skipped when absent, except on CI where it must be there."""
    path = SHARED_PLANS / name
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI runs with ../shared beside the repository")
        pytest.skip(f"{path} absent (../shared beside the repository holds the reference plans)")
    return path


@pytest.fixture(scope="session")
def aws_version() -> str:
    return realplans.require_terraform()


@pytest.fixture(scope="session")
def tf_schemas(tmp_path_factory: pytest.TempPathFactory, aws_version: str) -> dict[str, Any]:
    """The mirror's AWS provider resource schemas (``terraform providers schema -json``)."""
    workdir = Workdir.create(tmp_path_factory.mktemp("tf-schema"), aws_version)
    workdir.write_config({})
    workdir.init()
    return workdir.schema()


SCENARIO_BASE: dict[str, Any] = {
    "aws_s3_bucket": {
        "old_artifacts": {"bucket": "haflow-test-old-artifacts"},
        "logs": {"bucket": "haflow-test-logs", "force_destroy": False},
        "handed_over": {"bucket": "haflow-test-handed-over"},
    },
    "aws_rds_cluster": {
        "db": {"cluster_identifier": "haflow-test-db", "engine": "aurora-postgresql", "engine_version": "16.6",
               "database_name": "prefect", "master_username": "haflow",
               "master_password": "before-password-0123456789", "skip_final_snapshot": False,
               "final_snapshot_identifier": "haflow-test-db-final", "deletion_protection": False},
        "keep": {"cluster_identifier": "haflow-test-keep", "engine": "aurora-postgresql", "engine_version": "16.6",
                 "master_username": "haflow", "master_password": "keep-password-0123456789",
                 "skip_final_snapshot": False, "final_snapshot_identifier": "haflow-test-keep-final",
                 "deletion_protection": True},
    },
    "aws_rds_cluster_instance": {
        "db_1": {"identifier": "haflow-test-db-1", "cluster_identifier": "${aws_rds_cluster.db.id}",
                 "instance_class": "db.r6g.large", "engine": "aurora-postgresql"},
    },
    "aws_cloudwatch_log_group": {"old_name": {"name": "/haflow/test/flows", "retention_in_days": 30}},
    "aws_secretsmanager_secret": {"token": {"name": "haflow/test/token", "recovery_window_in_days": 30}},
    "aws_secretsmanager_secret_version": {
        "token": {"secret_id": "${aws_secretsmanager_secret.token.id}", "secret_string": "before-secret-8c1f02"},
    },
}
BEFORE_SECRETS = ("before-password-0123456789", "before-secret-8c1f02")
AFTER_SECRETS = ("after-password-9876543210", "after-secret-5d7e13")


def scenario_change() -> tuple[dict[str, Any], dict[str, Any]]:
    """The change applied to SCENARIO_BASE, and its moved / removed blocks and outputs."""
    import copy

    config = copy.deepcopy(SCENARIO_BASE)
    del config["aws_s3_bucket"]["old_artifacts"]  # destroyed: only in resource_changes
    del config["aws_s3_bucket"]["handed_over"]  # forgotten by a removed block
    config["aws_s3_bucket"]["logs"]["force_destroy"] = True
    db = config["aws_rds_cluster"]["db"]
    db["database_name"] = "prefect2"  # replaces the cluster, and so its instance (cluster_identifier unknown)
    db["master_password"] = AFTER_SECRETS[0]
    keep = config["aws_rds_cluster"]["keep"]
    keep["deletion_protection"] = False
    keep["skip_final_snapshot"] = True
    config["aws_cloudwatch_log_group"] = {"flows": config["aws_cloudwatch_log_group"].pop("old_name")}
    config["aws_secretsmanager_secret"]["token"]["recovery_window_in_days"] = 0
    config["aws_secretsmanager_secret_version"]["token"]["secret_string"] = AFTER_SECRETS[1]
    extra = {
        "moved": [{"from": "aws_cloudwatch_log_group.old_name", "to": "aws_cloudwatch_log_group.flows"}],
        "removed": [{"from": "aws_s3_bucket.handed_over", "lifecycle": {"destroy": False}}],
        "output": {
            "token": {"value": "${aws_secretsmanager_secret_version.token.secret_string}", "sensitive": True},
            "db_endpoint": {"value": "${aws_rds_cluster.db.endpoint}"},
        },
    }
    return config, extra


@pytest.fixture(scope="session")
def scenario_plan(tmp_path_factory: pytest.TempPathFactory, aws_version: str,
                  tf_schemas: dict[str, Any]) -> tuple[dict[str, Any], Path]:
    """The scenarios' real plan (document, path of its JSON): SCENARIO_BASE applied, then scenario_change()."""
    workdir = Workdir.create(tmp_path_factory.mktemp("tf-scenarios"), aws_version)
    workdir.write_config(SCENARIO_BASE)
    workdir.init()
    objects = realplans.settled_state(workdir, SCENARIO_BASE, tf_schemas)
    config, extra = scenario_change()
    return realplans.plan_with_state(workdir, objects, config, extra, "scenarios")
