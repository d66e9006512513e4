"""haflow synth: Terraform JSON for the bootstrap stack and every requested environment.

With --env, only those environments' stacks (and the shared bootstrap stack, built from every
environment's state settings) are replaced in OUT; the other environments' stacks stay.
"""

from __future__ import annotations

import sys
from pathlib import Path

from haflow import progress
from haflow.commands.common import EXIT_BAD_INPUT, EXIT_OK, load_or_report
from haflow.config.placeholders import warn_text
from haflow.output import claim_output_dir
from haflow.synthesis import resource_counts, synthesize


def run(envs: list[str], config_dir: Path, out: Path) -> int:
    claim_output_dir(out, (config_dir,))
    with progress.stage("loading environments"):
        environments = load_or_report(envs, config_dir)
        every = load_or_report([], config_dir) if envs and environments is not None else environments
    if environments is None or every is None:
        return EXIT_BAD_INPUT
    examples = warn_text(environments)
    if examples:
        print(examples, file=sys.stderr, flush=True)
    with progress.stage(f"synthesizing {len(environments)} environment(s) (loading the provider bindings)"):
        stacks = synthesize(environments, out, keep_other_stacks=bool(envs), bootstrap_from=every,
                            protect=(config_dir,))
    for name, stack in stacks.items():
        counts = resource_counts(stack)
        top = ", ".join(f"{rtype} {count}" for rtype, count in counts.most_common(6))
        print(f"{name}: {sum(counts.values())} resources ({top}{', ...' if len(counts) > 6 else ''})")
    kept = "" if not envs else " (any other environment's stacks there were kept)"
    print(f"wrote {len(stacks)} stacks to {out}/stacks{kept}")
    return EXIT_OK
