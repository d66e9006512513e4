"""Prefect rules: several API pods, which only works with Redis messaging and an external database.

Read from the prefect-server chart's values (defaults from its values.yaml at the pinned version):
with more than one API pod, in-memory messaging and the bundled PostgreSQL or SQLite split the state.
https://docs.prefect.io/v3/advanced/self-hosted (high availability)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from haflow.plan import HELM_RELEASE
from haflow.rules.engine import ERROR, NOT_APPLICABLE, Outcome, rule
from haflow.rules.helm import Values, chart_name, values_of
from haflow.rules.stack import LiteralResource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment

PREFECT_SERVER_CHART = "prefect-server"
MIN_API_REPLICAS = 2
# Background services scale horizontally, coordinated through Redis (Prefect's self-hosted scaling guide).
MIN_BACKGROUND_REPLICAS = 2
REDIS_MESSAGING = "prefect_redis.messaging"


def server_values(release: LiteralResource) -> Values | None:
    return values_of(release) if chart_name(release) == PREFECT_SERVER_CHART else None


@rule(
    id="HA-PF-001",
    level=ERROR,
    title=f"The Prefect API runs at least {MIN_API_REPLICAS} pods",
    rationale="Workers, flows and the UI all call the API; one pod makes every rollout and node drain an "
    "orchestration outage.",
    fix=f"Set prefect.server.replicas >= {MIN_API_REPLICAS} (chart value server.replicaCount).",
    subjects=(HELM_RELEASE,),
)
def api_replicas(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    values = server_values(release)
    if values is None:
        return NOT_APPLICABLE
    if values.boolean("server.autoscaling.enabled", False):
        count, key = values.integer("server.autoscaling.minReplicas", 1), "server.autoscaling.minReplicas"
    else:
        count, key = values.integer("server.replicaCount", 1), "server.replicaCount"
    if count < MIN_API_REPLICAS:
        return [f"{key} is {count}"]
    return []


@rule(
    id="HA-PF-002",
    level=ERROR,
    title="Prefect background services run separately and message through Redis",
    rationale="With in-memory messaging each API pod sees only its own events, so automations and "
    "triggers miss events handled by another pod; Redis gives every pod the same broker, cache and "
    "Docket scheduler.",
    fix="Set backgroundServices.runAsSeparateDeployment: true, messaging broker and cache "
    f"{REDIS_MESSAGING}, messaging.redis.host and a Docket URL secret.",
    subjects=(HELM_RELEASE,),
)
def redis_messaging(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    values = server_values(release)
    if values is None:
        return NOT_APPLICABLE
    problems = []
    if not values.boolean("backgroundServices.runAsSeparateDeployment", False):
        problems.append("backgroundServices.runAsSeparateDeployment is false")
    for setting in ("broker", "cache"):
        found = values.get(f"backgroundServices.messaging.{setting}", REDIS_MESSAGING)
        if found != REDIS_MESSAGING:
            problems.append(f"backgroundServices.messaging.{setting} is {found!r}")
    if not values.raw("backgroundServices.messaging.redis.host") and not values.boolean("redis.enabled", False):
        problems.append("no Redis: backgroundServices.messaging.redis.host is empty and redis.enabled is false")
    docket = values.raw("backgroundServices.messaging.docket.url") or values.raw(
        "backgroundServices.messaging.docket.existingSecret"
    )
    if not docket:
        problems.append("Docket uses its in-memory default (set messaging.docket.existingSecret or url)")
    return problems


@rule(
    id="HA-PF-003",
    level=ERROR,
    title="Prefect uses the external database (Aurora), not the bundled PostgreSQL or SQLite",
    rationale="The chart's bundled PostgreSQL is a single pod on a single volume in a single AZ, and SQLite "
    "is per pod; Aurora is the Multi-AZ database the rest of this plan proves.",
    fix="Set postgresql.enabled: false, sqlite.enabled: false and externalDatabase.existingSecret.",
    subjects=(HELM_RELEASE,),
)
def external_database(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    values = server_values(release)
    if values is None:
        return NOT_APPLICABLE
    problems = []
    if values.boolean("postgresql.enabled", True):
        problems.append("postgresql.enabled is true (the chart's default): the bundled single-pod PostgreSQL")
    if values.boolean("sqlite.enabled", False):
        problems.append("sqlite.enabled is true")
    if not (values.raw("externalDatabase.existingSecret") or values.raw("externalDatabase.host")
            or values.raw("externalDatabase.connectionString")):
        problems.append("externalDatabase names no existingSecret, host or connectionString")
    return problems


@rule(
    id="HA-PF-004",
    level=ERROR,
    title=f"Prefect background services run at least {MIN_BACKGROUND_REPLICAS} pods",
    rationale="The background services schedule flow runs, mark late runs and fire automations; with one "
    "pod a node loss or rollout stops scheduling until it is replaced. They coordinate through Redis, so "
    "several pods share the work (https://docs.prefect.io/v3/advanced/self-hosted).",
    fix=f"Set prefect.background_services_replicas >= {MIN_BACKGROUND_REPLICAS} "
    "(chart value backgroundServices.replicaCount).",
    subjects=(HELM_RELEASE,),
)
def background_replicas(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    values = server_values(release)
    if values is None or not values.boolean("backgroundServices.runAsSeparateDeployment", False):
        return NOT_APPLICABLE  # inside the API pods, HA-PF-001 covers them
    count = values.integer("backgroundServices.replicaCount", 1)
    if count < MIN_BACKGROUND_REPLICAS:
        return [f"backgroundServices.replicaCount is {count}"]
    return []
