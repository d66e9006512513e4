"""What every command shares: exit codes and turning bad input into a message without a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from haflow.config import ConfigError, Environment, load_environments

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
