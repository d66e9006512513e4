"""What a test does when the pinned chart packages are not there: skip locally, fail where they are required."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_CHARTS = "HAFLOW_REQUIRE_CHARTS"


def charts_missing(reason: str) -> NoReturn:
    """Skip, saying ``reason``; with HAFLOW_REQUIRE_CHARTS=1 (CI, the deploy runner) fail instead."""
    if os.environ.get(REQUIRE_CHARTS) == "1":
        pytest.fail(f"{reason} ({REQUIRE_CHARTS}=1: the render tests must run here)", pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE_CHARTS}=1 to make this a failure)")
