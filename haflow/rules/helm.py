"""The values a helm_release installs: its YAML ``values`` documents merged in order, then ``set`` entries.

Helm merges values files key by key (later files win, lists replace) and applies ``--set`` last; the
rules see the same merged tree. A ``values`` entry that is a Terraform expression rather than YAML
text (``${yamlencode(...)}``) cannot be read, and is Unresolved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml

from haflow.rules.stack import MISSING, Resource, Unresolved, as_integer, is_expression

HELM_RELEASE = "helm_release"
# `set` names are dotted paths; a literal dot inside a key is written "\.".
_UNESCAPED_DOT = re.compile(r"(?<!\\)\.")


def chart_name(release: Resource) -> str:
    """The chart's name, whether ``chart`` is a name, a repository path or an OCI reference."""
    return release.string("chart").rstrip("/").rsplit("/", 1)[-1]


def release_values(release: Resource) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for index, document in enumerate(release.value("values", [])):
        path = f"values[{index}]"
        if not isinstance(document, str) or document.lstrip().startswith("${"):
            raise Unresolved(path, f"{str(document)[:60]!r} is a Terraform expression, not YAML text")
        try:
            parsed = yaml.safe_load(document) or {}
        except yaml.YAMLError as err:
            raise Unresolved(path, f"is not valid YAML ({err})") from None
        if not isinstance(parsed, dict):
            raise Unresolved(path, "is not a YAML mapping")
        merged = _merge(merged, parsed)
    for block in ("set", "set_sensitive"):
        for entry in release.body.get(block, []) or []:
            keys = [key.replace("\\.", ".") for key in _UNESCAPED_DOT.split(str(entry.get("name", "")))]
            _assign(merged, keys, entry.get("value"))
    return merged


def _merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _assign(tree: dict[str, Any], keys: list[str], value: Any) -> None:
    node = tree
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


class Values:
    """Read access to merged chart values with the chart's own defaults, reported like resource attributes."""

    def __init__(self, release: Resource, tree: Mapping[str, Any]) -> None:
        self.release = release
        self.tree = tree

    def raw(self, path: str, default: Any = None) -> Any:
        """The value at ``path`` even when it is a Terraform expression (for presence checks)."""
        node: Any = self.tree
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def get(self, path: str, default: Any = MISSING) -> Any:
        node: Any = self.tree
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                if default is MISSING:
                    raise Unresolved(f"values {path}", "is not set")
                return default
            node = node[part]
        if is_expression(node):
            raise Unresolved(f"values {path}", f"{node!r} is a Terraform expression, not a literal")
        return node

    def integer(self, path: str, default: Any = MISSING) -> int:
        return as_integer(self.get(path, default), f"values {path}")

    def boolean(self, path: str, default: Any = MISSING) -> bool:
        found = self.get(path, default)
        if isinstance(found, bool):
            return found
        if isinstance(found, str) and found.lower() in ("true", "false"):
            return found.lower() == "true"
        raise Unresolved(f"values {path}", f"{found!r} is not true or false")


def values_of(release: Resource) -> Values:
    return Values(release, release_values(release))
