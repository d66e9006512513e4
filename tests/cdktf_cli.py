"""Where the tests find the cdktf CLI, and what they do without one.

Found as $HAFLOW_CDKTF, .cdktf-cli/node_modules/.bin/cdktf (`make cdktf-cli`, which `make test` runs: npm ci of
deploy/cdktf-cli/package-lock.json), or cdktf on PATH. Without one the tests skip, saying what to run; with
HAFLOW_REQUIRE_CDKTF=1 (.ci/run sets it) they fail, so a green CI run always asked the real CLI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

from tests.conftest import REPO_ROOT

REQUIRE_CDKTF = "HAFLOW_REQUIRE_CDKTF"
LOCAL_CLI = REPO_ROOT / ".cdktf-cli" / "node_modules" / ".bin" / "cdktf"


def cdktf_missing(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_CDKTF) == "1":
        pytest.fail(f"{reason} ({REQUIRE_CDKTF}=1: the cdktf CLI tests must run here)", pytrace=False)
    pytest.skip(f"{reason} (set {REQUIRE_CDKTF}=1 to make this a failure)")


def cdktf_cli() -> Path:
    """The cdktf CLI to run; skip (fail with HAFLOW_REQUIRE_CDKTF=1) without one."""
    for candidate in (os.environ.get("HAFLOW_CDKTF"), str(LOCAL_CLI), shutil.which("cdktf")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    cdktf_missing("no cdktf CLI: run `make cdktf-cli` (or set HAFLOW_CDKTF)")
