"""The alerting tests read what the render gate renders: prod's platform stack (and variants) with the pinned
kube-prometheus-stack chart, as `haflow check` does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from haflow.config import Environment
from haflow.merge import deep_merge
from haflow.plan import StackJson
from haflow.render import RenderResult, render_environment
from tests.render.conftest import _require_charts

ENV = "prod"
# Every optional receiver configured: the routing and the mounted-secret paths are checked with them too.
ALL_RECEIVERS = {
    "observability": {"alerts": {
        "slack_webhook_url_secret": "haflow/prod/slack-webhook-url",
        "pagerduty_routing_key_secret": "haflow/prod/pagerduty-routing-key",
        "webhook_url_secret": "haflow/prod/alert-webhook-url",
        "heartbeat_url_secret": "haflow/prod/heartbeat-url",
    }},
}


@pytest.fixture(scope="session")
def prod_rendered(synthesized: dict[str, StackJson], environments: dict[str, Environment]) -> RenderResult:
    _require_charts()
    return render_environment(synthesized, environments[ENV], check_unread=False)


@pytest.fixture(scope="session")
def receivers_variant(synth_variant: Callable[[str, dict[str, Any]], dict[str, StackJson]],
                      environments: dict[str, Environment]) -> tuple[dict[str, StackJson], RenderResult]:
    """prod with every optional receiver: its stacks and its render."""
    _require_charts()
    stacks = synth_variant(ENV, ALL_RECEIVERS)
    env = Environment.model_validate(deep_merge(environments[ENV].model_dump(), ALL_RECEIVERS))
    return stacks, render_environment(stacks, env, check_unread=False)
