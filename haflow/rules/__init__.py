"""The resilience and security rule pack over synthesized stacks (see RULES.md).

Provider-free and cheap to import: rules read the stack JSON, never the cdktf bindings.

    from haflow.rules import RULES, evaluate
    evaluation = evaluate(stacks, env)        # stacks: {stack name: parsed cdk.tf.json}
    evaluation.errors                         # unsuppressed error-level findings
"""

from __future__ import annotations

# Each family module registers its rules on import; edge and network_policy before rendered, whose RENDERED_RULE_IDS
# lists the rendered rules registered by then.
from haflow.rules import (  # noqa: F401
    cache,
    cluster_security,
    data_loss,
    database,
    dr,
    edge,
    eks,
    network,
    network_policy,
    observability,
    prefect,
    prefect_access,
    redis_acl,
    rendered,
    rotation,
    secrets,
    storage,
    terraform,
    workloads,
)
from haflow.rules.engine import (
    ERROR,
    REGISTRY,
    WARNING,
    Evaluation,
    Finding,
    Result,
    Rule,
    Status,
    SuppressedFinding,
    evaluate,
)

# The order of RULES and RULES.md: the stack from the network up, then what the engine applies itself.
FAMILIES = ("network", "eks", "database", "cache", "redis_acl", "storage", "workloads", "prefect", "observability",
            "data_loss", "secrets", "rotation", "prefect_access", "rendered", "network_policy", "cluster_security",
            "edge", "dr", "terraform", "suppressions")
RULES: tuple[Rule, ...] = tuple(sorted(REGISTRY.values(), key=lambda meta: FAMILIES.index(meta.family)))
RULE_IDS: frozenset[str] = frozenset(REGISTRY)

__all__ = [
    "ERROR",
    "RULES",
    "RULE_IDS",
    "WARNING",
    "Evaluation",
    "Finding",
    "Result",
    "Rule",
    "Status",
    "SuppressedFinding",
    "evaluate",
]
