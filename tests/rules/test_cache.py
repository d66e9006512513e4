"""Cache rules (ElastiCache Redis): a compliant and a non-compliant case each."""

from __future__ import annotations

import pytest

from haflow.config import Environment
from tests.rules.fragments import Resources, assert_rule, redis


@pytest.mark.parametrize(
    ("rule_id", "compliant", "non_compliant", "expected"),
    [
        ("HA-CACHE-001", redis(), redis(automatic_failover_enabled=False), "automatic_failover_enabled is off"),
        ("HA-CACHE-002", redis(), redis(multi_az_enabled=None), "multi_az_enabled is off"),
        ("HA-CACHE-003", redis(), redis(num_cache_clusters=1), "num_cache_clusters is 1"),
        ("HA-CACHE-004", redis(), redis(transit_encryption_enabled=False), "transit_encryption_enabled is off"),
        ("HA-CACHE-005", redis(), redis(at_rest_encryption_enabled="false"), "at_rest_encryption_enabled is off"),
        ("HA-CACHE-006", redis(), redis(cluster_mode="enabled", num_node_groups=2), "cluster_mode is 'enabled'"),
        ("HA-CACHE-006", redis(), redis(parameter_group_name="default.redis7.cluster.on"), "enables cluster mode"),
    ],
)
def test_cache_rule(rule_id: str, compliant: Resources, non_compliant: Resources, expected: str,
                   environments: dict[str, Environment]) -> None:
    assert_rule(rule_id, compliant, non_compliant, expected, environments["prod"])
