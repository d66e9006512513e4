"""What every section model shares: the base class, the error that carries a fix, and the checks of values
several sections hold (regions, log retention, maintenance windows).

A leaf of haflow.config: the section modules and the environment model import it, it imports only
haflow.config.names and haflow.config.limits.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from haflow.config import names
from haflow.config.limits import LOG_RETENTION_DAYS

LOG_RETENTION_MIN, LOG_RETENTION_MAX = LOG_RETENTION_DAYS[0], LOG_RETENTION_DAYS[-1]
# An SLO is judged over a month: an RTO or RPO longer than that cannot be met or missed within one.
SLO_MAX_SECONDS = 31 * 24 * 3600
# hh24:mi-hh24:mi (UTC) and ddd:hh24:mi-ddd:hh24:mi, as RDS and ElastiCache write windows.
DAILY_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
WEEKLY_WINDOW = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-"
                           r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$")


def custom_error(problem: str, fix: str) -> PydanticCustomError:
    """A validation error whose message and fix survive into the ConfigIssue."""
    return PydanticCustomError("haflow", problem, {"fix": fix})


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are immutable after load."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(days) for days in LOG_RETENTION_DAYS)
        nearest = min(LOG_RETENTION_DAYS, key=lambda days: abs(days - value))
        raise custom_error(
            f"CloudWatch Logs accepts only these retention periods: {allowed}", f"use {nearest}"
        )
    return value


def check_region(value: str) -> str:
    if not names.REGION.match(value):
        raise custom_error(
            "not an AWS region code (for example us-east-1, eu-west-2, us-gov-west-1)",
            "use the region code, not its display name",
        )
    return value


def check_window(value: str, pattern: re.Pattern[str], example: str) -> str:
    if not pattern.match(value):
        raise custom_error(f"not a window in the form {example} (UTC)", f"write it like {example}")
    return value
