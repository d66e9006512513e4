"""The difference between two synthesized plans: per stack, resources added, removed and changed,
and the changes that put data at risk.

Resources are matched by type and logical id. cdktf derives the logical id from the construct path,
so a renamed construct shows as one resource removed and one added: Terraform will destroy the old
one. Only the logical ids are compared, never the values Terraform computes at apply time.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from haflow.plan import StackJson, block, resources
from haflow.review.replacement import NEUTRAL_ATTRIBUTES, forces_replacement, is_stateful, top_level

MAX_VALUE_CHARS = 60
SECRET_NAME = re.compile(r"password|secret|token|private_key|auth|credential", re.IGNORECASE)
MISSING = object()


@dataclass(frozen=True)
class AttributeChange:
    path: str
    before: str
    after: str


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    attributes: list[AttributeChange]

    @property
    def replacing(self) -> list[str]:
        return sorted({top_level(a.path) for a in self.attributes if forces_replacement(self.type, a.path)})


@dataclass(frozen=True)
class Risk:
    """A data-loss risk: what happens, to which resource, and why haflow thinks so."""

    stack: str
    address: str
    kind: str  # removed | replaced | protection-off
    reason: str


@dataclass
class StackDiff:
    stack: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ResourceChange] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    providers: list[ResourceChange] = field(default_factory=list)
    """Provider blocks whose configuration changed (default tags, region): not resources, so not counted."""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.providers)


def diff_stacks(name: str, before: StackJson | None, after: StackJson | None) -> StackDiff:
    old = _resources(before)
    new = _resources(after)
    result = StackDiff(name)
    result.added = sorted(set(new) - set(old))
    result.removed = sorted(set(old) - set(new))
    for address in sorted(set(old) & set(new)):
        changes = _changes(old[address], new[address])
        if changes:
            result.changed.append(ResourceChange(address, address.split(".", 1)[0], changes))
    result.risks = _risks(name, result, old, new)
    old_providers, new_providers = _providers(before), _providers(after)
    for address in sorted(set(old_providers) | set(new_providers)):
        changes = _changes(old_providers.get(address, {}), new_providers.get(address, {}))
        if changes:
            result.providers.append(ResourceChange(address, "provider", changes))
    return result


def _resources(stack: StackJson | None) -> dict[str, Mapping[str, Any]]:
    """Resources by address."""
    return {resource.address: resource.body for resource in resources(stack or {})}


def _providers(stack: StackJson | None) -> dict[str, Mapping[str, Any]]:
    """Each provider block by ``provider.<name>`` (``provider.aws``: its default_tags live there)."""
    return {f"provider.{name}": {"config": config} for name, config in ((stack or {}).get("provider") or {}).items()}


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[AttributeChange]:
    flat_before = dict(_flatten(before))
    flat_after = dict(_flatten(after))
    changes = []
    for path in sorted(set(flat_before) | set(flat_after)):
        if top_level(path) == "//":
            continue
        old, new = flat_before.get(path, MISSING), flat_after.get(path, MISSING)
        if old != new:
            changes.append(AttributeChange(path, _show(path, old), _show(path, new)))
    return changes


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Leaf values by attribute path; embedded YAML/JSON documents (Helm values, IAM policies) are opened
    so that a change shows as ``values[0].controller.replicaCount`` instead of one long string."""
    document = embedded_document(value)
    if document is not None:
        return _flatten(document, prefix)
    if isinstance(value, dict) and value:
        items: list[tuple[str, Any]] = []
        for key, child in value.items():
            items += _flatten(child, f"{prefix}.{key}" if prefix else str(key))
        return items
    if isinstance(value, list) and value:
        items = []
        for index, child in enumerate(value):
            items += _flatten(child, f"{prefix}[{index}]")
        return items
    return [(prefix, value)]


def embedded_document(value: Any) -> dict[str, Any] | list[Any] | None:
    if not isinstance(value, str) or not ("\n" in value or value.lstrip().startswith(("{", "["))):
        return None
    try:
        loaded = yaml.safe_load(value)
    except yaml.YAMLError:
        return None
    return loaded if isinstance(loaded, dict | list) and loaded else None


def _show(path: str, value: Any) -> str:
    if value is MISSING:
        return "(absent)"
    text = value if isinstance(value, str) else json.dumps(value)
    if SECRET_NAME.search(path.rsplit(".", 1)[-1]) and not text.startswith("${"):
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        return f"(sensitive, sha256 {digest})"
    if len(text) > MAX_VALUE_CHARS:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        return f"{text[:MAX_VALUE_CHARS]}... ({len(text)} chars, sha256 {digest})"
    return text


def _risks(stack: str, result: StackDiff, old: dict[str, Mapping[str, Any]],
           new: dict[str, Mapping[str, Any]]) -> list[Risk]:
    risks = []
    added_types = {address.split(".", 1)[0] for address in result.added}
    for address in result.removed:
        rtype = address.split(".", 1)[0]
        if is_stateful(rtype):
            hint = (" (a resource of the same type is added: a renamed construct id? keep the id, or add a "
                    "`moved` block)" if rtype in added_types else "")
            risks.append(Risk(stack, address, "removed", f"stateful {rtype} destroyed{hint}"))
    for change in result.changed:
        if is_stateful(change.type) and change.replacing:
            risks.append(Risk(stack, change.address, "replaced",
                              f"replacement-forcing attribute(s) changed: {', '.join(change.replacing)}"))
        if change.type in _PROTECTED_TYPES or is_stateful(change.type):
            for reason in _protection_off(old[change.address], new[change.address]):
                risks.append(Risk(stack, change.address, "protection-off", reason))
    return risks


_PROTECTED_TYPES = frozenset({"aws_rds_cluster", "aws_db_instance", "aws_s3_bucket", "aws_secretsmanager_secret"})


def _protection_off(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    reasons = []
    if _truthy(before.get("deletion_protection")) and not _truthy(after.get("deletion_protection")):
        reasons.append("deletion_protection turned off")
    if not _truthy(before.get("skip_final_snapshot")) and _truthy(after.get("skip_final_snapshot")):
        reasons.append("skip_final_snapshot set: destroying it keeps no final snapshot")
    was_kept = _truthy(block(before.get("lifecycle")).get("prevent_destroy"))
    is_kept = _truthy(block(after.get("lifecycle")).get("prevent_destroy"))
    if was_kept and not is_kept:
        reasons.append("lifecycle.prevent_destroy removed")
    if not _truthy(before.get("force_destroy")) and _truthy(after.get("force_destroy")):
        reasons.append("force_destroy set: destroying the bucket deletes every object")
    if before.get("recovery_window_in_days") != 0 and after.get("recovery_window_in_days") == 0:
        reasons.append("recovery_window_in_days 0: the secret is deleted without a recovery window")
    return reasons


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def neutral_only(change: ResourceChange) -> bool:
    """True when only tags or metadata changed."""
    return all(top_level(a.path) in NEUTRAL_ATTRIBUTES for a in change.attributes)
