"""Real plans made by the machine's terraform and AWS provider, offline (``plan -refresh=false`` against a
state file): the plan review's test data beside the shared plans of other projects.

A prior state is crafted from a configuration the way it would look after apply: the configuration is
planned from an empty state, and each planned ``after`` becomes the object's state, with every value known
only after apply filled with a mock of its type (an id is the resource's own name, a reference resolves
to the filled value it points at). Planned again with that state, the configuration plans clean; a changed
configuration then plans exactly the provider's reaction to the change.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from haflow.review.terraform import MOCK_ACCOUNT, Workdir, mirrored_aws_versions, terraform_binary, write_state

REQUIRE_VARIABLE = "HAFLOW_REQUIRE_TERRAFORM"
WHOLE_REFERENCE = re.compile(r"\$\{([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}")
# the identifying argument the AWS provider uses as `id`, per type
ID_ATTRIBUTE = {
    "aws_rds_cluster": "cluster_identifier", "aws_rds_cluster_instance": "identifier",
    "aws_elasticache_replication_group": "replication_group_id", "aws_s3_bucket": "bucket",
    "aws_cloudwatch_log_group": "name", "aws_secretsmanager_secret": "arn", "aws_kms_key": "key_id",
}


def require_terraform() -> str:
    """The AWS provider version of the mirror; skip (or fail, with HAFLOW_REQUIRE_TERRAFORM=1) without one."""
    problem = ""
    if terraform_binary() is None:
        problem = "no terraform on PATH"
    elif not mirrored_aws_versions():
        problem = "no hashicorp/aws in the provider mirror (HAFLOW_TF_PLUGIN_MIRROR, default /opt/tf-plugins)"
    if problem:
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{problem}, and {REQUIRE_VARIABLE}=1 requires the real terraform")
        pytest.skip(f"{problem}: the real-plan tests need terraform and the AWS provider")
    return mirrored_aws_versions()[-1]


def mock_value(kind: Any, attribute: str, owner: str) -> Any:
    """A value of the schema type ``kind`` for an attribute known only after apply."""
    if kind == "string":
        if attribute == "arn" or attribute.endswith("_arn"):
            return f"arn:aws:mock:us-east-1:{MOCK_ACCOUNT}:{owner}/{attribute}"
        return f"mock-{attribute}-{owner}".lower().replace("_", "-")
    if kind == "number":
        return 0
    if kind == "bool":
        return False
    if isinstance(kind, list) and kind and kind[0] in ("list", "set"):
        return []
    if isinstance(kind, list) and kind and kind[0] in ("map", "object"):
        return {}
    return None


def _fill(after: Any, unknown: Any, block: Mapping[str, Any], owner: str) -> Any:
    """``after`` with the unknown parts (``after_unknown``) replaced by mocks of their schema type."""
    if not isinstance(after, dict):
        after = {}
    filled = dict(after)
    marks = unknown if isinstance(unknown, dict) else {}
    for name, spec in (block.get("attributes") or {}).items():
        if marks.get(name) is True:
            filled[name] = mock_value(spec.get("type"), name, owner)
        filled.setdefault(name, None)
    for name, nested in (block.get("block_types") or {}).items():
        value = filled.get(name)
        inner = nested.get("block") or {}
        if isinstance(value, list):
            inner_marks = marks.get(name) if isinstance(marks.get(name), list) else []
            filled[name] = [_fill(item, inner_marks[i] if i < len(inner_marks) else None, inner, owner)
                            for i, item in enumerate(value)]
        elif value is None:
            filled[name] = [] if nested.get("nesting_mode") in ("list", "set") else None
    return filled


def craft_state(planned: Mapping[str, Any], config: Mapping[str, Any], schemas: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The state objects of a plan from an empty state: its planned values, unknowns filled."""
    objects: dict[str, dict[str, Any]] = {}
    for entry in planned["resource_changes"]:
        rtype, name = entry["type"], entry["name"]
        block = schemas[rtype]["block"]
        attributes = _fill(entry["change"]["after"], entry["change"]["after_unknown"], block, name)
        identity = ID_ATTRIBUTE.get(rtype)
        if identity and isinstance(attributes.get(identity), str):
            attributes["id"] = attributes[identity]
        elif isinstance(attributes.get("id"), str) and attributes["id"].startswith("mock-"):
            attributes["id"] = name
        objects[f"{rtype}.{name}"] = attributes
    # a reference to a value known after apply now resolves to the mock it points at
    for address, attributes in objects.items():
        rtype, name = address.split(".", 1)
        for key, value in ((config.get(rtype) or {}).get(name) or {}).items():
            match = WHOLE_REFERENCE.fullmatch(value) if isinstance(value, str) else None
            target = objects.get(f"{match.group(1)}.{match.group(2)}") if match else None
            if match and target is not None and target.get(match.group(3)) is not None:
                attributes[key] = target[match.group(3)]
    return [{"type": address.split(".", 1)[0], "name": address.split(".", 1)[1],
             "schema_version": schemas[address.split(".", 1)[0]].get("version", 0), "attributes": attributes,
             "sensitive": sorted(name for name, spec in
                                 (schemas[address.split(".", 1)[0]]["block"].get("attributes") or {}).items()
                                 if spec.get("sensitive"))}
            for address, attributes in objects.items()]


def settled_state(workdir: Workdir, config: Mapping[str, Any], schemas: Mapping[str, Any],
                  extra: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Plan ``config`` from an empty state and craft the state it would leave (the first of two plans)."""
    state = workdir.path / "terraform.tfstate"
    state.unlink(missing_ok=True)
    workdir.write_config(config, extra)
    return craft_state(workdir.plan_json("create"), config, schemas)


def rename(objects: list[dict[str, Any]], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """State objects under new names (``names``: old address -> new address); others unchanged."""
    renamed = []
    for item in objects:
        address = f"{item['type']}.{item['name']}"
        new = names.get(address, address)
        renamed.append({**copy.deepcopy(item), "type": new.split(".", 1)[0], "name": new.split(".", 1)[1]})
    return renamed


def plan_with_state(workdir: Workdir, objects: list[dict[str, Any]], config: Mapping[str, Any],
                    extra: Mapping[str, Any] | None, name: str) -> tuple[dict[str, Any], Path]:
    write_state(workdir.path / "terraform.tfstate", objects)
    workdir.write_config(config, extra)
    document = workdir.plan_json(name)
    return document, workdir.path / f"{name}.json"
