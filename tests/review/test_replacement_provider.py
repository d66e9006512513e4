"""The replacement table against the real AWS provider (tests/review/replacement_check.py): for each attribute
REPLACEMENT_ATTRIBUTES lists for a type haflow's foundation uses, the real plan replaces the resource; and the
attributes the real plan replaces that the table lacks are listed (and must be the known ones)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from haflow.review.replacement import REPLACEMENT_ATTRIBUTES
from haflow.review.terraform import Workdir
from haflow.synthesis import StackJson
from tests.review import realplans, replacement_check

pytestmark = pytest.mark.slow

STACK = "prod-foundation"
# Replaced only in some directions, so not in the table of unconditional replacements: the provider forces a
# new replication group when engine_version goes down (7.1 -> 7.0 here), an upgrade is applied in place.
CONDITIONAL = {("aws_elasticache_replication_group", "engine_version")}


@pytest.fixture(scope="module")
def check(tmp_path_factory: pytest.TempPathFactory, aws_version: str, tf_schemas: dict[str, Any],
          synthesized: dict[str, StackJson]) -> dict[str, Any]:
    stack = synthesized[STACK]
    types = [rtype for rtype in REPLACEMENT_ATTRIBUTES if rtype in (stack.get("resource") or {})]
    piece = replacement_check.foundation_slice(stack, types, tf_schemas)
    region = stack["provider"]["aws"][0]["region"]
    workdir = Workdir.create(tmp_path_factory.mktemp("tf-replacement"), aws_version, region=region)
    base = {rtype: {"base": piece.resources[rtype]["base"]} for rtype in types}
    workdir.write_config(base)
    workdir.init()
    objects = realplans.settled_state(workdir, base, tf_schemas)
    config = {rtype: dict(bodies) for rtype, bodies in base.items()}
    state = list(objects)
    all_variants, untested = [], []
    for rtype in types:
        found, skipped = replacement_check.variants(base[rtype]["base"], rtype, tf_schemas[rtype]["block"],
                                                    REPLACEMENT_ATTRIBUTES[rtype])
        untested += skipped
        prior = next(item for item in objects if item["type"] == rtype)
        for variant in found:
            config[rtype][variant.name] = variant.body
            state.append({**prior, "name": variant.name})
        all_variants += found
    document, path = realplans.plan_with_state(workdir, state, config, None, "replacement")
    return {"types": types, "variants": all_variants, "untested": untested, "stripped": piece.stripped,
            "changes": {entry["address"]: entry for entry in document["resource_changes"]}, "path": path}


def replaced(check: dict[str, Any], variant: replacement_check.Variant) -> bool:
    change = check["changes"][f"{variant.rtype}.{variant.name}"]
    tops = {str(path[0]) for path in change["change"].get("replace_paths") or []}
    return "delete" in change["change"]["actions"] and variant.attribute in tops


def test_haflow_uses_the_types_the_table_covers(check: dict[str, Any]) -> None:
    assert {"aws_rds_cluster", "aws_rds_cluster_instance", "aws_elasticache_replication_group", "aws_s3_bucket",
            "aws_kms_key", "aws_secretsmanager_secret", "aws_cloudwatch_log_group"} <= set(check["types"])


def test_the_unchanged_foundation_resources_plan_clean(check: dict[str, Any]) -> None:
    actions = {rtype: check["changes"][f"{rtype}.base"]["change"]["actions"] for rtype in check["types"]}
    assert actions == {rtype: ["no-op"] for rtype in check["types"]}


def test_every_attribute_the_table_lists_replaces_the_resource(check: dict[str, Any]) -> None:
    listed = {(rtype, attribute) for rtype in check["types"] for attribute in REPLACEMENT_ATTRIBUTES[rtype]}
    tried = {(v.rtype, v.attribute) for v in check["variants"] if v.in_table}
    untested = {tuple(line.split(":", 1)[0].split(".", 1)) for line in check["untested"]}
    assert listed - tried - untested == set()
    not_replaced = sorted(f"{v.rtype}.{v.attribute}" for v in check["variants"] if v.in_table and not replaced(check, v))
    assert not_replaced == [], f"the table says these force replacement, the real plan updates in place: {not_replaced}"
    # what could not be checked with this provider version is said, never silently passed
    print("not checked:", check["untested"] or "nothing", "; stripped for the mirror's provider:",
          check["stripped"] or "nothing")
    assert {line.split(":", 1)[0] for line in check["untested"]} <= {f"{r}.{a}" for r, a in listed}


def test_attributes_the_real_plan_replaces_that_the_table_lacks(check: dict[str, Any]) -> None:
    lacking = {(v.rtype, v.attribute) for v in check["variants"] if not v.in_table and replaced(check, v)}
    print("replaced by the real plan, not in REPLACEMENT_ATTRIBUTES:", sorted(lacking))
    assert lacking == CONDITIONAL


def test_the_plan_is_read_by_haflow_review_with_the_same_verdicts(check: dict[str, Any]) -> None:
    from haflow.review.tfplan import read

    plan = read(Path(check["path"]), STACK)
    replaced_addresses = {change.address for change in plan.of("replace")}
    expected = {f"{v.rtype}.{v.name}" for v in check["variants"] if replaced(check, v)}
    assert replaced_addresses == expected
    assert {risk.address for risk in plan.risks if risk.kind == "replaced"} == expected
