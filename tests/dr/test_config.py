"""The dr section and the region objectives: prod's shape validates; contradictions are refused, all at once, with fixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from haflow.config import ConfigError, Environment, load_environments
from haflow.region_recovery import region_recovery_seconds
from tests.config.overlays import config_dir_with, issues_at
from tests.conftest import CONFIG_DIR

PROD = (CONFIG_DIR / "prod.yaml").read_text(encoding="utf-8")


def with_dr(dr_yaml: str, slo_extra: str = "") -> str:
    """prod.yaml with its dr section and region objectives replaced."""
    head, rest = PROD.split("dr:\n", 1)
    after_dr = rest[rest.index("slo:"):]
    text = head + dr_yaml + "\n" + after_dr
    if slo_extra:
        text = text.replace("  region_rto_seconds: 1800\n  region_rpo_seconds: 900\n", slo_extra)
    return text


def test_prod_runs_warm_standby_in_another_region(environments: dict[str, Environment]) -> None:
    prod = environments["prod"]
    assert prod.dr.mode == "warm_standby"
    assert prod.dr.secondary_region not in (None, prod.region)
    assert prod.dr.secondary_database_instances() == 1
    assert prod.stack_names == ("prod-foundation", "prod-platform", "prod-dr-foundation", "prod-dr-platform")
    assert environments["dev"].dr.mode == environments["staging"].dr.mode == "none"
    assert environments["dev"].network.nat_gateways == "regional"


def test_warm_standby_meets_prods_region_rto_where_pilot_light_would_not(environments: dict[str, Environment]) -> None:
    prod = environments["prod"]
    warm = sum(region_recovery_seconds(prod.dr).values())
    pilot = prod.model_copy(update={"dr": prod.dr.model_copy(update={"mode": "pilot_light", "database_instances": 0})})
    assert warm <= (prod.slo.region_rto_seconds or 0) < sum(region_recovery_seconds(pilot.dr).values())


@pytest.mark.parametrize(
    ("dr_yaml", "slo_extra", "path", "words"),
    [
        ("dr: {mode: warm_standby, secondary_region: us-east-1, availability_zones: [us-east-1a, us-east-1b], "
         "network_cidr: 10.31.0.0/16}", "", "dr.secondary_region", "is the primary region"),
        ("dr: {mode: warm_standby, secondary_region: us-west-2, availability_zones: [us-east-1a, us-west-2b], "
         "network_cidr: 10.31.0.0/16}", "", "dr.availability_zones[0]", "not an availability zone of region us-west-2"),
        ("dr: {mode: warm_standby, secondary_region: us-west-2, availability_zones: [us-west-2a, us-west-2b], "
         "network_cidr: 10.30.0.0/16}", "", "dr.network_cidr", "overlaps the primary VPC"),
        ("dr: {mode: warm_standby, secondary_region: us-west-2, availability_zones: [us-west-2a, us-west-2b], "
         "network_cidr: 10.31.0.0/16}", "  region_rto_seconds: 1800\n  region_rpo_seconds: 60\n",
         "slo.region_rpo_seconds", "replication cannot meet it"),
        ("dr: {mode: pilot_light, secondary_region: us-west-2, availability_zones: [us-west-2a, us-west-2b], "
         "network_cidr: 10.31.0.0/16}", "", "slo.region_rto_seconds", "use dr.mode: warm_standby"),
        ("dr: {mode: warm_standby, secondary_region: us-west-2, availability_zones: [us-west-2a, us-west-2b], "
         "network_cidr: 10.31.0.0/16}", "\n", "slo.region_rto_seconds", "needs an objective"),
        ("dr: {mode: none}", "", "slo.region_rpo_seconds", "needs a secondary region"),
        ("dr: {mode: pilot_light, secondary_region: us-west-2, availability_zones: [us-west-2a, us-west-2b], "
         "network_cidr: 10.31.0.0/16, database_instances: 1}", "  region_rto_seconds: 3600\n  region_rpo_seconds: 900\n",
         "dr.database_instances", "headless"),
    ],
)
def test_contradictions_are_refused_with_a_fix(
    tmp_path: Path, dr_yaml: str, slo_extra: str, path: str, words: str
) -> None:
    config_dir = config_dir_with(tmp_path, {"prod.yaml": with_dr(dr_yaml, slo_extra)})
    (issue,) = issues_at(config_dir, "prod", path)[:1]
    assert words in issue.problem + issue.fix
    assert issue.fix and issue.file.endswith("prod.yaml")


def test_every_dr_problem_is_reported_at_once(tmp_path: Path) -> None:
    bad = with_dr("dr: {mode: warm_standby, secondary_region: us-east-1, availability_zones: [us-east-1a], "
                  "network_cidr: 10.30.0.0/16, database_instances: 0}", "  region_rto_seconds: 60\n  region_rpo_seconds: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_environments(["prod"], config_dir_with(tmp_path, {"prod.yaml": bad}))
    paths = {issue.path for issue in caught.value.issues}
    assert {"dr.secondary_region", "dr.availability_zones", "dr.network_cidr", "dr.database_instances",
            "slo.region_rto_seconds", "slo.region_rpo_seconds"} <= paths


def test_the_region_rto_counts_the_prefect_start_until_the_secondary_serves(
    environments: dict[str, Environment],
) -> None:
    """Before promotion the DR platform runs no Prefect pod (dr.serving false): the failover waits for the
    tier's install after promotion, and the region RTO counts it; a secondary already serving does not wait."""
    from haflow.region_recovery import PREFECT_START_AFTER_PROMOTION_SECONDS

    dr = environments["prod"].dr
    waiting = region_recovery_seconds(dr.model_copy(update={"serving": False}))
    serving = region_recovery_seconds(dr.model_copy(update={"serving": True}))
    assert waiting["Prefect start after promotion"] == PREFECT_START_AFTER_PROMOTION_SECONDS
    assert "Prefect start after promotion" not in serving
    assert sum(waiting.values()) - sum(serving.values()) == PREFECT_START_AFTER_PROMOTION_SECONDS
