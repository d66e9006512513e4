"""What a long command is doing, on stderr, with the seconds elapsed since it started.

Commands that can take more than a second (synth, check, report, diff, drill) announce each stage;
``haflow -q`` silences them. stdout stays the command's result, so ``--format json`` remains parseable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

_state = {"quiet": False, "started": time.monotonic()}


def configure(*, quiet: bool) -> None:
    """Called once per command by the CLI: sets -q and starts the clock."""
    _state["quiet"] = quiet
    _state["started"] = time.monotonic()


def elapsed() -> float:
    return time.monotonic() - float(_state["started"])


def say(message: str) -> None:
    if not _state["quiet"]:
        print(f"[{elapsed():6.1f}s] {message}", file=sys.stderr, flush=True)


@contextmanager
def stage(message: str) -> Iterator[None]:
    """Announce ``message`` when the stage starts; the next stage's time shows how long it took."""
    say(message)
    yield
