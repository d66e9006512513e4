"""Synthesize the plan of another git ref with that ref's own code, in a temporary worktree.

The worktree is added detached, synthesized by a subprocess that imports haflow from the worktree
(PYTHONPATH first, ahead of this checkout's editable install), read back, and removed whatever happens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from haflow import contract
from haflow.plan import StackJson, read_stacks

SYNTH_TIMEOUT_SECONDS = 900
# Older haflow revisions have no `python -m haflow`; calling main() works for all of them.
RUN_CLI = "import sys; from haflow.cli import main; sys.argv[0] = 'haflow'; main()"


class BaseRefError(Exception):
    """The base ref cannot be synthesized; the message says why and what to do."""


def git(repo: Path, *args: str) -> str:
    completed = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BaseRefError(f"git {' '.join(args)}: {completed.stderr.strip() or completed.stdout.strip()}")
    return completed.stdout.strip()


def repo_root(start: Path) -> Path:
    try:
        return Path(git(start, "rev-parse", "--show-toplevel"))
    except BaseRefError:
        raise BaseRefError(f"{start.resolve()} is not inside a git repository: haflow diff compares git refs") from None


def synth_ref(repo: Path, ref: str, config_rel: Path, env_names: list[str] | None) -> dict[str, StackJson]:
    """The bootstrap stack and every stack of ``env_names`` (all when None) as ``ref``'s code synthesizes
    ``ref``'s config.

    Every environment of the ref is synthesized, whichever are asked for: the bootstrap stack is shared
    and built from all of them, exactly as the working tree's side builds it, so it compares like for like.
    """
    try:
        commit = git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except BaseRefError:
        raise BaseRefError(f"--base {ref}: no such commit in {repo} (fetch it, e.g. git fetch origin)") from None
    scratch = Path(tempfile.mkdtemp(prefix="haflow-diff-"))
    worktree = scratch / "base"
    try:
        git(repo, "worktree", "add", "--detach", "--quiet", str(worktree), commit)
        if not (worktree / "haflow" / "cli.py").exists():
            raise BaseRefError(f"--base {ref} ({commit[:12]}) has no haflow package: nothing to compare with")
        config_dir = worktree / config_rel
        available = sorted(p.stem for p in config_dir.glob("*.yaml") if p.stem not in ("base", "schema"))
        if not available:
            return {}
        out = scratch / "out"
        args = ["synth", "--config-dir", str(config_dir), "--out", str(out)]
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(worktree), *filter(None, [os.environ.get("PYTHONPATH")])])}
        completed = subprocess.run(
            [sys.executable, "-c", RUN_CLI, *args], cwd=worktree, env=environment, capture_output=True,
            text=True, timeout=SYNTH_TIMEOUT_SECONDS, check=False,
        )
        if completed.returncode != 0:
            raise BaseRefError(f"synthesizing --base {ref} ({commit[:12]}) failed (exit {completed.returncode}):\n"
                               f"{_tail(completed.stderr or completed.stdout)}")
        stacks = read_stacks(out)
        if env_names is None:
            return stacks
        return {name: stack for name, stack in stacks.items()
                if name == contract.BOOTSTRAP_STACK or contract.stack_owner(name) in env_names}
    finally:
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(worktree)],
                       capture_output=True, check=False)
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run(["git", "-C", str(repo), "worktree", "prune"], capture_output=True, check=False)


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
