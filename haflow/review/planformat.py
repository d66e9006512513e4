"""The review of real plans as JSON, or as markdown that fits one GitHub comment.

The markdown starts with the summary table, the data-loss risks and the HA regressions; the details per
stack, the drift and the output changes follow in folded ``<details>`` sections. A comment holds 65,536
characters: sections that do not fit are shortened to their addresses, then left out, and the last line
says what was left out and how to see all of it.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from haflow.review.planreview import PlanReview
from haflow.review.tfplan import Change, StackPlan

GITHUB_COMMENT_LIMIT = 65_536
# room for the marker line the workflow puts in front of the comment
DEFAULT_BUDGET = GITHUB_COMMENT_LIMIT - 536
MAX_HEAD_RISKS = 200
DRIFT_WORDS = {"update": "changed ", "destroy": "deleted ", "create": "appeared "}
SECTIONS = (("replace", "Replaced"), ("destroy", "Destroyed"),
            ("forget", "Forgotten (left in place, no longer managed)"), ("create", "Created"),
            ("update", "Updated in place"), ("read", "Read (data sources)"))


def to_json(result: PlanReview) -> str:
    document: dict[str, Any] = {
        "data_loss": [asdict(risk) for risk in result.risks],
        "ha_regressions": [asdict(regression) for regression in result.regressions],
        "notes": result.notes,
        "stacks": [
            {
                "stack": plan.stack, "environment": result.owners.get(plan.stack, ""), "plan": plan.source,
                "format_version": plan.format_version, "terraform_version": plan.terraform_version,
                "summary": _counts(plan),
                "changes": [_change_json(change) for change in plan.changes if change.action != "no-op"
                            or change.previous_address or change.importing],
                "drift": [_change_json(change) for change in plan.drift],
                "drift_filtered_by_relevant_attributes": plan.drift_filtered,
                "output_changes": [asdict(output) for output in plan.outputs if output.action != "no-op"],
                "data_loss": [asdict(risk) for risk in plan.risks],
                "notes": plan.notes,
            }
            for plan in result.stacks
        ],
    }
    return json.dumps(document, indent=2)


def _change_json(change: Change) -> dict[str, Any]:
    document = asdict(change)
    document["actions"] = list(change.actions)
    document["reason"] = change.reason
    return document


def _counts(plan: StackPlan) -> dict[str, int]:
    counts = {action: len(plan.of(action)) for action, _ in SECTIONS}
    counts.update(moved=len(plan.moved), imported=len(plan.imported), drifted=len(plan.drift),
                  outputs_changed=sum(1 for o in plan.outputs if o.action != "no-op"))
    return counts


def to_markdown(result: PlanReview, budget: int = DEFAULT_BUDGET) -> str:
    risks, regressions = result.risks, result.regressions
    drifted = sum(len(plan.drift) for plan in result.stacks)
    headline = ", ".join([
        f"**{len(risks)} data-loss risk(s)**" if risks else "no data-loss risk",
        f"**{len(regressions)} HA regression(s)**" if regressions else "no HA regression",
        f"{drifted} resource(s) drifted outside Terraform" if drifted else "no drift",
    ])
    head = ["## haflow review of the Terraform plan", "", headline, "",
            "| stack | environment | create | update | replace | destroy | forget | move | import | drift | "
            "data loss |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for plan in result.stacks:
        counts = _counts(plan)
        head.append(f"| {plan.stack} | {result.owners.get(plan.stack) or '-'} | {counts['create']} | "
                    f"{counts['update']} | {_bold(counts['replace'])} | {_bold(counts['destroy'])} | "
                    f"{counts['forget']} | {counts['moved']} | {counts['imported']} | {counts['drifted']} | "
                    f"{_bold(len(plan.risks))} |")
    head.append("")
    if risks:
        head += ["### Data-loss risks", ""]
        head += [f"- :warning: `{r.stack}` `{r.address}`: **{r.kind}** - {_cell(r.reason)}"
                 for r in risks[:MAX_HEAD_RISKS]]
        if len(risks) > MAX_HEAD_RISKS:
            head.append(f"- ... and {len(risks) - MAX_HEAD_RISKS} more (--format json lists all)")
        head.append("")
    if regressions:
        head += ["### HA regressions", ""]
        head += [f"- `{r.rule_id}` ({r.level}) `{r.stack}` `{r.address}`: {_cell(r.message)} Fix: {_cell(r.fix)}"
                 for r in regressions[:MAX_HEAD_RISKS]]
        if len(regressions) > MAX_HEAD_RISKS:
            head.append(f"- ... and {len(regressions) - MAX_HEAD_RISKS} more (--format json lists all)")
        head.append("")
    notes = result.notes + [f"{plan.stack}: {note}" for plan in result.stacks for note in plan.notes]
    head += [f"_{_cell(note)}_" for note in notes]
    if notes:
        head.append("")
    text = "\n".join(head) + "\n"
    blocks: list[tuple[str, str, str]] = []  # (what, full, compact)
    for plan in result.stacks:
        if any(plan.of(action) for action, _ in SECTIONS) or plan.moved or plan.imported:
            blocks.append((f"the details of {plan.stack}", _stack_block(plan, True), _stack_block(plan, False)))
    for plan in result.stacks:
        if plan.drift:
            blocks.append((f"the drift of {plan.stack}", _drift_block(plan, True), _drift_block(plan, False)))
    for plan in result.stacks:
        if any(o.action != "no-op" for o in plan.outputs):
            block = _outputs_block(plan)
            blocks.append((f"the output changes of {plan.stack}", block, ""))
    shortened, left_out = [], []
    reserve = 400
    for what, full, compact in blocks:
        if len(text) + len(full) + reserve <= budget:
            text += full
        elif compact and len(text) + len(compact) + reserve <= budget:
            text += compact
            shortened.append(what)
        else:
            left_out.append(what)
    if shortened or left_out:
        parts = []
        if shortened:
            parts.append(f"attribute changes left out of {', '.join(shortened)}")
        if left_out:
            parts.append(f"left out: {', '.join(left_out)}")
        note = (f"**Truncated to fit a GitHub comment ({GITHUB_COMMENT_LIMIT:,} characters)**: {'; '.join(parts)}. "
                "`haflow review --format json` has all of it.")
        if len(text) + len(note) + 2 > budget:
            note = "**Truncated to fit a GitHub comment**: `haflow review --format json` has all of it."
        text += note + "\n"
    return text


def _stack_block(plan: StackPlan, with_attributes: bool) -> str:
    counts = _counts(plan)
    summary = (f"{plan.stack}: +{counts['create']} ~{counts['update']} -/+{counts['replace']} "
               f"-{counts['destroy']} forget {counts['forget']} moved {counts['moved']} "
               f"imported {counts['imported']}")
    lines = [f"<details><summary>{summary}</summary>", "",
             f"`{plan.source}` (Terraform {plan.terraform_version}, format {plan.format_version})", ""]
    for action, title in SECTIONS:
        changes = plan.of(action)
        if not changes:
            continue
        lines += [f"**{title}**", ""]
        for change in changes:
            lines += _change_lines(change, with_attributes)
        lines.append("")
    moved_only = [c for c in plan.moved if c.action == "no-op"]
    imported_only = [c for c in plan.imported if c.action == "no-op"]
    if moved_only or imported_only:
        lines += ["**Moved or imported, nothing else changes**", ""]
        for change in [*moved_only, *imported_only]:
            lines += _change_lines(change, with_attributes)
        lines.append("")
    if not with_attributes:
        lines += ["_(attribute changes left out to fit the comment)_", ""]
    lines += ["</details>", ""]
    return "\n".join(lines) + "\n"


def _change_lines(change: Change, with_attributes: bool, label: str = "") -> list[str]:
    extra = []
    if change.previous_address:
        extra.append(f"moved from `{change.previous_address}`")
    if change.importing:
        extra.append("imported")
    if change.deposed:
        extra.append(f"deposed object {change.deposed}")
    if change.reason:
        extra.append(change.reason)
    if change.replace_paths:
        extra.append("replaced because of " + ", ".join(f"`{p}`" for p in change.replace_paths))
    line = f"- {label}`{change.address}`" + (f" ({'; '.join(extra)})" if extra else "")
    lines = [line]
    if with_attributes:
        for attribute in change.attributes:
            lines.append(f"  - `{attribute.path}`: `{_cell(attribute.before)}` -> `{_cell(attribute.after)}`")
        shown = {attribute.path for attribute in change.attributes}
        unknown = [path for path in change.unknown_after if path not in shown]
        if unknown and change.action != "create":
            lines.append(f"  - known after apply: {', '.join(f'`{p}`' for p in unknown)}")
        elif unknown:
            lines.append(f"  - {len(unknown)} attribute(s) known after apply")
    return lines


def _drift_block(plan: StackPlan, with_attributes: bool) -> str:
    scope = ("the drift that feeds a planned change (relevant_attributes)" if plan.drift_filtered
             else "all drift (the plan has no relevant_attributes to filter by)")
    lines = [f"<details><summary>{plan.stack}: {len(plan.drift)} resource(s) changed outside Terraform</summary>",
             "", f"_{scope}_", ""]
    for change in plan.drift:
        lines += _change_lines(change, with_attributes, label=DRIFT_WORDS.get(change.action, f"{change.action} "))
    lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"


def _outputs_block(plan: StackPlan) -> str:
    changed = [o for o in plan.outputs if o.action != "no-op"]
    lines = [f"<details><summary>{plan.stack}: {len(changed)} output change(s)</summary>", ""]
    lines += [f"- `{o.name}` {o.action}: `{_cell(o.before)}` -> `{_cell(o.after)}`" for o in changed]
    lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("`", "'").replace("\n", " ").replace("|", "\\|")


def _bold(count: int) -> str:
    return f"**{count}**" if count else "0"
