"""haflow rules: write RULES.md from the rules' metadata."""

from __future__ import annotations

from pathlib import Path

from haflow.commands.common import EXIT_OK
from haflow.output import write_generated_file
from haflow.rules.docs import rules_markdown


def run(out: Path) -> int:
    text = rules_markdown()
    heading = text.splitlines()[0]
    write_generated_file(out, text, option="--out", default_name="RULES.md",
                         is_previous=lambda current: current.startswith(heading))
    print(f"wrote {out}")
    return EXIT_OK
