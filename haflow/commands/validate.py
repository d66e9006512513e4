"""haflow validate: check environment overlays without loading any provider binding."""

from __future__ import annotations

from pathlib import Path

from haflow.commands.common import EXIT_BAD_INPUT, EXIT_OK, load_or_report


def run(envs: list[str], config_dir: Path) -> int:
    environments = load_or_report(envs, config_dir)
    if environments is None:
        return EXIT_BAD_INPUT
    for env in environments:
        print(f"{env.name}: ok ({env.region}, {len(env.availability_zones)} AZs)")
    return EXIT_OK
