"""The platform stack's ``kubernetes_*`` resources as the Kubernetes objects the provider creates.

The kubernetes provider writes objects in Terraform's shape: snake_case names, nested blocks as lists
of one, singular names for repeated blocks (``container``, ``port``), every scalar possibly a string
(``replicas = "3"``). The API object's schema of the cluster's version drives the conversion: a name
becomes the schema's camelCase property (plural where the schema's is), a list of one becomes an
object where the schema wants one, and strings become integers or booleans where the schema types
them so. IntOrString fields follow the provider, which parses a numeric string as an integer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from haflow.plan import Resource
from haflow.render.schemas import INT_OR_STRING, KubeSchemas

# kubernetes provider resource type -> (apiVersion, kind)
KINDS: dict[str, tuple[str, str]] = {
    "kubernetes_namespace_v1": ("v1", "Namespace"),
    "kubernetes_service_account_v1": ("v1", "ServiceAccount"),
    "kubernetes_service_v1": ("v1", "Service"),
    "kubernetes_config_map_v1": ("v1", "ConfigMap"),
    "kubernetes_deployment_v1": ("apps/v1", "Deployment"),
    "kubernetes_stateful_set_v1": ("apps/v1", "StatefulSet"),
    "kubernetes_daemon_set_v1": ("apps/v1", "DaemonSet"),
    "kubernetes_horizontal_pod_autoscaler_v2": ("autoscaling/v2", "HorizontalPodAutoscaler"),
    "kubernetes_pod_disruption_budget_v1": ("policy/v1", "PodDisruptionBudget"),
    "kubernetes_ingress_v1": ("networking.k8s.io/v1", "Ingress"),
    "kubernetes_storage_class_v1": ("storage.k8s.io/v1", "StorageClass"),
    "kubernetes_priority_class_v1": ("scheduling.k8s.io/v1", "PriorityClass"),
    "kubernetes_network_policy_v1": ("networking.k8s.io/v1", "NetworkPolicy"),
}
# Terraform's own arguments and the provider's behaviour switches: not part of the object.
TERRAFORM_ARGUMENTS = frozenset({
    "//", "provider", "depends_on", "lifecycle", "count", "for_each", "timeouts", "connection",
    "wait_for_rollout", "wait_for_load_balancer", "wait_for_default_service_account", "wait_for_completion",
})
# Where the provider's name is not the camelCase of the API's.
RENAMES = {"storage_provisioner": "provisioner"}


class ConversionError(ValueError):
    """A kubernetes_* resource haflow cannot turn into an object (the gate reports it)."""


@dataclass(frozen=True)
class Converted:
    manifest: dict[str, Any]
    unknown_fields: tuple[str, ...]  # provider fields with no place in the API object


def convertible(rtype: str) -> bool:
    return rtype.startswith("kubernetes_")


def to_object(resource: Resource, schemas: KubeSchemas) -> Converted:
    if resource.type not in KINDS:
        raise ConversionError(f"{resource.address}: no conversion for {resource.type} (known: {', '.join(KINDS)})")
    api_version, kind = KINDS[resource.type]
    schema = schemas.kind_schema(api_version, kind)
    if schema is None:
        raise ConversionError(f"{resource.address}: Kubernetes {schemas.kube_version} serves no {kind} "
                              f"in {api_version}")
    unknown: list[str] = []
    body = {key: value for key, value in resource.body.items() if key not in TERRAFORM_ARGUMENTS}
    converted = _convert(body, schema, schemas, "", unknown)
    manifest = {"apiVersion": api_version, "kind": kind, **converted}
    return Converted(manifest, tuple(unknown))


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _property(name: str, properties: Mapping[str, Any]) -> str | None:
    base = RENAMES.get(name) or camel(name)
    plurals = [base, base + "s", base[:-1] + "ies" if base.endswith("y") else "", base + "es"]
    return next((candidate for candidate in plurals if candidate and candidate in properties), None)


def _types(node: Mapping[str, Any]) -> set[str]:
    declared = node.get("type")
    return set(declared) if isinstance(declared, list) else {declared} if isinstance(declared, str) else set()


def _convert(value: Any, node: Mapping[str, Any], schemas: KubeSchemas, path: str, unknown: list[str]) -> Any:
    name, node = schemas.resolve(node)
    if name == INT_OR_STRING:
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value
    types = _types(node)
    if "array" in types:
        items = value if isinstance(value, list) else [value]
        item_schema = node.get("items") or {}
        return [_convert(item, item_schema, schemas, f"{path}[{i}]", unknown) for i, item in enumerate(items)]
    if "object" in types:
        if isinstance(value, list) and len(value) <= 1:
            value = value[0] if value else {}
        if not isinstance(value, Mapping):
            return value
        properties = node.get("properties") or {}
        extra = node.get("additionalProperties")
        result: dict[str, Any] = {}
        for key, child in value.items():
            target = _property(str(key), properties) if properties else None
            if target is not None:
                result[target] = _convert(child, properties[target], schemas, f"{path}.{target}", unknown)
            elif isinstance(extra, Mapping):  # a map (labels, annotations, selectors): keys kept verbatim
                result[str(key)] = _convert(child, extra, schemas, f"{path}.{key}", unknown)
            else:
                unknown.append(f"{path}.{key}".lstrip("."))
                result[camel(str(key))] = child
        return result
    return _scalar(value, types)


def _scalar(value: Any, types: set[str]) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if "integer" in types and text.lstrip("-").isdigit():
            return int(text)
        if "number" in types:
            try:
                return float(text) if "." in text else int(text)
            except ValueError:
                return value
        if "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
    return value
