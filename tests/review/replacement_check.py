"""The replacement table (haflow/review/replacement.py) against the real provider.

From haflow's own prod-foundation stack, one resource of each type the table lists is taken (references
replaced by literals of the right shape, lifecycle dropped: prevent_destroy would refuse the plan), cut
down to what the mirror's provider version knows, and given a crafted prior state (tests/review/realplans.py)
so it plans clean. Then, in one plan, one copy of the resource per attribute, each with only that
attribute changed: the copy is replaced, with the attribute in ``replace_paths``, exactly when the
provider forces a new resource for it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from haflow.plan import CDKTF_METADATA_KEY
from haflow.review.terraform import MOCK_ACCOUNT, strip_unknown

REFERENCE = re.compile(r"\$\{([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}")
NOT_CONFIG = {CDKTF_METADATA_KEY, "lifecycle", "depends_on", "provider", "count", "for_each"}
# not mutated: tags are updated in place by definition, timeouts are Terraform-side only
NOT_MUTATED = {"tags", "tags_all", "timeouts"}

# A value for a table attribute haflow's configuration leaves out, and the arguments it conflicts with (a
# *_prefix with the name it prefixes; a global datastore member inherits its engine settings).
GLOBAL_MEMBER_CONFLICTS = ("parameter_group_name", "engine", "engine_version", "node_type", "num_node_groups",
                           "at_rest_encryption_enabled", "transit_encryption_enabled", "kms_key_id", "auth_token",
                           "snapshot_arns", "snapshot_name")
UNSET_VALUES: dict[tuple[str, str], tuple[Any, tuple[str, ...]]] = {
    ("aws_rds_cluster", "cluster_identifier_prefix"): ("prod-aurora-", ("cluster_identifier",)),
    ("aws_rds_cluster", "snapshot_identifier"): ("prod-aurora-snapshot", ()),
    ("aws_rds_cluster", "source_region"): ("us-west-2", ()),
    ("aws_rds_cluster", "s3_import"): ([{"bucket_name": "haflow-import", "source_engine": "mysql",
                                         "source_engine_version": "8.0.36",
                                         "ingestion_role": f"arn:aws:iam::{MOCK_ACCOUNT}:role/import"}], ""),
    ("aws_rds_cluster", "restore_to_point_in_time"): ([{"source_cluster_identifier": "prod-aurora-old",
                                                        "use_latest_restorable_time": True}], ""),
    ("aws_rds_cluster", "availability_zones"): (["us-east-1a", "us-east-1b", "us-east-1c"], ()),
    ("aws_rds_cluster", "engine_mode"): ("serverless", ()),
    ("aws_rds_cluster_instance", "identifier_prefix"): ("prod-aurora-", ("identifier",)),
    ("aws_elasticache_replication_group", "snapshot_arns"): (["arn:aws:s3:::haflow-snapshots/redis.rdb"], ()),
    ("aws_elasticache_replication_group", "snapshot_name"): ("prod-redis-snapshot", ()),
    ("aws_elasticache_replication_group", "network_type"): ("dual_stack", ()),
    ("aws_elasticache_replication_group", "global_replication_group_id"): ("ldgnf-haflow-global", GLOBAL_MEMBER_CONFLICTS),
    ("aws_s3_bucket", "bucket_prefix"): ("haflow-prod-", ("bucket",)),
    ("aws_s3_bucket", "object_lock_enabled"): (True, ()),
    ("aws_kms_key", "customer_master_key_spec"): ("RSA_2048", ()),
    ("aws_kms_key", "key_usage"): ("SIGN_VERIFY", ()),
    ("aws_kms_key", "multi_region"): (True, ()),
    ("aws_kms_key", "custom_key_store_id"): ("cks-1234567890abcdef0", ()),
    ("aws_kms_key", "xks_key_id"): ("xks-0123456789", ()),  # with custom_key_store_id (REQUIRED_WITH)
    ("aws_secretsmanager_secret", "name_prefix"): ("haflow/prod/", ("name",)),
    ("aws_cloudwatch_log_group", "name_prefix"): ("/aws/haflow-", ("name",)),
}

# Another valid value for a configured attribute, where appending to it would not be valid.
OTHER_VALUES: dict[str, Any] = {
    "engine": {"aurora-postgresql": "aurora-mysql", "redis": "valkey"},
    "engine_version": {"16.6": "16.4", "7.1": "7.0"},
    "availability_zone": {"us-east-1a": "us-east-1b"},
    "instance_class": {"db.r6g.xlarge": "db.r6g.2xlarge"},
    "node_type": {"cache.r7g.large": "cache.r7g.xlarge"},
    "cluster_mode": {"disabled": "compatible"},
    "retention_in_days": {365: 400, 90: 180, 30: 60, 14: 30, 7: 14},
    "performance_insights_retention_period": {31: 62, 7: 31},
    "deletion_window_in_days": {30: 7},
    "recovery_window_in_days": {30: 7, 7: 30},
    "monitoring_interval": {60: 30},
    "num_cache_clusters": {3: 4, 2: 3},
}
# Arguments set together with another (Terraform refuses one without the other).
REQUIRED_WITH: dict[tuple[str, str], dict[str, Any]] = {
    ("aws_kms_key", "xks_key_id"): {"custom_key_store_id": "cks-1234567890abcdef0"},
    ("aws_elasticache_replication_group", "automatic_failover_enabled"): {"multi_az_enabled": False},
}
OTHER_LISTS: dict[str, list[Any]] = {"enabled_cloudwatch_logs_exports": ["postgresql", "iam-db-auth-error"]}
WINDOW = re.compile(r"^(?:[a-z]{3}:)?\d\d:\d\d-(?:[a-z]{3}:)?\d\d:\d\d$")


@dataclass
class Slice:
    """The foundation's resources under test, as Terraform JSON, and what had to be taken out of them."""

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    stripped: list[str] = field(default_factory=list)


def literal(value: Any, stack: Mapping[str, Any]) -> Any:
    """``value`` with every expression replaced by a literal of the shape the reference points at."""
    if isinstance(value, list):
        return [literal(item, stack) for item in value]
    if isinstance(value, dict):
        return {key: literal(item, stack) for key, item in value.items()}
    if not isinstance(value, str) or "${" not in value:
        return value
    match = REFERENCE.fullmatch(value)
    if match is None:  # a function call (jsondecode(...).password): a secret-shaped literal
        return "mock-secret-value-0123456789abcdef"
    rtype, name, attribute = match.groups()
    target = ((stack.get("resource") or {}).get(rtype) or {}).get(name) or {}
    if isinstance(target.get(attribute), str | int) and "${" not in str(target.get(attribute)):
        return target[attribute]
    if attribute == "arn" or attribute.endswith("_arn"):
        service = {"aws_kms_key": "kms", "aws_iam_role": "iam"}.get(rtype, rtype.split("_")[1])
        region = "" if service == "iam" else "us-east-1"
        return f"arn:aws:{service}:{region}:{MOCK_ACCOUNT}:{rtype.removeprefix('aws_')}/{name.lower()[:20]}"
    if attribute == "secret_string":
        return "mock-secret-value-0123456789abcdef"
    if rtype == "aws_security_group" and attribute == "id":
        return "sg-0123456789abcdef0"
    return f"mock-{name.lower()[:20]}"


def _embeds_expression(value: Any) -> bool:
    """True when ``value`` holds an expression inside other text (a JSON policy with an ARN reference), which
    ``literal`` can only replace by a secret-shaped string that the attribute's own checks may refuse."""
    if isinstance(value, list):
        return any(_embeds_expression(item) for item in value)
    if isinstance(value, dict):
        return any(_embeds_expression(item) for item in value.values())
    return isinstance(value, str) and "${" in value and REFERENCE.fullmatch(value) is None


def foundation_slice(stack: Mapping[str, Any], types: list[str], schemas: Mapping[str, Any]) -> Slice:
    """One resource of each type in ``types``: the first whose attributes are literals or whole references
    (else the first), with its references replaced by literals."""
    result = Slice()
    for rtype in types:
        candidates = list(((stack.get("resource") or {}).get(rtype) or {}).values())
        body = next((c for c in candidates if not any(_embeds_expression(v) for k, v in c.items()
                                                      if k not in NOT_CONFIG)), candidates[0])
        config = {key: literal(value, stack) for key, value in body.items() if key not in NOT_CONFIG}
        kept, dropped = strip_unknown(config, schemas[rtype]["block"])
        result.stripped += [f"{rtype}.{path}" for path in dropped]
        result.resources[rtype] = {"base": kept}
    return result


def other_value(attribute: str, value: Any) -> Any:
    """A different valid value for ``attribute``, or None when haflow's test knows none."""
    if attribute in OTHER_LISTS and value != OTHER_LISTS[attribute]:
        return OTHER_LISTS[attribute]
    table = OTHER_VALUES.get(attribute)
    if isinstance(table, dict) and value in table:
        return table[value]
    if isinstance(value, bool):
        return not value
    if value in ("true", "false"):
        return "false" if value == "true" else "true"
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        if WINDOW.match(value):
            return value.replace("sun", "mon") if "sun" in value else "01:00-02:00"
        if value.startswith("arn:"):
            return value + "2"
        return value + "-2" if not value.isalnum() else value + "2"
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return list(reversed(value)) if len(value) > 1 else [*value, value[0] + "2"]
    return None


@dataclass
class Variant:
    rtype: str
    attribute: str
    name: str
    body: dict[str, Any]
    in_table: bool


def variants(base: Mapping[str, Any], rtype: str, schema_block: Mapping[str, Any],
             table: frozenset[str]) -> tuple[list[Variant], list[str]]:
    """One copy of ``base`` per attribute changed alone, and the attributes that could not be changed (why)."""
    known = set(schema_block.get("attributes") or {}) | set(schema_block.get("block_types") or {})
    write_only = {name for name, spec in (schema_block.get("attributes") or {}).items() if spec.get("write_only")}
    result, untested = [], []
    for attribute in sorted(set(base) | table):
        if attribute in NOT_MUTATED or attribute in write_only:
            continue
        if attribute not in known:
            untested.append(f"{rtype}.{attribute}: unknown to the mirror's provider")
            continue
        body = copy.deepcopy(dict(base))
        if attribute in base:
            new = other_value(attribute, base[attribute])
            if new is None:
                untested.append(f"{rtype}.{attribute}: no other value known for {base[attribute]!r}")
                continue
            body[attribute] = new
            body.update(REQUIRED_WITH.get((rtype, attribute), {}))
        elif (rtype, attribute) in UNSET_VALUES:
            value, conflicting = UNSET_VALUES[(rtype, attribute)]
            body[attribute] = value
            for other in conflicting:
                body.pop(other, None)
            body.update(REQUIRED_WITH.get((rtype, attribute), {}))
        else:
            untested.append(f"{rtype}.{attribute}: no value to set it to")
            continue
        result.append(Variant(rtype, attribute, f"v_{attribute}", body, attribute in table))
    return result, untested
