"""The one way haflow reads an input file: overlays, base.yaml, checkov-skips.yaml, stacks read back.

Whatever can go wrong with a file (not found, a directory, a FIFO or device, no permission, too large,
not UTF-8, bad YAML or JSON, a YAML alias bomb, nesting too deep) becomes a ConfigError that names
the file, says what is wrong and how to fix it: exit 2, never a traceback.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from haflow.errors import MISSING, ConfigError, ConfigIssue

# An overlay is a few kilobytes; a synthesized stack a few megabytes. Anything larger is not what
# haflow expects there (a log, an image, /dev/zero), and reading it would only cost memory.
MAX_YAML_BYTES = 1024 * 1024
MAX_JSON_BYTES = 256 * 1024 * 1024
# YAML aliases share one node; expanded they can multiply ("billion laughs"). No overlay comes close.
MAX_YAML_NODES = 100_000


def display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when possible."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _refuse(path: Path, problem: str, fix: str) -> ConfigError:
    return ConfigError([ConfigIssue(display(path), "", MISSING, problem, fix)])


def read_text(path: Path, *, max_bytes: int = MAX_YAML_BYTES) -> str:
    """The UTF-8 text of the regular file ``path`` (a UTF-8 byte-order mark is dropped)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        raise _refuse(path, "file not found", "check the path") from None
    except OSError as err:
        raise _refuse(path, f"cannot read file ({err.strerror})", "check the path and its permissions") from None
    if stat.S_ISDIR(status.st_mode):
        raise _refuse(path, "is a directory, not a file", "point at the file inside it") from None
    if not stat.S_ISREG(status.st_mode):
        raise _refuse(path, "is not a regular file (a FIFO, socket or device)", "point at a regular file")
    if status.st_size > max_bytes:
        raise _refuse(
            path, f"is {status.st_size} bytes; haflow reads files of at most {max_bytes} bytes here",
            "point at the right file",
        )
    try:
        with open(path, "rb") as stream:
            data = stream.read(max_bytes + 1)
    except OSError as err:
        raise _refuse(path, f"cannot read file ({err.strerror})", "check its permissions") from None
    if len(data) > max_bytes:
        raise _refuse(path, f"is larger than {max_bytes} bytes", "point at the right file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise _refuse(
            path, f"is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line})",
            "save the file as UTF-8",
        ) from None


# libyaml's parser when PyYAML was built with it (it is ~10x faster), else the pure-Python one.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """A SafeLoader that refuses duplicate keys (YAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: list[Any] = []
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:
            duplicate = False
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (the first value would be silently lost)", key_node.start_mark
            )
        seen.append(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Nodes in the document with every alias expanded; stops counting past MAX_YAML_NODES."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise _RecursiveAlias
    open_nodes.add(key)
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _expanded_size(child, sizes, open_nodes)
            if total > MAX_YAML_NODES:
                break
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            total += _expanded_size(key_node, sizes, open_nodes) + _expanded_size(value_node, sizes, open_nodes)
            if total > MAX_YAML_NODES:
                break
    open_nodes.discard(key)
    sizes[key] = total
    return total


class _RecursiveAlias(Exception):
    pass


def read_yaml(path: Path, *, max_bytes: int = MAX_YAML_BYTES) -> Any:
    """The YAML document in ``path`` (None when it is empty); every failure is a ConfigError naming it."""
    text = read_text(path, max_bytes=max_bytes)
    shown = display(path)
    try:
        loader = _UniqueKeyLoader(text)
    except yaml.YAMLError as err:  # the reader refuses control characters before any parsing
        raise _refuse(path, f"not valid YAML: {err}", "remove the character or fix the YAML") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            size = _expanded_size(node, {}, set())
        except _RecursiveAlias:
            raise _refuse(path, "a YAML alias refers to the node that contains it", "remove the alias") from None
        if size > MAX_YAML_NODES:
            raise _refuse(
                path, f"expands to more than {MAX_YAML_NODES} YAML nodes (aliases multiply it)",
                "write the values out instead of nesting aliases",
            )
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        raise ConfigError([
            ConfigIssue(
                where, "", MISSING, f"YAML syntax error: {err.problem or err.context}",
                "fix the YAML at that line (indentation, a missing colon or an unclosed quote)",
            )
        ]) from None
    except yaml.YAMLError as err:  # e.g. a control character the YAML reader refuses
        raise _refuse(path, f"not valid YAML: {err}", "remove the character or fix the YAML") from None
    except RecursionError:
        raise _refuse(path, "nested too deeply", "flatten the document") from None
    finally:
        loader.dispose()


def read_json(path: Path, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The JSON document in ``path``; every failure is a ConfigError naming it."""
    text = read_text(path, max_bytes=max_bytes)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError([
            ConfigIssue(f"{display(path)}:{err.lineno}:{err.colno}", "", MISSING, f"not valid JSON: {err.msg}",
                        "synthesize it again")
        ]) from None
    except RecursionError:
        raise _refuse(path, "nested too deeply", "synthesize it again") from None
