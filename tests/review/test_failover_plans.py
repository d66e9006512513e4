"""After a region failover, the clusters' next plans are clean (issue 18, fix 7), as the real terraform and AWS
provider plan them (offline: ``plan -refresh=false`` over a crafted state, tests/review/realplans.py).

What AWS changes on the clusters, and what the provider would do about it without ``ignore_changes``:

- planned switchover (and a managed unplanned failover, ``failover-global-cluster``): the old primary
  (<env>-foundation's cluster) becomes a secondary and reports ``replication_source_identifier`` (the new writer's
  ARN); the provider plans to remove it, which it applies with PromoteReadReplicaDBCluster, splitting the
  global database;
- detach and promote (``remove-from-global-cluster``, `haflow drill failover region` unplanned): the secondary
  (<env>-dr-foundation's cluster) reports an empty ``global_cluster_identifier``; the provider plans to set it
  again, which it refuses at apply ("existing RDS Clusters cannot be added to an existing RDS Global Cluster").

Each cluster is planned twice from the same drifted state: as synthesized (with its lifecycle) it must be a no-op,
and without its lifecycle it must be an update of exactly that attribute, so the drift is one Terraform sees.
docs/dr-plans-after-failover.md says what else each kind of failover leaves and how each plan comes clean.
"""

from __future__ import annotations

from typing import Any

import pytest

from haflow.review.terraform import MOCK_ACCOUNT, Workdir
from haflow.synthesis import StackJson
from tests.review import realplans, replacement_check

pytestmark = pytest.mark.slow

NEW_WRITER = f"arn:aws:rds:us-west-2:{MOCK_ACCOUNT}:cluster:prod-dr-aurora"
# (stack, what AWS changed on its cluster after the failover: attribute, value)
DRIFTS = {
    "switched-over-primary": ("prod-foundation", "replication_source_identifier", NEW_WRITER),
    "detached-secondary": ("prod-dr-foundation", "global_cluster_identifier", ""),
}


def _cluster(stack: StackJson) -> dict[str, Any]:
    (body,) = stack["resource"]["aws_rds_cluster"].values()
    return body


@pytest.fixture(scope="module")
def after_failover(tmp_path_factory: pytest.TempPathFactory, aws_version: str, tf_schemas: dict[str, Any],
                   synthesized: dict[str, StackJson]) -> dict[str, dict[str, Any]]:
    """The planned change of each cluster, as synthesized (``<case>``) and without lifecycle (``<case>-bare``)."""
    config: dict[str, dict[str, Any]] = {}
    for case, (stack_name, _, _) in DRIFTS.items():
        stack = synthesized[stack_name]
        (body,) = replacement_check.foundation_slice(stack, ["aws_rds_cluster"], tf_schemas).resources[
            "aws_rds_cluster"].values()
        ignored = _cluster(stack)["lifecycle"]["ignore_changes"]
        config[case] = {**body, "lifecycle": {"ignore_changes": ignored}}
        config[f"{case}-bare"] = body
    resources = {"aws_rds_cluster": config}
    workdir = Workdir.create(tmp_path_factory.mktemp("tf-failover"), aws_version, region="us-east-1")
    workdir.write_config(resources)
    workdir.init()
    objects = realplans.settled_state(workdir, resources, tf_schemas)
    for item in objects:
        _, attribute, value = DRIFTS[item["name"].removesuffix("-bare")]
        item["attributes"][attribute] = value
    document, _ = realplans.plan_with_state(workdir, objects, resources, None, "failover")
    return {entry["name"]: entry["change"] for entry in document["resource_changes"]}


@pytest.mark.parametrize("case", list(DRIFTS))
def test_the_cluster_plans_clean_after_the_failover(case: str, after_failover: dict[str, dict[str, Any]]) -> None:
    assert after_failover[case]["actions"] == ["no-op"], after_failover[case]


@pytest.mark.parametrize("case", list(DRIFTS))
def test_without_its_lifecycle_terraform_would_undo_what_aws_did(
    case: str, after_failover: dict[str, dict[str, Any]]
) -> None:
    _, attribute, value = DRIFTS[case]
    change = after_failover[f"{case}-bare"]
    assert change["actions"] == ["update"], change
    assert change["before"][attribute] == value
    assert change["after"][attribute] != value
    changed = sorted(key for key in change["after"] if change["after"].get(key) != change["before"].get(key)
                     and key not in change.get("after_unknown", {}))
    assert changed == [attribute]
