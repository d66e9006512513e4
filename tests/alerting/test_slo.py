"""model-api's SLO burn-rate alerts, as rendered, asked of promtool (docs/alerting.md#the-slo-after-deploy).

The rules are the PrometheusRule ``kube-prometheus-stack-haflow-slo`` that prod's platform stack renders
with the pinned chart. Each case feeds ingress-nginx request counters whose 5xx share burns prod's error
budget (1 - slo.availability) at a chosen multiple, and states exactly which of the four window pairs
(Google SRE workbook: 1h/5m and 6h/30m above 14.4x and 6x page, 1d/2h and 3d/6h above 3x and 1x open a
ticket) fire: each pair fires when burnt 5 % above its factor and stays silent 5 % below it and on healthy
traffic. A last case stops a burn and proves the short windows resolve the pages while the ticket stays.

The same ``slo.availability`` drives ``haflow report``: changing it changes both (last test).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from haflow.config import Environment
from haflow.merge import deep_merge
from haflow.plan import StackJson
from haflow.render import RenderResult
from haflow.report import estimate
from haflow.rules.helm import Values, release_values
from haflow.rules.stack import LiteralResource
from haflow.slo import ALERT_NAME, BURN_RATE_ALERTS, SLO_NAME, BurnRateAlert, error_budget
from tests.alerting.conftest import ENV
from tests.alerting.test_alertmanager import for_amtool_0_25, rendered_config, routes_test, write
from tests.alerting.test_rules import promtool_test, rule_groups, write_rules
from tests.alerting.tools import run, tool

SLO_RULES = "kube-prometheus-stack-haflow-slo"
REQUESTS_PER_MINUTE = 1000
# Minutes of input: the 3d/6h ticket waits 3 h (for) after its condition holds.
MINUTES = 300
EVAL_AT = "4h"
STABLE = 'nginx_ingress_controller_requests{namespace="model-api",ingress="model-api",status="200"}'
CANARY_5XX = 'nginx_ingress_controller_requests{namespace="model-api",ingress="model-api-canary",status="503"}'
OTHER_5XX = 'nginx_ingress_controller_requests{namespace="other",ingress="other",status="500"}'


def labels(alert: BurnRateAlert) -> dict[str, str]:
    return {"severity": alert.severity, "namespace": "model-api", "slo": SLO_NAME,
            "long": alert.long_window, "short": alert.short_window}


def burning(budget: float, burn: float) -> dict[str, str]:
    """Requests whose 5xx share is ``burn`` times the budget, from minute 0 on (the 5xx on the canary)."""
    errors = REQUESTS_PER_MINUTE * budget * burn
    return {STABLE: f"0+{REQUESTS_PER_MINUTE - errors:.6f}x{MINUTES}", CANARY_5XX: f"0+{errors:.6f}x{MINUTES}"}


def case(series: dict[str, str], at: str, expected: list[BurnRateAlert]) -> dict[str, Any]:
    return {
        "interval": "1m",
        "input_series": [{"series": name, "values": values} for name, values in series.items()],
        "alert_rule_test": [{"eval_time": at, "alertname": ALERT_NAME,
                             "exp_alerts": [{"exp_labels": labels(alert)} for alert in expected]}],
    }


def slo_rules(rendered: RenderResult, tmp_path: Path) -> Path:
    return write_rules(tmp_path / "slo.yaml", rule_groups(rendered, SLO_RULES), annotations=False)


def prod_budget(environments: dict[str, Environment]) -> float:
    return error_budget(environments[ENV].slo.availability)


def test_promtool_checks_the_slo_rules_with_every_lint(prod_rendered: RenderResult, tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "slo.yaml", rule_groups(prod_rendered, SLO_RULES))
    checked = run([tool("promtool"), "check", "rules", "--lint=all", "--lint-fatal", rules])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 13 rules found" in checked.stdout  # 7 windows + objective + budget, 4 alerts


@pytest.mark.parametrize("pair", BURN_RATE_ALERTS, ids=lambda a: f"{a.severity}-{a.long_window}-{a.short_window}")
def test_each_window_pair_fires_at_its_burn_rate_and_not_just_below(
    pair: BurnRateAlert, prod_rendered: RenderResult, environments: dict[str, Environment], tmp_path: Path
) -> None:
    budget = prod_budget(environments)
    above, below = pair.factor * 1.05, pair.factor * 0.95
    tests = [
        # 5 % above its factor: this pair fires, with every pair of a lower factor.
        case(burning(budget, above), EVAL_AT, [a for a in BURN_RATE_ALERTS if a.factor < above]),
        # 5 % below: this pair is silent (the lower factors still fire).
        case(burning(budget, below), EVAL_AT, [a for a in BURN_RATE_ALERTS if a.factor < below]),
    ]
    assert pair in [a for a in BURN_RATE_ALERTS if a.factor < above]
    assert pair not in [a for a in BURN_RATE_ALERTS if a.factor < below]
    code, output = promtool_test(tmp_path, slo_rules(prod_rendered, tmp_path), tests)
    assert code == 0, output


def test_healthy_traffic_and_other_namespaces_burn_nothing(
    prod_rendered: RenderResult, environments: dict[str, Environment], tmp_path: Path
) -> None:
    series = {**burning(prod_budget(environments), 0.5), OTHER_5XX: f"0+{REQUESTS_PER_MINUTE}x{MINUTES}"}
    code, output = promtool_test(tmp_path, slo_rules(prod_rendered, tmp_path), [case(series, EVAL_AT, [])])
    assert code == 0, output


def test_the_short_window_resolves_the_pages_once_the_burn_stops(
    prod_rendered: RenderResult, environments: dict[str, Environment], tmp_path: Path
) -> None:
    """20x for two hours, then no error: 35 minutes later the 1h and 6h windows still burn above 14.4x and
    6x, but the 5m and 30m windows do not, so both pages have resolved; the 1d/2h ticket (its 2h window
    still hot) keeps firing and the 3d/6h one is still pending (its 3h `for`)."""
    budget = prod_budget(environments)
    errors = REQUESTS_PER_MINUTE * budget * 20
    minutes = 120
    series = {
        STABLE: f"0+{REQUESTS_PER_MINUTE - errors:.6f}x{minutes} "
                f"{(REQUESTS_PER_MINUTE - errors) * minutes + REQUESTS_PER_MINUTE:.6f}+{REQUESTS_PER_MINUTE}x59",
        CANARY_5XX: f"0+{errors:.6f}x{minutes} {errors * minutes:.6f}+0x59",
    }
    ticket = next(a for a in BURN_RATE_ALERTS if a.long_window == "1d")
    pages = [a for a in BURN_RATE_ALERTS if a.severity == "critical"]
    tests = [case(series, "115m", [*pages, ticket]), case(series, "155m", [ticket])]
    code, output = promtool_test(tmp_path, slo_rules(prod_rendered, tmp_path), tests)
    assert code == 0, output


def test_a_case_that_expects_a_page_below_its_threshold_fails(
    prod_rendered: RenderResult, environments: dict[str, Environment], tmp_path: Path
) -> None:
    """promtool does compare: expecting the 1h/5m page at 0.95 x 14.4 fails."""
    budget = prod_budget(environments)
    wrong = case(burning(budget, 14.4 * 0.95), EVAL_AT, list(BURN_RATE_ALERTS))
    code, output = promtool_test(tmp_path, slo_rules(prod_rendered, tmp_path), [wrong])
    assert code != 0, output


# --- one number: slo.availability drives the report and the alerts ----------------------------------------


def kube_prometheus_stack(stacks: dict[str, StackJson], env: str) -> Values:
    releases = stacks[f"{env}-platform"]["resource"]["helm_release"]
    (body,) = [body for body in releases.values() if body.get("chart") == "kube-prometheus-stack"]
    release = LiteralResource("helm_release", "kube-prometheus-stack", body)
    return Values(release, release_values(release))


def test_changing_slo_availability_changes_the_report_and_the_alerts(
    synthesized: dict[str, StackJson], synth_variant: Callable[[str, dict[str, Any]], dict[str, StackJson]],
    environments: dict[str, Environment], tmp_path: Path,
) -> None:
    base = environments[ENV]
    changed = {"slo": {"availability": 99.5}}
    variant = Environment.model_validate(deep_merge(base.model_dump(), changed))
    stacks = synth_variant(ENV, changed)
    assert base.slo.availability != 99.5
    # The report's objective...
    assert estimate(synthesized, base).slo.availability_percent == base.slo.availability
    assert estimate(stacks, variant).slo.availability_percent == 99.5
    # ...and the alerts': a burn between the two budgets' 14.4x pages under the old SLO only.
    old, new = error_budget(base.slo.availability), error_budget(99.5)
    assert new > old
    burn_old = 14.4 * 1.05  # in units of the old budget
    assert burn_old * old < 14.4 * new
    groups = {}
    for name, plan in (("old", synthesized), ("new", stacks)):
        values = kube_prometheus_stack(plan, ENV)
        groups[name] = write_rules(tmp_path / f"{name}.yaml",
                                   values.get("additionalPrometheusRulesMap.haflow-slo.groups"), annotations=False)
    page = next(a for a in BURN_RATE_ALERTS if a.long_window == "1h")
    in_new_budgets = burn_old * old / new
    expect_old = [a for a in BURN_RATE_ALERTS if a.factor < burn_old]
    expect_new = [a for a in BURN_RATE_ALERTS if a.factor < in_new_budgets]
    assert page in expect_old and page not in expect_new
    for name, expected in (("old", expect_old), ("new", expect_new)):
        code, output = promtool_test(tmp_path, groups[name], [case(burning(old, burn_old), EVAL_AT, expected)])
        assert code == 0, f"{name}: {output}"


@pytest.mark.parametrize("pair", BURN_RATE_ALERTS, ids=lambda a: f"{a.severity}-{a.long_window}-{a.short_window}")
def test_pages_reach_the_critical_receiver_and_tickets_the_warning_one(
    pair: BurnRateAlert, prod_rendered: RenderResult, tmp_path: Path
) -> None:
    """amtool routes each burn-rate alert, with its labels as rendered, through the rendered Alertmanager
    configuration: a page (critical) to the receiver that also pages, a ticket (warning) to the other."""
    (rule,) = [r for group in rule_groups(prod_rendered, SLO_RULES) for r in group["rules"]
               if r.get("alert") == ALERT_NAME and r["labels"]["long"] == pair.long_window]
    config = write(tmp_path / "alertmanager.yaml", for_amtool_0_25(rendered_config(prod_rendered)))
    receiver = {"critical": "critical", "warning": "warning"}[pair.severity]
    code, output = routes_test(config, {"alertname": ALERT_NAME, **rule["labels"]}, receiver)
    assert code == 0, output
