"""The scenarios' HTTP client to the Prefect API, with bounded retries, counting every failed attempt.

A request that still fails after its retries is "a failed request beyond retries" and raises.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import requests

RETRIES = 6
BACKOFF = 0.5  # seconds, doubled per attempt up to MAX_BACKOFF
MAX_BACKOFF = 4.0
RETRY_STATUS = {502, 503, 504}


class RequestFailed(Exception):
    pass


@dataclass
class Api:
    url: str  # ends with /api
    auth: tuple[str, str] | None = None  # the API's basic auth (user, password), as the rendered pods send it
    timeout: float = 10.0
    retried: list[str] = field(default_factory=list)  # every attempt that failed and was retried

    def __post_init__(self) -> None:
        self.session = self._session()

    def _session(self) -> requests.Session:
        session = requests.Session()
        session.auth = self.auth
        return session

    def request(self, method: str, path: str, body: Any = None, *, retries: int = RETRIES) -> Any:
        delay = BACKOFF
        for attempt in range(retries + 1):
            problem = ""
            try:
                answer = self.session.request(method, f"{self.url}{path}", json=body, timeout=self.timeout)
                if answer.status_code not in RETRY_STATUS:
                    if answer.status_code >= 400:
                        raise RequestFailed(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
                    return answer.json() if answer.content else None
                problem = f"{answer.status_code}"
            except requests.RequestException as error:
                problem = type(error).__name__
                self.session.close()
                self.session = self._session()
            if attempt == retries:
                raise RequestFailed(f"{method} {path}: failed after {retries} retries ({problem})")
            self.retried.append(f"{method} {path}: {problem}")
            time.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)
        raise AssertionError("unreachable")

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body if body is not None else {})

    def flow_run(self, run_id: str) -> dict[str, Any]:
        run: dict[str, Any] = self.get(f"/flow_runs/{run_id}")
        return run

    def state(self, run_id: str) -> tuple[str, str]:
        run = self.flow_run(run_id)
        state = run.get("state") or {}
        return state.get("type", ""), state.get("name", "")

    def flow_runs(self, **filters: Any) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.post("/flow_runs/filter", {"limit": 200, **filters})
        return runs


def ready(port: int) -> bool:
    """The API process answers /api/ready with 200 (its database and messaging are reachable)."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/api/ready", timeout=3).status_code == 200
    except requests.RequestException:
        return False
