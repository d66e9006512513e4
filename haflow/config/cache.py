"""The `cache` section: ElastiCache Redis, cluster mode disabled (Prefect supports standalone Redis only)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from haflow.config.limits import CACHE_MAX_NODES, CACHE_MIN_NODES_FOR_FAILOVER, SNAPSHOT_RETENTION_MAX_DAYS
from haflow.config.names import EC2_INSTANCE_TYPE
from haflow.config.section import DAILY_WINDOW, WEEKLY_WINDOW, Section, check_window, custom_error

# An ElastiCache node type is cache.<family>.<size>.
CACHE_NODE_TYPE = re.compile(r"^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$")


class Cache(Section):
    """ElastiCache Redis, cluster mode disabled (Prefect supports standalone Redis only), Multi-AZ."""

    engine_version: str = Field(default="7.1", description="Redis engine version MAJOR.MINOR; default 7.1")
    node_type: str = Field(default="cache.r7g.large", description="Node type; default cache.r7g.large")
    num_cache_clusters: int = Field(
        default=2, json_schema_extra={"minimum": CACHE_MIN_NODES_FOR_FAILOVER, "maximum": CACHE_MAX_NODES},
        description="Nodes (one primary, the rest replicas), spread over the AZs in order; default 2",
    )
    snapshot_retention_days: int = Field(
        default=7, ge=0, le=SNAPSHOT_RETENTION_MAX_DAYS,
        description="Daily snapshots kept; default 7 (0 disables)"
    )
    snapshot_window: str = Field(
        default="04:00-05:00", description="Daily snapshot window, UTC; default 04:00-05:00",
    )
    maintenance_window: str = Field(
        default="sun:06:00-sun:07:00",
        description="Weekly maintenance window, UTC; default sun:06:00-sun:07:00"
    )
    protect_from_destroy: bool = Field(
        default=False,
        description="prevent_destroy on the replication group, its key and auth secret; default false"
    )

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str) -> str:
        if not re.match(r"^[67]\.\d+$", value):
            raise custom_error("not a Redis engine version 6.x or 7.x (MAJOR.MINOR)", "use 7.1")
        return value

    @field_validator("num_cache_clusters")
    @classmethod
    def _nodes(cls, value: int) -> int:
        if value < CACHE_MIN_NODES_FOR_FAILOVER:
            raise custom_error(
                f"must be >= {CACHE_MIN_NODES_FOR_FAILOVER}: automatic failover and Multi-AZ need a replica "
                "in another AZ to promote",
                f"set cache.num_cache_clusters: {CACHE_MIN_NODES_FOR_FAILOVER}",
            )
        if value > CACHE_MAX_NODES:
            raise custom_error(
                f"must be <= {CACHE_MAX_NODES}: a replication group without cluster mode has one primary "
                f"and at most {CACHE_MAX_NODES - 1} replicas",
                f"set cache.num_cache_clusters: {CACHE_MAX_NODES} or fewer",
            )
        return value

    @field_validator("node_type")
    @classmethod
    def _node_type(cls, value: str) -> str:
        if not CACHE_NODE_TYPE.match(value):
            raise custom_error(
                "not an ElastiCache node type (cache.<family>.<size>, e.g. cache.r7g.large)",
                f"write it as cache.{value}" if EC2_INSTANCE_TYPE.match(value) else "use cache.r7g.large",
            )
        return value

    @field_validator("snapshot_window")
    @classmethod
    def _snapshot_window(cls, value: str) -> str:
        return check_window(value, DAILY_WINDOW, "04:00-05:00")

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str) -> str:
        return check_window(value, WEEKLY_WINDOW, "sun:06:00-sun:07:00")

    @property
    def engine_major(self) -> int:
        return int(self.engine_version.split(".")[0])
