"""The Kubernetes API of the cluster's own version: JSON schemas from ``kubernetes-validate``, the CRDs
the charts ship, and the API server's rules that JSON schema cannot express.

Built-in kinds validate against kubernetes-validate's strict schemas of exactly the cluster's minor
(unknown fields are errors: the API server drops them, a silent no-op). Custom resources validate
against the ``openAPIV3Schema`` of their CRD, with the structural-schema pruning made strict the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
_REF_PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/", f"{DEFINITIONS_URI}#/$defs/")
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
# IntOrString fields the API server accepts as a string only when it is a percentage ("25%").
PERCENT_FIELDS = frozenset({"maxSurge", "maxUnavailable", "minAvailable"})
PERCENT = re.compile(r"^[0-9]+%$")
# A named port (IANA_SVC_NAME): 1-15 lowercase alphanumerics or '-', at least one letter, no '--'.
PORT_NAME = re.compile(r"^(?!-)(?!.*--)(?=.*[a-z])[a-z0-9-]{1,15}(?<!-)$")


class SchemasUnavailable(RuntimeError):
    """kubernetes-validate is missing or has no schemas for the cluster's version."""


def schema_root() -> Path:
    try:
        import kubernetes_validate
    except ImportError:
        raise SchemasUnavailable(
            "kubernetes-validate is not installed; install the render extra (pip install -e '.[render]')"
        ) from None
    return Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"


def _minor(kube_version: str) -> str:
    return ".".join(kube_version.lstrip("v").split(".")[:2])


@dataclass(frozen=True)
class CustomResource:
    group: str
    version: str
    kind: str
    schema: Mapping[str, Any]


@dataclass
class KubeSchemas:
    """The schemas of one Kubernetes minor plus the custom resources of the CRDs given."""

    kube_version: str
    crds: dict[tuple[str, str], CustomResource] = field(default_factory=dict)  # (apiVersion, kind)

    def __post_init__(self) -> None:
        self.directory = _version_directory(_minor(self.kube_version))
        self.definitions, self.registry = _definitions(self.directory)

    def add_crds(self, documents: list[dict[str, Any]]) -> None:
        for crd in documents:
            spec = crd.get("spec") or {}
            kind = (spec.get("names") or {}).get("kind", "")
            for version in spec.get("versions") or []:
                if not version.get("served", True):
                    continue
                schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or {"type": "object"}
                api_version = f"{spec.get('group')}/{version.get('name')}"
                self.crds[(api_version, kind)] = CustomResource(spec.get("group", ""), version["name"], kind, schema)

    @property
    def api_versions(self) -> tuple[str, ...]:
        """Group/versions the CRDs add, with their kinds (``monitoring.coreos.com/v1/Prometheus``), for Helm."""
        found = {api_version for api_version, _ in self.crds}
        found |= {f"{api_version}/{kind}" for api_version, kind in self.crds}
        return tuple(sorted(found))

    def kind_schema(self, api_version: str, kind: str) -> dict[str, Any] | None:
        return _kind_schema(self.directory, api_version, kind)

    def resolve(self, node: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        """(definition name or "", the node with its $ref followed)."""
        ref = node.get("$ref")
        if isinstance(ref, str):
            for prefix in _REF_PREFIXES:
                if ref.startswith(prefix):
                    name = ref[len(prefix):]
                    return name, self.definitions.get(name, {})
        return "", node

    def problems(self, manifest: Mapping[str, Any]) -> list[str]:
        """Schema violations of one object, or that no schema exists for its kind in this version."""
        api_version, kind = str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))
        custom = self.crds.get((api_version, kind))
        if custom is not None:
            return _errors(_crd_validator(json.dumps(custom.schema, sort_keys=True)), manifest, root_meta=True)
        schema = self.kind_schema(api_version, kind)
        if schema is None:
            return [f"Kubernetes {_minor(self.kube_version)} serves no {kind} in {api_version} and no chart ships a "
                    f"CRD for it: the API server would refuse the object"]
        return _errors(_builtin_validator(self.directory, api_version, kind), manifest)

    def api_server_rules(self, manifest: Mapping[str, Any]) -> list[str]:
        """Rules the API server applies beyond the schema: IntOrString forms, mutually exclusive fields."""
        schema = self.kind_schema(str(manifest.get("apiVersion", "")), str(manifest.get("kind", "")))
        problems = [] if schema is None else list(self._int_or_string(manifest, schema, ""))
        spec: Mapping[str, Any] = manifest.get("spec") or {}
        if not isinstance(spec, Mapping):
            return problems
        if manifest.get("kind") == "PodDisruptionBudget" and {"minAvailable", "maxUnavailable"} <= set(spec):
            problems.append("spec: minAvailable and maxUnavailable are mutually exclusive")
        rolling = ((spec.get("strategy") or spec.get("updateStrategy") or {}).get("rollingUpdate") or {})
        if isinstance(rolling, Mapping) and all(_is_zero(rolling.get(key)) for key in ("maxSurge", "maxUnavailable")):
            problems.append("rollingUpdate: maxSurge and maxUnavailable may not both be 0")
        return problems

    def _int_or_string(self, value: Any, node: Mapping[str, Any], path: str) -> Iterator[str]:
        name, node = self.resolve(node)
        if name == INT_OR_STRING:
            if isinstance(value, str):
                yield from _int_or_string_rule(path, value)
            return
        if isinstance(value, Mapping):
            properties = node.get("properties") or {}
            extra = node.get("additionalProperties")
            for key, child in value.items():
                sub = properties.get(key) or (extra if isinstance(extra, Mapping) else None)
                if sub is not None:
                    yield from self._int_or_string(child, sub, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and isinstance(node.get("items"), Mapping):
            for index, item in enumerate(value):
                yield from self._int_or_string(item, node["items"], f"{path}[{index}]")


def _int_or_string_rule(path: str, value: str) -> Iterator[str]:
    field_name = re.sub(r"\[\d+\]$", "", path).rsplit(".", 1)[-1]
    if field_name in PERCENT_FIELDS and not PERCENT.match(value):
        yield (f"{path} = {value!r}: a string here must be a percentage such as '25%' (the API server rejects "
               f"any other string); write a count as an integer")
    elif field_name.lower().endswith("port") and not PORT_NAME.match(value):
        yield f"{path} = {value!r}: a string port must be a named port (IANA_SVC_NAME); write a number as an integer"


def _is_zero(value: Any) -> bool:
    return value == 0 or value == "0%"


def _errors(validator: jsonschema.protocols.Validator, manifest: Mapping[str, Any],
            root_meta: bool = False) -> list[str]:
    problems = []
    for error in sorted(validator.iter_errors(manifest), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(part) for part in error.absolute_path) or "<root>"
        problems.append(f"{where}: {_short(error.message)}")
    return problems


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:297] + "..."


def _version_directory(minor: str) -> Path:
    root = schema_root()
    directory = root / f"v{minor}.0-local-strict"
    if not directory.is_dir():
        known = sorted(path.name.split("-")[0] for path in root.glob("v*-local-strict"))
        raise SchemasUnavailable(
            f"kubernetes-validate has no schemas for Kubernetes {minor} (it has {', '.join(known)}); "
            f"upgrade kubernetes-validate or check the cluster version"
        )
    return directory


@cache
def _definitions(directory: Path) -> tuple[dict[str, Any], Registry[Any]]:
    document = json.loads((directory / "_definitions.json").read_text(encoding="utf-8"))
    registry: Registry[Any] = Registry().with_resource(DEFINITIONS_URI, Resource.from_contents(document))
    return document["$defs"], registry


def _schema_file(directory: Path, api_version: str, kind: str) -> Path:
    # apps/v1 -> apps-v1, rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1 (kubernetes-validate's naming)
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return directory / f"{kind.lower()}-{group_version}.json"


@cache
def _kind_schema(directory: Path, api_version: str, kind: str) -> dict[str, Any] | None:
    path = _schema_file(directory, api_version, kind)
    if not path.is_file():
        return None
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    declared = schema.get("x-kubernetes-group-version-kind") or []
    if declared and not any(_gvk(item) == (api_version, kind) for item in declared):
        return None  # the file name matched another group with the same prefix
    return schema


def _gvk(item: Mapping[str, str]) -> tuple[str, str]:
    group, version = item.get("group", ""), item.get("version", "")
    return (f"{group}/{version}" if group else version), item.get("kind", "")


@cache
def _builtin_validator(directory: Path, api_version: str, kind: str) -> jsonschema.protocols.Validator:
    schema = _kind_schema(directory, api_version, kind)
    _, registry = _definitions(directory)
    return jsonschema.Draft202012Validator(schema or {}, registry=registry)


@cache
def _crd_validator(schema_json: str) -> jsonschema.protocols.Validator:
    schema = structural(json.loads(schema_json), root=True)
    return jsonschema.Draft7Validator(schema)


def structural(node: Any, root: bool = False) -> Any:
    """An openAPIV3Schema as JSON schema: nullable, int-or-string, and strict where the API server prunes.

    The API server drops fields a structural schema does not declare (unless it preserves unknown
    fields); here they are errors, because a dropped field is a setting that silently does nothing.
    """
    if isinstance(node, list):
        return [structural(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: structural(value) for key, value in node.items()
                 if key not in ("properties", "additionalProperties", "items")}
    if "properties" in node:
        converted["properties"] = {key: structural(value) for key, value in node["properties"].items()}
    for key in ("additionalProperties", "items"):
        if isinstance(node.get(key), dict):
            converted[key] = structural(node[key])
        elif key in node:
            converted[key] = node[key]
    if node.get("x-kubernetes-int-or-string"):
        converted.pop("type", None)
        converted["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    declared = "properties" in node and "additionalProperties" not in node
    if declared and not node.get("x-kubernetes-preserve-unknown-fields"):
        converted["additionalProperties"] = False
    if root:
        # apiVersion, kind and metadata are the API server's, whatever the CRD declares.
        converted.setdefault("properties", {})
        for key in ("apiVersion", "kind", "metadata"):
            converted["properties"][key] = {}
    return converted
