"""The Prefect tier on this machine, in prod's shape scaled down, installed in Helm's order (``install``).

- ``api_replicas`` API pods (web only: the rendered ``--no-services``) behind the round-robin proxy, each its
  init containers run to completion first, then its container;
- ``background_replicas`` background-services pods, likewise;
- the chart's migration Job, run when Helm would run it (a hook of the events its annotation names);
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
from tests.smoke.helm_order import Hook, InstallOrder, ready_pods_needed
from tests.smoke.podenv import API, BACKGROUND, BOOTSTRAP, MIGRATIONS, WORKER, LocalServices, PodProcess, Rendered
from tests.smoke.processes import RUN_MARKER, Process, free_port, wait_for
from tests.smoke.proxy import Proxy

FLOWS_DIR = Path(__file__).resolve().parent / "flows"
# Hooks Helm only creates (no wait): their content reaches the Job's pod through podenv (a ConfigMap's files, an
# ExternalSecret's template filled with the fixtures' secrets)
CREATED_HOOK_KINDS = ("ConfigMap", "ExternalSecret")
MIGRATION_TIMEOUT = 120
# The kubelet restarts an exited container of a Deployment's pod (restartPolicy Always) after a back-off
# of 10 s, doubled per restart up to 5 minutes (CrashLoopBackOff).
RESTART_BACKOFF = 10.0
MAX_RESTART_BACKOFF = 300.0


class InstallFailed(Exception):
    """The install failed where Helm's would (a hook, or the wait within the release's timeout)."""

    def __init__(self, message: str, restarts: list[tuple[str, int | None]], logs: str) -> None:
        super().__init__(message)
        self.restarts = restarts
        self.logs = logs


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
    api_auth: tuple[str, str] | None = None  # what the scenarios' client sends (the rendered pods send their own)
    pods: dict[str, PodProcess] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)
    api_ports: dict[str, int] = field(default_factory=dict)
    restarts: list[Restart] = field(default_factory=list)
    held: set[str] = field(default_factory=set)  # stopped on purpose by a scenario: not restarted
    init: dict[str, list[PodProcess]] = field(default_factory=dict)  # each pod's init containers, in order
    init_runs: list[tuple[str, int, float]] = field(default_factory=list)  # (instance, exit code, seconds)

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._kubelet = threading.Thread(target=self._restart_loop, name="smoke-kubelet", daemon=True)
        self._kubelet.start()

    def _restart_loop(self) -> None:
        """The kubelet's part: a pod's process that exits on its own is started again after its back-off."""
        exited_at: dict[str, float] = {}
        while not self._stopping.wait(0.5):
            for instance, process in list(self.processes.items()):
                if instance in self.held or process.alive() or self.pods[instance].role in (MIGRATIONS, BOOTSTRAP):
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
        self.pod(BOOTSTRAP, "database-bootstrap")
        self.pod(MIGRATIONS, "migrations")
        for index in range(self.api_replicas):
            name = f"api-{index}"
            self.api_ports[name] = free_port()
            self.pod(API, name, listen_port=self.api_ports[name])
            self.init[name] = self.init_pods(API, name)
        for index in range(self.background_replicas):
            name = f"background-{index}"
            self.pod(BACKGROUND, name)
            self.init[name] = self.init_pods(BACKGROUND, name)
        health_port = str(free_port())
        self.pod(WORKER, "worker", extra_env={
            "PREFECT_WORKER_WEBSERVER_PORT": (health_port, "--with-healthcheck serves on 8080: a free loopback port"),
            "PREFECT_WORKER_WEBSERVER_HOST": ("127.0.0.1", "listen on loopback only"),
        })

    def init_pods(self, role: str, instance: str) -> list[PodProcess]:
        processes = podenv.init_processes(self.rendered, self.local, role, instance, extra_env=self.marker())
        for process in processes:
            process.write_files()
        return processes

    def role_of(self, manifest: Mapping[str, object]) -> str:
        key = (manifest.get("kind"), (manifest.get("metadata") or {}).get("name"))  # type: ignore[attr-defined]
        for role, target in podenv.ROLE_OBJECTS.items():
            if target == key:
                return role
        raise podenv.Unsupported(f"the release has {key[0]} {key[1]}, which the harness does not run")

    def instances_of(self, role: str) -> list[str]:
        return [name for name, pod in self.pods.items() if pod.role == role]

    def install(self, order: InstallOrder, timeout: float | None = None) -> dict[str, float]:
        """Install one release in Helm's order (tests/smoke/helm_order.py): pre-install hooks, every pod of the
        release started at once (init containers first, as the kubelet runs them), the wait for readiness
        within the release's timeout (``timeout`` overrides it), then post-install hooks. Returns the seconds
        of each step; raises ``InstallFailed`` where Helm's install fails (and, with atomic, stops the pods:
        the uninstall)."""
        limit = float(order.settings.timeout_seconds if timeout is None else timeout)
        started = time.monotonic()
        steps: dict[str, float] = {}
        for hook in order.pre_install:
            steps[f"pre-install {hook.kind}/{hook.name}"] = self.run_hook(hook, limit)
        pods = []
        for manifest in order.workloads():
            if manifest.get("kind") == "Job":
                raise podenv.Unsupported(f"Job {manifest['metadata']['name']} outside a hook")  # type: ignore[index]
            pods += self.instances_of(self.role_of(manifest))
        for instance in pods:
            threading.Thread(target=self._start_pod, args=(instance,), name=f"pod-{instance}", daemon=True).start()
        steps["objects created"] = time.monotonic() - started
        if order.awaited:
            try:
                steps["wait: every Deployment ready"] = wait_for(
                    lambda: all(self._workload_ready(manifest) for manifest in order.awaited),
                    max(limit - (time.monotonic() - started), 0.0), interval=0.5,
                    what=f"release {order.settings.name}: every awaited workload ready")
            except TimeoutError:
                self._fail(order, pods, f"timed out after {limit:.0f} s waiting for "
                           + ", ".join(f"{m['kind']}/{m['metadata']['name']}" for m in order.awaited  # type: ignore[index]
                                       if not self._workload_ready(m)))
        for hook in order.post_install:
            remaining = max(limit - (time.monotonic() - started), 0.0)
            try:
                steps[f"post-install {hook.kind}/{hook.name}"] = self.run_hook(hook, remaining)
            except InstallFailed as error:
                self._fail(order, pods, str(error))
        return steps

    def _fail(self, order: InstallOrder, pods: list[str], why: str) -> None:
        restarts = [(r.instance, r.exit_code) for r in self.restarts_of(pods)]
        logs = self.logs(pods)
        if order.settings.atomic:
            for instance in pods:
                self.remove_process(instance)
        raise InstallFailed(f"release {order.settings.name}: {why}; restarts {restarts}"
                            f"{' (atomic: uninstalled)' if order.settings.atomic else ''}", restarts, logs)

    def _workload_ready(self, manifest: Mapping[str, object]) -> bool:
        instances = self.instances_of(self.role_of(manifest))
        ready_count = sum(1 for instance in instances if self.pod_ready(instance))
        return ready_count >= ready_pods_needed(manifest, len(instances))  # type: ignore[arg-type]

    def pod_ready(self, instance: str) -> bool:
        """A pod is Ready when its container runs and passes its readiness probe (the API's /api/ready); a
        container without a readiness probe (background services, worker) is Ready while it runs."""
        process = self.processes.get(instance)
        if process is None or not process.alive():
            return False
        if self.pods[instance].role == API:
            return ready(self.api_ports[instance])
        return True

    def _start_pod(self, instance: str) -> None:
        """The kubelet's part for a new pod: each init container to completion (an init container that fails is
        restarted after the back-off, restartPolicy Always), then the container."""
        for init in self.init.get(instance, []):
            failures = 0
            while not self._stopping.is_set():
                started = time.monotonic()
                # No time limit of its own, as in Kubernetes: the install's wait bounds it
                with (self.log_dir / f"{instance}-init.log").open("ab") as out:
                    process = subprocess.Popen(init.argv, env=init.env, stdout=out, stderr=subprocess.STDOUT,
                                               cwd=init.cwd)
                    while process.poll() is None and not self._stopping.wait(0.5):
                        pass
                    if process.poll() is None:
                        process.kill()
                        process.wait()
                        return
                self.init_runs.append((instance, process.returncode, time.monotonic() - started))
                if process.returncode == 0:
                    break
                failures += 1
                self._stopping.wait(min(RESTART_BACKOFF * 2 ** (failures - 1), MAX_RESTART_BACKOFF))
        if self._stopping.is_set():
            return
        if self.pods[instance].role == API:
            self.start_api(instance)
        else:
            self.start(instance)

    def run_hook(self, hook: Hook, timeout: float) -> float:
        """A hook Job, run to completion as Helm waits for it (its pods retried up to backoffLimit). A ConfigMap or
        ExternalSecret hook is only created: the Job's pod reads what it holds from the render (podenv)."""
        if hook.kind in CREATED_HOOK_KINDS:
            return 0.0
        if hook.kind != "Job":
            raise podenv.Unsupported(f"hook {hook.kind}/{hook.name}: the harness runs Job hooks only")
        instance = self.instances_of(self.role_of(hook.manifest))[0]
        pod = self.pods[instance]
        spec = hook.manifest.get("spec") or {}
        deadline = min(timeout, float(spec.get("activeDeadlineSeconds") or timeout))  # type: ignore[union-attr]
        attempts = int(spec.get("backoffLimit", 6)) + 1  # type: ignore[union-attr]
        start = time.monotonic()
        log = self.log_dir / f"{instance}.log"
        for _ in range(attempts):
            remaining = deadline - (time.monotonic() - start)
            if remaining <= 0:
                break
            with log.open("ab") as out:
                try:
                    result = subprocess.run(pod.argv, env=pod.env, stdout=out, stderr=subprocess.STDOUT,
                                            timeout=remaining, cwd=pod.cwd, check=False)
                except subprocess.TimeoutExpired:
                    break
            if result.returncode == 0:
                return time.monotonic() - start
        raise InstallFailed(f"hook Job {hook.name} did not complete within {deadline:.0f} s / {attempts} attempts:\n"
                            f"{log.read_text()[-3000:]}", [], "")

    def remove_process(self, instance: str) -> None:
        self.held.add(instance)
        process = self.processes.pop(instance, None)
        if process is not None:
            process.stop(timeout=5)

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
        return Api(self.proxy.url, self.api_auth)

    def logs(self, instances: list[str] | None = None) -> str:
        return "\n".join(p.tail() for name, p in self.processes.items() if instances is None or name in instances)


def environment_table(pods: Mapping[str, PodProcess]) -> str:
    return podenv.rewrite_table(pods.values())
