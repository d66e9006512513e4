"""Snapshots of every synthesized stack (syrupy JSON). A diff here is a plan change: review it like code.

Refresh after an intended change with `.venv/bin/pytest tests/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from haflow.config import load_environments
from tests.conftest import CONFIG_DIR, REPO_ROOT

STACKS = [
    "bootstrap",
    *(name for env in load_environments(config_dir=CONFIG_DIR) for name in env.stack_names),
]
# What would make a snapshot differ between machines or runs.
MACHINE_SPECIFIC = [
    # /home/prefect is a path inside the Prefect image (its HOME, haflow/constructs/prefect_migrations.py), the
    # same on every machine
    re.compile(r"(?<![\w$.{])/(tmp|home(?!/prefect\b)|root|work|Users|var|private)/"),
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),
]


def masked(value: Any) -> Any:
    """The stack with anything tied to this checkout replaced by a placeholder."""
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str):
        return value.replace(str(REPO_ROOT), "<repo>")
    return value


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_the_app_synthesizes_exactly_these_stacks(synthesized: dict[str, Any]) -> None:
    assert sorted(synthesized) == sorted(STACKS)


@pytest.mark.parametrize("stack_name", STACKS)
def test_stack_snapshot(synthesized: dict[str, Any], stack_name: str, snapshot_json: SnapshotAssertion) -> None:
    assert masked(synthesized[stack_name]) == snapshot_json


@pytest.mark.parametrize("stack_name", STACKS)
def test_stack_has_no_machine_specific_values(synthesized: dict[str, Any], stack_name: str) -> None:
    text = json.dumps(synthesized[stack_name])
    for pattern in MACHINE_SPECIFIC:
        assert not pattern.search(text), f"{stack_name} holds {pattern.search(text)}"


def test_dns_alarms_stack_snapshot(dns_variant: tuple[Any, dict[str, Any]], snapshot_json: SnapshotAssertion) -> None:
    """<env>-dns-alarms exists only with dr.dns, which no shipped environment sets: prod with it (tests/conftest.py)."""
    env, stacks = dns_variant
    assert masked(stacks[env.dns_alarms_stack_name]) == snapshot_json
    text = json.dumps(stacks[env.dns_alarms_stack_name])
    assert not any(pattern.search(text) for pattern in MACHINE_SPECIFIC)
