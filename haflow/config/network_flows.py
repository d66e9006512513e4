"""The environment's side of the flow table (haflow/flows.py): its namespaces, ports and address plan."""

from __future__ import annotations

from haflow.config.model import Environment
from haflow.config.subnets import plan_subnets
from haflow.flows import FlowInputs


def flow_inputs(env: Environment, *, secondary: bool = False) -> FlowInputs:
    """The flow table's inputs for ``env``'s platform (``secondary``: the DR platform, in the DR VPC)."""
    if secondary and env.dr.network_cidr:
        vpc_cidr, zones = env.dr.network_cidr, list(env.dr.availability_zones)
    else:
        vpc_cidr, zones = env.network.cidr, list(env.availability_zones)
    subnets = plan_subnets(vpc_cidr, zones, env.network.subnet_prefix_lengths.model_dump())
    return FlowInputs(
        flow_run_namespace=env.prefect.flow_run_namespace,
        model_api_port=env.model_api.container_port,
        vpc_cidr=vpc_cidr,
        private_cidrs=tuple(subnet.cidr for subnet in subnets if subnet.tier == "private"),
        data_cidrs=tuple(subnet.cidr for subnet in subnets if subnet.tier == "data"),
        service_cidr=env.eks.service_ipv4_cidr,
        prefect_installed=not secondary or env.dr.serving,
    )
