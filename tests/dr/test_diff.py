"""haflow diff's review: removing disaster recovery from a plan is an HA regression, rule by rule."""

from __future__ import annotations

import copy

from haflow.config import Environment
from haflow.plan import StackJson
from haflow.review import review


def test_removing_the_dr_stacks_and_replication_is_flagged(synthesized: dict[str, StackJson],
                                                           environments: dict[str, Environment]) -> None:
    prod = environments["prod"]
    base = {name: stack for name, stack in synthesized.items() if name.startswith("prod-") or name == "bootstrap"}
    head = {name: copy.deepcopy(stack) for name, stack in base.items() if "-dr-" not in name}
    head["prod-foundation"]["resource"].pop("aws_s3_bucket_replication_configuration")
    head["bootstrap"]["resource"].pop("aws_s3_bucket_replication_configuration")  # the state's copy
    # The head's configuration says DR is off, as the change that removed it would.
    without_dr = prod.model_copy(update={
        "dr": prod.dr.model_copy(update={"mode": "none"}),
        "slo": prod.slo.model_copy(update={"region_rto_seconds": None, "region_rpo_seconds": None}),
    })

    result = review("main", base, head, [without_dr], ["prod"])

    flagged = {regression.rule_id for regression in result.regressions}
    assert {"HA-DR-001", "HA-DR-002", "HA-DR-003", "HA-DR-004", "HA-DR-005", "HA-DR-007"} <= flagged
    assert all("no longer holds" in r.message for r in result.regressions if r.rule_id.startswith("HA-DR"))


def test_an_unchanged_plan_has_no_dr_regression(synthesized: dict[str, StackJson],
                                                environments: dict[str, Environment]) -> None:
    plans = {name: stack for name, stack in synthesized.items() if name.startswith("prod-")}
    result = review("main", plans, copy.deepcopy(plans), [environments["prod"]], ["prod"])
    assert not result.regressions
