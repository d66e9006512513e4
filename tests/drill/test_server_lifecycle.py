"""The session's moto_server is stopped when the session ends, even when its tests fail or are interrupted."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

FAILING_SESSION = '''
import pathlib

def test_records_the_endpoint_then_{outcome}(moto_endpoint):
    pathlib.Path({record!r}).write_text(moto_endpoint)
    {ending}
'''


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2):
            return True
    except (urllib.error.URLError, OSError):
        return False


@pytest.mark.slow
@pytest.mark.parametrize(
    ("outcome", "ending"),
    [("fails", "assert False"), ("is_interrupted", "raise KeyboardInterrupt")],
)
def test_server_is_stopped_after_a_session_that_ends_badly(tmp_path: Path, outcome: str, ending: str) -> None:
    record = tmp_path / "endpoint"
    test_file = tmp_path / "test_session.py"
    test_file.write_text(FAILING_SESSION.format(outcome=outcome, record=str(record), ending=ending))
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.moto", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(test_file)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert finished.returncode != 0, finished.stdout
    url = record.read_text()
    assert not answers(url), f"moto_server at {url} outlived its session"
