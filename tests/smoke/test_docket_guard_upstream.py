"""What the Docket guard (haflow.in_image.docket_guard) relies on in the pinned Prefect and pydocket, checked in
the smoke's Prefect venv (.venv-prefect: tests/smoke/prefect-requirements.txt, the image's versions).

When one of these fails after a version bump, read docs/docket-guard.md before changing the guard: the last
one failing means pydocket now survives the failure the guard exists for, and the guard may be removed.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from haflow.constructs import docket_guard as shipped
from tests.smoke.conftest import PREFECT_VENV, REPO_ROOT

REQUIREMENTS = REPO_ROOT / "tests" / "smoke" / "prefect-requirements.txt"
GUARD_FILE = REPO_ROOT / "haflow" / "in_image" / shipped.SCRIPT_KEY
# Runs in .venv-prefect: loads the guard from its file, as the pod runs it (no haflow there), and reports
# what it finds upstream as JSON.
PROBE = '''\
import asyncio, importlib.metadata, importlib.util, inspect, json, sys
from datetime import timedelta

spec = importlib.util.spec_from_file_location("docket_guard", sys.argv[1])
guard_module = sys.modules["docket_guard"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(guard_module)

from docket import Docket, Worker
import docket.worker
import prefect.cli
import prefect.cli.server
import prefect.cli._server_utils
import prefect.server.api.background_workers
from prefect.server.services.base import Service

init = inspect.signature(Worker.__init__).parameters
found = {
    "versions": {name: importlib.metadata.version(name) for name in ("prefect", "pydocket")},
    "init_parameters": list(init),
    "redelivery_default_seconds": init["redelivery_timeout"].default.total_seconds(),
    "run_forever_is_async": inspect.iscoroutinefunction(Worker.run_forever),
    "cli_app_callable": callable(prefect.cli.app),
    "start_services": inspect.getsource(prefect.cli.server.start_services),
    "run_all_services": inspect.getsource(prefect.cli._server_utils._run_all_services),
    "background_worker": inspect.getsource(prefect.server.api.background_workers.background_worker),
    "run_services": inspect.getsource(Service.run_services),
    "worker_run": inspect.getsource(docket.worker.Worker._run),
}
guard = guard_module.Guard(guard_module.Settings(17.0, 30.0))
guard.install(Worker)
worker = Worker(Docket(name="probe", url="redis://127.0.0.1:9/0"))  # no connection until entered
found["patched_redelivery_seconds"] = worker.redelivery_timeout.total_seconds()
found["patched_run_forever_is_async"] = inspect.iscoroutinefunction(Worker.run_forever)
print(json.dumps(found))
'''


def pins() -> dict[str, str]:
    found = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", REQUIREMENTS.read_text(encoding="utf-8"), re.M))
    return {name: found[name] for name in ("prefect", "pydocket")}


@pytest.fixture(scope="module")
def upstream() -> dict[str, Any]:
    python = PREFECT_VENV / "bin" / "python"
    if not python.exists():
        pytest.fail(f"missing {python}: `make smoke-deps` builds .venv-prefect (Prefect 3.8.3, pydocket 0.23.1)",
                    pytrace=False)
    result = subprocess.run([str(python), "-c", PROBE, str(GUARD_FILE)], capture_output=True, text=True,
                            timeout=120, check=False, env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_the_venv_holds_the_pinned_versions(upstream: dict[str, Any]) -> None:
    assert upstream["versions"] == pins()


def test_docket_worker_has_what_the_guard_patches(upstream: dict[str, Any]) -> None:
    """Worker(docket, name=..., redelivery_timeout=...) and an async run_forever; the guard's patch takes."""
    assert {"docket", "name", "redelivery_timeout"} <= set(upstream["init_parameters"])
    assert upstream["redelivery_default_seconds"] == 300.0  # docket's 5 minutes, what the guard shortens
    assert upstream["run_forever_is_async"]
    assert upstream["patched_redelivery_seconds"] == 17.0
    assert upstream["patched_run_forever_is_async"]


def test_prefect_runs_the_worker_and_stops_the_services_as_the_guard_expects(upstream: dict[str, Any]) -> None:
    """`prefect server services start`: asyncio.run of the services (so SIGINT cancels them), a Worker built
    without a redelivery_timeout (so the guard's default applies), run_forever as a task nothing awaits,
    the services stopped in order on cancellation, "All services stopped." once asyncio.run returns."""
    assert upstream["cli_app_callable"]
    start = upstream["start_services"]
    assert "asyncio.run(_run_all_services())" in start and "except KeyboardInterrupt" in start, start
    assert "All services stopped" in start, start
    assert "background_worker(" in upstream["run_all_services"], upstream["run_all_services"]
    assert "Service.run_services()" in upstream["run_all_services"], upstream["run_all_services"]
    background = upstream["background_worker"]
    assert "Worker(docket)" in background and "redelivery_timeout" not in background, background
    assert "asyncio.create_task(worker.run_forever())" in background, background
    assert "except asyncio.CancelledError" in upstream["run_services"], upstream["run_services"]


def test_the_failure_the_guard_exists_for_is_still_there(upstream: dict[str, Any]) -> None:
    """pydocket's reconnect loop catches a bare ConnectionError only; a ConnectionError inside an ExceptionGroup
    (from its TaskGroup) ends Worker._run. When this fails, pydocket handles the group: see
    docs/docket-guard.md, "When the guard can go"."""
    run = upstream["worker_run"]
    assert "except ConnectionError:" in run, run
    assert "except*" not in run and "ExceptionGroup" not in run, (
        "pydocket's Worker._run now handles exception groups: check whether a worker survives a Redis failover "
        "(docs/docket-guard.md, 'When the guard can go')")
