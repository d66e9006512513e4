"""config is the lowest layer: loading it imports nothing above it (no rule pack, no report, no constructs)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

ABOVE_CONFIG = ("haflow.constructs", "haflow.stacks", "haflow.app", "haflow.synthesis", "haflow.plan",
                "haflow.rules", "haflow.report", "haflow.review", "haflow.drill", "haflow.render",
                "haflow.commands", "haflow.cli")


def test_loading_every_environment_imports_nothing_above_config() -> None:
    probe = (
        "import sys; from haflow.config import load_environments; load_environments(); "
        f"above = sorted(m for m in sys.modules if m.startswith({ABOVE_CONFIG!r})); "
        "assert not above, above"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
