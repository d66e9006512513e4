"""Scenario 7: the configurations that would have shipped broken fail fast, with a clear message.

- the CA bundle left out (today's main before the fix): Prefect verifies Aurora against the image's
  system trust store, which holds no RDS CA;
- Redis TLS off while the server accepts TLS only.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.smoke import podenv
from tests.smoke.client import ready
from tests.smoke.conftest import Measurements, Session
from tests.smoke.processes import free_port
from tests.smoke.proxy import Proxy
from tests.smoke.stack import PrefectTier

FAIL_FAST = 60.0  # seconds within which the misconfigured API process must have failed, visibly
CA_FILE = "PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CA_FILE"


def variant(rendered: podenv.Rendered, change: Callable[[dict[str, Any]], None]) -> podenv.Rendered:
    """The rendered objects with ``change`` applied to every container of the Prefect pods."""
    objects = copy.deepcopy(rendered.objects)
    for manifest in objects:
        if manifest.get("kind") in ("Deployment", "Job") and "template" in manifest.get("spec", {}):
            for container in podenv.pod_spec(manifest)["containers"]:
                change(container)
    return podenv.Rendered(objects, rendered.placeholders)


def without_ca_file(container: dict[str, Any]) -> None:
    container["env"] = [item for item in container.get("env", []) if item["name"] != CA_FILE]


def redis_tls_off(container: dict[str, Any]) -> None:
    for item in container.get("env", []):
        if item["name"] == "PREFECT_REDIS_MESSAGING_SSL":
            item["value"] = "false"


def run_api(
    rendered: podenv.Rendered, session: Session, name: str, needles: tuple[str, ...], *, docket_plaintext: bool = False
) -> tuple[float, str, str]:
    """Start one API process of ``rendered``. Return the seconds until it failed visibly (its log names the
    cause, or it exited), the log line naming the cause, and what /api/ready answered then."""
    proxy = Proxy("/api/ready", 3)  # never started: only its URL goes into the environment
    tier = PrefectTier(rendered, session.local(proxy.url, session.root / f"pods-{name}"), proxy, session.run_id,
                       session.logs / name, api_replicas=1, background_replicas=0)
    port = free_port()
    tier.api_ports[name] = port
    pod = tier.pod("api", name, listen_port=port)
    if docket_plaintext:
        pod.env["PREFECT_SERVER_DOCKET_URL"] = pod.env["PREFECT_SERVER_DOCKET_URL"].replace("rediss://", "redis://")
    tier.held.add(name)  # observe the first failure: no kubelet restart
    start = time.monotonic()
    process = tier.start(name)
    line, answered = "", ""
    try:
        while time.monotonic() - start < FAIL_FAST and not line:
            assert not ready(port), f"{name}: the API became ready with a broken configuration\n{process.tail()}"
            line = first_line(process.tail(2000), *needles)
            if not process.alive():
                line = line or f"exited {process.returncode()} without naming the cause"
                break
            time.sleep(0.5)
        seconds = time.monotonic() - start
        answered = ready_answer(port) if process.alive() else f"process exited ({process.returncode()})"
        assert not ready(port), f"{name}: the API became ready with a broken configuration\n{process.tail()}"
        log = process.tail(400)
    finally:
        tier.stop_all()
    assert line, f"{name}: no clear message within {FAIL_FAST:.0f} s:\n{log[-3000:]}"
    return seconds, line, answered


def ready_answer(port: int) -> str:
    try:
        answer = requests.get(f"http://127.0.0.1:{port}/api/ready", timeout=3)
    except requests.RequestException as error:
        return f"/api/ready: {type(error).__name__}"
    return f"/api/ready: {answer.status_code}"


def first_line(log: str, *needles: str) -> str:
    for line in log.splitlines():
        if any(needle in line for needle in needles):
            return line.strip()[:240]
    return ""


@pytest.fixture(scope="module")
def outcomes(session: Session, rendered: podenv.Rendered, migrated: float) -> dict[str, tuple[float, str, str]]:
    """Both broken configurations started side by side (each its own API process), to keep the smoke short."""
    runs: dict[str, Callable[[], tuple[float, str, str]]] = {
        "no-ca-bundle": lambda: run_api(variant(rendered, without_ca_file), session, "no-ca-bundle",
                                        ("CERTIFICATE_VERIFY_FAILED",)),
        "redis-no-tls": lambda: run_api(variant(rendered, redis_tls_off), session, "redis-no-tls",
                                        ("redis.exceptions.ConnectionError",), docket_plaintext=True),
    }
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {name: pool.submit(run) for name, run in runs.items()}
        return {name: future.result() for name, future in futures.items()}


def test_7a_ca_bundle_left_out_fails_fast_with_certificate_verify_failed(
    outcomes: dict[str, tuple[float, str, str]], measurements: Measurements
) -> None:
    seconds, line, answered = outcomes["no-ca-bundle"]
    assert "SSLCertVerificationError" in line or "certificate verify failed" in line, line
    measurements.record("7a. CA bundle left out: API fails", seconds, f"{answered}; {line}")


def test_7b_redis_tls_off_against_a_tls_only_server_fails_fast(
    outcomes: dict[str, tuple[float, str, str]], session: Session, measurements: Measurements
) -> None:
    seconds, line, answered = outcomes["redis-no-tls"]
    assert f":{session.redis.port}" in line, f"the message does not name the Redis endpoint: {line}"
    measurements.record("7b. Redis TLS off, server TLS-only: API fails", seconds, f"{answered}; {line}")
