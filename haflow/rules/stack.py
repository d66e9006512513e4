"""Read-only views of one synthesized stack: resources, references between them, literal attributes.

Rules never read the JSON directly: every attribute goes through ``value`` (or a typed getter), which
raises ``Unverifiable`` when the attribute is missing without a documented default or holds a Terraform
expression (``${...}``) where the rule needs a literal. The engine turns that into a finding, so a
value the rule cannot see is never a silent pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, Final

from haflow import plan
from haflow.plan import as_bool, as_int, is_expression


class Missing:
    """Marker for 'no default': the attribute must be present."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = Missing()


class Unverifiable(Exception):
    """A value the rule needs and cannot determine from the plan."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"cannot verify {path}: {problem}")


class LiteralResource(plan.Resource):
    """A resource of a checked stack: its attributes are read as literals, or raise Unverifiable."""

    def has(self, path: str) -> bool:
        try:
            _walk(self.body, path)
        except KeyError:
            return False
        return True

    def value(self, path: str, default: Any = MISSING) -> Any:
        """The literal at dotted ``path``; a single nested block may be written as an object or a list of one."""
        try:
            found = _walk(self.body, path)
        except KeyError:
            if default is MISSING:
                raise Unverifiable(path, "the attribute is not set") from None
            return default
        if is_expression(found):
            raise Unverifiable(path, f"{found!r} is a Terraform expression, not a literal")
        return found

    def boolean(self, path: str, default: Any = MISSING) -> bool:
        return as_boolean(self.value(path, default), path)

    def integer(self, path: str, default: Any = MISSING) -> int:
        return as_integer(self.value(path, default), path)

    def string(self, path: str, default: Any = MISSING) -> str:
        found = self.value(path, default)
        if not isinstance(found, str):
            raise Unverifiable(path, f"{found!r} is not a string")
        return found

    def strings(self, path: str, default: Any = MISSING) -> list[str]:
        found = self.value(path, default)
        if not isinstance(found, list):
            raise Unverifiable(path, f"{found!r} is not a list")
        return [str(item) for item in found]


def as_integer(found: Any, path: str) -> int:
    number = as_int(found)
    if number is None:
        raise Unverifiable(path, f"{found!r} is not a whole number")
    return number


def as_boolean(found: Any, path: str) -> bool:
    flag = as_bool(found)
    if flag is None:
        raise Unverifiable(path, f"{found!r} is not true or false")
    return flag


def _walk(node: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(node, list) and len(node) == 1:
            node = node[0]
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(part)
        node = node[part]
    if isinstance(node, list) and len(node) == 1 and isinstance(node[0], Mapping):
        node = node[0]
    return node


class Stack:
    """One synthesized stack (the parsed ``cdk.tf.json``), checked on the day ``as_of``.

    ``as_of`` is the date rules about time (support windows, stale facts) judge against; left out, today.
    """

    reads: Final = "plan"  # what the engine's PLAN rules read

    def __init__(self, name: str, document: Mapping[str, Any], as_of: date | None = None,
                 others: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """``others``: the environment's other stacks (name -> document), for the few rules that follow a
        cross-stack reference (``siblings``)."""
        self.name = name
        self.document = document
        self.as_of = as_of or date.today()
        self._others = {key: value for key, value in (others or {}).items() if key != name}
        self._by_address = {
            found.address: LiteralResource(found.type, found.name, found.body) for found in plan.resources(document)
        }

    def siblings(self) -> list[Stack]:
        """The environment's other stacks, as given (``others``)."""
        return [Stack(key, value, self.as_of) for key, value in self._others.items()]

    def resources(self, *types: str) -> list[LiteralResource]:
        """Resources of the given types (every resource when none is given), in stack order."""
        return [r for r in self._by_address.values() if not types or r.type in types]

    def subjects(self, *types: str) -> list[LiteralResource]:
        """What a plan rule judges: the resources of ``types``."""
        return self.resources(*types)

    def get(self, address: str) -> LiteralResource | None:
        return self._by_address.get(address)

    def referenced(self, resource: LiteralResource, path: str, *types: str) -> LiteralResource:
        """The resource that ``resource.<path>`` refers to; Unverifiable unless it is a reference into this stack."""
        raw = _raw(resource, path)
        target = self.resolve(raw, *types)
        if target is None:
            expected = " or ".join(types) if types else "a resource"
            raise Unverifiable(path, f"{raw!r} is not a reference to {expected} in stack {self.name}")
        return target

    def referenced_list(self, resource: LiteralResource, path: str, *types: str) -> list[LiteralResource]:
        """The resources a list attribute refers to (``subnet_ids``); Unverifiable unless each item is a reference."""
        raw = _raw(resource, path)
        if not isinstance(raw, list):
            raise Unverifiable(path, f"{raw!r} is not a list of references")
        found = []
        for item in raw:
            target = self.resolve(item, *types)
            if target is None:
                expected = " or ".join(types) if types else "a resource"
                raise Unverifiable(path, f"{item!r} is not a reference to {expected} in stack {self.name}")
            found.append(target)
        return found

    def resolve(self, raw: Any, *types: str) -> LiteralResource | None:
        """The resource a ``${type.id.attr}`` token names, or None."""
        ref = plan.reference(raw)
        if ref is None or (types and ref.rtype not in types):
            return None
        return self._by_address.get(ref.address)

    def referencing(self, target: LiteralResource, rtype: str, path: str) -> list[LiteralResource]:
        """Resources of ``rtype`` whose ``path`` is a reference to ``target`` (e.g. a bucket's versioning)."""
        return [
            candidate
            for candidate in self.resources(rtype)
            if any(self.resolve(raw) == target for raw in _raw_values(candidate, path))
        ]


def _raw(resource: LiteralResource, path: str) -> Any:
    try:
        return _walk(resource.body, path)
    except KeyError:
        raise Unverifiable(path, "the attribute is not set") from None


def _raw_values(resource: LiteralResource, path: str) -> Iterator[Any]:
    try:
        found = _walk(resource.body, path)
    except KeyError:
        return
    yield from found if isinstance(found, list) else [found]
