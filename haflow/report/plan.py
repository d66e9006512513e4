"""Reading one environment's synthesized plan: resources by type, references between them, Helm values.

The plan is cdktf's JSON (``cdk.tf.json`` per stack). Blocks with at most one item may appear as an
object or as a one-item list; both are accepted. Anything missing reads as None, never raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from haflow.synthesis import StackJson

REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_.\[\]]+\}")


@dataclass(frozen=True)
class Resource:
    stack: str
    type: str
    name: str
    body: dict[str, Any]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


class Plan:
    """The stacks of one environment (foundation and platform), searchable by resource type."""

    def __init__(self, stacks: dict[str, StackJson]) -> None:
        self.stacks = stacks

    def resources(self, *types: str) -> list[Resource]:
        return [resource for resource in self._all() if resource.type in types]

    def _all(self) -> Iterator[Resource]:
        for stack_name, stack in self.stacks.items():
            for rtype, items in (stack.get("resource") or {}).items():
                for name, body in (items or {}).items():
                    yield Resource(stack_name, rtype, name, body if isinstance(body, dict) else {})

    def find(self, rtype: str, name: str) -> Resource | None:
        for stack_name, stack in self.stacks.items():
            body = (stack.get("resource") or {}).get(rtype, {}).get(name)
            if isinstance(body, dict):
                return Resource(stack_name, rtype, name, body)
        return None

    def referenced(self, value: Any, rtype: str) -> list[Resource]:
        """The resources of ``rtype`` that ``value`` (a token string or a list of them) refers to."""
        found = []
        for text in as_list(value):
            if not isinstance(text, str):
                continue
            for ref_type, ref_name in REFERENCE.findall(text):
                resource = self.find(ref_type, ref_name) if ref_type == rtype else None
                if resource is not None:
                    found.append(resource)
        return found

    def subnet_azs(self, subnet_ids: Any) -> list[str]:
        """AZs of the subnets that ``subnet_ids`` refers to (literal AZs are not in a plan's ids)."""
        azs = {
            str(subnet.body.get("availability_zone"))
            for subnet in self.referenced(subnet_ids, "aws_subnet")
            if subnet.body.get("availability_zone")
        }
        return sorted(azs)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def block(body: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested block with at most one item, as a dict (empty when absent)."""
    items = as_list(body.get(key))
    return items[0] if items and isinstance(items[0], dict) else {}


def as_int(value: Any) -> int | None:
    """An integer attribute, or None when absent or an unresolved token."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def helm_values(release: Resource) -> dict[str, Any]:
    """A helm_release's effective values: its YAML documents merged in order, then its ``set`` entries."""
    merged: dict[str, Any] = {}
    for document in as_list(release.body.get("values")):
        try:
            loaded = yaml.safe_load(document) if isinstance(document, str) else None
        except yaml.YAMLError:
            loaded = None
        if isinstance(loaded, dict):
            merged = _merge(merged, loaded)
    for entry in as_list(release.body.get("set")):
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            _set_path(merged, entry["name"], entry.get("value"))
    return merged


def lookup(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merge(result[key], value)
        else:
            result[key] = value
    return result


def _set_path(values: dict[str, Any], dotted: str, value: Any) -> None:
    # Helm escapes literal dots in keys as "\."; keep them inside one key.
    keys = [key.replace("\0", ".") for key in dotted.replace("\\.", "\0").split(".")]
    node = values
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[keys[-1]] = value
