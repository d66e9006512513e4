"""`haflow check`: exit codes, the rule id in the output, and each output format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from haflow.cli import app
from tests.config.overlays import config_dir_with
from tests.conftest import CONFIG_DIR, ENVIRONMENT_NAMES

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
    return runner.invoke(app, ["check", "--config-dir", str(CONFIG_DIR), *args])


def test_prod_passes_when_synthesized_by_the_command() -> None:
    result = check("--env", "prod")
    assert result.exit_code == 0, result.output
    assert "PASS prod: 0 error(s), 0 warning(s), 0 suppressed" in result.output


def test_a_broken_overlay_exits_1_naming_the_rule(tmp_path: Path) -> None:
    prod = (CONFIG_DIR / "prod.yaml").read_text(encoding="utf-8").replace("nat_gateways: per_az", "nat_gateways: single")
    config_dir = config_dir_with(tmp_path, {"prod.yaml": prod})
    result = runner.invoke(app, ["check", "--env", "prod", "--config-dir", str(config_dir)])
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
    sarif = json.loads(result.stdout)
    jsonschema.validate(sarif, SARIF_SHAPE)
    [run] = sarif["runs"]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} >= {"HA-NET-002", "HA-SUP-001"}
    nat = next(r for r in run["results"] if r["ruleId"] == "HA-NET-002")
    location = nat["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("stacks/dev-foundation/cdk.tf.json")
    assert location["physicalLocation"]["region"]["startLine"] > 1
    assert location["logicalLocations"][0]["name"] == "aws_subnet.network_private-us-east-1b_0C4F2911"
    assert nat["suppressions"][0]["kind"] == "external"


def test_json_and_markdown_outputs(stacks_dir: Path) -> None:
    as_json = json.loads(check("--from", str(stacks_dir), "--env", "staging", "--format", "json").stdout)
    [staging] = as_json["environments"]
    assert as_json["passed"] and staging["errors"] == 0
    assert {item["rule_id"] for item in staging["suppressed"]} == {"HA-DB-002", "HA-DL-001", "HA-WL-001", "HA-WL-002"}
    markdown = check("--from", str(stacks_dir), "--env", "dev", "--format", "markdown").stdout
    assert markdown.startswith("### haflow check: PASS")
    assert "| dev | `HA-NET-002` |" in markdown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format 'xml': choose one of table, json, sarif, markdown"),
        (["--env", "qa"], "unknown environment 'qa'"),
        (["--env", "prod", "--from", "/nonexistent/cdktf.out"], "no cdk.tf.json for prod-foundation, prod-platform"),
    ],
)
def test_bad_input_exits_2_without_a_traceback(args: list[str], message: str) -> None:
    result = check(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
