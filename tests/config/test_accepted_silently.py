"""What used to be accepted without a word: each is now refused with a message and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from haflow.config import ConfigError, environment_names, load_environments
from haflow.config.loader import rename_suggestion
from tests.config.overlays import config_dir_with, issues_at
from tests.conftest import CONFIG_DIR

runner = CliRunner()
NEW = "tags: {environment: perf}\nnetwork: {cidr: 10.99.0.0/16}\n"


def test_overlapping_vpc_cidrs_across_environments_are_reported(tmp_path: Path) -> None:
    prod_cidr = load_environments(["prod"], CONFIG_DIR)[0].network.cidr
    config_dir = config_dir_with(tmp_path, {"perf.yaml": f"tags: {{environment: perf}}\nnetwork: {{cidr: {prod_cidr}}}\n"})
    [issue] = issues_at(config_dir, "perf", "network.cidr")
    assert f"overlaps the VPC of prod ({prod_cidr})" in issue.problem
    assert "e.g. 10." in issue.fix and prod_cidr not in issue.fix
    with pytest.raises(ConfigError, match="overlaps the VPC of perf"):
        load_environments(["prod"], config_dir)


def test_an_availability_zone_the_region_does_not_have_is_refused(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path, {"perf.yaml": NEW + "availability_zones: [us-east-1a, us-east-1z]\n"})
    [issue] = issues_at(config_dir, "perf", "availability_zones[1]")
    assert "is not an availability zone of region us-east-1" in issue.problem and "us-east-1f" in issue.problem


def test_an_unknown_region_is_refused(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path, {"perf.yaml": NEW + "region: xx-mars-1\navailability_zones: [xx-mars-1a, xx-mars-1b]\n"})
    issues_at(config_dir, "perf", "region")


def test_a_yml_overlay_is_refused_not_ignored(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path, {"perf.yml": NEW})
    with pytest.raises(ConfigError) as caught:
        environment_names(config_dir)
    assert "perf.yml" in caught.value.render() and "rename it to perf.yaml" in caught.value.render()
    result = runner.invoke(app, ["validate", "--config-dir", str(config_dir)])
    assert result.exit_code == 2 and "rename it to perf.yaml" in result.output


@pytest.mark.parametrize("text", ["", "# only a comment\n", "{}\n", "---\n"], ids=["empty", "comment", "braces", "marker"])
def test_an_empty_overlay_is_refused(tmp_path: Path, text: str) -> None:
    config_dir = config_dir_with(tmp_path, {"perf.yaml": text})
    with pytest.raises(ConfigError) as caught:
        load_environments(["perf"], config_dir)
    assert "the overlay is empty" in caught.value.render()


def test_the_rename_suggestion_never_points_at_an_existing_environment(tmp_path: Path) -> None:
    existing = environment_names(CONFIG_DIR)
    bad = existing[0].upper()
    config_dir = config_dir_with(tmp_path, {f"{bad}.yaml": NEW})
    [issue] = issues_at(config_dir, bad, "name")
    suggested = issue.fix.rsplit("/", 1)[-1].removesuffix(".yaml")
    assert suggested not in existing
    assert suggested == rename_suggestion(bad, existing)
    assert rename_suggestion("Prod_EU", ["prod-eu"]) == "prod-eu-2"
    assert rename_suggestion("x", []) == "env-x"


def test_an_environment_named_like_another_ones_dr_stacks_is_refused(tmp_path: Path) -> None:
    """prod-dr's foundation stack would be named prod-dr-foundation: prod's DR foundation stack (cdktf: exit 3)."""
    config_dir = config_dir_with(tmp_path, {"prod-dr.yaml": NEW})
    [issue] = issues_at(config_dir, "prod-dr", "name")
    assert "may not end in '-dr'" in issue.problem and "prod-dr-foundation" in issue.problem
    assert issue.fix.endswith("environments/prod-dr-2.yaml")
    assert rename_suggestion("Prod-DR", []) == "prod-dr-2"
