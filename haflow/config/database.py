"""The `database` section: Aurora PostgreSQL, one writer and readers spread over the availability zones.

Structural rules sit on the fields; the cross-field rules are in haflow.config.checks.foundation.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from haflow import facts
from haflow.config.limits import (
    AURORA_MAX_INSTANCES,
    BACKUP_RETENTION_RANGE,
    PERFORMANCE_INSIGHTS_FREE_DAYS,
    PERFORMANCE_INSIGHTS_MAX_DAYS,
    PREFECT_PASSWORD_ROTATION_DEFAULT_DAYS,
    PREFECT_PASSWORD_ROTATION_RANGE,
    PROMOTION_TIER_MAX,
    SUPPORTED_AURORA_POSTGRES_MAJORS,
    AuroraLogExport,
)
from haflow.config.names import EC2_INSTANCE_TYPE
from haflow.config.section import (
    DAILY_WINDOW,
    LOG_RETENTION_MAX,
    LOG_RETENTION_MIN,
    WEEKLY_WINDOW,
    Section,
    check_log_retention,
    check_window,
    custom_error,
)

DEFAULT_AURORA_LOG_EXPORTS: tuple[AuroraLogExport, ...] = ("postgresql",)
# The tier range shows in the schema; the range check itself is _tiers below (a message with the fix).
PromotionTier = Annotated[int, Field(json_schema_extra={"minimum": 0, "maximum": PROMOTION_TIER_MAX})]
# An RDS instance class is db.<family>.<size>.
DB_INSTANCE_CLASS = re.compile(r"^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$")
# PostgreSQL identifiers: a letter, then letters, digits, underscores; at most 63 characters.
PG_IDENTIFIER = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$")


class Database(Section):
    """Aurora PostgreSQL: one writer and readers, one instance per AZ in availability_zones order."""

    engine_version: str = Field(
        default=facts.DEFAULT_AURORA_POSTGRES_VERSION,
        description=f"Aurora PostgreSQL engine version MAJOR.MINOR, a minor AWS still offers on the first deploy "
        f"(HA-DB-007); default {facts.DEFAULT_AURORA_POSTGRES_VERSION}",
    )
    instance_class: str = Field(
        default="db.r6g.large", description="Instance class of every instance; default db.r6g.large",
    )
    instances: int = Field(
        default=2, ge=1, le=AURORA_MAX_INSTANCES,
        description="Instances, one per AZ in availability_zones order (the first is the initial writer); "
        "default 2",
    )
    promotion_tiers: list[PromotionTier] = Field(
        default_factory=list,
        description="Failover priority of each instance (0 first .. 15); default: instance i gets tier i, "
        "so the instance in the second AZ is promoted first",
    )
    database_name: str = Field(
        default="prefect", description="Database created in the cluster; default prefect",
    )
    master_username: str = Field(
        default="haflow_admin",
        description="Master user; Secrets Manager generates and keeps its password; default haflow_admin",
    )
    backup_retention_days: int = Field(
        default=7, ge=BACKUP_RETENTION_RANGE[0], le=BACKUP_RETENTION_RANGE[1],
        description="Days of automated backups (point-in-time restore); default 7",
    )
    preferred_backup_window: str = Field(
        default="03:00-04:00", description="Daily backup window, UTC; default 03:00-04:00",
    )
    preferred_maintenance_window: str = Field(
        default="sun:05:00-sun:06:00",
        description="Weekly maintenance window, UTC; default sun:05:00-sun:06:00"
    )
    deletion_protection: bool = Field(default=True, description="RDS deletion protection; default true")
    final_snapshot: bool = Field(
        default=True, description="Take a final snapshot when the cluster is deleted; default true"
    )
    log_exports: list[AuroraLogExport] = Field(
        default_factory=lambda: list(DEFAULT_AURORA_LOG_EXPORTS),
        description="Logs exported to CloudWatch Logs; default [postgresql]"
    )
    log_retention_days: int = Field(
        default=90, ge=LOG_RETENTION_MIN, le=LOG_RETENTION_MAX,
        description="Retention of the exported logs' groups (/aws/rds/cluster/<id>/<log>), which the stack "
        "creates KMS-encrypted before the cluster; default 90",
    )
    prefect_password_rotation_days: int = Field(
        default=PREFECT_PASSWORD_ROTATION_DEFAULT_DAYS, ge=PREFECT_PASSWORD_ROTATION_RANGE[0],
        le=PREFECT_PASSWORD_ROTATION_RANGE[1],
        description="Days between rotations of Prefect's database password (Secrets Manager's schedule for haflow's "
        "alternating-users rotation function, docs/security-prefect.md); default 30",
    )
    performance_insights_retention_days: int = Field(
        default=PERFORMANCE_INSIGHTS_FREE_DAYS, ge=PERFORMANCE_INSIGHTS_FREE_DAYS, le=PERFORMANCE_INSIGHTS_MAX_DAYS,
        description="Performance Insights retention: 7 (free) or a multiple of 31 up to 731; default 7",
    )
    protect_from_destroy: bool = Field(
        default=False, description="prevent_destroy on the cluster, its instances and its key; default false"
    )

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str) -> str:
        match = re.match(r"^(\d+)\.(\d+)$", value)
        if not match or int(match.group(1)) not in SUPPORTED_AURORA_POSTGRES_MAJORS:
            majors = ", ".join(str(major) for major in SUPPORTED_AURORA_POSTGRES_MAJORS)
            raise custom_error(
                f"not an Aurora PostgreSQL version MAJOR.MINOR with a supported major ({majors})",
                f"use {facts.DEFAULT_AURORA_POSTGRES_VERSION}",
            )
        return value

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        if not DB_INSTANCE_CLASS.match(value):
            raise custom_error(
                "not an RDS instance class (db.<family>.<size>, e.g. db.r6g.large)",
                f"write it as db.{value}" if EC2_INSTANCE_TYPE.match(value) else "use e.g. db.r6g.large",
            )
        return value

    @field_validator("promotion_tiers")
    @classmethod
    def _tiers(cls, value: list[int]) -> list[int]:
        if any(not 0 <= tier <= PROMOTION_TIER_MAX for tier in value):
            raise custom_error(f"promotion tiers run from 0 to {PROMOTION_TIER_MAX}", "use tiers 0-15")
        return value

    @field_validator("database_name", "master_username")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not PG_IDENTIFIER.match(value):
            raise custom_error(
                "PostgreSQL names are a letter followed by up to 62 letters, digits or underscores",
                "use e.g. prefect",
            )
        return value

    @field_validator("preferred_backup_window")
    @classmethod
    def _backup_window(cls, value: str) -> str:
        return check_window(value, DAILY_WINDOW, "03:00-04:00")

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention_days(cls, value: int) -> int:
        return check_log_retention(value)

    @field_validator("preferred_maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str) -> str:
        return check_window(value, WEEKLY_WINDOW, "sun:05:00-sun:06:00")

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, value: int) -> int:
        allowed = value in (PERFORMANCE_INSIGHTS_FREE_DAYS, PERFORMANCE_INSIGHTS_MAX_DAYS) or (
            value % 31 == 0 and 0 < value < PERFORMANCE_INSIGHTS_MAX_DAYS
        )
        if not allowed:
            raise custom_error(
                "Performance Insights keeps 7 days, a multiple of 31 days, or 731 days",
                "use 7 (free tier) or 31",
            )
        return value

    @property
    def engine_major(self) -> int:
        return int(self.engine_version.split(".")[0])

    def tier_of(self, index: int) -> int:
        """The promotion tier of instance ``index``: from promotion_tiers, else the index itself."""
        return self.promotion_tiers[index] if self.promotion_tiers else min(index, PROMOTION_TIER_MAX)
