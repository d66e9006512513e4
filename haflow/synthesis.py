"""Synthesize environments into a directory atomically, and read synthesized stacks back."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from haflow.config.model import Environment
from haflow.output import MANIFEST, OutputError, claim_output_dir, is_previous_output
from haflow.plan import STACK_FILE, STACKS_DIR, StackJson, read_stacks
from haflow.reader import read_json


def synthesize(
    environments: list[Environment], outdir: Path, *, keep_other_stacks: bool = False,
    bootstrap_from: list[Environment] | None = None, protect: tuple[Path, ...] = (),
) -> dict[str, StackJson]:
    """Synthesize into ``outdir``; a failure leaves the previous ``outdir`` untouched.

    ``outdir`` must be new, empty or a previous output (haflow.output.claim_output_dir). cdktf writes
    into a fresh temporary directory beside it; only a complete synth is swapped in (old output renamed
    aside, new one renamed in, old one removed). With ``keep_other_stacks``, the stacks of environments
    not synthesized now are carried over from the previous output, so ``synth --env prod`` replaces
    prod's stacks and the bootstrap stack and keeps dev's and staging's. ``bootstrap_from`` are the
    environments whose state buckets the bootstrap stack holds (default: ``environments``).
    """
    from haflow.app import build_app  # loads cdktf and the bindings: only when synthesizing

    outdir = claim_output_dir(outdir, protect)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.new-", dir=outdir.parent))
    except OSError as err:
        raise OutputError(f"--out {outdir}: cannot write in {outdir.parent} ({err.strerror})") from None
    try:
        build_app(environments, outdir=str(staging), bootstrap_from=bootstrap_from).synth()
        stacks = read_stacks(staging)
        if keep_other_stacks and is_previous_output(outdir):
            _carry_over(outdir, staging)
        _swap_in(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return stacks


def _carry_over(previous: Path, staging: Path) -> None:
    """Copy the stacks ``staging`` lacks from ``previous``, and their entries in the manifest."""
    new_stacks = {path.name for path in (staging / STACKS_DIR).iterdir()}
    manifest_path = staging / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    previous_manifest = read_json(previous / MANIFEST)
    previous_entries = previous_manifest.get("stacks", {}) if isinstance(previous_manifest, dict) else {}
    for stack_dir in sorted((previous / STACKS_DIR).iterdir()):
        if stack_dir.name in new_stacks or not (stack_dir / STACK_FILE).is_file():
            continue
        shutil.copytree(stack_dir, staging / STACKS_DIR / stack_dir.name, symlinks=True)
        if isinstance(previous_entries, dict) and stack_dir.name in previous_entries:
            manifest["stacks"][stack_dir.name] = previous_entries[stack_dir.name]
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")


def _swap_in(staging: Path, outdir: Path) -> None:
    retired = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.old-", dir=outdir.parent))
    if outdir.exists():
        outdir.rename(retired / outdir.name)
    staging.rename(outdir)
    shutil.rmtree(retired, ignore_errors=True)


def resource_counts(stack: StackJson) -> Counter[str]:
    return Counter({rtype: len(items) for rtype, items in stack.get("resource", {}).items()})
