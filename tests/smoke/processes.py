"""Child processes of the smoke: each in its own process group, logged to a file, and all of them found
and ended at the end of the session, even the grandchildren (flow runs the worker spawns).

Every process the harness starts carries ``HAFLOW_SMOKE_RUN=<session id>`` in its environment, which its
children inherit; ``reap`` ends whatever still carries it. No process is found by its name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

RUN_MARKER = "HAFLOW_SMOKE_RUN"


def free_port() -> int:
    """A TCP port free on the loopback address right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


class Process:
    """One long-running child, in its own session so that a signal reaches its whole group."""

    def __init__(
        self, name: str, argv: Sequence[str], env: Mapping[str, str], log: Path, *,
        cwd: Path | None = None, user: str | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env)
        self.log = log
        self.cwd = cwd
        self.user = user
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"\n--- start {time.strftime('%H:%M:%S')}: {' '.join(self.argv)}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, user=self.user,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.name} was never started"
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def signal(self, signum: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the group, then SIGKILL what is left after ``timeout`` seconds."""
        if self.popen is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the whole group, as a node or container dying would."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return f"({self.name}: no log)"
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join([f"--- last {lines} lines of {self.log}", *text[-lines:]])


def marked_processes(run_id: str) -> list[int]:
    """Every live process whose environment carries this session's marker."""
    needle = f"{RUN_MARKER}={run_id}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def reap(run_id: str, timeout: float = 5.0) -> list[int]:
    """End every process of this session (SIGTERM, then SIGKILL); return the pids that had to be ended."""
    pids = marked_processes(run_id)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and marked_processes(run_id):
        time.sleep(0.1)
    for pid in marked_processes(run_id):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return pids


def wait_for(predicate: object, timeout: float, interval: float = 0.2, what: str = "condition") -> float:
    """Poll ``predicate()`` until true; return the seconds it took, or raise TimeoutError naming ``what``."""
    assert callable(predicate)
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what}: not reached within {timeout:.0f} s")
        time.sleep(interval)
