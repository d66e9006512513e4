"""The Prefect tier on this machine, in prod's shape scaled down.

- the migration Job's command, once, before anything else (the chart's post-install/pre-upgrade hook);
- ``api_replicas`` API processes (web only: the rendered ``--no-services``) behind the round-robin proxy;
- ``background_replicas`` background-services processes;
- one worker (the rendered worker, on a ``process`` pool) whose API URL is the proxy.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.smoke import podenv
from tests.smoke.client import Api, ready
from tests.smoke.podenv import API, BACKGROUND, MIGRATIONS, WORKER, LocalServices, PodProcess, Rendered
from tests.smoke.processes import RUN_MARKER, Process, free_port, wait_for
from tests.smoke.proxy import Proxy

FLOWS_DIR = Path(__file__).resolve().parent / "flows"
MIGRATION_TIMEOUT = 120
# The kubelet restarts an exited container of a Deployment's pod (restartPolicy Always) after a back-off
# of 10 s, doubled per restart up to 5 minutes (CrashLoopBackOff).
RESTART_BACKOFF = 10.0
MAX_RESTART_BACKOFF = 300.0


@dataclass
class Restart:
    instance: str
    exit_code: int | None
    log_tail: str
    at: float


@dataclass
class PrefectTier:
    rendered: Rendered
    local: LocalServices
    proxy: Proxy
    run_id: str
    log_dir: Path
    api_replicas: int = 2
    background_replicas: int = 1
    pods: dict[str, PodProcess] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)
    api_ports: dict[str, int] = field(default_factory=dict)
    restarts: list[Restart] = field(default_factory=list)
    held: set[str] = field(default_factory=set)  # stopped on purpose by a scenario: not restarted

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._kubelet = threading.Thread(target=self._restart_loop, name="smoke-kubelet", daemon=True)
        self._kubelet.start()

    def _restart_loop(self) -> None:
        """The kubelet's part: a pod's process that exits on its own is started again after its back-off."""
        exited_at: dict[str, float] = {}
        while not self._stopping.wait(0.5):
            for instance, process in list(self.processes.items()):
                if instance in self.held or process.alive() or self.pods[instance].role == MIGRATIONS:
                    exited_at.pop(instance, None)
                    continue
                now = time.monotonic()
                exited_at.setdefault(instance, now)
                count = sum(1 for r in self.restarts if r.instance == instance)
                backoff = min(RESTART_BACKOFF * 2**count, MAX_RESTART_BACKOFF)
                if now - exited_at[instance] >= backoff and not self._stopping.is_set():
                    self.restarts.append(Restart(instance, process.returncode(), process.tail(15), now))
                    exited_at.pop(instance, None)
                    self.start(instance)

    def restarts_of(self, instances: list[str] | None = None) -> list[Restart]:
        return [r for r in self.restarts if instances is None or r.instance in instances]

    def marker(self, why: str = "the harness ends every process carrying it at teardown") -> dict[str, tuple[str, str]]:
        return {RUN_MARKER: (self.run_id, why)}

    def pod(self, role: str, instance: str, **kwargs: object) -> PodProcess:
        extra = dict(self.marker())
        extra.update(kwargs.pop("extra_env", {}) or {})  # type: ignore[call-overload]
        pod = podenv.pod_process(self.rendered, self.local, role, instance, extra_env=extra, **kwargs)  # type: ignore[arg-type]
        pod.write_files()
        self.pods[instance] = pod
        return pod

    def plan(self) -> None:
        """Every pod's process, built before anything starts (so the rewrite table is complete)."""
        self.pod(MIGRATIONS, "migrations")
        for index in range(self.api_replicas):
            name = f"api-{index}"
            self.api_ports[name] = free_port()
            self.pod(API, name, listen_port=self.api_ports[name])
        for index in range(self.background_replicas):
            self.pod(BACKGROUND, f"background-{index}")
        health_port = str(free_port())
        self.pod(WORKER, "worker", extra_env={
            "PREFECT_WORKER_WEBSERVER_PORT": (health_port, "--with-healthcheck serves on 8080: a free loopback port"),
            "PREFECT_WORKER_WEBSERVER_HOST": ("127.0.0.1", "listen on loopback only"),
        })

    def migrate(self) -> float:
        """Run the migration Job's command; return its seconds."""
        pod = self.pods["migrations"]
        start = time.monotonic()
        log = self.log_dir / "migrations.log"
        with log.open("ab") as out:
            result = subprocess.run(pod.argv, env=pod.env, stdout=out, stderr=subprocess.STDOUT,
                                    timeout=MIGRATION_TIMEOUT, cwd=pod.cwd, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"migration job failed ({result.returncode}):\n{log.read_text()[-3000:]}")
        return time.monotonic() - start

    def start(self, instance: str) -> Process:
        pod = self.pods[instance]
        process = Process(instance, pod.argv, pod.env, self.log_dir / f"{instance}.log", cwd=pod.cwd).start()
        self.processes[instance] = process
        return process

    def start_api(self, instance: str) -> None:
        process = self.start(instance)
        if not any(b.name == instance for b in self.proxy.backends):
            self.proxy.add(instance, self.api_ports[instance], lambda p=process: self._alive(instance))  # type: ignore[misc]

    def _alive(self, instance: str) -> bool:
        process = self.processes.get(instance)
        return process is not None and process.alive()

    def api_instances(self) -> list[str]:
        return [name for name in self.pods if self.pods[name].role == API]

    def background_instances(self) -> list[str]:
        return [name for name in self.pods if self.pods[name].role == BACKGROUND]

    def wait_api_ready(self, instances: list[str], timeout: float) -> float:
        def all_ready() -> bool:
            return all(ready(self.api_ports[name]) for name in instances)

        try:
            return wait_for(all_ready, timeout, interval=0.3, what=f"/api/ready 200 on {', '.join(instances)}")
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.logs(instances)}") from None

    def wait_in_rotation(self, instances: list[str], timeout: float) -> float:
        return wait_for(lambda: set(instances) <= set(self.proxy.ready_backends()), timeout,
                        what=f"{instances} in the proxy's rotation")

    def kill(self, instance: str) -> None:
        """SIGKILL a pod's process and keep it down until ``revive`` (a scenario's own outage)."""
        self.held.add(instance)
        self.processes[instance].kill()

    def revive(self, instance: str) -> Process:
        self.held.discard(instance)
        return self.start(instance)

    def remove(self, instance: str) -> None:
        """Stop a scenario's extra pod for good and forget it (later scenarios see only the rendered pods)."""
        self.held.add(instance)
        process = self.processes.pop(instance, None)
        if process is not None:
            process.stop(timeout=5)
        self.pods.pop(instance, None)
        self.held.discard(instance)

    def stop_all(self) -> None:
        self._stopping.set()
        self._kubelet.join(timeout=5)
        for process in reversed(list(self.processes.values())):
            process.stop(timeout=5)

    def api(self) -> Api:
        return Api(self.proxy.url)

    def logs(self, instances: list[str] | None = None) -> str:
        return "\n".join(p.tail() for name, p in self.processes.items() if instances is None or name in instances)


def environment_table(pods: Mapping[str, PodProcess]) -> str:
    return podenv.rewrite_table(pods.values())
