"""<env>-foundation: the AWS half of an environment (network, EKS, Aurora, Redis, artifacts, IAM)."""

from __future__ import annotations

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from haflow.config.model import Environment
from haflow.constructs.network import Network
from haflow.stacks.backend import use_s3_backend


def default_tags(env: Environment, stack_name: str) -> dict[str, str]:
    """Tags the AWS provider puts on every resource of the stack."""
    return {**env.tags, "haflow/environment": env.name, "haflow/stack": stack_name}


class FoundationStack(TerraformStack):
    """Everything AWS-side of one environment; its outputs feed the platform stack."""

    def __init__(self, scope: Construct, *, env: Environment) -> None:
        super().__init__(scope, env.foundation_stack_name)
        self.env = env
        use_s3_backend(self, env.state, env.foundation_stack_name)
        AwsProvider(self, "aws", region=env.region,
                    default_tags=[{"tags": default_tags(env, env.foundation_stack_name)}])

        self.network = Network(
            self, "network", name=env.name, region=env.region,
            availability_zones=env.availability_zones, config=env.network,
        )

        TerraformOutput(self, "vpc_id", value=self.network.vpc_id)
        TerraformOutput(self, "private_subnet_ids", value=self.network.private_subnets.ids)
        TerraformOutput(self, "data_subnet_ids", value=self.network.data_subnets.ids)
