"""Load environments: read base.yaml and <env>.yaml, deep-merge (lists replace), validate.

Every problem in every requested environment is collected and raised once as ConfigError.
Nothing here imports a provider binding, so `haflow validate` stays well under a second.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from haflow import contract
from haflow.config import names
from haflow.config.checks import run_checks
from haflow.config.model import Environment
from haflow.defaults import CONFIG_DIR as DEFAULT_CONFIG_DIR
from haflow.errors import MISSING, ConfigError, ConfigIssue
from haflow.merge import deep_merge
from haflow.reader import display, read_yaml

BASE_FILE = "base.yaml"
NOT_ENVIRONMENTS = {"base", "schema"}


def environment_names(config_dir: Path = DEFAULT_CONFIG_DIR) -> list[str]:
    """Every environment overlay in ``config_dir``, sorted; a ``.yml`` file there is refused, not ignored."""
    if not config_dir.is_dir():
        raise ConfigError(
            [
                ConfigIssue(
                    display(config_dir), "", MISSING, "configuration directory not found",
                    "run from the repository root or pass --config-dir DIR",
                )
            ]
        )
    misnamed = sorted(config_dir.glob("*.yml"))
    if misnamed:
        raise ConfigError(
            [
                ConfigIssue(
                    display(path), "", MISSING, "haflow reads <name>.yaml files only; this one would be ignored",
                    f"rename it to {path.stem}.yaml",
                )
                for path in misnamed
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
    base_doc, base_issues = _read_document(base_path) if base_path.exists() else ({}, [])
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
        overlay_doc, overlay_issues = _read_document(overlay_path)
        issues.extend(overlay_issues)
        if base_issues or overlay_issues:
            continue
        env, env_issues = _validate(name, base_doc, overlay_doc, base_path, overlay_path, available)
        issues.extend(env_issues)
        if env is not None:
            environments.append(env)
    if not base_issues:
        issues.extend(_overlapping_cidrs(environments, base_doc, config_dir, available))
    if issues:
        raise ConfigError(issues)
    return environments


def load_environment(name: str, config_dir: Path = DEFAULT_CONFIG_DIR) -> Environment:
    return load_environments([name], config_dir)[0]


def merged_document(name: str, config_dir: Path = DEFAULT_CONFIG_DIR) -> dict[str, Any]:
    """The merged, unvalidated document of one environment (for tests and tooling)."""
    base_doc, _ = _read_document(config_dir / BASE_FILE)
    overlay_doc, _ = _read_document(config_dir / f"{name}.yaml")
    return deep_merge(base_doc, {"name": name, **overlay_doc})


def _read_document(path: Path) -> tuple[dict[str, Any], list[ConfigIssue]]:
    """The mapping in ``path``; an empty overlay is refused (it would silently be base.yaml)."""
    shown = display(path)
    try:
        doc = read_yaml(path)
    except ConfigError as err:
        return {}, err.issues
    if doc is None and path.name == BASE_FILE:
        return {}, []
    if doc is None or doc == {}:
        return {}, [
            ConfigIssue(
                shown, "", MISSING,
                "the overlay is empty, so the environment would silently be base.yaml unchanged",
                f"set what makes {path.stem} differ: at least tags.environment and network.cidr "
                "(see docs/environments.md, Add an environment)",
            )
        ]
    if not isinstance(doc, dict):
        return {}, [
            ConfigIssue(
                shown, "", doc, "the top level must be a mapping of sections",
                "start the file with keys such as region: and network:",
            )
        ]
    return doc, []


def _overlapping_cidrs(
    environments: list[Environment], base_doc: dict[str, Any], config_dir: Path, available: list[str]
) -> list[ConfigIssue]:
    """Each loaded environment's VPC CIDR against every other environment's: overlapping VPCs cannot be
    peered or joined through a transit gateway, and a shared range is usually a copy-paste slip."""
    others: dict[str, ipaddress.IPv4Network] = {}
    for other in available:
        overlay, problems = _read_document(config_dir / f"{other}.yaml")
        network = deep_merge(base_doc, overlay).get("network") if not problems else None
        try:
            others[other] = ipaddress.IPv4Network(network.get("cidr") if isinstance(network, dict) else None)
        except (TypeError, ValueError):
            continue
    issues = []
    for env in environments:
        mine = ipaddress.IPv4Network(env.network.cidr)
        clashes = [f"{other} ({network})" for other, network in others.items()
                   if other != env.name and mine.overlaps(network)]
        if clashes:
            used = list(others.values())
            issues.append(
                ConfigIssue(
                    display(config_dir / f"{env.name}.yaml"), "network.cidr", env.network.cidr,
                    f"overlaps the VPC of {', '.join(clashes)}: overlapping VPCs cannot be peered or routed "
                    "to each other",
                    f"use a range no other environment uses, e.g. {_free_range(used, mine.prefixlen)}",
                )
            )
    return issues


def _free_range(used: list[ipaddress.IPv4Network], prefixlen: int) -> str:
    for candidate in ipaddress.IPv4Network("10.0.0.0/8").subnets(new_prefix=max(prefixlen, 16)):
        if not any(candidate.overlaps(network) for network in used):
            return str(candidate)
    return "a free range inside 10.0.0.0/8"


def rename_suggestion(name: str, taken: list[str]) -> str:
    """A valid environment name close to ``name`` that no overlay uses yet."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    cleaned = re.sub(r"^[^a-z]+", "", cleaned)[:16].rstrip("-")
    stem = cleaned if len(cleaned) >= 3 else f"env-{cleaned}".rstrip("-")
    candidates = [stem, *(f"{stem[:13].rstrip('-')}-{n}" for n in range(2, 100))]
    return next(c for c in candidates if names.ENV_NAME.match(c) and c not in taken
                and not c.endswith(contract.RESERVED_ENV_SUFFIX))


def _validate(
    name: str, base_doc: dict[str, Any], overlay_doc: dict[str, Any], base_path: Path, overlay_path: Path,
    available: list[str],
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
            source = overlay_path if _overlay_owns(overlay_doc, base_doc, loc) else base_path
            if loc == ("name",):
                suggestion = overlay_path.with_name(rename_suggestion(name, available) + overlay_path.suffix)
                fix = f"rename the overlay file, e.g. to {display(suggestion)}"
            issues.append(ConfigIssue(display(source), render_path(loc), value, problem, fix))
        return None, issues
    for violation in run_checks(env):
        loc = parse_path(violation.path)
        source = overlay_path if _overlay_owns(overlay_doc, base_doc, loc) else base_path
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


def _overlay_owns(overlay_doc: Any, base_doc: Any, loc: tuple[Any, ...]) -> bool:
    """The overlay set the value at ``loc``, or a list on its way (lists replace, so base has no say in it)."""
    if _has_path(overlay_doc, loc) or not _has_path(base_doc, loc):
        return True
    return any(isinstance(part, int) and _has_path(overlay_doc, loc[:index]) for index, part in enumerate(loc))


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
