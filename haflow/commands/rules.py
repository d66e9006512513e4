"""haflow rules: write RULES.md and haflow/rule_ids.py from the rules' metadata."""

from __future__ import annotations

from pathlib import Path

from haflow.commands.common import EXIT_OK
from haflow.output import write_generated_file
from haflow.rules.docs import RULE_IDS_HEADER, rule_ids_module, rules_markdown


def run(out: Path, ids_out: Path) -> int:
    text = rules_markdown()
    heading = text.splitlines()[0]
    write_generated_file(out, text, option="--out", default_name="RULES.md",
                         is_previous=lambda current: current.startswith(heading))
    print(f"wrote {out}")
    ids = rule_ids_module()
    if not (ids_out.is_file() and ids_out.read_text(encoding="utf-8") == ids):
        write_generated_file(ids_out, ids, option="--ids-out", default_name="rule_ids.py",
                             is_previous=lambda current: current.startswith(RULE_IDS_HEADER))
        print(f"wrote {ids_out}")
    return EXIT_OK
