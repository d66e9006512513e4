"""Small synthesized-stack fragments for rule unit tests: each builder returns {type: {logical id: body}}."""

from __future__ import annotations

from typing import Any

from haflow.config import Environment
from haflow.rules.engine import REGISTRY, Result, Status, check_scope
from haflow.rules.stack import Stack

Resources = dict[str, dict[str, dict[str, Any]]]


def ref(rtype: str, name: str, attribute: str = "id") -> str:
    return f"${{{rtype}.{name}.{attribute}}}"


def merge(*parts: Resources) -> Resources:
    merged: Resources = {}
    for part in parts:
        for rtype, items in part.items():
            merged.setdefault(rtype, {}).update(items)
    return merged


def results(rule_id: str, resources: Resources, env: Environment, stack_name: str = "prod-foundation") -> list[Result]:
    """What one rule says about every resource it applies to in a stack made of ``resources``."""
    return check_scope(Stack(stack_name, {"resource": resources}), env, [REGISTRY[rule_id]])


def statuses(rule_id: str, resources: Resources, env: Environment) -> set[Status]:
    return {result.status for result in results(rule_id, resources, env)}


def messages(rule_id: str, resources: Resources, env: Environment) -> list[str]:
    return [message for result in results(rule_id, resources, env) for message in result.messages]
