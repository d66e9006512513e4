"""Synthesize environments into a directory atomically, and read synthesized stacks back."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from haflow.config.model import Environment

StackJson = dict[str, Any]
STACK_FILE = "cdk.tf.json"


def synthesize(environments: list[Environment], outdir: Path) -> dict[str, StackJson]:
    """Synthesize into ``outdir``; a failure leaves the previous ``outdir`` untouched.

    cdktf writes into a fresh temporary directory beside ``outdir``; only a complete synth is
    swapped in (old output renamed aside, new one renamed in, old one removed).
    """
    from haflow.app import build_app  # loads cdktf and the bindings: only when synthesizing

    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.new-", dir=outdir.parent))
    try:
        build_app(environments, outdir=str(staging)).synth()
        stacks = read_stacks(staging)
        _swap_in(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return stacks


def _swap_in(staging: Path, outdir: Path) -> None:
    retired = outdir.with_name(f".{outdir.name}.old")
    shutil.rmtree(retired, ignore_errors=True)
    if outdir.exists():
        outdir.rename(retired)
    staging.rename(outdir)
    shutil.rmtree(retired, ignore_errors=True)


def read_stacks(outdir: Path) -> dict[str, StackJson]:
    """Every synthesized stack under ``outdir/stacks``, by stack name."""
    stacks_dir = outdir / "stacks"
    return {
        path.parent.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(stacks_dir.glob(f"*/{STACK_FILE}"))
    }


def resource_counts(stack: StackJson) -> Counter[str]:
    return Counter({rtype: len(items) for rtype, items in stack.get("resource", {}).items()})
