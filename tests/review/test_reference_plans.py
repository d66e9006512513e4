"""tests/review/reference-plans.txt, from which GitHub's runners fetch the shared real plans (they have no
../shared), names the very bytes of ../shared/reference/plans and every plan the tests read."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.conftest import REPO_ROOT
from tests.review import test_plan_inputs
from tests.review.conftest import SHARED_PLANS

LIST = REPO_ROOT / "tests" / "review" / "reference-plans.txt"
WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"


def entries() -> dict[str, tuple[str, str, str, str]]:
    """file name -> (sha256, repository, commit, path)"""
    found = {}
    for line in LIST.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            sha, name, repo, commit, path = line.split()
            found[name] = (sha, repo, commit, path)
    return found


def test_each_entry_is_pinned_to_a_commit_and_a_digest() -> None:
    for name, (sha, repo, commit, path) in entries().items():
        assert re.fullmatch(r"[0-9a-f]{64}", sha) and re.fullmatch(r"[0-9a-f]{40}", commit), name
        assert name.startswith(repo.replace("/", "_") + "__") and name.endswith(path.replace("/", "_")), name


def test_every_plan_the_tests_read_is_listed() -> None:
    used = {value for key, value in vars(test_plan_inputs).items() if key.isupper() and str(value).endswith(".json")}
    assert used and used <= set(entries())


def test_the_list_holds_the_digests_of_the_shared_plans() -> None:
    if not SHARED_PLANS.is_dir():
        pytest.skip(f"{SHARED_PLANS} absent: nothing to compare the list with")
    shared = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in SHARED_PLANS.glob("*.json")}
    assert shared == {name: entry[0] for name, entry in entries().items()}


def test_the_workflow_fetches_them_for_the_tests() -> None:
    workflow = WORKFLOW.read_text(encoding="utf-8")
    assert "done < tests/review/reference-plans.txt" in workflow
    assert "sha256sum --check --strict --quiet" in workflow
    assert 'echo "HAFLOW_SHARED_DIR=$RUNNER_TEMP/shared" >> "$GITHUB_ENV"' in workflow
