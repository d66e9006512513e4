"""The drill log: one JSON object per line, appended, so a team keeps the history of its drills.

haflow appends only to a drill log: a new file, an empty one, or one whose last line is a drill record.
``--log README.md`` or a directory is refused (exit 2) before the drill runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from haflow.output import OutputError
from haflow.reader import display

DEFAULT_LOG = Path(".haflow") / "drills.jsonl"
# The last record is all that is needed to recognise a drill log; reading more would cost for nothing.
TAIL_BYTES = 64 * 1024


def check_log(log: Path) -> None:
    """Refuse a --log haflow must not append to (OutputError naming it and why)."""
    if log.is_dir():
        raise OutputError(f"--log {display(log)}: is a directory; pass a file such as {display(log / 'drills.jsonl')}")
    if not log.exists():
        return
    if not log.is_file():
        raise OutputError(f"--log {display(log)}: is not a regular file")
    try:
        with log.open("rb") as stream:
            stream.seek(max(0, log.stat().st_size - TAIL_BYTES))
            lines = stream.read().decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise OutputError(f"--log {display(log)}: cannot read it back ({err})") from None
    last = next((line for line in reversed(lines) if line.strip()), None)
    if last is None:
        return
    try:
        record = json.loads(last)
    except ValueError:
        record = None
    if not (isinstance(record, dict) and "drill" in record):
        raise OutputError(
            f"--log {display(log)}: exists and is not a drill log (its last line is no drill record); "
            "haflow will not append to it. Pass a new file, e.g. --log .haflow/drills.jsonl"
        )


def append(log: Path, drill: str, record: dict[str, Any]) -> None:
    """Append ``record`` with the drill name and a UTC timestamp; creates the file and its directory."""
    check_log(log)
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "drill": drill, **record}
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry, sort_keys=True) + "\n")
    except OSError as err:
        raise OutputError(f"--log {display(log)}: cannot append ({err.strerror})") from None
