"""The region level of the report, as markdown (appended after the AZ level) or as JSON (a "region" key)."""

from __future__ import annotations

from typing import Any

from haflow.report.region import RegionEstimate
from haflow.report.sources import SOURCES


def _seconds(value: float | None) -> str:
    return "unbounded" if value is None else f"{value:g} s"


def region_json(region: RegionEstimate) -> dict[str, Any]:
    return {
        "mode": region.mode,
        "primary_region": region.primary_region,
        "secondary_region": region.secondary_region,
        "objectives": {"rto_seconds": region.rto_objective, "rpo_seconds": region.rpo_objective},
        "estimate": {
            "rto_seconds": region.rto_seconds,
            "rpo_seconds": region.rpo_seconds,
            "availability_percent": round(region.availability_percent, 4),
            "availability_primary_percent": round(region.availability_primary, 4),
            "availability_secondary_percent": None if region.availability_secondary is None
            else round(region.availability_secondary, 4),
        },
        "meets": {"rto": region.meets_rto, "rpo": region.meets_rpo, "region": region.meets},
        "rto_steps": [{"step": step, "seconds": f.value, "source": f.source} for step, f in region.rto_steps],
        "rpo_stores": [{"store": store, "seconds": f.value, "source": f.source, "note": f.note}
                       for store, f in region.rpo_stores],
        "dr_posture": [{"component": c.title, "posture": c.posture, "how": c.how} for c in region.components],
        "traffic_failover": region.traffic,
        "problems": region.problems,
        "sources": {sid: {"title": SOURCES[sid].title, "url": SOURCES[sid].url, "quote": SOURCES[sid].quote,
                          "assumed": SOURCES[sid].assumed} for sid in region.cited},
    }


def region_markdown(region: RegionEstimate) -> str:
    verdict = "meets" if region.meets else "MISSES"
    lines = [
        f"### Region level: dr.mode {region.mode}, {region.primary_region} -> {region.secondary_region or 'none'} "
        f"({verdict} the region objectives)",
        "",
        "| | objective | estimate | |",
        "|---|---|---|---|",
        f"| region RTO | {_seconds(region.rto_objective) if region.rto_objective else '-'} | "
        f"{_seconds(region.rto_seconds)} | {'ok' if region.meets_rto else '**miss**'} |",
        f"| region RPO | {_seconds(region.rpo_objective) if region.rpo_objective is not None else '-'} | "
        f"{_seconds(region.rpo_seconds)} | {'ok' if region.meets_rpo else '**miss**'} |",
        f"| availability with the secondary as a parallel path | - | {region.availability_percent:.4f}% "
        f"(primary alone {region.availability_primary:.4f}%) | |",
        "",
    ]
    lines += [f"- {problem}" for problem in region.problems]
    if region.rto_steps:
        steps = " + ".join(f"{step} {_seconds(f.value)} [{f.source}]" for step, f in region.rto_steps)
        lines += [f"Region RTO = {steps}.", ""]
    if region.rpo_stores:
        stores = ", ".join(f"{store} {_seconds(f.value)} [{f.source}]" for store, f in region.rpo_stores)
        lines += [f"Region RPO = the largest of: {stores}; Redis holds no records (rebuilt).", ""]
    lines += [f"Traffic failover: {region.traffic}.", "", "| component | DR posture | how |", "|---|---|---|"]
    lines += [f"| {c.title} | {c.posture} | {c.how} |" for c in region.components]
    lines += ["", "Region sources:"]
    for source_id in region.cited:
        source = SOURCES[source_id]
        flag = " (assumption: no documented figure)" if source.assumed else ""
        lines.append(f'- [{source_id}] {source.title}{flag}: {source.url} - "{source.quote}"')
    return "\n".join(lines) + "\n"
