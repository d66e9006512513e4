"""model-api's availability SLO after deploy: recording rules for its error ratio over each window, and
multi-window, multi-burn-rate alerts, from the environment's ``slo.availability`` (the number
``haflow report`` compares the plan with). The platform's kube-prometheus-stack release carries them
(haflow.constructs.observability); rules HA-OBS-010 and HA-OBS-011 check the plan against this table.

The windows and burn rates are the Google SRE workbook's ("Alerting on SLOs", recommendation 6:
https://sre.google/workbook/alerting-on-slos/): page when the last hour AND the last 5 minutes burn the
error budget more than 14.4 times as fast as the SLO allows (2 % of a 30-day budget in an hour), or 6 h AND
30 min more than 6 times (5 % in 6 h); open a ticket when 1 d AND 2 h burn more than 3 times (10 % in a
day), or 3 d AND 6 h more than once (10 % in 3 days). The long window says the burn is significant, the
short one that it is still going on (the alert resolves minutes after the burn stops).

The rule shapes follow Sloth (https://sloth.dev, ``slo:sli_error:ratio_rate<window>`` recordings, alerts
comparing two of them with ``factor * (1 - objective)`` inline) and Pyrra (one alert name, the windows
as ``long`` / ``short`` labels): an alert is a conjunction of two recorded ratios, so a dashboard
(docs/grafana.md) can plot exactly what the alert evaluates.

The SLI is ingress-nginx's request counter for model-api's Ingresses (stable and canary): a 5xx answer
is an error; no request at all yields no ratio (0/0) and no burn, which ModelApiRequestMetricsAbsent
reports (haflow.constructs.observability).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from haflow import contract

MODEL_API_NAMESPACE = contract.MODEL_API_SERVICE_ACCOUNT.namespace
# Ingress objects whose traffic is the model-api's (stable and canary); see haflow.constructs.model_api.
MODEL_API_INGRESS_PATTERN = "model-api(-canary)?"
SLO_NAME = "model-api-availability"
ALERT_NAME = "ModelApiErrorBudgetBurn"
# Recording-rule names (Sloth's): the error ratio per window, the objective and the budget.
ERROR_RATIO = "slo:sli_error:ratio_rate"
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
# A request answered 5xx is an error; 4xx are the caller's.
SERVER_ERRORS = ',status=~"5.."'
SLO_LABELS = {"slo": SLO_NAME, "namespace": MODEL_API_NAMESPACE}
# The period the workbook's budget percentages are of (its 14.4 = 2 % of a 30-day budget in 1 h).
SLO_PERIOD_DAYS = 30


@dataclass(frozen=True)
class BurnRateAlert:
    """One window pair: fires when both windows burn faster than ``factor`` times the budget's rate."""

    severity: str  # routed by Alertmanager: critical pages, warning is a ticket (docs/alerting.md)
    long_window: str
    short_window: str
    factor: float
    for_duration: str  # Pyrra's, so one bad evaluation does not notify

    @property
    def budget_spent_percent(self) -> float:
        """The share of the 30-day budget this burn spends within the long window."""
        return self.factor * _hours(self.long_window) / (SLO_PERIOD_DAYS * 24) * 100


# The workbook's table (page = critical route, ticket = warning route).
BURN_RATE_ALERTS = (
    BurnRateAlert("critical", "1h", "5m", 14.4, "2m"),
    BurnRateAlert("critical", "6h", "30m", 6, "15m"),
    BurnRateAlert("warning", "1d", "2h", 3, "1h"),
    BurnRateAlert("warning", "3d", "6h", 1, "3h"),
)
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
LONGEST_WINDOW = "3d"
# Prometheus keeps the longest window plus this: the SLO dashboard plots the 3d ratio over the last day,
# and a window reaching the retention edge would lose its oldest samples as blocks are deleted.
RETENTION_MARGIN = "1d"


def _hours(window: str) -> float:
    return float(window[:-1]) * {"m": 1 / 60, "h": 1, "d": 24}[window[-1]]


def window_seconds(window: str) -> int:
    return int(_hours(window) * 3600)


def error_budget(availability_percent: float) -> float:
    """The share of requests that may fail: 99.85 % -> 0.0015."""
    return round(1 - availability_percent / 100, 10)


def _selector(extra: str = "") -> str:
    ingress = f'namespace="{MODEL_API_NAMESPACE}",ingress=~"{MODEL_API_INGRESS_PATTERN}"'
    return f"nginx_ingress_controller_requests{{{ingress}{extra}}}"


def _labels() -> str:
    return ",".join(f'{name}="{value}"' for name, value in SLO_LABELS.items())


def ratio_series(window: str) -> str:
    """The recorded error ratio of ``window``, as a selector (what alerts and dashboards read)."""
    return f"{ERROR_RATIO}{window}{{{_labels()}}}"


def burn_rate_expr(alert: BurnRateAlert, budget: float) -> str:
    threshold = f"({alert.factor:g} * {budget:g})"
    return (f"({ratio_series(alert.long_window)} > {threshold}) and "
            f"({ratio_series(alert.short_window)} > {threshold})")


def slo_rules(availability_percent: float) -> dict[str, Any]:
    """The PrometheusRule groups: error ratios per window, objective and budget, then the burn alerts."""
    budget = error_budget(availability_percent)
    recordings: list[dict[str, Any]] = [
        {
            "record": f"{ERROR_RATIO}{window}",
            "expr": f"sum by (namespace) (rate({_selector(SERVER_ERRORS)}[{window}])) / "
                    f"sum by (namespace) (rate({_selector()}[{window}]))",
            "labels": {"slo": SLO_NAME},
        }
        for window in WINDOWS
    ]
    recordings += [
        {"record": OBJECTIVE, "expr": f"vector({availability_percent / 100:g})", "labels": dict(SLO_LABELS)},
        {"record": ERROR_BUDGET, "expr": f"vector({budget:g})", "labels": dict(SLO_LABELS)},
    ]
    alerts = [
        {
            "alert": ALERT_NAME,
            "expr": burn_rate_expr(alert, budget),
            "for": alert.for_duration,
            "labels": {"severity": alert.severity, "namespace": MODEL_API_NAMESPACE, "slo": SLO_NAME,
                       "long": alert.long_window, "short": alert.short_window},
            "annotations": {
                "summary": f"model-api burns its {availability_percent:g}% availability error budget "
                f"{alert.factor:g}x too fast over {alert.long_window} and {alert.short_window} "
                f"({alert.budget_spent_percent:g}% of the {SLO_PERIOD_DAYS}-day budget in {alert.long_window})",
                "description": "5xx share of model-api's requests: {{ $value | humanizePercentage }} over "
                f"the last {alert.long_window}; the SLO allows {budget:g}. See docs/alerting.md#the-slo-after-deploy.",
            },
        }
        for alert in BURN_RATE_ALERTS
    ]
    return {"groups": [{"name": "haflow.slo.model-api.recordings", "rules": recordings},
                       {"name": "haflow.slo.model-api.alerts", "rules": alerts}]}
