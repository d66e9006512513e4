"""promtool, amtool and the servers, as the alerting tests find them: in .tools/alerting (`make alert-tools`:
Debian's prometheus and prometheus-alertmanager unpacked without root), else on PATH.

Without them a test skips, saying what to run, and fails instead when HAFLOW_REQUIRE_ALERT_TOOLS=1 (CI:
.ci/run), so a green CI run always includes the checks by the receivers of the alert configuration.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
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


# Debian's Alertmanager reads its default notification templates from this directory (a packaging patch;
# upstream embeds them), and refuses to apply a configuration without them.
DEBIAN_ASSETS = b"/usr/share/prometheus/alertmanager"


def alertmanager_binary(workdir: Path) -> Path:
    """The Alertmanager server, runnable without root from the unpacked package.

    When the package is only unpacked (``make alert-tools``), its templates are not at DEBIAN_ASSETS: the
    binary is copied into ``workdir`` with that path string replaced, byte for byte and of the same length,
    by a symlink to the unpacked templates, so nothing outside the repository and /tmp is touched.
    """
    binary = tool("alertmanager")
    installed = Path(DEBIAN_ASSETS.decode(), "default.tmpl")
    data = binary.read_bytes()
    if DEBIAN_ASSETS not in data or installed.is_file():
        return binary
    assets = binary.parent.parent / "share" / "prometheus" / "alertmanager"
    assert (assets / "default.tmpl").is_file(), f"{assets} holds no default.tmpl"
    short = Path(tempfile.mkdtemp(prefix="am", dir="/tmp"))
    link = short / ("a" * (len(DEBIAN_ASSETS) - len(str(short)) - 1))
    assert len(str(link)) == len(DEBIAN_ASSETS)
    link.symlink_to(assets)
    relocated = workdir / "alertmanager"
    relocated.write_bytes(data.replace(DEBIAN_ASSETS, str(link).encode()))
    relocated.chmod(0o755)
    return relocated
