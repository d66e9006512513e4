"""Tests take the list of environments from environments/, so adding one never turns `make test` red."""

from __future__ import annotations

import ast
from pathlib import Path

from haflow.config import environment_names
from tests.conftest import CONFIG_DIR, ENVIRONMENT_NAMES

TESTS = Path(__file__).resolve().parent


def test_the_environment_list_comes_from_the_environments_directory() -> None:
    assert tuple(environment_names(CONFIG_DIR)) == ENVIRONMENT_NAMES


def test_no_test_spells_out_the_list_of_environments() -> None:
    names = set(environment_names(CONFIG_DIR))
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.List | ast.Tuple | ast.Set) and len(node.elts) == len(names) > 1:
                values = {element.value for element in node.elts if isinstance(element, ast.Constant)}
                if values == names:
                    found.append(f"{path.relative_to(TESTS)}:{node.lineno}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ", ".join(sorted(names)) in node.value:
                found.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert found == [], "derive these from ENVIRONMENT_NAMES (tests/conftest.py) instead"
