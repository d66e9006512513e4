"""`haflow check`: exit codes, the rule id in the output, and each output format."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from haflow.cli import app
from haflow.rules.checkov_gate import skips_file_for
from tests.config.overlays import config_dir_with
from tests.conftest import CHECK_DATE, CONFIG_DIR, ENVIRONMENT_NAMES, REPO_ROOT

runner = CliRunner()

# The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) that code scanning reads.
SARIF_SHAPE: dict[str, Any] = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name", "rules"],
                    "properties": {"rules": {"type": "array", "items": {
                        "type": "object", "required": ["id", "shortDescription"],
                        "properties": {"shortDescription": {"type": "object", "required": ["text"]}}}}},
                }}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["ruleId", "level", "message", "locations"],
                    "properties": {
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": {"type": "object", "required": ["text"]},
                        "locations": {"type": "array", "minItems": 1, "items": {
                            "type": "object",
                            "required": ["physicalLocation", "logicalLocations"],
                            "properties": {
                                "physicalLocation": {"type": "object", "required": ["artifactLocation"]},
                                "logicalLocations": {"type": "array", "items": {
                                    "type": "object", "required": ["name"]}},
                            },
                        }},
                        "suppressions": {"type": "array", "items": {
                            "type": "object", "required": ["kind"],
                            "properties": {"kind": {"enum": ["inSource", "external"]}}}},
                    },
                }},
            },
        }},
    },
}


def check(*args: str) -> Any:
    """The rule pack over the plan; the rendered rules have their own tests (tests/rules/test_rendered.py)."""
    pinned = [] if "--as-of" in args else ["--as-of", CHECK_DATE.isoformat()]
    return runner.invoke(app, ["check", "--config-dir", str(CONFIG_DIR), "--no-render", *pinned, *args])


def test_prod_passes_when_synthesized_by_the_command() -> None:
    result = check("--env", "prod")
    assert result.exit_code == 0, result.output
    assert "PASS prod: 0 error(s), 0 warning(s), 0 suppressed" in result.output


def test_a_broken_overlay_exits_1_naming_the_rule(tmp_path: Path) -> None:
    prod = (CONFIG_DIR / "prod.yaml").read_text(encoding="utf-8").replace("nat_gateways: per_az", "nat_gateways: single")
    config_dir = config_dir_with(tmp_path, {"prod.yaml": prod})
    result = runner.invoke(app, ["check", "--env", "prod", "--config-dir", str(config_dir), "--no-render",
                                 "--as-of", CHECK_DATE.isoformat()])
    assert result.exit_code == 1, result.output
    assert "ERROR   HA-NET-002   prod-foundation aws_subnet.network_private-us-east-1b" in result.output
    assert "fix: Set network.nat_gateways: per_az." in result.output


def test_from_a_synthesized_directory_checks_every_environment(stacks_dir: Path) -> None:
    result = check("--from", str(stacks_dir))
    assert result.exit_code == 0, result.output
    assert f"PASS {', '.join(ENVIRONMENT_NAMES)}: 0 error(s), 0 warning(s)" in result.output


def test_sarif_output_is_sarif_2_1_0_with_stack_file_locations(stacks_dir: Path) -> None:
    result = check("--from", str(stacks_dir), "--env", "dev", "--format", "sarif")
    assert result.exit_code == 0, result.output
    sarif = json.loads(result.stdout)  # progress goes to stderr
    jsonschema.validate(sarif, SARIF_SHAPE)
    [run] = sarif["runs"]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} >= {"HA-NET-002", "HA-SUP-001"}
    # dev's suppressed finding of deletion protection (its regional NAT gateway needs no HA-NET-002 suppression).
    nat = next(r for r in run["results"] if r["ruleId"] == "HA-DB-002")
    location = nat["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("stacks/dev-foundation/cdk.tf.json")
    assert location["physicalLocation"]["region"]["startLine"] > 1
    assert location["logicalLocations"][0]["name"] == "aws_rds_cluster.database_cluster_FAF2FB92"
    assert nat["suppressions"][0]["kind"] == "external"


def test_json_and_markdown_outputs(stacks_dir: Path) -> None:
    as_json = json.loads(check("--from", str(stacks_dir), "--env", "staging", "--format", "json").stdout)
    [staging] = as_json["environments"]
    assert as_json["passed"] and staging["errors"] == 0
    assert {item["rule_id"] for item in staging["suppressed"]} == {"HA-DB-002", "HA-DL-001", "HA-WL-001", "HA-WL-002"}
    markdown = check("--from", str(stacks_dir), "--env", "dev", "--format", "markdown").stdout
    assert markdown.startswith("### haflow check: PASS")
    assert "| dev | `HA-DB-002` |" in markdown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format 'xml': choose one of table, json, sarif, markdown"),
        (["--env", "qa"], "unknown environment 'qa'"),
        (["--env", "prod", "--from", "/nonexistent/cdktf.out"], "no cdk.tf.json for prod-foundation, prod-platform"),
        (["--as-of", "29.11.2026"], "--as-of '29.11.2026': not a date; write it as YYYY-MM-DD"),
        (["--as-of", "2026-02-30"], "--as-of '2026-02-30': not a date"),
    ],
)
def test_bad_input_exits_2_without_a_traceback(args: list[str], message: str) -> None:
    result = check(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("as_of", "exit_code", "expected"),
    [
        ("2026-11-29", 0, "PASS prod: 0 error(s), 0 warning(s)"),
        ("2027-01-15", 0, "WARNING HA-EKS-007"),
        ("2027-04-01", 1, "ERROR   HA-EKS-006"),
    ],
)
def test_as_of_judges_the_support_window_on_that_day(
    stacks_dir: Path, as_of: str, exit_code: int, expected: str
) -> None:
    result = check("--from", str(stacks_dir), "--env", "prod", "--as-of", as_of)
    assert result.exit_code == exit_code, result.output
    assert expected in result.output


# checkov-skips.yaml belongs to the configuration's repository, wherever haflow runs from.


@pytest.mark.slow
def test_the_skips_file_is_the_one_at_the_config_repositorys_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "deploy" / "environments").mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", str(repo)], check=True)
    assert skips_file_for(repo / "deploy" / "environments") == repo.resolve() / "checkov-skips.yaml"
    assert skips_file_for(CONFIG_DIR) == REPO_ROOT / "checkov-skips.yaml"


@pytest.mark.slow
def test_run_from_elsewhere_the_repositorys_skips_still_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               synth_dir: Path) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["-q", "check", "--env", "dev", "--checkov", "--config-dir", str(CONFIG_DIR),
                                 "--from", str(synth_dir)])
    assert result.exit_code == 0, result.output
    assert "skipped with a reason" in result.output and " 0 failed" in result.output


@pytest.mark.slow
def test_a_missing_skips_file_is_said_out_loud(tmp_path: Path, synth_dir: Path) -> None:
    shutil.copytree(CONFIG_DIR, tmp_path / "environments")
    result = runner.invoke(app, ["-q", "check", "--env", "dev", "--checkov", "--config-dir",
                                 str(tmp_path / "environments"), "--from", str(synth_dir)])
    assert "checkov-skips.yaml not found" in result.stderr
    assert "--checkov-skips FILE" in result.stderr
    assert result.exit_code == 1


@pytest.mark.slow
def test_an_explicit_skips_file_must_exist(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", "--env", "dev", "--checkov", "--config-dir", str(CONFIG_DIR),
                                 "--checkov-skips", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "nope.yaml: file not found" in result.output
