"""A tiny round-robin TCP proxy standing in for the prefect-server Service.

Endpoints behave as a Service's do: a backend is in rotation while its readiness probe (the rendered
readinessProbe's path) answers 200, and leaves it after ``failure_threshold`` failed probes, or at once when
its process has exited (the kubelet reports a dead container without waiting for a probe). A connection
routed to a backend that no longer accepts is closed, as a connection to a vanished pod is reset: clients
see that, and their retries are what the scenarios measure. Probes run every ``period`` seconds (1 s here,
where the pod's probe runs every 10 s: the proxy only decides how fast endpoints change, and the API's
own readiness is asserted separately).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.smoke.processes import free_port


@dataclass
class Backend:
    name: str
    port: int
    alive: Callable[[], bool]
    ready: bool = False
    failures: int = 0


@dataclass
class Proxy:
    probe_path: str
    failure_threshold: int
    period: float = 1.0
    port: int = field(default_factory=free_port)
    backends: list[Backend] = field(default_factory=list)
    connections: int = 0
    resets: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="smoke-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._stopping = threading.Event()
        self._prober = threading.Thread(target=self._probe_loop, name="smoke-proxy-probe", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def add(self, name: str, port: int, alive: Callable[[], bool]) -> None:
        with self._lock:
            self.backends.append(Backend(name, port, alive))

    def start(self) -> None:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._serve(), self._loop)
        future.result(timeout=10)
        self._prober.start()

    def ready_backends(self) -> list[str]:
        with self._lock:
            return [b.name for b in self.backends if b.ready]

    async def _serve(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    def _choose(self) -> Backend | None:
        with self._lock:
            ready = [b for b in self.backends if b.ready]
            if not ready:
                return None
            self._next = (self._next + 1) % len(ready)
            return ready[self._next]

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        backend = self._choose()
        try:
            if backend is None:
                raise ConnectionRefusedError("no ready endpoint")
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", backend.port)
        except OSError:
            self.resets += 1
            client_writer.transport.abort()
            return
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer),
            return_exceptions=True,
        )

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                if writer.can_write_eof():
                    writer.write_eof()
            with contextlib.suppress(Exception):
                writer.close()

    def _probe(self, backend: Backend) -> bool:
        url = f"http://127.0.0.1:{backend.port}{self.probe_path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def _probe_loop(self) -> None:
        while not self._stopping.wait(self.period):
            for backend in list(self.backends):
                if not backend.alive():
                    backend.ready, backend.failures = False, 0
                    continue
                if self._probe(backend):
                    backend.ready, backend.failures = True, 0
                else:
                    backend.failures += 1
                    if backend.failures >= self.failure_threshold:
                        backend.ready = False

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
