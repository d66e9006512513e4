"""<env>-dr-platform: the same releases as <env>-platform, installed into the secondary region's cluster.

It is the platform stack itself (haflow.stacks.platform), given the DR foundation's outputs (Prefect
points at the secondary Aurora cluster and the fresh Redis, artifacts at the replica bucket), the
secondary state bucket, and the workloads scaled to ``dr.platform_replicas``: the HA floor, which
autoscaling raises once traffic arrives after a failover. Until ``dr.serving`` is set (after the secondary
Aurora cluster is promoted) the Prefect tier runs no pods: the secondary database is read-only
(docs/prefect-install-order.md).
"""

from __future__ import annotations

from typing import Any

from constructs import Construct

from haflow.config.model import Environment
from haflow.constructs.platform_inputs import PlatformInputs
from haflow.merge import deep_merge
from haflow.stacks.dr_common import dr_state
from haflow.stacks.platform import PlatformStack


def scaled_for_standby(env: Environment) -> Environment:
    """``env`` with the platform's workloads at ``dr.platform_replicas`` (autoscaling ceilings unchanged)."""
    replicas = env.dr.platform_replicas
    floor = 1  # a drain may take one of the standby's pods at a time
    changes: dict[str, Any] = {
        "ingress": {"controller_replicas": replicas, "pdb_min_available": floor,
                    "autoscaling": {"min_replicas": replicas,
                                    "max_replicas": max(replicas, env.ingress.autoscaling.max_replicas)}},
        "prefect": {"server": {"replicas": replicas, "pdb_min_available": floor},
                    "background_services_replicas": replicas,
                    "worker": {"replicas": replicas, "pdb_min_available": floor}},
        "model_api": {"replicas": replicas, "pdb_min_available": floor,
                      "autoscaling": {"min_replicas": replicas,
                                      "max_replicas": max(replicas, env.model_api.autoscaling.max_replicas)}},
    }
    return Environment.model_validate(deep_merge(env.model_dump(), changes))


class DrPlatformStack(PlatformStack):
    """<env>-platform's releases in the secondary region, scaled for standby."""

    def __init__(self, scope: Construct, *, env: Environment, inputs: PlatformInputs) -> None:
        super().__init__(
            scope, env=scaled_for_standby(env), inputs=inputs, stack_name=env.dr_platform_stack_name,
            state=dr_state(env), prefect_standby=not env.dr.serving,
        )
