"""Redis access rules (ElastiCache RBAC): who can sign in to the cache, with which credential, and what
model-api's user can reach. Judged from the access strings and references on the plan, parsed with
``haflow.config.redis_acl`` (the definitions the foundation builds the users from; docs/security-redis.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from haflow.config.redis_acl import MODEL_API, PREFECT, RedisUser, glob_patterns_overlap, parse_access_string
from haflow.rules.engine import ERROR, NOT_APPLICABLE, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack, Unverifiable

if TYPE_CHECKING:
    from haflow.config.model import Environment

REPLICATION_GROUP = ("aws_elasticache_replication_group",)
USER_GROUP = ("aws_elasticache_user_group",)
USER = "aws_elasticache_user"
SECRET_VERSION = "aws_secretsmanager_secret_version"
DEFAULT_USER_NAME = "default"
# Commands that reach every key whatever the key patterns say (wipe them, or list other users' key names), with
# their ACL categories (Redis 7.0 COMMAND INFO).
KEYLESS_REACH = {
    "flushall": ("keyspace", "write", "slow", "dangerous"),
    "flushdb": ("keyspace", "write", "slow", "dangerous"),
    "swapdb": ("keyspace", "write", "fast", "dangerous"),
    "keys": ("keyspace", "read", "slow", "dangerous"),
    "scan": ("keyspace", "read", "slow"),
    "randomkey": ("keyspace", "read", "slow"),
}


def _users(group: LiteralResource, stack: Stack) -> list[LiteralResource]:
    return stack.referenced_list(group, "user_ids", USER)


def _acl(user: LiteralResource) -> RedisUser:
    raw = user.value("access_string")
    if not isinstance(raw, str):
        raise Unverifiable("access_string", f"{raw!r} is not a literal access string")
    return parse_access_string(raw)


def _by_name(users: list[LiteralResource], name: str) -> list[LiteralResource]:
    return [user for user in users if user.value("user_name", None) == name]


def _can_sign_in(user: LiteralResource) -> bool:
    return _acl(user).enabled


@rule(
    id="HA-SEC-040",
    level=ERROR,
    title="Redis uses RBAC users, and the default user is off",
    rationale="With an AUTH token (or the default user on) every client holding it can run any command on any "
    "key; pydocket unpickles what it reads from Prefect's streams, so a token in an internet-facing pod is "
    "code execution in Prefect's pods.",
    fix="Attach an aws_elasticache_user_group (user_group_ids) whose user named default has access_string "
    "'off -@all', and give each consumer a user of its own (haflow.config.redis_acl).",
    subjects=REPLICATION_GROUP,
)
def rbac_without_default_user(group: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not group.has("user_group_ids"):
        how = "an AUTH token" if group.has("auth_token") else "no authentication at all"
        return [f"no user_group_ids: clients sign in with {how}, which opens every key to every client"]
    problems = []
    if group.has("auth_token"):
        problems.append("auth_token is set next to the user group: the token still opens every key")
    for user_group in stack.referenced_list(group, "user_group_ids", *USER_GROUP):
        defaults = _by_name(_users(user_group, stack), DEFAULT_USER_NAME)
        if not defaults:
            problems.append(f"{user_group.address} has no user named default (ElastiCache requires one)")
        for user in defaults:
            acl = _acl(user)
            if acl.enabled:
                problems.append(f"{user.address}: the default user is on ({user.value('access_string')!r}): "
                                "a client that signs in as no one gets its rights")
    return problems


@rule(
    id="HA-SEC-041",
    level=ERROR,
    title="No two Redis consumers share a credential",
    rationale="A shared password makes every consumer as powerful as the most privileged one that uses it; "
    "each consumer's password must be its own, from a secret of its own, so that it can be synced to that "
    "consumer's namespace only and rotated alone.",
    fix="Give each enabled user authentication_mode { type = \"password\" } with the secret_string of a "
    "secret version of its own secret.",
    subjects=USER_GROUP,
)
def one_credential_per_consumer(user_group: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    problems = []
    owners: dict[str, list[str]] = {}
    for user in _users(user_group, stack):
        if not _can_sign_in(user):
            continue
        mode = user.string("authentication_mode.type", "password" if user.has("passwords") else "")
        if mode != "password":
            problems.append(f"{user.address} signs in with {mode or 'no password'!r}: anyone can be it")
            continue
        path = "authentication_mode.passwords" if user.has("authentication_mode.passwords") else "passwords"
        versions = stack.referenced_list(user, path, SECRET_VERSION)
        for version in versions:
            secret = stack.referenced(version, "secret_id", "aws_secretsmanager_secret")
            owners.setdefault(secret.address, []).append(user.address)
    for secret_address, sharing in sorted(owners.items()):
        if len(sharing) > 1:
            problems.append(f"{', '.join(sharing)} share the password in {secret_address}")
    return problems


@rule(
    id="HA-SEC-042",
    level=ERROR,
    title="model-api's Redis user cannot reach Prefect's keys, channels or every key",
    rationale="model-api is internet-facing; Prefect's background services unpickle stream messages and hold "
    "the database credentials. A key or channel pattern of model-api's user that matches one of Prefect's, or "
    "a command that ignores key patterns (FLUSHALL, KEYS, SCAN, +@all), lets model-api write or wipe them.",
    fix="Keep model-api's user on its own prefix (haflow.config.redis_acl.MODEL_API_KEY_PREFIX), without "
    "channels, and end its command list with -@dangerous.",
    subjects=USER_GROUP,
)
def model_api_apart_from_prefect(user_group: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    users = _users(user_group, stack)
    model_api, prefect = _by_name(users, MODEL_API.user_name), _by_name(users, PREFECT.user_name)
    if not model_api and not prefect:
        return NOT_APPLICABLE
    if not model_api or not prefect:
        missing = MODEL_API.user_name if not model_api else PREFECT.user_name
        return [f"{user_group.address} has no user named {missing}: model-api and Prefect need one each"]
    problems = []
    theirs = [_acl(user) for user in prefect]
    for user in model_api:
        acl = _acl(user)
        if not acl.enabled:
            continue
        for mine in acl.key_patterns:
            problems += [f"{user.address}: key pattern {mine!r} matches Prefect's {other!r}"
                         for prefect_acl in theirs for other in prefect_acl.key_patterns
                         if glob_patterns_overlap(mine, other)]
        for mine in acl.channel_patterns:
            problems += [f"{user.address}: channel pattern {mine!r} matches Prefect's {other!r}"
                         for prefect_acl in theirs for other in prefect_acl.channel_patterns
                         if glob_patterns_overlap(mine, other)]
        problems += [f"{user.address}: it may run {command.upper()}, which reaches keys whatever the key "
                     "patterns say" for command in KEYLESS_REACH if allowed(acl.commands, command)]
    return problems


def allowed(rules: tuple[str, ...], command: str) -> bool:
    """Whether the command rules, applied in order as Redis does, leave ``command`` (one of KEYLESS_REACH) allowed."""
    categories = KEYLESS_REACH[command]
    state = False
    for token in rules:
        if token in ("allcommands", "+@all"):
            state = True
        elif token in ("nocommands", "-@all"):
            state = False
        elif token[:1] in "+-" and (token[1:] == command or token[1:].startswith(f"{command}|")
                                    or (token[1:2] == "@" and token[2:] in categories)):
            state = token[0] == "+"
    return state
