"""Data-loss rules (prevent_destroy, final snapshots, force_destroy) on databases and buckets."""

from __future__ import annotations

import pytest

from haflow.config import Environment
from tests.rules.fragments import Resources, assert_rule, aurora, bucket


@pytest.mark.parametrize(
    ("rule_id", "compliant", "non_compliant", "expected"),
    [
        ("HA-DL-001", aurora(), aurora(lifecycle=None), "prevent_destroy is not set"),
        ("HA-DL-002", aurora(), aurora(skip_final_snapshot=True), "skip_final_snapshot is true"),
        ("HA-DL-002", aurora(), aurora(final_snapshot_identifier=None), "final_snapshot_identifier is not set"),
        ("HA-DL-001", bucket(), bucket(lifecycle={}), "prevent_destroy is not set"),
        ("HA-DL-003", bucket(), bucket(force_destroy=True), "force_destroy is true"),
    ],
)
def test_data_loss_rule(rule_id: str, compliant: Resources, non_compliant: Resources, expected: str,
                       environments: dict[str, Environment]) -> None:
    assert_rule(rule_id, compliant, non_compliant, expected, environments["prod"])
