"""Reading synthesized Terraform JSON in tests: resources by type, and following ${type.name.attr} references."""

from __future__ import annotations

import copy
import re
from typing import Any

REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z0-9_.\[\]]+)\}$")


def resources(stack: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = stack.get("resource", {}).get(rtype, {})
    return found


def referenced(stack: dict[str, Any], expression: str) -> tuple[str, str, dict[str, Any]]:
    """The (type, logical id, body) of the resource an exact ``${type.id.attr}`` expression points at."""
    match = REFERENCE.match(expression)
    assert match, f"not a plain reference: {expression!r}"
    rtype, name, _ = match.groups()
    return rtype, name, resources(stack, rtype)[name]


def address(rtype: str, name: str) -> str:
    return f"${{{rtype}.{name}.id}}"


def own(stacks: dict[str, Any], env: Any) -> dict[str, Any]:
    """A deep copy of ``env``'s stacks (and the shared bootstrap stack), for a test to mutate."""
    return {name: copy.deepcopy(stack) for name, stack in stacks.items() if name in ("bootstrap", *env.stack_names)}


def unreplicated_bucket(stacks: dict[str, Any]) -> None:
    """prod's artifacts bucket without its cross-region replication."""
    stacks["prod-foundation"]["resource"].pop("aws_s3_bucket_replication_configuration")
