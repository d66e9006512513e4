"""The Docket guard (haflow.in_image.docket_guard) on a fake Docket worker and a fake ``prefect server services
start``: no Redis, no Prefect. Each case runs the guard's ``main`` in a child process, since it sends itself
SIGINT and ends with ``os._exit``.

The fakes keep the shape of the real code the guard works with (checked against the pinned versions by
tests/smoke/test_docket_guard_upstream.py): the worker is built with docket.Worker's ``redelivery_timeout``
keyword and run as a task through ``run_forever``; the services run under ``asyncio.run``, stop in order on
the cancellation asyncio.run makes of SIGINT (prefect.server.services.base.Service.run_services), and the CLI
prints "All services stopped." after ``asyncio.run`` returns (prefect.cli.server.start_services).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from haflow.in_image import docket_guard

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 3.0
DRIVER = '''\
import asyncio, sys
from datetime import timedelta
from haflow.in_image import docket_guard

MODE = sys.argv[1]


class FakeWorker:
    def __init__(self, docket, name=None, redelivery_timeout=timedelta(minutes=5)):
        self.docket, self.name, self.redelivery_timeout = docket, name or "fake#1", redelivery_timeout

    async def run_forever(self):
        print(f"redelivery_timeout {self.redelivery_timeout.total_seconds():g}", flush=True)
        if MODE == "worker-lives":
            print("ready", flush=True)
            await asyncio.get_running_loop().create_future()
        await asyncio.sleep(0.3)
        raise ExceptionGroup("unhandled errors in a TaskGroup", [ConnectionError("fake Redis failover")])


async def services():
    worker = FakeWorker("prefect")
    worker_task = asyncio.create_task(worker.run_forever())
    try:
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            print("Received cancellation, stopping services...", flush=True)
        if MODE == "stop-hangs":
            await asyncio.get_running_loop().create_future()
        print("services stopped in order", flush=True)
    finally:
        worker_task.cancel()
        try:
            await worker_task
        except asyncio.CancelledError:
            pass


def app():
    assert sys.argv == docket_guard.SERVICES_ARGV, sys.argv
    try:
        asyncio.run(services())
    except KeyboardInterrupt:
        pass
    print("All services stopped.", flush=True)


if MODE == "without-sigint-restore":
    docket_guard.let_sigint_interrupt = lambda stderr: None
docket_guard.main(worker_class=FakeWorker, app=app)
'''


@dataclass(frozen=True)
class Exit:
    code: int
    stdout: str
    stderr: str
    seconds: float


def run_guard(mode: str, *, sigint_ignored: bool = False, env: dict[str, str] | None = None,
              after_start: Callable[[subprocess.Popen[str]], None] | None = None) -> Exit:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO_ROOT),
        docket_guard.REDELIVERY_SECONDS_ENV: "30",
        docket_guard.STOP_SECONDS_ENV: f"{STOP_SECONDS:g}",
        **(env or {}),
    }

    def ignore_sigint() -> None:  # what `cmd &` in a non-interactive shell does to cmd
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", DRIVER, mode], env=environment, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=ignore_sigint if sigint_ignored else None)
    if after_start is not None:
        after_start(child)
    stdout, stderr = child.communicate(timeout=STOP_SECONDS + 30)
    return Exit(child.returncode, stdout, stderr, time.monotonic() - started)


def stopped_in_order(result: Exit) -> bool:
    return "services stopped in order" in result.stdout and "All services stopped." in result.stdout


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["sigint-default", "sigint-inherited-ignored"])
def test_a_dead_worker_stops_the_services_in_order_and_exits_1(sigint_ignored: bool) -> None:
    result = run_guard("worker-dies", sigint_ignored=sigint_ignored)
    assert result.code == docket_guard.EXIT_WORKER_DIED, result
    assert docket_guard.MESSAGE_PREFIX + " fake#1 stopped on ExceptionGroup" in result.stderr, result.stderr
    assert stopped_in_order(result), result
    assert docket_guard.BACKSTOP_MESSAGE not in result.stderr, result.stderr
    assert result.seconds < STOP_SECONDS, f"{result.seconds:.1f} s: as slow as the backstop"


def test_the_workers_get_the_redelivery_timeout_from_the_environment() -> None:
    result = run_guard("worker-dies", env={docket_guard.REDELIVERY_SECONDS_ENV: "17"})
    assert "redelivery_timeout 17\n" in result.stdout, result.stdout


def test_without_restoring_sigint_an_inherited_ignore_drops_the_stop_until_the_backstop() -> None:
    """The fault behind scenario 5b's one-in-three failure (issue 22): started by a non-interactive shell in the
    background, the process inherits SIGINT ignored; asyncio.run then installs no handler and the guard's SIGINT
    does nothing. The negative control for the case above: the same child without ``let_sigint_interrupt``."""
    result = run_guard("without-sigint-restore", sigint_ignored=True)
    assert result.code == docket_guard.EXIT_WORKER_DIED, result
    assert not stopped_in_order(result), result
    assert docket_guard.BACKSTOP_MESSAGE in result.stderr, result.stderr
    assert result.seconds >= STOP_SECONDS


def test_an_orderly_stop_that_hangs_ends_at_the_backstop_with_every_threads_stack() -> None:
    result = run_guard("stop-hangs")
    assert result.code == docket_guard.EXIT_WORKER_DIED, result
    assert "Received cancellation, stopping services..." in result.stdout, result
    assert not stopped_in_order(result), result
    assert f"{docket_guard.BACKSTOP_MESSAGE} {STOP_SECONDS:g} s" in result.stderr, result.stderr
    assert 'Thread 0x' in result.stderr and "most recent call first" in result.stderr, result.stderr
    assert STOP_SECONDS <= result.seconds < STOP_SECONDS + 10


def test_ctrl_c_with_a_live_worker_is_an_ordinary_stop() -> None:
    """The guard changes nothing when the worker lives: SIGINT from outside stops the services, exit 0."""

    def interrupt_when_ready(child: subprocess.Popen[str]) -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == "ready":
                break
        child.send_signal(signal.SIGINT)

    result = run_guard("worker-lives", after_start=interrupt_when_ready)
    assert result.code == 0, result
    assert "All services stopped." in result.stdout, result
    assert docket_guard.MESSAGE_PREFIX not in result.stderr, result.stderr


@pytest.mark.parametrize(("variable", "value"), [
    (docket_guard.REDELIVERY_SECONDS_ENV, None),
    (docket_guard.STOP_SECONDS_ENV, "soon"),
    (docket_guard.STOP_SECONDS_ENV, "0"),
])
def test_a_missing_or_bad_setting_is_exit_2_naming_the_variable(variable: str, value: str | None) -> None:
    env = {docket_guard.REDELIVERY_SECONDS_ENV: "30", docket_guard.STOP_SECONDS_ENV: "30"}
    if value is None:
        del env[variable]
    else:
        env[variable] = value
    with pytest.raises(SystemExit) as exit_info:
        docket_guard.main(env, worker_class=object, app=lambda: None)
    assert exit_info.value.code == docket_guard.EXIT_BAD_SETTINGS


def test_a_bad_setting_message_names_the_variable_the_value_and_what_is_allowed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        docket_guard.main({docket_guard.REDELIVERY_SECONDS_ENV: "30", docket_guard.STOP_SECONDS_ENV: "soon"},
                          worker_class=object, app=lambda: None)
    assert capsys.readouterr().err.strip() == (
        f"haflow docket guard: {docket_guard.STOP_SECONDS_ENV} = 'soon': expected a number of seconds > 0")
