"""haflow rules: write RULES.md from the rules' metadata."""

from __future__ import annotations

from pathlib import Path

from haflow.commands.common import EXIT_OK
from haflow.rules.docs import render_rules_markdown


def run(out: Path) -> int:
    staging = out.with_name(f".{out.name}.tmp")
    staging.write_text(render_rules_markdown(), encoding="utf-8")
    staging.replace(out)
    print(f"wrote {out}")
    return EXIT_OK
