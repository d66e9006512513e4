"""Writing bad overlays into a copy of environments/ and finding the issue they cause."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from haflow.config import ConfigError, ConfigIssue, load_environments
from tests.conftest import CONFIG_DIR


def config_dir_with(tmp_path: Path, files: dict[str, str]) -> Path:
    """A copy of the real environments/ with some files replaced."""
    target = tmp_path / "environments"
    shutil.copytree(CONFIG_DIR, target)
    for name, text in files.items():
        (target / name).write_text(text, encoding="utf-8")
    return target


def issues_at(config_dir: Path, env: str, path: str) -> list[ConfigIssue]:
    """Loading ``env`` must fail; the issues it reports at key ``path`` (at least one)."""
    with pytest.raises(ConfigError) as caught:
        load_environments([env], config_dir)
    matching = [issue for issue in caught.value.issues if issue.path == path]
    assert matching, f"no issue at {path}; got: {caught.value.render()}"
    return matching
