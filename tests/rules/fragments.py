"""Small synthesized-stack fragments for rule unit tests: each builder returns {type: {logical id: body}}."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import yaml

from haflow.config import Environment
from haflow.rules.engine import REGISTRY, Result, Status, check_scope
from haflow.rules.stack import Stack
from tests.conftest import CHECK_DATE

Resources = dict[str, dict[str, dict[str, Any]]]


def ref(rtype: str, name: str, attribute: str = "id") -> str:
    return f"${{{rtype}.{name}.{attribute}}}"


def merge(*parts: Resources) -> Resources:
    merged: Resources = {}
    for part in parts:
        for rtype, items in part.items():
            merged.setdefault(rtype, {}).update(items)
    return merged


def results(rule_id: str, resources: Resources, env: Environment, as_of: date = CHECK_DATE) -> list[Result]:
    """What one rule says, on the day ``as_of``, about every subject it applies to in a stack of ``resources``."""
    return check_scope(Stack("prod-foundation", {"resource": resources}, as_of=as_of), env, [REGISTRY[rule_id]])


def statuses(rule_id: str, resources: Resources, env: Environment, as_of: date = CHECK_DATE) -> set[Status]:
    return {result.status for result in results(rule_id, resources, env, as_of)}


def messages(rule_id: str, resources: Resources, env: Environment, as_of: date = CHECK_DATE) -> list[str]:
    return [message for result in results(rule_id, resources, env, as_of) for message in result.messages]


def assert_rule(rule_id: str, compliant: Resources, non_compliant: Resources, expected: str, env: Environment) -> None:
    """``compliant`` passes rule ``rule_id``; ``non_compliant`` fails it with a message containing ``expected``."""
    assert statuses(rule_id, compliant, env) == {Status.COMPLIANT}
    found = messages(rule_id, non_compliant, env)
    assert any(expected in message for message in found), found


# --- builders shared by the rule families -----------------------------------------------------------

def aurora(azs: tuple[str, ...] = ("us-east-1a", "us-east-1b"), **cluster: Any) -> Resources:
    body = {
        "engine": "aurora-postgresql",
        "deletion_protection": True,
        "backup_retention_period": 7,
        "storage_encrypted": True,
        "manage_master_user_password": True,
        "skip_final_snapshot": False,
        "final_snapshot_identifier": "prod-final",
        "lifecycle": {"prevent_destroy": True},
        **cluster,
    }
    return {
        "aws_rds_cluster": {"db": {key: value for key, value in body.items() if value is not None}},
        "aws_rds_cluster_instance": {
            f"db-{index}": {"cluster_identifier": ref("aws_rds_cluster", "db"), "availability_zone": az}
            for index, az in enumerate(azs)
        },
    }


def redis(**group: Any) -> Resources:
    body = {
        "automatic_failover_enabled": True,
        "multi_az_enabled": True,
        "num_cache_clusters": 2,
        "transit_encryption_enabled": True,
        "at_rest_encryption_enabled": "true",
        "cluster_mode": "disabled",
        **group,
    }
    return {"aws_elasticache_replication_group": {"redis": {k: v for k, v in body.items() if v is not None}}}


TLS_ONLY = {
    "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": [ref("aws_s3_bucket", "b", "arn"), ref("aws_s3_bucket", "b", "arn") + "/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def bucket(*, versioning: str | None = "Enabled", algorithm: str | None = "aws:kms", block: bool = True,
           statement: dict[str, Any] | None = None, **attributes: Any) -> Resources:
    bucket_ref = ref("aws_s3_bucket", "b")
    resources: Resources = {
        "aws_s3_bucket": {"b": {"bucket": "artifacts", "lifecycle": {"prevent_destroy": True}, **attributes}},
        "aws_s3_bucket_public_access_block": {
            "b": {"bucket": bucket_ref, **{setting: block for setting in (
                "block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")}}
        },
        "aws_s3_bucket_policy": {
            "b": {"bucket": bucket_ref, "policy": json.dumps({"Version": "2012-10-17",
                                                                "Statement": [statement or TLS_ONLY]})}
        },
    }
    if versioning:
        resources["aws_s3_bucket_versioning"] = {
            "b": {"bucket": bucket_ref, "versioning_configuration": {"status": versioning}}
        }
    if algorithm:
        resources["aws_s3_bucket_server_side_encryption_configuration"] = {
            "b": {"bucket": bucket_ref, "rule": [{"apply_server_side_encryption_by_default": {
                "sse_algorithm": algorithm, "kms_master_key_id": ref("aws_kms_key", "k", "arn")}}]}
        }
    return resources


def chart(chart_name: str, values: dict[str, Any], release_name: str | None = None) -> Resources:
    return {"helm_release": {chart_name: {
        "name": release_name or chart_name, "chart": chart_name, "namespace": chart_name,
        "values": [yaml.safe_dump(values)],
    }}}


def with_values(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    copy = yaml.safe_load(yaml.safe_dump(base))
    node = copy
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return copy


PREFECT_SERVER = {
    "server": {"replicaCount": 3, "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": {"topologyKey": "topology.kubernetes.io/zone"}}]}}},
    "backgroundServices": {"runAsSeparateDeployment": True, "replicaCount": 2, "messaging": {
        "broker": "prefect_redis.messaging", "cache": "prefect_redis.messaging",
        "redis": {"host": "${data.terraform_remote_state.foundation.outputs.redis}"},
        "docket": {"existingSecret": "prefect-redis"}}},
    "externalDatabase": {"existingSecret": "prefect-database"},
    "postgresql": {"enabled": False},
}
