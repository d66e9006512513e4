"""Chart values as the rules read them: the tree Helm installs (``haflow.plan.release_values``), with
the chart's own defaults for what the release leaves out.

A ``values`` entry that is a Terraform expression rather than YAML text (``${yamlencode(...)}``) cannot
be read, and is Unverifiable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from haflow import plan
from haflow.plan import UnreadableValues, is_expression, lookup
from haflow.rules.stack import MISSING, LiteralResource, Unverifiable, as_boolean, as_integer


def chart_name(release: LiteralResource) -> str:
    return plan.chart_name(release.string("chart"))


def release_values(release: LiteralResource) -> dict[str, Any]:
    try:
        return plan.release_values(release)
    except UnreadableValues as err:
        raise Unverifiable(err.path, err.problem) from None


class Values:
    """Read access to merged chart values with the chart's own defaults, reported like resource attributes."""

    def __init__(self, release: LiteralResource, tree: Mapping[str, Any]) -> None:
        self.release = release
        self.tree = tree

    def raw(self, path: str, default: Any = None) -> Any:
        """The value at ``path`` even when it is a Terraform expression (for presence checks)."""
        return lookup(self.tree, path, default)

    def get(self, path: str, default: Any = MISSING) -> Any:
        node = self.raw(path, MISSING)
        if node is MISSING:
            if default is MISSING:
                raise Unverifiable(f"values {path}", "is not set")
            return default
        if is_expression(node):
            raise Unverifiable(f"values {path}", f"{node!r} is a Terraform expression, not a literal")
        return node

    def integer(self, path: str, default: Any = MISSING) -> int:
        return as_integer(self.get(path, default), f"values {path}")

    def boolean(self, path: str, default: Any = MISSING) -> bool:
        return as_boolean(self.get(path, default), f"values {path}")


def values_of(release: LiteralResource) -> Values:
    return Values(release, release_values(release))
