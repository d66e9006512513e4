"""Prefect's background services, stopped in order and restarted when their Docket worker dies.

Runs inside the prefecthq/prefect:3.8.3 image as the background-services container's program
(``python /etc/haflow/docket-guard/docket_guard.py``, shipped as a ConfigMap by haflow). It imports only
the standard library and, when it starts the services, the image's ``docket`` (pydocket 0.23.1) and
``prefect`` (3.8.3). The story, the bound and when this can go: docs/docket-guard.md.

What it does, on top of ``prefect server services start``:

- every Docket ``Worker`` it creates gets ``redelivery_timeout`` = ``$HAFLOW_DOCKET_REDELIVERY_SECONDS``
  (docket's default is 5 minutes: a dead worker's perpetual task comes back only after it);
- when ``Worker.run_forever`` ends on an error (pydocket 0.23.1 lets an ExceptionGroup around a Redis
  ConnectionError end it after a failover, while the process lives on), it stops the services the way
  Ctrl-C does (SIGINT: every service stops in order, the event persister writes what it has acknowledged)
  and exits 1, so that the kubelet restarts the container. If that orderly stop has not finished after
  ``$HAFLOW_DOCKET_GUARD_STOP_SECONDS``, it prints every thread's stack and exits 1 at once (the backstop).

SIGINT must reach Python as KeyboardInterrupt for that: ``asyncio.run`` turns it into a cancellation of
the services only when SIGINT's handler is Python's default one. A process started in the background by a
non-interactive shell (``cmd &`` in ``sh -c``, POSIX job control off) inherits SIGINT *ignored*, so
Python installs no handler, asyncio.run installs none either, and the guard's SIGINT was dropped: the
services ran on until the backstop (one run in three of the smoke's scenario 5b, issue 22). The guard
therefore restores the default handler (and unblocks SIGINT) before it starts the services.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn, TextIO

REDELIVERY_SECONDS_ENV = "HAFLOW_DOCKET_REDELIVERY_SECONDS"
STOP_SECONDS_ENV = "HAFLOW_DOCKET_GUARD_STOP_SECONDS"
SERVICES_ARGV = ["prefect", "server", "services", "start"]
MESSAGE_PREFIX = "haflow: the Docket worker"
BACKSTOP_MESSAGE = "haflow: the services did not stop within"
EXIT_WORKER_DIED = 1
EXIT_BAD_SETTINGS = 2


class SettingsError(Exception):
    """An environment variable the guard needs is missing or not a positive number."""


@dataclass(frozen=True)
class Settings:
    redelivery_seconds: float
    stop_seconds: float

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        return cls(_seconds(environ, REDELIVERY_SECONDS_ENV), _seconds(environ, STOP_SECONDS_ENV))


def _seconds(environ: Mapping[str, str], name: str) -> float:
    raw = environ.get(name)
    if raw is None:
        raise SettingsError(f"{name} is not set; haflow sets it in the prefect-server release's "
                            "backgroundServices.env (a number of seconds > 0)")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise SettingsError(f"{name} = {raw!r}: expected a number of seconds > 0")
    return value


def let_sigint_interrupt(stderr: TextIO) -> None:
    """Make SIGINT raise KeyboardInterrupt in this process, whatever it inherited (see the module docstring)."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        print(f"haflow: SIGINT's handler was {signal.getsignal(signal.SIGINT)!r} (inherited); restoring Python's "
              "default so that the Docket guard can stop the services in order", file=stderr, flush=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class Guard:
    """Patches a Docket ``Worker`` class; ``run`` runs the services' CLI and returns the exit code."""

    def __init__(self, settings: Settings, *, stderr: TextIO | None = None,
                 hard_exit: Callable[[int], object] = os._exit) -> None:
        self.settings = settings
        self.stderr = stderr or sys.stderr
        self.hard_exit = hard_exit
        self.died: list[BaseException] = []

    def install(self, worker_class: Any) -> None:
        worker_init = worker_class.__init__
        run_forever = worker_class.run_forever
        redelivery = timedelta(seconds=self.settings.redelivery_seconds)
        guard = self

        def init_with_short_redelivery(worker: Any, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("redelivery_timeout", redelivery)
            worker_init(worker, *args, **kwargs)

        async def run_forever_or_stop(worker: Any) -> None:
            try:
                await run_forever(worker)
            except asyncio.CancelledError:
                raise
            except BaseException as error:
                guard.worker_died(worker, error)

        worker_class.__init__ = init_with_short_redelivery
        worker_class.run_forever = run_forever_or_stop

    def worker_died(self, worker: Any, error: BaseException) -> None:
        self.died.append(error)
        print(f"{MESSAGE_PREFIX} {getattr(worker, 'name', '?')} stopped on {error!r}; stopping the services so "
              "that the kubelet restarts the container", file=self.stderr, flush=True)
        traceback.print_exception(error, file=self.stderr)
        self.stderr.flush()
        backstop = threading.Timer(self.settings.stop_seconds, self.backstop)
        backstop.daemon = True
        backstop.start()
        os.kill(os.getpid(), signal.SIGINT)

    def backstop(self) -> None:
        print(f"{BACKSTOP_MESSAGE} {self.settings.stop_seconds:g} s of the Docket worker's "
              f"death; exiting {EXIT_WORKER_DIED} now. Where each thread was:", file=self.stderr, flush=True)
        faulthandler.dump_traceback(file=self.stderr, all_threads=True)
        self.stderr.flush()
        self.hard_exit(EXIT_WORKER_DIED)

    def run(self, app: Callable[[], object]) -> int:
        """Run the services' CLI (``app``, with ``sys.argv`` set); the exit code the process should end with."""
        let_sigint_interrupt(self.stderr)
        sys.argv = list(SERVICES_ARGV)
        try:
            app()
        except SystemExit as done:
            if not self.died:
                return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        return EXIT_WORKER_DIED if self.died else 0


def main(environ: Mapping[str, str] = os.environ, *, worker_class: Any = None,
         app: Callable[[], object] | None = None) -> NoReturn:
    """The container's program: ``prefect server services start`` under the guard (``worker_class`` and
    ``app`` default to docket's Worker and Prefect's CLI; the unit tests pass fakes)."""
    try:
        settings = Settings.from_environment(environ)
    except SettingsError as error:
        print(f"haflow docket guard: {error}", file=sys.stderr, flush=True)
        sys.exit(EXIT_BAD_SETTINGS)
    if worker_class is None:
        from docket import Worker

        worker_class = Worker
    if app is None:
        from prefect.cli import app as prefect_cli

        app = prefect_cli
    guard = Guard(settings)
    guard.install(worker_class)
    code = guard.run(app)
    if not guard.died:
        sys.exit(code)
    # The services have stopped in order: exit now, not after the backstop or threads the dead worker left.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
