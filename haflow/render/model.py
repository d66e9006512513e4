"""What the render gate hands its readers: the cluster's objects as rendered, and how each release went."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from haflow import plan
from haflow.render.placeholders import Placeholders
from haflow.render.schemas import KubeSchemas

HOOK_ANNOTATION = "helm.sh/hook"


@dataclass(frozen=True)
class RenderedObject:
    """One Kubernetes object: from a helm_release's chart, or from a kubernetes_* resource (release "")."""

    release: str  # helm release name, "" for a kubernetes_* resource of the stack
    chart: str  # chart name, "" for a kubernetes_* resource
    source: str  # plan address: helm_release.<id> or kubernetes_<type>.<id>
    manifest: Mapping[str, Any]
    hook: str | None = None
    release_namespace: str = ""  # where a namespaced object without metadata.namespace lands

    @property
    def kind(self) -> str:
        return str(self.manifest.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.manifest.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str((self.manifest.get("metadata") or {}).get("namespace") or self.release_namespace)

    @property
    def address(self) -> str:
        """``Kind/namespace/name`` (``Kind/name`` when cluster-scoped): how findings and suppressions name it."""
        namespace = (self.manifest.get("metadata") or {}).get("namespace") or (
            self.release_namespace if self.kind not in CLUSTER_SCOPED else "")
        return "/".join(part for part in (self.kind, namespace, self.name) if part)

    def __str__(self) -> str:
        origin = f"release {self.release}" if self.release else self.source
        return f"{self.address} ({origin})"


CLUSTER_SCOPED = frozenset({
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "StorageClass",
    "PriorityClass", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService",
    "IngressClass", "ClusterSecretStore", "ClusterExternalSecret", "PersistentVolume", "RuntimeClass",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "CSIDriver", "Node",
})


@dataclass
class RenderedRelease:
    """One helm_release: the values sent (stand-ins in place of references) and what went wrong, if anything."""

    source: str
    name: str
    chart: str
    version: str
    namespace: str
    values: dict[str, Any]
    error: str = ""  # the chart's templates failed with these values
    unread_keys: list[str] = field(default_factory=list)  # values the chart never reads
    unread_check: str = ""  # why the unread-key check could not run, if it could not

    @property
    def address(self) -> str:
        """How findings and suppressions name a release: its plan address."""
        return self.source


@dataclass
class RenderResult:
    env: str
    kube_version: str
    engine: str
    objects: list[RenderedObject]
    releases: list[RenderedRelease]
    placeholders: dict[str, str]  # stand-in value (as text) -> the ${...} expression it replaced
    schemas: KubeSchemas
    foundation: Mapping[str, Any]
    platform: Mapping[str, Any]
    platform_stack: str
    conversion_problems: list[tuple[str, str]] = field(default_factory=list)  # (source, problem)
    seconds: float = 0.0

    def by_kind(self, kind: str) -> list[RenderedObject]:
        return [item for item in self.objects if item.kind == kind]

    def find(self, kind: str, name: str, namespace: str | None = None) -> RenderedObject | None:
        for item in self.objects:
            if item.kind == kind and item.name == name and (namespace is None or item.namespace == namespace):
                return item
        return None

    def foundation_resource(self, value: Any) -> plan.Resource | None:
        """The foundation resource a stand-in in a rendered object stands for (the role behind an IRSA
        annotation's ARN), followed through the foundation's outputs; None when ``value`` is not a stand-in
        or names no resource of the foundation stack."""
        expression = self.placeholders.get(str(value))
        if not expression:
            return None
        target = Placeholders("", self.foundation.get("output") or {}).target(expression)
        return plan.find(self.foundation, target.rtype, target.name) if target.rtype else None
