"""Reading the real plan: ``terraform show -json PLANFILE`` of one stack, as Terraform and OpenTofu write it.

The JSON plan format (https://developer.hashicorp.com/terraform/internals/json-format) is versioned by
``format_version``: 1.x only adds keys to 0.x, so every 0.x and 1.x is read and unknown keys and unknown
``action_reason`` values are tolerated; a 2.x would be incompatible and is refused. What is read:

- ``resource_changes``: every planned action, pure deletes included (they are absent from
  ``planned_values``, the most common bug of plan readers);
- ``resource_drift`` (changes made outside Terraform), filtered by ``relevant_attributes`` when the plan
  has it (Terraform >= 1.2: only the drift that contributes to a planned change);
- ``output_changes``.

Never read or printed: ``prior_state``. Values marked in ``before_sensitive`` / ``after_sensitive`` (or
with a secret-looking name) are shown as ``(sensitive)``, never in clear: the JSON holds them in clear.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haflow.review.plandiff import SECRET_NAME, embedded_document
from haflow.review.replacement import is_stateful

SUPPORTED_MAJORS = (0, 1)
MAX_VALUE_CHARS = 60
SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"
ABSENT = "(absent)"
_MISSING = object()

# Terraform's own action_reason values (internal/command/jsonplan), in words.
ACTION_REASONS: dict[str, str] = {
    "replace_because_tainted": "the object is tainted (a failed apply or `terraform taint`)",
    "replace_because_cannot_update": "an attribute that cannot be updated in place changed",
    "replace_by_request": "replacement requested (`-replace`)",
    "replace_by_triggers": "`replace_triggered_by` fired",
    "delete_because_no_resource_config": "no longer in the configuration",
    "delete_because_wrong_repetition": "`count` / `for_each` was added or removed",
    "delete_because_count_index": "its index is beyond the new `count`",
    "delete_because_each_key": "its key is no longer in `for_each`",
    "delete_because_no_module": "its module is no longer in the configuration",
    "delete_because_no_move_target": "a `moved` block points at an address not in the configuration",
    "read_because_config_unknown": "its configuration is known only after apply",
    "read_because_dependency_pending": "it depends on a resource with pending changes",
    "read_because_check_nested": "a `check` block reads it",
}

# Protection attributes in change.after: (attribute, predicate on (before, after) -> turned off, words).
PROTECTIONS: tuple[tuple[str, Any, str], ...] = (
    ("deletion_protection", lambda b, a: b is True and a is False, "deletion_protection turned off"),
    ("skip_final_snapshot", lambda b, a: b is not True and a is True,
     "skip_final_snapshot set: destroying it keeps no final snapshot"),
    ("force_destroy", lambda b, a: b is not True and a is True,
     "force_destroy set: destroying the bucket deletes every object"),
    ("recovery_window_in_days", lambda b, a: b != 0 and a == 0,
     "recovery_window_in_days 0: the secret is deleted without a recovery window"),
)


class PlanError(Exception):
    """The file is not a JSON plan haflow can read; the message says what it is and what is expected."""


@dataclass(frozen=True)
class AttributeDiff:
    path: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    """One planned resource change. ``action`` is one of create, update, replace, destroy, forget, read, no-op."""

    address: str
    type: str
    mode: str
    action: str
    actions: tuple[str, ...]
    action_reason: str = ""
    replace_paths: tuple[str, ...] = ()
    attributes: tuple[AttributeDiff, ...] = ()
    unknown_after: tuple[str, ...] = ()
    previous_address: str = ""
    importing: bool = False
    deposed: str = ""

    @property
    def reason(self) -> str:
        """action_reason in words ("" when the plan gives none)."""
        if not self.action_reason:
            return ""
        return ACTION_REASONS.get(self.action_reason, f"{self.action_reason} (a reason haflow does not know)")

    @property
    def destroys(self) -> bool:
        return "delete" in self.actions


@dataclass(frozen=True)
class OutputChange:
    name: str
    action: str
    before: str
    after: str


@dataclass(frozen=True)
class PlanRisk:
    """A data-loss risk read from the plan's own actions."""

    stack: str
    address: str
    kind: str  # destroyed | replaced | protection-off
    reason: str


@dataclass
class StackPlan:
    stack: str
    source: str
    format_version: str
    terraform_version: str
    changes: list[Change] = field(default_factory=list)
    drift: list[Change] = field(default_factory=list)
    drift_filtered: bool = False
    outputs: list[OutputChange] = field(default_factory=list)
    risks: list[PlanRisk] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    planned: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Planned values (unknowns absent) per address: what the rule pack reads. Not rendered."""
    before: dict[str, dict[str, Any]] = field(default_factory=dict)
    """change.before per address of resources that exist already: the rule pack's baseline. Not rendered."""

    def of(self, action: str) -> list[Change]:
        return [change for change in self.changes if change.action == action]

    @property
    def moved(self) -> list[Change]:
        return [change for change in self.changes if change.previous_address]

    @property
    def imported(self) -> list[Change]:
        return [change for change in self.changes if change.importing]


# --- reading ---------------------------------------------------------------------------------------


def load(path: Path) -> dict[str, Any]:
    """The plan document of ``path``; PlanError saying what the file is when it is not a JSON plan."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise PlanError(f"{path}: cannot read it ({err.strerror})") from None
    expected = "expected the JSON plan: `terraform show -json PLANFILE > plan.json`"
    if raw.startswith(b"PK\x03\x04"):
        raise PlanError(f"{path}: a binary planfile (the zip `terraform plan -out` writes); {expected}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanError(f"{path}: binary data, not JSON; {expected}") from None
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise PlanError(f"{path}: empty; {expected}")
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError as err:
        if not stripped.startswith(("{", "[")):
            kind = "a text plan (the output of `terraform plan`)" if _looks_like_text_plan(stripped) else "not JSON"
            raise PlanError(f"{path}: {kind}; {expected}") from None
        if err.pos >= len(stripped.rstrip()) - 1 or _unclosed(stripped):
            raise PlanError(f"{path}: truncated JSON (it ends at character {len(stripped)} inside a value: "
                            f"{err.msg}); regenerate it, {expected}") from None
        raise PlanError(f"{path}: invalid JSON at line {err.lineno} column {err.colno} ({err.msg}); "
                        f"{expected}") from None
    return _check_document(path, document, expected)


def _unclosed(text: str) -> bool:
    """True when the text ends inside a string, object or array: the file was cut short."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return in_string or depth > 0


def _looks_like_text_plan(text: str) -> bool:
    markers = ("Terraform will perform", "Terraform used the selected providers", "No changes.", "Plan: ",
               "OpenTofu will perform", "# ", "Refreshing state")
    return any(marker in text[:4000] for marker in markers)


def _check_document(path: Path, document: Any, expected: str) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise PlanError(f"{path}: a JSON {type(document).__name__}, not a plan object; {expected}")
    version = document.get("format_version")
    if version is None:
        raise PlanError(f"{path}: JSON without format_version ({_what_json(document)}); {expected}")
    major = str(version).split(".", 1)[0]
    if not major.isdigit():
        raise PlanError(f"{path}: format_version {version!r} is not a version; {expected}")
    if int(major) not in SUPPORTED_MAJORS:
        raise PlanError(f"{path}: format_version {version}: haflow reads the JSON plan format 0.x and 1.x; "
                        f"a {major}.x is incompatible by definition; use a Terraform or OpenTofu that writes 1.x")
    if "resource_changes" not in document and "planned_values" not in document:
        what = ("a state (`terraform show -json` without a plan file)" if "values" in document
                else f"keys {', '.join(sorted(document)[:8])}")
        raise PlanError(f"{path}: format_version {version} but no resource_changes or planned_values: {what}; "
                        f"{expected}")
    return document


def _what_json(document: dict[str, Any]) -> str:
    if "lineage" in document and "resources" in document:
        return "a raw Terraform state file"
    if "resource" in document or "//" in document:
        return "Terraform JSON configuration (a synthesized cdktf stack?)"
    if "results" in document or "check_type" in document:
        return "a scanner's report (checkov, tfsec?)"
    return f"keys {', '.join(sorted(document)[:8]) or 'none'}"


def read(path: Path, stack: str, synthesized: Mapping[str, Any] | None = None) -> StackPlan:
    """The plan of ``stack`` in ``path``; ``synthesized``: the stack's cdk.tf.json, to check prevent_destroy."""
    document = load(path)
    try:
        return _read(document, path, stack, synthesized)
    except (AttributeError, TypeError, KeyError) as err:
        raise PlanError(f"{path}: format_version {document.get('format_version')} but not shaped like a plan "
                        f"({type(err).__name__}: {err}); expected `terraform show -json PLANFILE` output") from None


def _read(document: dict[str, Any], path: Path, stack: str, synthesized: Mapping[str, Any] | None) -> StackPlan:
    plan = StackPlan(stack, str(path), str(document.get("format_version")),
                     str(document.get("terraform_version", "unknown")))
    for entry in document.get("resource_changes") or []:
        change = _change(entry)
        plan.changes.append(change)
        body = entry.get("change") or {}
        if change.action != "destroy" and change.mode == "managed" and isinstance(body.get("after"), dict):
            plan.planned[change.address] = body["after"]
        if change.action != "create" and change.mode == "managed" and isinstance(body.get("before"), dict):
            plan.before[change.address] = body["before"]
    relevant = document.get("relevant_attributes")
    relevant_addresses = ({item.get("resource") for item in relevant if isinstance(item, dict)}
                          if isinstance(relevant, list) else None)
    plan.drift_filtered = relevant_addresses is not None
    for entry in document.get("resource_drift") or []:
        drift = _change(entry)
        if relevant_addresses is None or drift.address in relevant_addresses:
            plan.drift.append(drift)
    plan.outputs = [_output(name, body) for name, body in sorted((document.get("output_changes") or {}).items())
                    if isinstance(body, dict)]
    plan.risks = _risks(stack, plan.changes, document, synthesized)
    if synthesized is None and any(c.destroys and is_stateful(c.type) for c in plan.changes):
        plan.notes.append("prevent_destroy not checked: no synthesized stack at hand (it is not in the plan JSON; "
                          "put the plan in cdktf.out/stacks/<stack>/ beside cdk.tf.json or pass --synth-dir)")
    if document.get("errored") is True:
        plan.notes.append("the plan errored: Terraform wrote what it planned before the error, not a complete plan")
    elif document.get("complete") is False:
        plan.notes.append("the plan is incomplete (deferred changes): another plan and apply will follow")
    return plan


def address_of(entry: Mapping[str, Any]) -> str:
    """The entry's address; rebuilt from its parts when absent (Terraform 1.0.0's resource_drift)."""
    if entry.get("address"):
        return str(entry["address"])
    prefix = "data." if entry.get("mode") == "data" else ""
    module = f"{entry['module_address']}." if entry.get("module_address") else ""
    index = entry.get("index")
    suffix = "" if index is None else (f'["{index}"]' if isinstance(index, str) else f"[{index}]")
    return f"{module}{prefix}{entry.get('type')}.{entry.get('name')}{suffix}"


def _action(actions: tuple[str, ...]) -> str:
    if "delete" in actions and "create" in actions:
        return "replace"
    if "delete" in actions:
        return "destroy"
    for action in ("forget", "create", "update", "read"):
        if action in actions:
            return action
    return "no-op"


def _change(entry: Mapping[str, Any]) -> Change:
    body = entry.get("change") or {}
    actions = tuple(str(a) for a in body.get("actions") or ["no-op"])
    action = _action(actions)
    attributes: tuple[AttributeDiff, ...] = ()
    unknown: tuple[str, ...] = ()
    if action in ("update", "replace", "no-op"):
        attributes = tuple(_attribute_diffs(body))
    if action in ("create", "update", "replace", "read"):
        unknown = tuple(sorted(path or "(whole object)" for path, leaf in
                               _flatten(None, None, body.get("after_unknown")) if leaf is _UNKNOWN_MARK))
    replace_paths = tuple(_path(p) for p in body.get("replace_paths") or [] if isinstance(p, list))
    return Change(
        address=address_of(entry), type=str(entry.get("type", "")), mode=str(entry.get("mode", "managed")),
        action=action, actions=actions, action_reason=str(entry.get("action_reason") or ""),
        replace_paths=replace_paths, attributes=attributes, unknown_after=unknown,
        previous_address=str(entry.get("previous_address") or ""),
        importing=isinstance(body.get("importing"), dict), deposed=str(entry.get("deposed") or ""),
    )


def _output(name: str, body: Mapping[str, Any]) -> OutputChange:
    actions = tuple(str(a) for a in body.get("actions") or ["no-op"])
    # format 0.x marks no sensitivity on outputs: when the marks are missing, show no value at all
    marked = "before_sensitive" in body or "after_sensitive" in body
    before = _show("", body.get("before"), body.get("before_sensitive") if marked else True, False)
    after = _show("", body.get("after"), body.get("after_sensitive") if marked else True,
                  body.get("after_unknown"))
    return OutputChange(name, _action(actions), before, after)


def _path(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _attribute_diffs(body: Mapping[str, Any]) -> list[AttributeDiff]:
    before = dict(_flatten(body.get("before"), body.get("before_sensitive"), False))
    after = dict(_flatten(body.get("after"), body.get("after_sensitive"), body.get("after_unknown")))
    diffs = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path, _MISSING), after.get(path, _MISSING)
        if _same(old, new):
            continue
        diffs.append(AttributeDiff(path or "(whole object)", _display(path, old), _display(path, new)))
    return diffs


class _Mark:
    """A leaf shown as ``text``; ``key`` (a digest of a sensitive value, never printed) tells a change apart."""

    def __init__(self, text: str, key: str = "") -> None:
        self.text = text
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Mark) and (other.text, other.key) == (self.text, self.key)

    def __hash__(self) -> int:
        return hash((self.text, self.key))


_UNKNOWN_MARK = _Mark(UNKNOWN)


def _sensitive(value: Any) -> _Mark:
    return _Mark(SENSITIVE, hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest())


def _same(old: Any, new: Any) -> bool:
    if old in (None, _MISSING) and new in (None, _MISSING):
        return True
    return bool(old == new)


def _flatten(value: Any, sensitive: Any, unknown: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Leaves by path; a subtree marked sensitive is one ``_SENSITIVE_MARK`` leaf, unknown one ``_UNKNOWN_MARK``."""
    if sensitive is True or (prefix and SECRET_NAME.search(_last_key(prefix)) and value not in (None, "", [], {})):
        return [(prefix, _sensitive(value))]
    if unknown is True:
        return [(prefix, _UNKNOWN_MARK)]
    document = embedded_document(value)
    if document is not None and not isinstance(sensitive, dict | list) and not isinstance(unknown, dict | list):
        return _flatten(document, None, None, prefix)
    if isinstance(value, dict) or isinstance(unknown, dict) or (value is None and isinstance(sensitive, dict)):
        items: list[tuple[str, Any]] = []
        values = value if isinstance(value, dict) else {}
        marks = sensitive if isinstance(sensitive, dict) else {}
        unknowns = unknown if isinstance(unknown, dict) else {}
        keys = list(values) + [k for k in unknowns if k not in values]
        if not keys and isinstance(value, dict):
            return [(prefix, {})]
        for key in keys:
            child = f"{prefix}.{key}" if prefix else str(key)
            items += _flatten(values.get(key), marks.get(key), unknowns.get(key), child)
        return items
    if isinstance(value, list) or isinstance(unknown, list):
        values_list = value if isinstance(value, list) else []
        marks_list = sensitive if isinstance(sensitive, list) else []
        unknown_list = unknown if isinstance(unknown, list) else []
        if not values_list and not unknown_list:
            return [(prefix, [])]
        items = []
        for index in range(max(len(values_list), len(unknown_list))):
            items += _flatten(values_list[index] if index < len(values_list) else None,
                              marks_list[index] if index < len(marks_list) else None,
                              unknown_list[index] if index < len(unknown_list) else None, f"{prefix}[{index}]")
        return items
    return [(prefix, value)]


def _last_key(path: str) -> str:
    return re.sub(r"\[\d+\]$", "", path).rsplit(".", 1)[-1]


def _display(path: str, value: Any) -> str:
    if value is _MISSING:
        return ABSENT
    if isinstance(value, _Mark):
        return value.text
    if value is None:
        return "null"
    text = value if isinstance(value, str) else json.dumps(value)
    if text == "":
        return '""'
    if len(text) > MAX_VALUE_CHARS:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        return f"{text[:MAX_VALUE_CHARS]}... ({len(text)} chars, sha256 {digest})"
    return text


def _show(path: str, value: Any, sensitive: Any, unknown: Any) -> str:
    """A whole value for display: hidden when any part of it is sensitive."""
    if sensitive is True or (isinstance(sensitive, dict | list) and _any_true(sensitive)):
        return SENSITIVE
    if unknown is True:
        return UNKNOWN
    if isinstance(unknown, dict | list) and _any_true(unknown):
        return f"{_display(path, value)} (parts known after apply)"
    return _display(path, value)


def _any_true(marks: Any) -> bool:
    if marks is True:
        return True
    if isinstance(marks, dict):
        return any(_any_true(v) for v in marks.values())
    if isinstance(marks, list):
        return any(_any_true(v) for v in marks)
    return False


# --- data loss -------------------------------------------------------------------------------------


def _risks(stack: str, changes: list[Change], document: Mapping[str, Any],
           synthesized: Mapping[str, Any] | None) -> list[PlanRisk]:
    bodies = {address_of(entry): entry.get("change") or {} for entry in document.get("resource_changes") or []}
    risks = []
    for change in changes:
        if change.mode != "managed":
            continue
        stateful = is_stateful(change.type)
        if change.destroys and stateful:
            words = [change.reason] if change.reason else []
            if change.replace_paths:
                words.append(f"replace_paths: {', '.join(change.replace_paths)}")
            if change.deposed:
                words.append(f"deposed object {change.deposed}")
            protection = _prevent_destroy(change, synthesized)
            if protection:
                words.append(protection)
            kind = "replaced" if change.action == "replace" else "destroyed"
            risks.append(PlanRisk(stack, change.address, kind,
                                  f"stateful {change.type} {kind}" + (f": {'; '.join(words)}" if words else "")))
        if change.action in ("update", "replace", "no-op"):
            body = bodies.get(change.address) or {}
            before, after = body.get("before"), body.get("after")
            if isinstance(before, dict) and isinstance(after, dict):
                for attribute, turned_off, words_off in PROTECTIONS:
                    if attribute in after and turned_off(before.get(attribute), after.get(attribute)):
                        risks.append(PlanRisk(stack, change.address, "protection-off", words_off))
    return risks


def _prevent_destroy(change: Change, synthesized: Mapping[str, Any] | None) -> str:
    """What the synthesized stack says about the resource's lifecycle.prevent_destroy ("" when not at hand)."""
    if synthesized is None:
        return ""
    if change.address.startswith("module.") or "[" in change.address:
        return "prevent_destroy not checked: a module or counted instance (cdktf writes neither)"
    rtype, _, name = change.address.partition(".")
    body = ((synthesized.get("resource") or {}).get(rtype) or {}).get(name)
    if not isinstance(body, Mapping):
        return "not in the synthesized stack: its prevent_destroy went with it"
    lifecycle = body.get("lifecycle")
    lifecycle = lifecycle[0] if isinstance(lifecycle, list) and lifecycle else lifecycle
    if isinstance(lifecycle, Mapping) and lifecycle.get("prevent_destroy") in (True, "true"):
        return ("the synthesized stack sets prevent_destroy: this plan was made from other configuration, "
                "and apply with this one fails")
    return "prevent_destroy not set in the synthesized stack"
