"""A real moto_server on 127.0.0.1, one process, stopped whatever happens: the drills' tests reach it as a
user reaches a local endpoint, and the Terraform gate points the AWS provider's endpoints at it.

moto ships with haflow's dev extra (``moto[server]``); without it ``MotoUnavailable`` says so.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10


class MotoUnavailable(Exception):
    """moto_server is not installed, or did not come up; the message says which and how to fix it."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def moto_command(port: int) -> list[str] | None:
    """The command line starting moto_server on ``port``: the script beside this Python, else on PATH."""
    script = Path(sys.executable).with_name("moto_server")
    found = str(script) if script.exists() else shutil.which("moto_server")
    return [found, "-H", "127.0.0.1", "-p", str(port)] if found else None


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def reset(url: str) -> None:
    """Forget everything the server holds (moto's own reset API)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            raise MotoUnavailable(f"moto_server at {url} refused a reset: HTTP {response.status}")


@contextmanager
def moto_server(log_path: Path) -> Iterator[str]:
    """The URL of a moto_server started for the block, its output in ``log_path``; terminated (killed if need
    be) when the block ends, however it ends."""
    port = free_port()
    command = moto_command(port)
    if command is None:
        raise MotoUnavailable("no moto_server beside this Python or on PATH: install haflow's dev extra "
                              "(pip install -e '.[dev]', which pins moto[server])")
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise MotoUnavailable(f"moto_server did not come up on {url}:\n"
                                      f"{log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
