"""The report as JSON (every figure with its source id) or as markdown (tables, then the sources)."""

from __future__ import annotations

import json
from typing import Any

from haflow.report.model import Component, Estimate, Figure
from haflow.report.sources import SOURCES

MODEL = (
    "Composite availability = product of the components' availabilities (serial: every component "
    "must be up). A component redundant across AZs uses its service's multi-AZ SLA; a single-AZ or "
    "single-replica one uses the lower single-AZ / instance figure. RTO = longest component RTO after "
    "the loss of one AZ; RPO = largest RPO of the stores of record. See docs/report.md."
)
SECONDS_PER_MONTH = 30 * 24 * 3600


def to_json(env_name: str, estimate: Estimate) -> str:
    cited = sorted({figure.source for component in estimate.components for figure in _figures(component)})
    document: dict[str, Any] = {
        "environment": env_name,
        "model": MODEL,
        "slo": {
            "availability_percent": estimate.slo.availability_percent,
            "rto_seconds": estimate.slo.rto_seconds,
            "rpo_seconds": estimate.slo.rpo_seconds,
        },
        "estimate": {
            "availability_percent": round(estimate.availability_percent, 4),
            "rto_seconds": estimate.rto_seconds,
            "rpo_seconds": estimate.rpo_seconds,
        },
        "meets": {
            "availability": estimate.meets_availability,
            "rto": estimate.meets_rto,
            "rpo": estimate.meets_rpo,
            "slo": estimate.meets_slo,
        },
        "not_present_in_plan": estimate.missing,
        "components": [_component_json(component) for component in estimate.components],
        "sources": {
            source_id: {
                "title": SOURCES[source_id].title,
                "url": SOURCES[source_id].url,
                "quote": SOURCES[source_id].quote,
                "assumed": SOURCES[source_id].assumed,
            }
            for source_id in cited
        },
    }
    return json.dumps(document, indent=2)


def _figures(component: Component) -> list[Figure]:
    return [*component.availability_factors, *(f for f in (component.rto, component.rpo) if f is not None)]


def _figure_json(figure: Figure | None) -> dict[str, Any] | None:
    if figure is None:
        return None
    return {"value": figure.value, "source": figure.source, "note": figure.note}


def _component_json(component: Component) -> dict[str, Any]:
    availability = component.availability_percent
    return {
        "key": component.key,
        "title": component.title,
        "present": component.present,
        "resources": component.resources,
        "azs": component.azs,
        "replicas": component.replicas,
        "failover": component.failover,
        "availability_percent": round(availability, 4) if availability is not None else None,
        "availability_factors": [_figure_json(f) for f in component.availability_factors],
        "rto_seconds": _figure_json(component.rto),
        "rpo_seconds": _figure_json(component.rpo),
        "notes": component.notes,
    }


def to_markdown(env_name: str, estimate: Estimate) -> str:
    slo = estimate.slo
    verdict = "meets" if estimate.meets_slo else "MISSES"
    lines = [
        f"## haflow report: {env_name} ({verdict} its SLO)",
        "",
        "| | SLO | estimate | |",
        "|---|---|---|---|",
        f"| availability | {slo.availability_percent}% | {estimate.availability_percent:.4f}% "
        f"(~{_downtime(estimate.availability_percent)}/month down) | {_mark(estimate.meets_availability)} |",
        f"| RTO | {slo.rto_seconds} s | {_seconds(estimate.rto_seconds)} | {_mark(estimate.meets_rto)} |",
        f"| RPO | {slo.rpo_seconds} s | {_seconds(estimate.rpo_seconds)} | {_mark(estimate.meets_rpo)} |",
        "",
    ]
    if not estimate.meets_availability and not estimate.missing:
        lowest = sorted(
            (
                (f.value, c.title, f.source)
                for c in estimate.components
                for f in c.availability_factors
                if f.value is not None
            ),
        )[:3]
        listed = ", ".join(f"{title} {value}% [{source}]" for value, title, source in lowest)
        lines += [
            f"Short of the SLO by {slo.availability_percent - estimate.availability_percent:.4f} points; "
            f"the lowest figures in the product: {listed}.",
            "",
        ]
    if estimate.missing:
        lines += [
            f"Not present in plan, so the SLO cannot be shown to be met: {', '.join(estimate.missing)}.",
            "",
        ]
    lines += [
        "| component | AZs | replicas | failover | availability | RTO | RPO |",
        "|---|---|---|---|---|---|---|",
    ]
    for component in estimate.components:
        if not component.present:
            lines.append(f"| {component.title} | | | not present in plan | | | |")
            continue
        availability = component.availability_percent
        if component.availability_factors:
            factors = " x ".join(f"{f.value}% [{f.source}]" for f in component.availability_factors)
            figure = f"{availability:.4f}% ({factors})"
        else:
            figure = "no figure of its own (redundant; runs on the node groups)"
        replicas = component.replicas if component.replicas is not None else "-"
        lines.append(
            f"| {component.title} | {', '.join(component.azs) or '-'} | {replicas} | {component.failover} | "
            f"{figure} | {_cited(component.rto)} | {_cited(component.rpo)} |"
        )
    lines += ["", f"Model: {MODEL}", ""]
    notes = [
        (c.title, note)
        for c in estimate.components
        if c.present
        for note in [*c.notes, *(f.note for f in (c.rto, c.rpo) if f is not None and f.note)]
    ]
    if notes:
        lines += ["Notes:", *(f"- {title}: {note}" for title, note in notes), ""]
    cited = sorted({f.source for c in estimate.components for f in _figures(c)})
    lines += ["Sources:"]
    for source_id in cited:
        source = SOURCES[source_id]
        flag = " (assumption: no documented figure)" if source.assumed else ""
        lines.append(f'- [{source_id}] {source.title}{flag}: {source.url} - "{source.quote}"')
    return "\n".join(lines) + "\n"


def _cited(figure: Figure | None) -> str:
    if figure is None:
        return "n/a"
    return f"{_seconds(figure.value)} [{figure.source}]"


def _seconds(value: float | None) -> str:
    return "unbounded" if value is None else f"{value:g} s"


def _mark(ok: bool) -> str:
    return "ok" if ok else "**miss**"


def _downtime(percent: float) -> str:
    seconds = (100.0 - percent) / 100.0 * SECONDS_PER_MONTH
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"
