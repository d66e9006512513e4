"""haflow report: per-component availability, RTO and RPO of one environment's plan, against its SLO."""

from __future__ import annotations

from pathlib import Path

from haflow import progress
from haflow.commands.common import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, load_or_report, print_error

FORMATS = ("markdown", "json")


def run(env: str, config_dir: Path, output_format: str, out: Path | None = None) -> int:
    if output_format not in FORMATS:
        print_error(f"--format {output_format!r}: choose one of {', '.join(FORMATS)}")
        return EXIT_BAD_INPUT
    environments = load_or_report([env], config_dir)
    if environments is None:
        return EXIT_BAD_INPUT
    import json
    import tempfile

    from haflow.plan import read_stacks
    from haflow.report import estimate
    from haflow.report.format import to_json, to_markdown
    from haflow.report.region import region_estimate
    from haflow.report.region_format import region_json, region_markdown
    from haflow.synthesis import synthesize

    environment = environments[0]
    if out is not None:
        stacks = read_stacks(out)
        if environment.foundation_stack_name not in stacks:
            print_error(
                f"{out}/stacks has no {environment.foundation_stack_name}: synthesize it first "
                f"(haflow synth --env {env} --out {out})"
            )
            return EXIT_BAD_INPUT
    else:
        with progress.stage(f"synthesizing {env}"), tempfile.TemporaryDirectory(prefix="haflow-report-") as tmp:
            stacks = synthesize([environment], Path(tmp) / "cdktf.out")
    result = estimate(stacks, environment)
    region = region_estimate(stacks, environment, result) if environment.dr.enabled else None
    if output_format == "json":
        document = json.loads(to_json(env, result))
        if region is not None:
            document["region"] = region_json(region)
        print(json.dumps(document, indent=2))
    else:
        print(to_markdown(env, result) + (f"\n{region_markdown(region)}" if region else ""), end="")
    return EXIT_OK if result.meets_slo and (region is None or region.meets) else EXIT_FINDINGS
