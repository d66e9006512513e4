"""Render-gate fixtures: each environment rendered once per session, and variants derived in-process.

Variants mutate a deep copy of the session's synthesized stacks (a release's values, a kubernetes_*
resource, the foundation) and render that copy; nothing is synthesized again. The pinned charts come
from the chart cache ($HAFLOW_CHARTS_DIR, `haflow charts pull`) or ../shared/reference/charts; the tests skip,
saying so, when neither holds them, and fail instead with HAFLOW_REQUIRE_CHARTS=1 (CI).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from haflow.config import Environment
from haflow.plan import StackJson
from haflow.render import RenderResult, render_environment
from haflow.render.charts import load_lock, search_path
from haflow.rules.engine import Finding
from haflow.rules.rendered import evaluate_rendered
from tests.charts import charts_missing

Stacks = dict[str, StackJson]
Mutation = Callable[[Stacks], None]


def _charts_present() -> bool:
    lock = load_lock()
    return any(all((directory / entry.file).is_file() for entry in lock.files) for directory in search_path(None))


def _require_charts() -> None:
    if not _charts_present():
        where = " nor in ".join(str(directory) for directory in search_path(None))
        charts_missing(f"the pinned chart packages (charts.lock) are neither in {where}: run `haflow charts pull` "
                       f"or set HAFLOW_CHARTS_DIR")


@pytest.fixture(scope="session", autouse=True)
def pinned_charts() -> None:
    _require_charts()


@pytest.fixture(scope="session")
def rendered(synthesized: Stacks, environments: dict[str, Environment]) -> dict[str, RenderResult]:
    """Every environment rendered once, as `haflow check` does."""
    _require_charts()
    return {name: render_environment(synthesized, env) for name, env in environments.items()}


@pytest.fixture(scope="session")
def render_variant(synthesized: Stacks, environments: dict[str, Environment]
                   ) -> Callable[..., tuple[RenderResult, list[Finding]]]:
    """Render ``env`` after ``mutation`` edits a copy of the session's stacks; the result and its findings."""
    _require_charts()

    def build(env: str, mutation: Mutation, check_unread: bool = False) -> tuple[RenderResult, list[Finding]]:
        stacks = copy.deepcopy(synthesized)
        mutation(stacks)
        result = render_environment(stacks, environments[env], check_unread=check_unread)
        return result, evaluate_rendered(result, environments[env])

    return build


def release(stacks: Stacks, env: str, chart: str) -> dict[str, Any]:
    """The helm_release body of ``chart`` in ``env``'s platform stack."""
    for body in stacks[f"{env}-platform"]["resource"]["helm_release"].values():
        if str(body.get("chart", "")).rsplit("/", 1)[-1] == chart:
            return body  # type: ignore[no-any-return]
    raise KeyError(chart)


def edit_values(env: str, chart: str, change: Callable[[dict[str, Any]], None]) -> Mutation:
    """A mutation that edits the YAML values document a release sends to its chart."""

    def mutate(stacks: Stacks) -> None:
        body = release(stacks, env, chart)
        values = yaml.safe_load(body["values"][0])
        change(values)
        body["values"] = [yaml.safe_dump(values)]

    return mutate


def resource(stacks: Stacks, stack: str, rtype: str, prefix: str) -> dict[str, Any]:
    """The body of the resource of ``rtype`` whose logical id starts with ``prefix``."""
    for name, body in stacks[stack]["resource"][rtype].items():
        if name.startswith(prefix):
            return body  # type: ignore[no-any-return]
    raise KeyError(prefix)


def about(findings: list[Finding], rule_id: str, address: str | None = None) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id and (address is None or f.address == address)]
