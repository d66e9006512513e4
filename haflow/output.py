"""Where haflow may write, and writing there without ever leaving a half-written or a lost file.

haflow writes only into what it owns: a synth output directory is new, empty, or a previous haflow or
cdktf output (``manifest.json`` beside ``stacks/``); a generated file (RULES.md, schema.json, the
drill log) is new or a previous copy of itself. It never writes into a git repository's root or any
directory above one. Anything else is refused with OutputError (exit 2) before a byte is written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from haflow.plan import STACKS_DIR
from haflow.reader import display

MANIFEST = "manifest.json"


class OutputError(Exception):
    """haflow refuses to write to this path; the message says why and what to pass instead."""


def repository_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.git``, if any."""
    current = start.resolve()
    for candidate in (current, *current.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def protected_roots(*starts: Path) -> list[Path]:
    """The repositories ``starts`` (and the working directory) live in: never an output directory."""
    roots = {root for start in (*starts, Path.cwd()) if (root := repository_root(start)) is not None}
    return sorted(roots)


def is_previous_output(directory: Path) -> bool:
    return (directory / MANIFEST).is_file() and (directory / STACKS_DIR).is_dir()


def claim_output_dir(out: Path, protect: Iterable[Path] = ()) -> Path:
    """``out`` resolved, after checking haflow may replace it; OutputError otherwise, nothing touched."""
    resolved = out.resolve()
    for root in protected_roots(*protect):
        if resolved == root or root.is_relative_to(resolved):
            raise OutputError(
                f"--out {display(out)}: is the repository {root}{'' if resolved == root else ' or above it'}; "
                "synthesizing there would replace the checkout. Use a directory of its own, e.g. --out cdktf.out"
            )
    if resolved.exists() and not resolved.is_dir():
        raise OutputError(f"--out {display(out)}: is a file, not a directory; pass a directory such as cdktf.out")
    if resolved.is_dir() and any(resolved.iterdir()) and not is_previous_output(resolved):
        raise OutputError(
            f"--out {display(out)}: is a non-empty directory that is not a previous haflow or cdktf output "
            f"(no {MANIFEST} and {STACKS_DIR}/); haflow will not replace it. Pass a new or empty directory"
        )
    parent = resolved.parent
    if not parent.is_dir():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"--out {display(out)}: cannot create {parent} ({err.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"--out {display(out)}: cannot write in {parent} (permission denied)")
    return resolved


def write_generated_file(
    path: Path, text: str, *, option: str, default_name: str, is_previous: Callable[[str], bool]
) -> None:
    """Write ``text`` to ``path`` atomically (a temp file beside it, then a rename).

    An existing ``path`` is replaced only when ``is_previous`` recognises it as an earlier copy of the
    same generated file, so ``--out README.md`` cannot overwrite a file haflow did not write.
    """
    resolved = path.resolve()
    if resolved.is_dir():
        raise OutputError(
            f"{option} {display(path)}: is a directory; pass a file path such as {display(path / default_name)}"
        )
    if resolved.exists():
        if not resolved.is_file():
            raise OutputError(f"{option} {display(path)}: is not a regular file")
        try:
            current = resolved.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current is None or not is_previous(current):
            raise OutputError(
                f"{option} {display(path)}: exists and is not a file haflow generated; haflow will not "
                "overwrite it. Pass a new path, or remove the file first"
            )
    try:
        resolved.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{resolved.name}.", suffix=".tmp", dir=resolved.parent)
    except OSError as err:
        raise OutputError(f"{option} {display(path)}: cannot write in {resolved.parent} ({err.strerror})") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(staging, 0o644)
        os.replace(staging, resolved)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise

