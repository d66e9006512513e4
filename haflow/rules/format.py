"""Findings as text: a terminal table, JSON, Markdown for a pull request, SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath
from typing import Any

from haflow.plan import STACK_FILE
from haflow.rules.checkov_gate import CheckovOutcome
from haflow.rules.engine import REGISTRY, UNUSED_CHECKOV_SKIP, UNUSED_SUPPRESSION, Evaluation, Finding

FORMATS = ("table", "json", "sarif", "markdown")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"


@dataclass
class CheckReport:
    evaluations: list[Evaluation]
    checkov: CheckovOutcome | None
    stacks_dir: str  # where the stack files are, as the repository sees them (cdktf.out/stacks)
    config_dir: str
    skips_file: str

    @property
    def findings(self) -> list[Finding]:
        """Every unsuppressed finding once (the shared bootstrap stack is in every environment's evaluation)."""
        seen: dict[tuple[str, str, str, str], Finding] = {}
        for evaluation in self.evaluations:
            for finding in evaluation.findings:
                key = (finding.rule_id, finding.stack or finding.env, finding.address, finding.message)
                seen.setdefault(key, finding)
        checkov = self.checkov.failures + self.checkov.unused if self.checkov else []
        return [*seen.values(), *checkov]

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.level == "error"]

    def location(self, finding: Finding) -> str:
        if finding.stack:
            return str(PurePosixPath(self.stacks_dir) / finding.stack / STACK_FILE)
        if finding.rule_id == UNUSED_SUPPRESSION.id:
            return str(PurePosixPath(self.config_dir) / f"{finding.env}.yaml")
        if finding.rule_id == UNUSED_CHECKOV_SKIP.id:
            return self.skips_file
        return ""


def format_report(report: CheckReport, output_format: str, lines: dict[str, dict[str, int]] | None = None) -> str:
    """``lines``: stack -> logical id -> line of the resource in its file (for SARIF regions)."""
    if output_format == "json":
        return json.dumps(to_json(report), indent=2) + "\n"
    if output_format == "sarif":
        return json.dumps(to_sarif(report, lines or {}), indent=2) + "\n"
    if output_format == "markdown":
        return to_markdown(report)
    return to_table(report)


def _summary(report: CheckReport) -> str:
    errors = len(report.errors)
    warnings = len(report.findings) - errors
    suppressed = sum(len(e.suppressed) for e in report.evaluations)
    text = f"{errors} error(s), {warnings} warning(s), {suppressed} suppressed"
    if report.checkov:
        text += (f"; checkov: {report.checkov.passed} passed, {len(report.checkov.failures)} failed, "
                 f"{len(report.checkov.skipped)} skipped with a reason")
    return text


def to_table(report: CheckReport) -> str:
    out: list[str] = []
    for finding in report.findings:
        where = f"{finding.stack or report.location(finding)} {finding.address}"
        out.append(f"{finding.level.upper():7} {finding.rule_id:12} {where}")
        out.append(f"        {finding.message}")
        out.append(f"        fix: {finding.fix}")
    names = ", ".join(e.env for e in report.evaluations)
    out.append(f"{'FAIL' if report.errors else 'PASS'} {names}: {_summary(report)}")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: CheckReport) -> str:
    out = [f"### haflow check: {'FAIL' if report.errors else 'PASS'}", "", _summary(report), ""]
    findings = report.findings
    if findings:
        out += ["| level | rule | stack | resource | problem | fix |", "|---|---|---|---|---|---|"]
        out += [
            f"| {f.level} | `{f.rule_id}` | {f.stack or report.location(f)} | `{f.address}` | {_cell(f.message)} "
            f"| {_cell(f.fix)} |"
            for f in findings
        ]
        out.append("")
    suppressed = [(e.env, s) for e in report.evaluations for s in e.suppressed]
    if suppressed:
        out += ["<details><summary>Suppressed (accepted with a reason)</summary>", "",
                "| env | rule | resource | reason |", "|---|---|---|---|"]
        out += [f"| {env} | `{item.finding.rule_id}` | `{item.finding.address}` | {_cell(item.reason)} |"
                for env, item in suppressed]
        out += ["", "</details>", ""]
    return "\n".join(out)


def to_json(report: CheckReport) -> dict[str, Any]:
    document: dict[str, Any] = {
        "passed": not report.errors,
        "summary": _summary(report),
        "environments": [
            {
                "env": evaluation.env,
                "errors": len(evaluation.errors),
                "findings": [asdict(finding) for finding in evaluation.findings],
                "suppressed": [{**asdict(item.finding), "reason": item.reason} for item in evaluation.suppressed],
                "unused_suppressions": [item.model_dump() for item in evaluation.unused_suppressions],
            }
            for evaluation in report.evaluations
        ],
    }
    if report.checkov:
        document["checkov"] = {
            "passed": report.checkov.passed,
            "failures": [asdict(finding) for finding in report.checkov.failures],
            "skipped": [{**asdict(finding), "reason": reason} for finding, reason in report.checkov.skipped],
            "unused_skips": [asdict(finding) for finding in report.checkov.unused],
        }
    return document


def _sarif_level(level: str) -> str:
    return "error" if level == "error" else "warning"


def _sarif_rules(report: CheckReport) -> list[dict[str, Any]]:
    rules = [
        {
            "id": meta.id,
            "name": meta.id.replace("-", ""),
            "shortDescription": {"text": meta.title},
            "fullDescription": {"text": meta.rationale},
            "help": {"text": f"{meta.fix} (RULES.md)"},
            "defaultConfiguration": {"level": _sarif_level(meta.level)},
            "properties": {"family": meta.family},
        }
        for meta in REGISTRY.values()
    ]
    if report.checkov:
        rules += [
            {
                "id": check_id,
                "name": check_id.replace("_", ""),
                "shortDescription": {"text": name},
                "defaultConfiguration": {"level": "error"},
                "properties": {"family": "checkov"},
            }
            for check_id, name in sorted(report.checkov.check_names.items())
        ]
    return rules


def _sarif_result(report: CheckReport, finding: Finding, index: dict[str, int],
                  lines: dict[str, dict[str, int]], reason: str | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": report.location(finding)}}
    line = lines.get(finding.stack, {}).get(finding.address.partition(".")[2])
    if line:
        physical["region"] = {"startLine": line}
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": _sarif_level(finding.level),
        "message": {"text": f"{finding.address}: {finding.message}. Fix: {finding.fix}"},
        "locations": [
            {
                "physicalLocation": physical,
                "logicalLocations": [
                    {"name": finding.address, "fullyQualifiedName": f"{finding.stack}/{finding.address}",
                     "kind": "resource"}
                ],
            }
        ],
        "properties": {"environment": finding.env, "stack": finding.stack},
    }
    if finding.rule_id in index:
        result["ruleIndex"] = index[finding.rule_id]
    if reason is not None:
        result["suppressions"] = [{"kind": "external", "justification": reason}]
    return result


def to_sarif(report: CheckReport, lines: dict[str, dict[str, int]]) -> dict[str, Any]:
    rules = _sarif_rules(report)
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    suppressed: Iterable[tuple[Finding, str]] = [
        (item.finding, item.reason) for evaluation in report.evaluations for item in evaluation.suppressed
    ]
    if report.checkov:
        suppressed = [*suppressed, *report.checkov.skipped]
    results = [_sarif_result(report, finding, index, lines) for finding in report.findings]
    results += [_sarif_result(report, finding, index, lines, reason) for finding, reason in suppressed]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": "haflow", "rules": rules}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
