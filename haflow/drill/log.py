"""The drill log: one JSON object per line, appended, so a team keeps the history of its drills."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_LOG = Path(".haflow") / "drills.jsonl"


def append(log: Path, drill: str, record: dict[str, Any]) -> None:
    """Append ``record`` with the drill name and a UTC timestamp; creates the file and its directory."""
    entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "drill": drill, **record}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(entry, sort_keys=True) + "\n")
