"""Rule-pack fixtures: the session's synthesized stacks on disk, and the render gate's output for the rendered rules."""

from __future__ import annotations

from tests.render.conftest import render_variant, rendered  # noqa: F401 (fixtures the rendered rules' tests use)
