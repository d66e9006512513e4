"""HA-SEC-020: the vpc-cni add-on enforces NetworkPolicies (on plan fragments; the rendered rules HA-SEC-021 and
HA-SEC-022 are tested on the rendered platform in tests/render/test_network_policy.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from haflow.config import Environment
from haflow.flows import VPC_CNI_CONFIGURATION
from haflow.rules.engine import Status
from tests.rules.fragments import Resources, assert_rule, messages, ref, statuses


def addon(name: str = "vpc-cni", configuration: Any = VPC_CNI_CONFIGURATION) -> Resources:
    body: dict[str, Any] = {"cluster_name": ref("aws_eks_cluster", "cluster", "name"), "addon_name": name,
                            "addon_version": "v1.21.1-eksbuild.7"}
    if configuration is not None:
        body["configuration_values"] = configuration if isinstance(configuration, str) else json.dumps(configuration)
    return {"aws_eks_addon": {"addon": body}}


@pytest.mark.parametrize(("non_compliant", "expected"), [
    (addon(configuration=None), "configuration_values is not set"),
    (addon(configuration={}), "enableNetworkPolicy = None"),
    (addon(configuration={"enableNetworkPolicy": "false"}), "enableNetworkPolicy = 'false'"),
    (addon(configuration="{not json"), "is not JSON"),
])
def test_vpc_cni_must_enforce_policies(non_compliant: Resources, expected: str,
                                       environments: dict[str, Environment]) -> None:
    assert_rule("HA-SEC-020", addon(), non_compliant, expected, environments["prod"])


def test_other_addons_are_not_applicable(environments: dict[str, Environment]) -> None:
    assert statuses("HA-SEC-020", addon("coredns", configuration=None), environments["prod"]) == {
        Status.NOT_APPLICABLE}


def test_a_reference_is_unverifiable_not_a_pass(environments: dict[str, Environment]) -> None:
    found = messages("HA-SEC-020", addon(configuration="${var.cni}"), environments["prod"])
    assert found == ["cannot verify configuration_values: '${var.cni}' is a Terraform expression, not a literal"]


def test_every_synthesized_foundation_enforces_policies(synthesized: dict[str, Any]) -> None:
    """The foundation's own vpc-cni add-on, as synthesized (the receiver, EKS, reads configuration_values)."""
    foundations = [name for name in synthesized if name.endswith("foundation")]
    assert foundations
    for name in foundations:
        addons = [body for body in synthesized[name]["resource"]["aws_eks_addon"].values()
                  if body["addon_name"] == "vpc-cni"]
        assert [json.loads(body["configuration_values"]) for body in addons] == [{"enableNetworkPolicy": "true"}], name


def test_a_dr_platform_before_promotion_opens_no_prefect_flow(environments: dict[str, Environment]) -> None:
    """Before dr.serving the DR platform installs no Prefect release (a global-database secondary is read-only):
    its flows would name pods that do not exist (HA-SEC-022), so the table leaves them out until promotion."""
    from haflow import flows
    from haflow.config.network_flows import flow_inputs

    prefect = {"worker-to-prefect-api", "flow-runs-to-prefect-api", "worker-to-api-server", "prefect-to-aurora",
               "prefect-to-redis", "flow-runs-to-aws", "dns-prefect"}
    env = environments["prod"]
    serving_env = env.model_copy(update={"dr": env.dr.model_copy(update={"serving": True})})

    def names(environment: Environment, secondary: bool) -> set[str]:
        return {flow.name for flow in flows.intended_flows(flow_inputs(environment, secondary=secondary))}

    assert not env.dr.serving
    assert names(env, secondary=True) & prefect == set()
    assert prefect <= names(serving_env, secondary=True)
    assert prefect <= names(env, secondary=False)
