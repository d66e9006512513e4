"""Edge fixtures: prod's platform rendered once (Helm's engine + the render gate), for the nginx tests."""

from __future__ import annotations

import pytest

from haflow.config import Environment
from haflow.plan import StackJson
from haflow.render import RenderResult, render_environment
from tests.render.conftest import _require_charts


@pytest.fixture(scope="module")
def rendered_prod(synthesized: dict[str, StackJson], environments: dict[str, Environment]) -> RenderResult:
    _require_charts()
    return render_environment(synthesized, environments["prod"])
