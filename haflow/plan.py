"""Reading a synthesized stack (cdktf's ``cdk.tf.json``): its resources, the references between them and
the values a Helm release installs.

These are the primitives every reader of a plan shares; what a value that cannot be read means is each
reader's own policy: the rules report it as unresolved, the SLO report counts it against the component,
the drills resolve it against the live account. Nothing here loads cdktf or a provider, so the rule ids
stay importable by ``haflow validate``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from haflow.merge import deep_merge
from haflow.reader import read_json

# cdktf writes a reference to another resource as "${<type>.<logical id>.<attribute>...}"; a data
# source's ("${data.<type>.<name>...}") names no resource of the stack.
REFERENCE = re.compile(r"\$\{(?!data\.)([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)((?:\.|\[)[^}]*)?\}")
CDKTF_METADATA_KEY = "//"
# cdktf writes each stack to <outdir>/stacks/<stack>/cdk.tf.json.
STACKS_DIR = "stacks"
STACK_FILE = "cdk.tf.json"
StackJson = dict[str, Any]
HELM_RELEASE = "helm_release"
# helm_release `set` names are dotted paths; a literal dot inside a key is written "\.".
_UNESCAPED_DOT = re.compile(r"(?<!\\)\.")


@dataclass(frozen=True)
class Resource:
    """One resource of a stack; ``address`` is ``<type>.<logical id>`` as Terraform names it."""

    type: str
    name: str
    body: Mapping[str, Any]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.name}"


@dataclass(frozen=True)
class Reference:
    """What a ``${<type>.<logical id>.<attribute>}`` token points at; ``attribute`` is "" for the resource itself."""

    rtype: str
    name: str
    attribute: str

    @property
    def address(self) -> str:
        return f"{self.rtype}.{self.name}"


def resources(stack: Mapping[str, Any], *types: str) -> Iterator[Resource]:
    """The resources of the given types (every resource when none is given), in stack order."""
    for rtype, items in (stack.get("resource") or {}).items():
        if types and rtype not in types:
            continue
        for name, body in (items or {}).items():
            yield Resource(rtype, name, body if isinstance(body, Mapping) else {})


def find(stack: Mapping[str, Any], rtype: str, name: str) -> Resource | None:
    body = ((stack.get("resource") or {}).get(rtype) or {}).get(name)
    return Resource(rtype, name, body) if isinstance(body, Mapping) else None


def reference(value: Any) -> Reference | None:
    """The resource a whole-string reference (``${aws_subnet.x.id}``) points at; None for anything else."""
    match = REFERENCE.fullmatch(value) if isinstance(value, str) else None
    return _reference(match) if match else None


def references(value: Any) -> list[Reference]:
    """Every resource reference inside a string, or inside each string of a list."""
    return [_reference(match) for text in as_list(value) if isinstance(text, str) for match in REFERENCE.finditer(text)]


def _reference(match: re.Match[str]) -> Reference:
    rtype, name, attribute = match.groups()
    return Reference(rtype, name, (attribute or "").removeprefix("."))


def is_expression(value: Any) -> bool:
    """True for a Terraform expression (reference, function call, interpolation), i.e. not a literal."""
    return isinstance(value, str) and "${" in value


def strings(value: Any) -> Iterator[str]:
    """Every string inside a value (nested objects and lists included), in order."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def as_list(value: Any) -> list[Any]:
    """An attribute that may be one item or a list of them, as a list ([] when absent)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def block(value: Any) -> dict[str, Any]:
    """A nested block as cdktf writes it: an object, or a list holding one object; {} when absent."""
    if isinstance(value, list):
        return value[0] if value and isinstance(value[0], dict) else {}
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    """A whole number, literal or written as a string; None for anything else (an expression, a bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def as_bool(value: Any) -> bool | None:
    """true or false, literal or written as a string; None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


# --- Helm releases ---------------------------------------------------------------------------------


class UnreadableValues(ValueError):
    """A helm_release ``values`` entry that is not YAML text holding a mapping."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path} {problem}")


def chart_name(chart: str) -> str:
    """The chart's name, whether ``chart`` is a name, a repository path or an OCI reference."""
    return chart.rstrip("/").rsplit("/", 1)[-1]


def helm_release(releases: Iterable[Resource], *names: str) -> Resource | None:
    """The first of ``releases`` whose release name or chart name is one of ``names``."""
    for release in releases:
        chart = release.body.get("chart")
        if release.body.get("name") in names or (isinstance(chart, str) and chart_name(chart) in names):
            return release
    return None


def release_values(release: Resource, *, skip_unreadable: bool = False) -> dict[str, Any]:
    """The values a helm_release installs: its YAML ``values`` documents merged in order, then ``set`` entries.

    Helm merges values files key by key (later files win, lists replace) and applies ``--set`` last.
    A document that is not YAML text (``${yamlencode(...)}``) raises UnreadableValues, or adds nothing
    with ``skip_unreadable``.
    """
    documents = release.body.get("values") or []
    if is_expression(documents):
        if not skip_unreadable:
            raise UnreadableValues("values", f"{documents!r} is a Terraform expression, not a literal")
        documents = []
    merged: dict[str, Any] = {}
    for index, document in enumerate(as_list(documents)):
        try:
            merged = deep_merge(merged, _values_document(f"values[{index}]", document))
        except UnreadableValues:
            if not skip_unreadable:
                raise
    for entry in as_list(release.body.get("set")) + as_list(release.body.get("set_sensitive")):
        if isinstance(entry, Mapping):
            keys = [key.replace("\\.", ".") for key in _UNESCAPED_DOT.split(str(entry.get("name", "")))]
            _assign(merged, keys, entry.get("value"))
    return merged


def lookup(values: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at dotted ``path`` of a values tree, or ``default`` when a key on the way is absent."""
    node: Any = values
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


def _values_document(path: str, document: Any) -> dict[str, Any]:
    if not isinstance(document, str) or document.lstrip().startswith("${"):
        raise UnreadableValues(path, f"{str(document)[:60]!r} is a Terraform expression, not YAML text")
    try:
        parsed = yaml.safe_load(document) or {}
    except yaml.YAMLError as err:
        raise UnreadableValues(path, f"is not valid YAML ({err})") from None
    if not isinstance(parsed, dict):
        raise UnreadableValues(path, "is not a YAML mapping")
    return parsed


def _assign(tree: dict[str, Any], keys: list[str], value: Any) -> None:
    node = tree
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


def stack_path(outdir: Path, stack: str) -> Path:
    """Where cdktf writes ``stack`` under a synth output directory."""
    return outdir / STACKS_DIR / stack / STACK_FILE


def read_stacks(outdir: Path) -> dict[str, StackJson]:
    """Every synthesized stack under ``outdir/stacks``, by stack name."""
    stacks_dir = outdir / STACKS_DIR
    return {path.parent.name: read_json(path) for path in sorted(stacks_dir.glob(f"*/{STACK_FILE}"))}
