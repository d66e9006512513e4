"""Load environments: read base.yaml and <env>.yaml, deep-merge (lists replace), validate.

Every problem in every requested environment is collected and raised once as ConfigError.
Nothing here imports a provider binding, so `haflow validate` stays well under a second.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from haflow.config.checks import run_checks
from haflow.config.errors import MISSING, ConfigError, ConfigIssue
from haflow.config.model import Environment
from haflow.defaults import CONFIG_DIR as DEFAULT_CONFIG_DIR
from haflow.merge import deep_merge

BASE_FILE = "base.yaml"
NOT_ENVIRONMENTS = {"base", "schema"}


def environment_names(config_dir: Path = DEFAULT_CONFIG_DIR) -> list[str]:
    """Every environment overlay in ``config_dir``, sorted."""
    if not config_dir.is_dir():
        raise ConfigError(
            [
                ConfigIssue(
                    display(config_dir), "", MISSING, "configuration directory not found",
                    "run from the repository root or pass --config-dir DIR",
                )
            ]
        )
    return sorted(p.stem for p in config_dir.glob("*.yaml") if p.stem not in NOT_ENVIRONMENTS)


def load_environments(
    names: list[str] | None = None, config_dir: Path = DEFAULT_CONFIG_DIR
) -> list[Environment]:
    """Load and validate ``names`` (default: every overlay); raise one ConfigError for all problems."""
    available = environment_names(config_dir)
    wanted = list(dict.fromkeys(names)) if names else available
    issues: list[ConfigIssue] = []
    base_path = config_dir / BASE_FILE
    base_doc, base_issues = _read_yaml(base_path) if base_path.exists() else ({}, [])
    issues.extend(base_issues)
    environments: list[Environment] = []
    for name in wanted:
        overlay_path = config_dir / f"{name}.yaml"
        if name not in available:
            issues.append(
                ConfigIssue(
                    display(overlay_path), "", MISSING,
                    f"unknown environment {name!r} (available: {', '.join(available) or 'none'})",
                    f"pick one of those or create {display(overlay_path)}",
                )
            )
            continue
        overlay_doc, overlay_issues = _read_yaml(overlay_path)
        issues.extend(overlay_issues)
        if base_issues or overlay_issues:
            continue
        env, env_issues = _validate(name, base_doc, overlay_doc, base_path, overlay_path)
        issues.extend(env_issues)
        if env is not None:
            environments.append(env)
    if issues:
        raise ConfigError(issues)
    return environments


def load_environment(name: str, config_dir: Path = DEFAULT_CONFIG_DIR) -> Environment:
    return load_environments([name], config_dir)[0]


def merged_document(name: str, config_dir: Path = DEFAULT_CONFIG_DIR) -> dict[str, Any]:
    """The merged, unvalidated document of one environment (for tests and tooling)."""
    base_doc, _ = _read_yaml(config_dir / BASE_FILE)
    overlay_doc, _ = _read_yaml(config_dir / f"{name}.yaml")
    return deep_merge(base_doc, {"name": name, **overlay_doc})


def display(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when possible."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys (YAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (the first value would be silently lost)", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path) -> tuple[dict[str, Any], list[ConfigIssue]]:
    shown = display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        return {}, [ConfigIssue(shown, "", MISSING, f"cannot read file ({err.strerror})", "check the path")]
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        return {}, [
            ConfigIssue(
                where, "", MISSING, f"YAML syntax error: {err.problem or err.context}",
                "fix the YAML at that line (indentation, a missing colon or an unclosed quote)",
            )
        ]
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        return {}, [
            ConfigIssue(
                shown, "", doc, "the top level must be a mapping of sections",
                "start the file with keys such as region: and network:",
            )
        ]
    return doc, []


def _validate(
    name: str, base_doc: dict[str, Any], overlay_doc: dict[str, Any], base_path: Path, overlay_path: Path
) -> tuple[Environment | None, list[ConfigIssue]]:
    issues: list[ConfigIssue] = []
    if "name" in overlay_doc and overlay_doc["name"] != name:
        issues.append(
            ConfigIssue(
                display(overlay_path), "name", overlay_doc["name"],
                f"does not match the file name (the environment is {name!r})",
                f"remove name: or set it to {name!r}",
            )
        )
        return None, issues
    merged = deep_merge(base_doc, {**overlay_doc, "name": name})
    try:
        env = Environment.model_validate(merged)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            problem, fix = _describe(error, loc)
            value = MISSING if error["type"] == "missing" else error.get("input", MISSING)
            source = overlay_path if _has_path(overlay_doc, loc) or not _has_path(base_doc, loc) else base_path
            issues.append(ConfigIssue(display(source), render_path(loc), value, problem, fix))
        return None, issues
    for violation in run_checks(env):
        loc = parse_path(violation.path)
        source = overlay_path if _has_path(overlay_doc, loc) or not _has_path(base_doc, loc) else base_path
        issues.append(ConfigIssue(display(source), violation.path, violation.value, violation.problem, violation.fix))
    return (None if issues else env), issues


def render_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_path(path: str) -> tuple[Any, ...]:
    parts: list[Any] = []
    for chunk in path.replace("]", "").split("."):
        name, *indexes = chunk.split("[")
        if name:
            parts.append(name)
        parts.extend(int(index) for index in indexes)
    return tuple(parts)


def _has_path(doc: Any, loc: tuple[Any, ...]) -> bool:
    node = doc
    for part in loc:
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_mapping or in_list:
            node = node[part]
        else:
            return False
    return True


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class whose fields live at ``loc`` (walking lists and dicts of models)."""
    current: Any = Environment
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        current = _unwrap(current.model_fields[part].annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (list, dict, typing.Union, types.UnionType, typing.Annotated):
        for arg in reversed(typing.get_args(annotation)):
            found = _unwrap(arg)
            if isinstance(found, type) and issubclass(found, BaseModel):
                return found
        return None
    return annotation


_TYPE_NAMES = {
    "int": "a whole number", "float": "a number", "string": "a string", "bool": "true or false",
    "list": "a list", "dict": "a mapping", "model": "a mapping",
}


def _describe(error: Any, loc: tuple[Any, ...]) -> tuple[str, str]:
    kind: str = error["type"]
    ctx = error.get("ctx") or {}
    path = render_path(loc)
    if kind == "haflow":
        return error["msg"], ctx["fix"]
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        fix = f"did you mean {close[0]!r}?" if close else "remove it or correct its spelling"
        return f"unknown key (allowed here: {', '.join(allowed)})", fix
    if kind == "missing":
        model = _model_at(loc[:-1])
        field = model.model_fields.get(str(loc[-1])) if model else None
        what = f" ({field.description})" if field and field.description else ""
        return f"required key is missing{what}", f"add {path} to the overlay or to base.yaml"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}", "use one of those values"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return error["msg"].replace("Input should be", "must be"), f"set {path} inside that range"
    if kind in ("too_short", "too_long"):
        return error["msg"].replace("List should", "the list must").replace("Value should", "must"), f"fix {path}"
    for suffix, name in _TYPE_NAMES.items():
        if kind.startswith(suffix + "_") or kind == suffix + "_type":
            return f"wrong type: expected {name}", f"write {path} as {name}"
    return error["msg"], f"see environments/schema.json for what {path} accepts"
