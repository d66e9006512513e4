"""What the primary stacks and the DR stacks derive from the environment alike.

Names are computed from the configuration on both sides (never read from the other stack's state),
so the DR stacks can be planned and applied while the primary region is down.
"""

from __future__ import annotations

from constructs import Construct

from haflow.config.model import Environment, StateBackend
from haflow.constructs.artifacts import Artifacts
from haflow.constructs.replication import ArtifactsReplication, replica_bucket_name, replica_key_alias


def secondary_name(env: Environment) -> str:
    """Prefix of the secondary region's resources (IAM names are global, so they must differ from the primary's)."""
    return f"{env.name}-dr"


def secondary_region(env: Environment) -> str:
    if env.dr.secondary_region is None:
        raise ValueError(f"environment {env.name} has no dr.secondary_region")
    return env.dr.secondary_region


def dr_state(env: Environment) -> StateBackend:
    """The DR stacks' state: a bucket in the secondary region (created by the bootstrap stack)."""
    return StateBackend(
        bucket=env.dr.state_bucket_for(env.state.bucket), region=secondary_region(env), key_prefix=env.state.key_prefix,
        kms_key_alias=env.state.kms_key_alias,
    )


def replica_bucket(env: Environment) -> str:
    return replica_bucket_name(env.artifacts.bucket_for(env.name), secondary_region(env))


def replicate_artifacts(
    scope: Construct, env: Environment, artifacts: Artifacts, *, partition: str, account_id: str
) -> ArtifactsReplication:
    """The primary side of the artifacts' replication to the bucket the DR foundation stack creates."""
    return ArtifactsReplication(
        scope, "artifacts-replication", name=env.name, source=artifacts, source_region=env.region,
        destination_region=secondary_region(env), destination_bucket=replica_bucket(env),
        destination_key_alias=replica_key_alias(secondary_name(env)),
        replicate_delete_markers=env.dr.replicate_delete_markers, partition=partition, account_id=account_id,
    )
