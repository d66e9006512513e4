"""Plain nested dicts and lists into the typed jsii structs a generated binding expects.

The bindings turn a dict into its struct only one level down; a dict inside a list (containers,
ports, env, topology spread constraints, HPA metrics ...) reaches jsii untyped and is rejected.
``struct_kwargs`` walks the binding's own type hints and builds every struct on the way, so
constructs can describe Kubernetes objects as data.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(vars(cls)["__init__"])


def _is_struct(candidate: Any) -> bool:
    """jsii marks data types (structs), unlike resources and other classes, with __jsii_struct_bases__."""
    return isinstance(candidate, type) and "__jsii_struct_bases__" in vars(candidate)


def _struct_in(hint: Any) -> type | None:
    """The jsii struct class a (Union/Optional) hint admits for a mapping, if any."""
    if isinstance(hint, type) and _is_struct(hint):
        return hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            found = _struct_in(arg)
            if found is not None:
                return found
    return None


def _item_hint(hint: Any) -> Any:
    """The element hint of a Sequence[...] inside a (Union/Optional) hint, if any."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            found = _item_hint(arg)
            if found is not None:
                return found
        return None
    if origin in (list, Sequence, typing.Sequence):
        (item,) = typing.get_args(hint)
        return item
    return None


def _convert(hint: Any, value: Any) -> Any:
    if isinstance(value, Mapping):
        struct = _struct_in(hint)
        return build(struct, value) if struct is not None else dict(value)
    if isinstance(value, list | tuple):
        item = _item_hint(hint)
        return [_convert(item, element) for element in value] if item is not None else list(value)
    return value


def build(cls: type, data: Mapping[str, Any]) -> Any:
    """An instance of the struct ``cls`` from ``data`` (snake_case keys, nested dicts and lists)."""
    return cls(**struct_kwargs(cls, data))


def struct_kwargs(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``cls(...)`` (a struct or a resource) with every nested struct built."""
    hints = _hints(cls)
    unknown = sorted(set(data) - set(hints))
    if unknown:
        raise TypeError(f"{cls.__name__} has no argument(s) {', '.join(unknown)}")
    return {key: _convert(hints[key], value) for key, value in data.items()}
