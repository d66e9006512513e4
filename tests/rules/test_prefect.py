"""Prefect rules (the prefect-server release): compliant and non-compliant cases."""

from __future__ import annotations

import pytest

from haflow.config import Environment
from tests.rules.fragments import PREFECT_SERVER, Resources, assert_rule, chart, messages, with_values


@pytest.mark.parametrize(
    ("rule_id", "compliant", "non_compliant", "expected"),
    [
        ("HA-PF-001", chart("prefect-server", PREFECT_SERVER),
         chart("prefect-server", with_values(PREFECT_SERVER, "server.replicaCount", 1)), "server.replicaCount is 1"),
        ("HA-PF-002", chart("prefect-server", PREFECT_SERVER),
         chart("prefect-server", with_values(PREFECT_SERVER, "backgroundServices.messaging.broker",
                                             "prefect.server.utilities.messaging.memory")),
         "backgroundServices.messaging.broker is 'prefect.server.utilities.messaging.memory'"),
        ("HA-PF-002", chart("prefect-server", PREFECT_SERVER),
         chart("prefect-server", with_values(PREFECT_SERVER, "backgroundServices.messaging.docket", {})),
         "Docket uses its in-memory default"),
        ("HA-PF-004", chart("prefect-server", PREFECT_SERVER),
         chart("prefect-server", with_values(PREFECT_SERVER, "backgroundServices.replicaCount", 1)),
         "backgroundServices.replicaCount is 1"),
        ("HA-PF-003", chart("prefect-server", PREFECT_SERVER),
         chart("prefect-server", {k: v for k, v in PREFECT_SERVER.items() if k != "postgresql"}),
         "postgresql.enabled is true (the chart's default)"),
    ],
)
def test_prefect_rule(rule_id: str, compliant: Resources, non_compliant: Resources, expected: str,
                      environments: dict[str, Environment]) -> None:
    assert_rule(rule_id, compliant, non_compliant, expected, environments["prod"])


def test_values_given_as_a_terraform_expression_are_a_finding(environments: dict[str, Environment]) -> None:
    resources = chart("prefect-server", {})
    resources["helm_release"]["prefect-server"]["values"] = ["${yamlencode(local.values)}"]
    assert messages("HA-PF-001", resources, environments["prod"])[0].startswith("cannot verify values[0]:")
