"""Redis RBAC rules (HA-SEC-040..042): a compliant and non-compliant cases each, and the ACL reading they rely on
(glob overlap, the command model) checked against a real Redis 7 (ACL DRYRUN) where redis-server is installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from haflow.config import Environment
from haflow.config.redis_acl import MODEL_API, PREFECT, USERS, RedisUser, glob_patterns_overlap
from haflow.rules.engine import Status
from haflow.rules.redis_acl import KEYLESS_REACH, allowed
from tests.rules.fragments import Resources, assert_rule, merge, redis, ref, statuses

GROUP = "aws_elasticache_user_group"
ADMIN = "haflow-test-admin"
USER = "aws_elasticache_user"


def users(overrides: dict[str, dict[str, Any]] | None = None, *, share: bool = False) -> Resources:
    """The user group of the platform's users (from haflow.config.redis_acl) with their password secrets;
    ``overrides`` change a user's body by consumer; ``share`` makes model-api read prefect's secret version."""
    resources: Resources = {USER: {}, GROUP: {}, "aws_secretsmanager_secret": {},
                            "aws_secretsmanager_secret_version": {}}
    for user in USERS:
        body: dict[str, Any] = {"user_id": f"prod-redis-{user.consumer}", "user_name": user.user_name,
                                "engine": "redis", "access_string": user.access_string()}
        if user.enabled:
            owner = PREFECT.consumer if share else user.consumer
            resources["aws_secretsmanager_secret"][f"{user.consumer}-secret"] = {"name": f"redis-{user.consumer}"}
            resources["aws_secretsmanager_secret_version"][f"{user.consumer}-password"] = {
                "secret_id": ref("aws_secretsmanager_secret", f"{owner}-secret"),
                "secret_string": "${data.aws_secretsmanager_random_password.p.random_password}"}
            body["authentication_mode"] = {"type": "password", "passwords": [
                ref("aws_secretsmanager_secret_version", f"{user.consumer}-password", "secret_string")]}
        else:
            body["authentication_mode"] = {"type": "no-password-required"}
        body.update((overrides or {}).get(user.consumer, {}))
        resources[USER][user.consumer] = body
    resources[GROUP]["group"] = {"user_group_id": "prod-redis", "engine": "redis",
                                 "user_ids": [ref(USER, user.consumer, "user_id") for user in USERS]}
    return resources


def rbac(**group: Any) -> Resources:
    return merge(users(), redis(user_group_ids=[ref(GROUP, "group", "user_group_id")], **group))


@pytest.mark.parametrize(
    ("rule_id", "compliant", "non_compliant", "expected"),
    [
        # main before this change: an AUTH token shared by every consumer
        ("HA-SEC-040", rbac(), redis(auth_token=ref("aws_secretsmanager_secret_version", "v", "secret_string")),
         "clients sign in with an AUTH token"),
        ("HA-SEC-040", rbac(), redis(), "no authentication at all"),
        ("HA-SEC-040", rbac(), merge(users({"default": {"access_string": "on ~* +@all"}}),
                                     redis(user_group_ids=[ref(GROUP, "group", "user_group_id")])),
         "the default user is on"),
        ("HA-SEC-040", rbac(), rbac(auth_token="${aws_secretsmanager_secret_version.v.secret_string}"),
         "auth_token is set next to the user group"),
        ("HA-SEC-041", users(), users(share=True), "share the password in aws_secretsmanager_secret.prefect-secret"),
        ("HA-SEC-041", users(), users({"model-api": {"authentication_mode": {"type": "no-password-required"}}}),
         "signs in with 'no-password-required'"),
        ("HA-SEC-042", users(), users({"model-api": {"access_string": "on ~* +@all"}}),
         "key pattern '*' matches Prefect's 'events'"),
        ("HA-SEC-042", users(), users({"model-api": {"access_string": "on ~prefect:* -@all +get"}}),
         "key pattern 'prefect:*' matches Prefect's 'prefect:*'"),
        ("HA-SEC-042", users(), users({"model-api": {"access_string": "on ~model-api:* &prefect:* -@all +@pubsub"}}),
         "channel pattern 'prefect:*' matches Prefect's"),
        ("HA-SEC-042", users(), users({"model-api": {"access_string": "on ~model-api:* -@all +@keyspace"}}),
         "it may run FLUSHALL"),
        ("HA-SEC-042", users(), users({"model-api": {"access_string": "on ~model-api:* -@all +@read -@dangerous"}}),
         "it may run SCAN"),
    ],
)
def test_redis_acl_rule(rule_id: str, compliant: Resources, non_compliant: Resources, expected: str,
                        environments: dict[str, Environment]) -> None:
    assert_rule(rule_id, compliant, non_compliant, expected, environments["prod"])


def test_a_group_without_model_api_or_prefect_is_a_finding(environments: dict[str, Environment]) -> None:
    only_default = users()
    only_default[USER] = {"default": only_default[USER]["default"]}
    only_default[GROUP]["group"]["user_ids"] = [ref(USER, "default", "user_id")]
    assert statuses("HA-SEC-042", only_default, environments["prod"]) == {Status.NOT_APPLICABLE}
    del only_default
    without_model_api = users()
    del without_model_api[USER]["model-api"]
    without_model_api[GROUP]["group"]["user_ids"] = [ref(USER, u.consumer, "user_id") for u in (USERS[0], PREFECT)]
    assert statuses("HA-SEC-042", without_model_api, environments["prod"]) == {Status.NON_COMPLIANT}


def test_a_non_literal_access_string_is_a_finding_not_a_pass(environments: dict[str, Environment]) -> None:
    unresolved = users({"model-api": {"access_string": "${var.model_api_acl}"}})
    assert statuses("HA-SEC-042", unresolved, environments["prod"]) != {Status.COMPLIANT}


@pytest.mark.parametrize(("first", "second", "overlap"), [
    ("model-api:*", "message:*", False),
    ("model-api:*", "prefect:*", False),
    ("model-api:*", "events", False),
    ("model-api:*", "*", True),
    ("model-api:*", "m*", True),
    ("model-api:x", "model-?pi:*", True),
    ("mod[a-z]l-api:*", "model-api:1", True),
    ("a\\*b", "a*b", True),
    ("abc", "abd", False),
])
def test_glob_overlap(first: str, second: str, overlap: bool) -> None:
    assert glob_patterns_overlap(first, second) is overlap
    assert glob_patterns_overlap(second, first) is overlap


def test_model_apis_prefix_meets_none_of_prefects_patterns() -> None:
    assert not [(mine, theirs) for mine in MODEL_API.key_patterns for theirs in PREFECT.key_patterns
                if glob_patterns_overlap(mine, theirs)]


# --- the command model and the access strings, judged by a real Redis 7 ---------------------------------------

@pytest.fixture(scope="module")
def scratch_redis() -> Iterator[Path]:
    """A throwaway redis-server on a Unix socket (no TCP port), for ACL SETUSER / ACL DRYRUN."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (make smoke-deps installs it)")
    root = Path(tempfile.mkdtemp(prefix="haflow-acl-"))
    socket = root / "redis.sock"
    # the test's own user: the users under test include the default one, switched off
    process = subprocess.Popen([server, "--port", "0", "--unixsocket", str(socket), "--save", "",
                                "--dir", str(root), "--user", ADMIN, "on", "nopass", "~*", "&*", "+@all"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield socket
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def cli(socket: Path, *command: str) -> str:
    return subprocess.run(["redis-cli", "-s", str(socket), "--user", ADMIN, "--pass", "-", "--no-auth-warning",
                           *command], capture_output=True, text=True,
                          check=True, timeout=10).stdout.strip()


def set_user(socket: Path, user: RedisUser) -> str:
    return cli(socket, "ACL", "SETUSER", user.user_name, "reset", "nopass", *user.access_string().split())


@pytest.mark.parametrize("user", USERS, ids=[user.consumer for user in USERS])
def test_redis_accepts_every_access_string(scratch_redis: Path, user: RedisUser) -> None:
    assert set_user(scratch_redis, user) == "OK"


VARIANTS = [
    RedisUser("x", "variant-plain", True, ("model-api:*",), (), ("-@all", "+@keyspace")),
    RedisUser("x", "variant-read", True, ("model-api:*",), (), ("-@all", "+@read", "-@dangerous")),
    RedisUser("x", "variant-all", True, ("model-api:*",), (), ("+@all", "-flushall", "-scan")),
    RedisUser("x", "variant-none", True, ("model-api:*",), (), ("allcommands", "nocommands", "+get")),
]


@pytest.mark.parametrize("user", [*USERS[1:], *VARIANTS], ids=lambda user: user.user_name)
def test_the_rules_command_model_agrees_with_redis(scratch_redis: Path, user: RedisUser) -> None:
    set_user(scratch_redis, user)
    for command in KEYLESS_REACH:
        args = {"scan": ["0"], "keys": ["*"], "swapdb": ["0", "1"]}.get(command, [])
        verdict = cli(scratch_redis, "ACL", "DRYRUN", user.user_name, command, *args)
        assert allowed(user.commands, command) is (verdict == "OK"), (user.access_string(), command, verdict)
