"""promtool, amtool and the servers, as the alerting tests find them: in .tools/alerting (`make alert-tools`:
Debian's prometheus and prometheus-alertmanager unpacked without root), else on PATH.

Without them a test skips, saying what to run, and fails instead when HAFLOW_REQUIRE_ALERT_TOOLS=1 (CI:
.ci/run), so a green CI run always includes the checks by the receivers of the alert configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

REQUIRE_ALERT_TOOLS = "HAFLOW_REQUIRE_ALERT_TOOLS"
TOOLS_DIR = REPO_ROOT / ".tools" / "alerting" / "root" / "usr" / "bin"
# Debian names the Alertmanager server prometheus-alertmanager.
ALIASES = {"alertmanager": ("prometheus-alertmanager", "alertmanager")}


def tool(name: str) -> Path:
    """The path of ``name``; skip (or fail, with HAFLOW_REQUIRE_ALERT_TOOLS=1) when it is nowhere."""
    for candidate in ALIASES.get(name, (name,)):
        local = TOOLS_DIR / candidate
        if local.is_file() and os.access(local, os.X_OK):
            return local
        found = shutil.which(candidate)
        if found:
            return Path(found)
    reason = f"{name} is neither in {TOOLS_DIR} nor on PATH: run `make alert-tools`"
    if os.environ.get(REQUIRE_ALERT_TOOLS) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ALERT_TOOLS}=1: the alerting tests must run here)", pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE_ALERT_TOOLS}=1 to make this a failure)")


def run(args: list[str | Path], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(arg) for arg in args], capture_output=True, text=True, cwd=cwd, timeout=120,
                          check=False)
