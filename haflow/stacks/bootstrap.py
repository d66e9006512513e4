"""bootstrap: the S3 bucket(s) holding every environment's Terraform state, with a local backend.

An environment with DR keeps its DR stacks' state in a bucket of the secondary region, and its primary
stacks' state is replicated there (S3 CRR with RTC), so losing either region loses no state: after
losing the primary, plan the primary stacks against the replica (docs/disaster-recovery.md).

Deploy it first (`cdktf deploy bootstrap`); its own state stays in ./terraform.bootstrap.tfstate
at the repository root (outside cdktf.out, which synth replaces), so keep that file safe or
move it into the bucket once it exists.
"""

from __future__ import annotations

from cdktf import LocalBackend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from haflow import contract
from haflow.config.model import Environment
from haflow.constructs.state_bucket import StateBucket, StateCopy, StateReplication
from haflow.stacks.backend import require_terraform
from haflow.stacks.dr_common import dr_state

# cdktf runs terraform in cdktf.out/stacks/<stack>; this path leads back to the repository root.
LOCAL_STATE_PATH = "../../../terraform.bootstrap.tfstate"


class BootstrapStack(TerraformStack):
    """One state bucket per distinct (bucket, region) the environments use."""

    def __init__(self, scope: Construct, *, environments: list[Environment]) -> None:
        super().__init__(scope, contract.BOOTSTRAP_STACK)
        LocalBackend(self, path=LOCAL_STATE_PATH)
        require_terraform(self)
        # Environments with DR keep the DR stacks' state in a bucket of the secondary region, so that
        # losing the primary region loses neither the DR stacks' state nor the ability to plan them.
        states = [env.state for env in environments] + [dr_state(env) for env in environments if env.dr.enabled]
        aliases = {(state.bucket, state.region): state.kms_key_alias for state in states}
        buckets = sorted(aliases)
        regions = sorted({region for _, region in buckets})
        # Only the tags every environment shares: the bucket serves them all (not dev's environment tag).
        shared_tags = dict(set.intersection(*(set(env.tags.items()) for env in environments))) if environments else {}
        providers = {
            region: AwsProvider(
                self, f"aws-{region}" if len(regions) > 1 else "aws", region=region,
                alias=region if len(regions) > 1 else None,
                default_tags=[{"tags": {**shared_tags, contract.TAG_STACK: contract.BOOTSTRAP_STACK}}],
            )
            for region in regions
        }
        created = {}
        for bucket, region in buckets:
            created[(bucket, region)] = state = StateBucket(
                self, bucket, bucket_name=bucket, key_alias=aliases[(bucket, region)], provider=providers[region])
            TerraformOutput(self, f"{bucket}-arn", value=state.bucket_arn)
        copies: dict[tuple[str, str], list[StateCopy]] = {}
        for env in environments:
            if env.dr.enabled:
                replica = dr_state(env)
                copies.setdefault((env.state.bucket, env.state.region), []).append(StateCopy(
                    keys=tuple(env.state.object_key(name) for name in (env.foundation_stack_name,
                                                                       env.platform_stack_name)),
                    destination=created[(replica.bucket, replica.region)], destination_region=replica.region,
                ))
        for (bucket, region), state_copies in sorted(copies.items()):
            StateReplication(self, f"{bucket}-replication", source=created[(bucket, region)], source_bucket=bucket,
                             source_region=region, copies=state_copies)
