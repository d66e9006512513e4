"""What every command shares: exit codes and turning bad input into a message without a traceback."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from haflow.config import ConfigError, Environment, load_environments
from haflow.plan import StackJson, stack_path
from haflow.reader import read_json

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


def print_error(message: str) -> None:
    print(message, file=sys.stderr)


def load_or_report(names: list[str] | None, config_dir: Path) -> list[Environment] | None:
    """The requested environments, or None after printing every config problem."""
    try:
        return load_environments(names or None, config_dir)
    except ConfigError as err:
        print_error(err.render())
        return None


def guarded(action: Callable[[], int]) -> int:
    """Run a command body; a ConfigError becomes exit 2 with its message, never a traceback."""
    try:
        return action()
    except ConfigError as err:
        print_error(err.render())
        return EXIT_BAD_INPUT


def plan_stack(env: Environment, plan_dir: Path, stack: str) -> tuple[StackJson, str]:
    """``stack`` as synthesized in ``plan_dir``, or from a fresh synth of ``env`` in a temporary directory when
    ``plan_dir`` lacks it; with where it came from. The synth never touches ``plan_dir``."""
    path = stack_path(plan_dir, stack)
    if path.is_file():
        return read_json(path), str(path)
    from haflow.synthesis import synthesize  # loads cdktf and the bindings: only when there is no plan

    with tempfile.TemporaryDirectory(prefix="haflow-drill-") as scratch:
        stacks = synthesize([env], Path(scratch) / "cdktf.out")
    return stacks[stack], f"a fresh synth of {env.name} (no {path})"
