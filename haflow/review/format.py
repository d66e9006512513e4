"""The review as JSON, or as markdown to paste into a pull request: a summary table per environment,
then the details in collapsible sections."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from haflow.review import Review
from haflow.review.plandiff import neutral_only

MAX_ROWS = 200


def to_json(result: Review) -> str:
    document: dict[str, Any] = {
        "base": result.base,
        "data_loss": [asdict(risk) for risk in result.risks],
        "ha_regressions": [asdict(regression) for regression in result.regressions],
        "environments": [
            {
                "name": env.name,
                "rules_note": env.rules_note,
                "stacks": [
                    {"stack": stack.stack, "added": stack.added, "removed": stack.removed,
                     "changed": [{"address": c.address, "replacing": c.replacing,
                                  "attributes": [asdict(a) for a in c.attributes]} for c in stack.changed],
                     "providers_changed": [{"address": c.address, "attributes": [asdict(a) for a in c.attributes]}
                                           for c in stack.providers],
                     "data_loss": [asdict(risk) for risk in stack.risks]}
                    for stack in env.stacks
                ],
                "ha_regressions": [asdict(regression) for regression in env.regressions],
            }
            for env in result.environments
        ],
    }
    return json.dumps(document, indent=2)


def to_markdown(result: Review) -> str:
    risks, regressions = result.risks, result.regressions
    headline = (f"**{len(risks)} data-loss risk(s)**" if risks else "no data-loss risk") + ", " + (
        f"**{len(regressions)} HA regression(s)**" if regressions else "no HA regression")
    lines = [f"## haflow plan review against `{result.base}`", "", headline, ""]
    lines += ["| environment | stack | added | removed | changed | data-loss risks | HA regressions |",
              "|---|---|---|---|---|---|---|"]
    for env in result.environments:
        for index, stack in enumerate(env.stacks):
            regressions_cell = (str(len(env.regressions)) if env.regressions else "0") if index == 0 else ""
            lines.append(f"| {env.name if index == 0 else ''} | {stack.stack} | {len(stack.added)} | "
                         f"{len(stack.removed)} | {len(stack.changed)} | "
                         f"{_bold(len(stack.risks))} | {regressions_cell} |")
    lines.append("")
    if risks:
        lines += ["### Data-loss risks", ""]
        lines += [f"- :warning: `{risk.stack}` `{risk.address}`: **{risk.kind}** - {risk.reason}" for risk in risks]
        lines.append("")
    if regressions:
        lines += ["### HA regressions (rule findings new in this change)", ""]
        lines += [f"- `{r.rule_id}` ({r.level}) `{r.stack}` `{r.address}`: {r.message} Fix: {r.fix}"
                  for r in regressions]
        lines.append("")
    for env in result.environments:
        if env.rules_note:
            lines += [f"_{env.name}: {env.rules_note}_", ""]
        for stack in env.stacks:
            if stack.empty:
                continue
            lines += [f"<details><summary>{stack.stack}: +{len(stack.added)} -{len(stack.removed)} "
                      f"~{len(stack.changed)}</summary>", ""]
            lines += _stack_details(stack.added, stack.removed, [*stack.changed, *stack.providers])
            lines += ["", "</details>", ""]
    return "\n".join(lines) + "\n"


def _stack_details(added: list[str], removed: list[str], changed: list[Any]) -> list[str]:
    lines = []
    rows = 0
    for address in added:
        lines.append(f"- `+` `{address}`")
    for address in removed:
        lines.append(f"- `-` `{address}`")
    for change in changed:
        tag = " (tags or ordering only)" if neutral_only(change) else ""
        replacing = f" **replaced** ({', '.join(change.replacing)})" if change.replacing else ""
        lines.append(f"- `~` `{change.address}`{replacing}{tag}")
        for attribute in change.attributes:
            rows += 1
            if rows > MAX_ROWS:
                break
            lines.append(f"  - `{attribute.path}`: `{_cell(attribute.before)}` -> `{_cell(attribute.after)}`")
    if rows > MAX_ROWS:
        lines.append(f"- ... {rows - MAX_ROWS} more attribute changes (use --format json for all)")
    return lines


def _cell(text: str) -> str:
    return text.replace("`", "'").replace("\n", " ")


def _bold(count: int) -> str:
    return f"**{count}**" if count else "0"
