"""haflow synth: Terraform JSON for the bootstrap stack and every requested environment."""

from __future__ import annotations

from pathlib import Path

from haflow.commands.common import EXIT_BAD_INPUT, EXIT_OK, load_or_report
from haflow.synthesis import resource_counts, synthesize


def run(envs: list[str], config_dir: Path, out: Path) -> int:
    environments = load_or_report(envs, config_dir)
    if environments is None:
        return EXIT_BAD_INPUT
    stacks = synthesize(environments, out)
    for name, stack in stacks.items():
        counts = resource_counts(stack)
        top = ", ".join(f"{rtype} {count}" for rtype, count in counts.most_common(6))
        print(f"{name}: {sum(counts.values())} resources ({top}{', ...' if len(counts) > 6 else ''})")
    print(f"wrote {len(stacks)} stacks to {out}/stacks")
    return EXIT_OK
