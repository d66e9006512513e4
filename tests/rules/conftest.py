"""Rule-pack fixtures: the session's synthesized stacks on disk, and the render gate's output for the rendered rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from haflow.synthesis import STACK_FILE, StackJson
from tests.render.conftest import render_variant, rendered  # noqa: F401 (fixtures the rendered rules' tests use)


@pytest.fixture(scope="session")
def stacks_dir(tmp_path_factory: pytest.TempPathFactory, synthesized: dict[str, StackJson]) -> Path:
    """The session synth written out as `cdktf synth` lays it out: DIR/stacks/<stack>/cdk.tf.json."""
    root = tmp_path_factory.mktemp("check-from") / "cdktf.out"
    for name, stack in synthesized.items():
        path = root / "stacks" / name / STACK_FILE
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(stack, indent=2), encoding="utf-8")
    return root
