"""Observability rules: alerts that reach someone, a heartbeat that says the path works, and no alert about
a component the cluster cannot have.

Read from the kube-prometheus-stack release's values, with the chart's defaults (81.6.2 values.yaml) for
what the release leaves out: Helm merges ``alertmanager.config`` into the chart's, maps key by key and
lists whole, so a release that sets only ``receivers`` keeps the chart's route to ``null``. Routing is
resolved as Alertmanager does: the first child route whose matchers all hold, depth first
(https://prometheus.io/docs/alerting/latest/configuration/#route); ``continue`` is not followed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from haflow import contract, slo
from haflow.merge import deep_merge
from haflow.plan import HELM_RELEASE
from haflow.rules.engine import ERROR, NOT_APPLICABLE, Outcome, rule
from haflow.rules.helm import Values, chart_name, values_of
from haflow.rules.stack import LiteralResource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment

KUBE_PROMETHEUS_STACK_CHART = "kube-prometheus-stack"
# The chart's own alertmanager.config (values.yaml): everything, the Watchdog included, to "null".
CHART_DEFAULT_ALERTMANAGER_CONFIG: dict[str, Any] = {
    "route": {"receiver": "null", "routes": [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}]},
    "receivers": [{"name": "null"}],
}
DELIVERED_SEVERITIES = ("critical", "warning")
WATCHDOG = {"alertname": "Watchdog", "severity": "none"}
# Components of a self-managed control plane; EKS runs them where the cluster cannot scrape them, so the
# chart's *Down alerts for them (critical) would fire forever.
EKS_MANAGED_COMPONENTS = contract.EKS_MANAGED_MONITORING_COMPONENTS
_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')


def monitoring_values(release: LiteralResource) -> Values | None:
    return values_of(release) if chart_name(release) == KUBE_PROMETHEUS_STACK_CHART else None


def _matches(route: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    conditions: list[tuple[str, str, str]] = []
    for matcher in route.get("matchers") or []:
        parsed = _MATCHER.match(str(matcher))
        if not parsed:
            return False
        conditions.append((parsed.group(1), parsed.group(2), parsed.group(3)))
    conditions += [(name, "=", str(value)) for name, value in (route.get("match") or {}).items()]
    conditions += [(name, "=~", str(value)) for name, value in (route.get("match_re") or {}).items()]
    for name, operator, value in conditions:
        actual = labels.get(name, "")
        held = {
            "=": actual == value,
            "!=": actual != value,
            "=~": re.fullmatch(value, actual) is not None,
            "!~": re.fullmatch(value, actual) is None,
        }[operator]
        if not held:
            return False
    return True


def resolve_receiver(route: Mapping[str, Any], labels: Mapping[str, str], inherited: str = "") -> str:
    """The receiver Alertmanager hands an alert with ``labels`` to."""
    receiver = str(route.get("receiver") or inherited)
    for child in route.get("routes") or []:
        if isinstance(child, Mapping) and _matches(child, labels):
            return resolve_receiver(child, labels, receiver)
    return receiver


def notifiers(config: Mapping[str, Any], receiver: str) -> list[str]:
    """The kinds of notifier (``sns_configs``, ``slack_configs``...) receiver ``receiver`` has."""
    for entry in config.get("receivers") or []:
        if isinstance(entry, Mapping) and entry.get("name") == receiver:
            return sorted(key for key, value in entry.items() if key.endswith("_configs") and value)
    return []


def alertmanager_config(values: Values) -> dict[str, Any] | None:
    """The configuration Alertmanager gets, or None when the release runs no Alertmanager."""
    if not values.boolean("alertmanager.enabled", True):
        return None
    configured = values.get("alertmanager.config", {})
    return deep_merge(CHART_DEFAULT_ALERTMANAGER_CONFIG, configured if isinstance(configured, Mapping) else {})


def _undelivered(values: Values, labels: Mapping[str, str], what: str) -> list[str]:
    config = alertmanager_config(values)
    if config is None:
        return ["alertmanager.enabled is false: no alert leaves Prometheus"]
    receiver = resolve_receiver(config.get("route") or {}, labels)
    if not notifiers(config, receiver):
        return [f"{what} routes to receiver {receiver!r}, which notifies no one"]
    return []


@rule(
    id="HA-OBS-001",
    level=ERROR,
    title="Critical and warning alerts reach a receiver that notifies someone",
    rationale="kube-prometheus-stack routes every alert to its 'null' receiver unless told otherwise: the rules "
    "fire, and nobody hears of an outage the platform was built to survive.",
    fix="Leave alertmanager.config to haflow (observability.alerts): critical and warning go to the region's SNS "
    "topic, plus the optional Slack / PagerDuty / webhook receivers.",
    subjects=(HELM_RELEASE,),
)
def alerts_delivered(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    values = monitoring_values(release)
    if values is None:
        return NOT_APPLICABLE
    problems: list[str] = []
    for severity in DELIVERED_SEVERITIES:
        problems += _undelivered(values, {"alertname": "Probe", "severity": severity, "namespace": "default"},
                                 f"a {severity} alert")
    return sorted(set(problems))


@rule(
    id="HA-OBS-002",
    level=ERROR,
    title="The Watchdog alert exists and reaches a heartbeat receiver",
    rationale="A dead-man's switch: the Watchdog always fires, so its regular arrival proves Prometheus, "
    "Alertmanager and the notifier work; when it stops, the CloudWatch alarm on the heartbeat topic (or the "
    "external heartbeat service) raises the alarm no broken alert path could.",
    fix="Keep defaultRules.rules.general on and route alertname=Watchdog to the heartbeat receiver "
    "(haflow does; see docs/alerting.md).",
    subjects=(HELM_RELEASE,),
)
def watchdog_heartbeat(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    values = monitoring_values(release)
    if values is None:
        return NOT_APPLICABLE
    problems = []
    if not values.boolean("defaultRules.create", True) or not values.boolean("defaultRules.rules.general", True):
        problems.append("the chart's general rules (which hold the Watchdog) are off")
    problems += _undelivered(values, WATCHDOG, "the Watchdog")
    return problems


@rule(
    id="HA-OBS-003",
    level=ERROR,
    title="No scrape or alert for control-plane components EKS runs out of the cluster's reach",
    rationale="On EKS, kube-controller-manager, kube-scheduler and etcd are AWS's: scraping them fails and "
    "KubeControllerManagerDown / KubeSchedulerDown (critical) fire forever, paging around the clock and "
    "teaching people to ignore pages.",
    fix="Set kubeControllerManager.enabled, kubeScheduler.enabled and kubeEtcd.enabled to false.",
    subjects=(HELM_RELEASE,),
)
def eks_absent_components(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    values = monitoring_values(release)
    if values is None:
        return NOT_APPLICABLE
    return [f"{component}.enabled is true" for component in EKS_MANAGED_COMPONENTS
            if values.boolean(f"{component}.enabled", True)]


# --- AWS-side alarms (haflow.constructs.alarms) -----------------------------------------------------------
ALARM = "aws_cloudwatch_metric_alarm"
# What each AWS-managed component needs an alarm on (issue 20 item 4); where a metric is per node, every node.
AURORA_METRICS = ("CPUUtilization", "FreeableMemory")
AURORA_ROLES = ("WRITER", "READER")
GLOBAL_SECONDARY_METRICS = ("AuroraGlobalDBReplicationLag",)
REDIS_METRICS = ("EngineCPUUtilization", "DatabaseMemoryUsagePercentage", "ReplicationLag")
NAT_METRICS = ("ErrorPortAllocation", "PacketsDropCount")
REPLICATION_METRICS = ("OperationsFailedReplication", "ReplicationLatency")
WATCHED_COMPONENTS = ("aws_rds_cluster", "aws_elasticache_replication_group", "aws_nat_gateway",
                      "aws_s3_bucket_replication_configuration")


def _alarm_metrics(alarm: LiteralResource) -> list[tuple[str, dict[str, Any]]]:
    """(metric name, dimensions) of an alarm: its own metric, or each metric of its metric queries."""
    body = alarm.body
    found = []
    if body.get("metric_name"):
        found.append((str(body["metric_name"]), dict(body.get("dimensions") or {})))
    for query in body.get("metric_query") or []:
        metric = query.get("metric") if isinstance(query, Mapping) else None
        if isinstance(metric, list):
            metric = metric[0] if metric else None
        if isinstance(metric, Mapping) and metric.get("metric_name"):
            found.append((str(metric["metric_name"]), dict(metric.get("dimensions") or {})))
    return found


def _notifies_region_topic(alarm: LiteralResource, stack: Stack) -> bool:
    return any(stack.resolve(action, "aws_sns_topic") is not None for action in alarm.body.get("alarm_actions") or [])


def _missing_alarms(stack: Stack, wanted: dict[str, list[dict[str, str]]]) -> list[str]:
    """``wanted``: metric -> dimension sets, each watched by some alarm to a topic of the stack (its dimensions
    include the set)."""
    watched: list[tuple[str, dict[str, str]]] = []
    silent: set[str] = set()
    for alarm in stack.resources(ALARM):
        for metric, dimensions in _alarm_metrics(alarm):
            if _notifies_region_topic(alarm, stack):
                watched.append((metric, {key: str(value) for key, value in dimensions.items()}))
            else:
                silent.add(alarm.address)
    problems = [
        f"no alarm to a topic of this stack on {metric} of {', '.join(f'{k}={v}' for k, v in required.items())}"
        for metric, sets in wanted.items() for required in sets
        if not any(name == metric and required.items() <= dims.items() for name, dims in watched)
    ]
    return problems + [f"{address} notifies no SNS topic of this stack" for address in sorted(silent)]


@rule(
    id="HA-OBS-020",
    level=ERROR,
    title="Every AWS-managed component has CloudWatch alarms that notify the region's alerts topic",
    rationale="Prometheus sees the cluster, not what AWS runs for it: a writer out of memory, a Redis node "
    "evicting, a NAT gateway out of ports, objects not replicating, or a secondary falling behind the region "
    "RPO page no one unless a CloudWatch alarm notifies the region's own topic (which works while the other "
    "region is down).",
    fix="Keep haflow.constructs.alarms.RegionAlarms in the foundation and DR foundation stacks (watch_aurora, "
    "watch_global_database_lag, watch_redis, watch_nat_gateways, watch_replication) with the stack's alerts topic.",
    subjects=WATCHED_COMPONENTS,
)
def aws_components_alarmed(component: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    # The platform's components; the bootstrap stack's state replication is the deploy tooling's.
    if stack.name not in (env.foundation_stack_name, env.dr_foundation_stack_name):
        return NOT_APPLICABLE
    wanted: dict[str, list[dict[str, str]]] = {}
    if component.type == "aws_rds_cluster":
        identifier = component.string("cluster_identifier")
        instances = stack.referencing(component, "aws_rds_cluster_instance", "cluster_identifier")
        for metric in AURORA_METRICS if instances else ():
            wanted[metric] = [{"DBClusterIdentifier": identifier, "Role": role} for role in AURORA_ROLES]
        if component.has("global_cluster_identifier") and stack.name == env.dr_foundation_stack_name:
            for metric in GLOBAL_SECONDARY_METRICS:
                wanted[metric] = [{"DBClusterIdentifier": identifier}]
    elif component.type == "aws_elasticache_replication_group":
        group = component.string("replication_group_id")
        members = [f"{group}-{index:03d}" for index in range(1, component.integer("num_cache_clusters", 1) + 1)]
        for metric in REDIS_METRICS:
            wanted[metric] = [{"CacheClusterId": member} for member in members]
    elif component.type == "aws_nat_gateway":
        for metric in NAT_METRICS:
            wanted[metric] = [{"NatGatewayId": f"${{aws_nat_gateway.{component.name}.id}}"}]
    else:
        for replication_rule in component.body.get("rule") or []:
            for metric in REPLICATION_METRICS:
                wanted.setdefault(metric, []).append({"RuleId": str(replication_rule.get("id"))})
    return _missing_alarms(stack, wanted)


# --- model-api's SLO after deploy (haflow.slo) ------------------------------------------------------------

_BURN_CONDITION = re.compile(
    re.escape(slo.ERROR_RATIO) + r"(?P<window>\w+)\{[^}]*\}\s*>\s*\(\s*(?P<factor>[0-9.eE+-]+)\s*\*\s*"
    r"(?P<budget>[0-9.eE+-]+)\s*\)"
)
_PROMETHEUS_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w|y)$")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
# kube-prometheus-stack 81.6.2 values.yaml prometheus.prometheusSpec.retention
CHART_DEFAULT_RETENTION = "10d"


def _rules_of(values: Values) -> list[Mapping[str, Any]]:
    rule_map = values.get("additionalPrometheusRulesMap", {})
    documents = [doc for doc in rule_map.values() if isinstance(doc, Mapping)] if isinstance(rule_map, Mapping) else []
    groups = [group for doc in documents for group in doc.get("groups") or [] if isinstance(group, Mapping)]
    return [item for group in groups for item in group.get("rules") or [] if isinstance(item, Mapping)]


def _burn_conditions(expr: str) -> dict[str, tuple[float, float]]:
    """window -> (factor, budget) of each ``ratio_rate<window> > (factor * budget)`` in an alert."""
    return {match["window"]: (float(match["factor"]), float(match["budget"]))
            for match in _BURN_CONDITION.finditer(expr)}


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-12)


@rule(
    id="HA-OBS-010",
    level=ERROR,
    title="model-api's SLO has the workbook's multi-window burn-rate alerts, at the environment's slo.availability",
    rationale="slo.availability is proven before deploy (haflow report) but means nothing after it unless someone "
    "is told when the error budget burns: paging on 1h/5m above 14.4x and 6h/30m above 6x, a ticket on 1d/2h "
    "above 3x and 3d/6h above 1x (Google SRE workbook, Alerting on SLOs) catches fast and slow burns with few "
    "false pages. Alerts at another objective than the declared one watch a promise nobody made.",
    fix="Leave additionalPrometheusRulesMap.haflow-slo to haflow (haflow.slo builds it from slo.availability; "
    "docs/alerting.md#the-slo-after-deploy).",
    subjects=(HELM_RELEASE,),
)
def slo_burn_rate_alerts(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    values = monitoring_values(release)
    if values is None:
        return NOT_APPLICABLE
    budget = slo.error_budget(env.slo.availability)
    rules = _rules_of(values)
    recorded = {str(item.get("record")): str(item.get("expr", "")) for item in rules if "record" in item}
    problems = [f"no recording rule {slo.ERROR_RATIO}{window} (the error ratio over {window})"
                for window in slo.WINDOWS
                if f"[{window}]" not in recorded.get(f"{slo.ERROR_RATIO}{window}", "")]
    alerts = [item for item in rules if item.get("alert") == slo.ALERT_NAME]
    for wanted in slo.BURN_RATE_ALERTS:
        pair = f"{wanted.long_window}/{wanted.short_window} above {wanted.factor:g}x ({wanted.severity})"
        matching = [item for item in alerts
                    if (item.get("labels") or {}).get("long") == wanted.long_window
                    and (item.get("labels") or {}).get("short") == wanted.short_window]
        if not matching:
            problems.append(f"no {slo.ALERT_NAME} alert for the window pair {pair}")
            continue
        for item in matching:
            labels = item.get("labels") or {}
            conditions = _burn_conditions(str(item.get("expr", "")))
            if labels.get("severity") != wanted.severity or not labels.get("namespace"):
                problems.append(f"{slo.ALERT_NAME} {pair}: labels {dict(labels)} need severity "
                                f"{wanted.severity!r} and a namespace")
            for window in (wanted.long_window, wanted.short_window):
                factor, found = conditions.get(window, (None, None))
                if factor is None or found is None or not _close(factor, wanted.factor) or not _close(found, budget):
                    problems.append(
                        f"{slo.ALERT_NAME} {pair}: the {window} window is not compared with "
                        f"({wanted.factor:g} * {budget:g}), the budget of slo.availability {env.slo.availability:g}"
                    )
    return problems


def _duration_seconds(value: str) -> float | None:
    parsed = _PROMETHEUS_DURATION.match(value.strip())
    return int(parsed.group(1)) * _DURATION_SECONDS[parsed.group(2)] if parsed else None


@rule(
    id="HA-OBS-011",
    level=ERROR,
    title="Prometheus keeps the SLO's longest burn-rate window, with a margin",
    rationale="The 3d/6h ticket and the SLO dashboard read three days of model-api's requests: a shorter "
    "retention silently shortens the window (rate() over what is left), so the slow-burn alert measures less "
    "than it claims.",
    fix="Set observability.prometheus_retention to at least the longest window plus the margin (4d), and size "
    "observability.prometheus_storage_gib for it (docs/alerting.md#the-slo-after-deploy).",
    subjects=(HELM_RELEASE,),
)
def retention_covers_slo_windows(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    values = monitoring_values(release)
    if values is None or not values.boolean("prometheus.enabled", True):
        return NOT_APPLICABLE
    retention = str(values.get("prometheus.prometheusSpec.retention", CHART_DEFAULT_RETENTION))
    seconds = _duration_seconds(retention)
    needed = slo.window_seconds(slo.LONGEST_WINDOW) + slo.window_seconds(slo.RETENTION_MARGIN)
    if seconds is None:
        return [f"prometheus.prometheusSpec.retention {retention!r} is not a Prometheus duration"]
    if seconds < needed:
        return [f"prometheus.prometheusSpec.retention {retention} is shorter than the longest SLO window "
                f"{slo.LONGEST_WINDOW} plus {slo.RETENTION_MARGIN} of margin ({needed // 86400}d)"]
    return []


HEALTH_CHECK = "aws_route53_health_check"
HEALTH_CHECK_METRIC = ("AWS/Route53", "HealthCheckStatus")
_REMOTE_OUTPUT = re.compile(r"^\$\{data\.terraform_remote_state\.([^.}]+)\.outputs\.([^.}\[]+)\}$")


def _provider_region(stack: Stack, resource: LiteralResource) -> str | None:
    """The region of the AWS provider ``resource`` uses (its ``provider`` alias, else the default one)."""
    alias = str(resource.body.get("provider") or "").removeprefix("aws.") or None
    providers = (stack.document.get("provider") or {}).get("aws") or []
    for provider in providers if isinstance(providers, list) else [providers]:
        if isinstance(provider, Mapping) and provider.get("alias") == alias:
            region = provider.get("region")
            return str(region) if region is not None else None
    return None


def _backend_location(stack: Stack) -> tuple[Any, Any] | None:
    s3 = ((stack.document.get("terraform") or {}).get("backend") or {}).get("s3")
    return (s3.get("bucket"), s3.get("key")) if isinstance(s3, Mapping) else None


def _names_health_check(raw: Any, check: LiteralResource, owner: Stack, reader: Stack) -> bool:
    """Whether ``raw`` (an alarm's HealthCheckId in ``reader``) is ``check``'s id: a reference in the same
    stack, or an output of ``owner`` holding that reference, read through ``reader``'s terraform_remote_state
    of ``owner``'s state."""
    own_id = f"${{{check.address}.id}}"
    if reader.name == owner.name:
        return raw == own_id
    match = _REMOTE_OUTPUT.match(raw) if isinstance(raw, str) else None
    if match is None:
        return False
    remote = (((reader.document.get("data") or {}).get("terraform_remote_state") or {}).get(match.group(1)) or {})
    config = remote.get("config") or {}
    if remote.get("backend") != "s3" or (config.get("bucket"), config.get("key")) != _backend_location(owner):
        return False
    output = ((owner.document.get("output") or {}).get(match.group(2)) or {})
    return output.get("value") == own_id


@rule(
    id="HA-OBS-030",
    level=ERROR,
    title="Every Route 53 health check has a CloudWatch alarm in us-east-1 that notifies a topic",
    rationale="Route 53 fails traffic over by itself when a health check fails, and tells no one: without an "
    "alarm the first sign of a failed-over (or failing) region is a user. Route 53 publishes HealthCheckStatus "
    "in us-east-1 only, so an alarm anywhere else never leaves INSUFFICIENT_DATA.",
    fix="Keep <env>-dns-alarms (haflow.stacks.dns_alarms, built for every environment with dr.dns): an alarm per "
    "health check on AWS/Route53 HealthCheckStatus < 1 with a us-east-1 provider, notifying its SNS topic.",
    subjects=(HEALTH_CHECK,),
)
def health_checks_alarmed(check: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    problems: list[str] = []
    for reader in (stack, *stack.siblings()):
        for alarm in reader.resources(ALARM):
            body = alarm.body
            if (body.get("namespace"), body.get("metric_name")) != HEALTH_CHECK_METRIC or not _names_health_check(
                    (body.get("dimensions") or {}).get("HealthCheckId"), check, stack, reader):
                continue
            where = f"{reader.name}: {alarm.address}"
            region = _provider_region(reader, alarm)
            if region != contract.ROUTE53_METRICS_REGION:
                problems.append(f"{where} is in {region or 'no region'}, where Route 53 publishes no "
                                f"HealthCheckStatus (only {contract.ROUTE53_METRICS_REGION})")
            elif not _notifies_region_topic(alarm, reader):
                problems.append(f"{where} notifies no SNS topic of its stack")
            elif body.get("comparison_operator") != "LessThanThreshold" or not 0 < float(body.get("threshold", 0)) <= 1:
                problems.append(f"{where} does not fire on an unhealthy status (HealthCheckStatus < 1)")
            else:
                return []
    looked = ", ".join(sorted({stack.name, *(sibling.name for sibling in stack.siblings())}))
    return problems or [f"no CloudWatch alarm in {contract.ROUTE53_METRICS_REGION} watches HealthCheckStatus of this "
                        f"health check (looked in {looked})"]
