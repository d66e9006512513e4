"""Who may do what on the environment's Redis: one ACL user per consumer, as data.

The same definitions build the ElastiCache RBAC users (``haflow.constructs.cache``), are read back from the plan
by the HA-SEC-04x rules (``haflow.rules.redis_acl``), and are loaded into the smoke's real Redis 7 with
``ACL SETUSER`` (``tests/smoke``), where Prefect runs every scenario as ``prefect`` and ``model-api`` is refused
Prefect's keys. Why: pydocket ``cloudpickle.loads`` the arguments of every stream message it claims, in pods that
hold the Aurora credentials, so whoever can write Prefect's keys runs code there; model-api is internet-facing.
The story: docs/security-redis.md.

Access strings use only what ElastiCache RBAC accepts (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/
Clusters.RBAC.html): ``on``/``off``, ``~`` key patterns, ``&`` channel patterns, ``+``/``-`` commands and
``@`` categories; no password (ElastiCache sets it from the API), no ``reset``, no ``nopass``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Prefect 3.8.3 with prefect-redis 0.2.14 and pydocket 0.23.1, standalone Redis (no hash tags), the keys each
# part writes (module: where the name is built):
PREFECT_KEY_PATTERNS = (
    # prefect_redis.messaging: a topic's stream is the topic's name (_stream_key); Prefect's topics are
    # events, actions and logs (prefect.server.events/logs.messaging) and the worker-channel snapshots
    # (prefect.server.utilities.worker_channel.WORKER_CHANNEL_SNAPSHOT_TOPIC)
    "events",
    "actions",
    "logs",
    "work-pool-worker-channel-snapshots",
    # prefect_redis.messaging: deduplication and the message cache (message:<topic>:<id>), dead letters
    "message:*",
    "dlq",
    "dlq:*",
    # prefect_redis.ordering: the triggers' causal ordering (scope "triggers": triggers:<kind>:<id>)
    "triggers:*",
    # prefect_redis.lease_storage (prefect:concurrency:...), prefect_redis.cleanup_queue (prefect:worker-cleanup:...)
    "prefect:*",
    # pydocket: every key of a docket is <docket name>:...; the API's docket is PREFECT_SERVER_DOCKET_NAME (default
    # prefect-server), the background services' is prefect (under prefect:* above)
    "prefect-server:*",
)
# Pub/sub: pydocket's channels (<docket>:cancel:<key>, <docket>:state:<key>, <docket>:progress:<key>) and the
# cleanup queue's wake-up channel (prefect:worker-cleanup:wakeup-channel:<pool>). PSUBSCRIBE needs its pattern
# listed literally (https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/): pydocket
# subscribes to <docket>:cancel:*.
PREFECT_CHANNEL_PATTERNS = ("prefect-server:*", "prefect:*", "prefect-server:cancel:*", "prefect:cancel:*")
# Streams, hashes, sets, sorted sets, strings, Lua scripts (EVALSHA/EVAL: lease storage, ordering, pydocket),
# MULTI/EXEC pipelines, pub/sub; never the dangerous ones (FLUSHALL, KEYS, CONFIG, DEBUG, MIGRATE, ...).
PREFECT_COMMANDS = (
    "-@all", "+@connection", "+@keyspace", "+@read", "+@write", "+@string", "+@hash", "+@set", "+@sortedset",
    "+@list", "+@stream", "+@scripting", "+@transaction", "+@pubsub", "-@dangerous",
)

# model-api's response cache: its own prefix, strings/hashes and key expiry, no streams, no scripts, no pub/sub,
# nothing that lists other consumers' key names (SCAN and RANDOMKEY ignore key patterns).
MODEL_API_KEY_PREFIX = "model-api:"
MODEL_API_KEY_PATTERNS = (f"{MODEL_API_KEY_PREFIX}*",)
MODEL_API_COMMANDS = (
    "-@all", "+@connection", "+@string", "+@hash", "+@keyspace", "-@dangerous", "-scan", "-randomkey",
)


@dataclass(frozen=True)
class RedisUser:
    """One ACL user: the consumer it serves, its user name, whether it can sign in, and its permissions."""

    consumer: str
    user_name: str
    enabled: bool
    key_patterns: tuple[str, ...] = ()
    channel_patterns: tuple[str, ...] = ()
    commands: tuple[str, ...] = ("-@all",)

    def access_string(self) -> str:
        """The rules in Redis's ACL SETUSER syntax, as ElastiCache takes them."""
        parts = ["on" if self.enabled else "off"]
        parts += [f"~{pattern}" for pattern in self.key_patterns]
        parts += [f"&{pattern}" for pattern in self.channel_patterns]
        parts += list(self.commands)
        return " ".join(parts)


# ElastiCache requires a user named "default" in every user group; it stays off with no rights, so a
# connection that does not authenticate as a named user can run nothing.
DEFAULT = RedisUser(consumer="default", user_name="default", enabled=False)
PREFECT = RedisUser(
    consumer="prefect", user_name="prefect", enabled=True, key_patterns=PREFECT_KEY_PATTERNS,
    channel_patterns=PREFECT_CHANNEL_PATTERNS, commands=PREFECT_COMMANDS,
)
MODEL_API = RedisUser(
    consumer="model-api", user_name="model-api", enabled=True, key_patterns=MODEL_API_KEY_PATTERNS,
    commands=MODEL_API_COMMANDS,
)
# Every user of the group, the default one first; the consumers are the ones with a credential.
USERS = (DEFAULT, PREFECT, MODEL_API)
CONSUMERS = tuple(user for user in USERS if user.enabled)


def parse_access_string(access_string: str) -> RedisUser:
    """An access string read back from a plan: the parts the rules judge (the consumer is unknown here)."""
    enabled = False
    keys: list[str] = []
    channels: list[str] = []
    commands: list[str] = []
    for token in access_string.split():
        if token in ("on", "off"):
            enabled = token == "on"
        elif token.startswith("~"):
            keys.append(token[1:])
        elif token == "allkeys":
            keys.append("*")
        elif token.startswith("&"):
            channels.append(token[1:])
        elif token == "allchannels":
            channels.append("*")
        else:
            commands.append(token)
    return RedisUser(consumer="", user_name="", enabled=enabled, key_patterns=tuple(keys),
                     channel_patterns=tuple(channels), commands=tuple(commands))


def glob_patterns_overlap(first: str, second: str) -> bool:
    """Whether some key matches both Redis glob patterns (``*``, ``?``, ``\\x``, ``[...]``).

    Exact for ``*``, ``?`` and literals; a character class is taken as matching any one character, which can
    only report an overlap that is not there (never miss one), the safe side for a rule.
    """
    a, b = _tokens(first), _tokens(second)
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == "*":
            stack += [(i + 1, j)] + ([(i, j + 1)] if j < len(b) else [])
            continue
        if j < len(b) and b[j] == "*":
            stack += [(i, j + 1)] + ([(i + 1, j)] if i < len(a) else [])
            continue
        if i < len(a) and j < len(b) and _one_char_overlap(a[i], b[j]):
            stack.append((i + 1, j + 1))
    return False


def _tokens(pattern: str) -> list[str]:
    """``*``, ``?`` (any one), ``[`` (a class: any one, see above), or a literal character."""
    tokens: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            tokens.append("=" + pattern[index + 1])
            index += 2
            continue
        if char == "[":
            end = pattern.find("]", index + 2)
            tokens.append("?")
            index = len(pattern) if end < 0 else end + 1
            continue
        tokens.append(char if char in "*?" else "=" + char)
        index += 1
    # collapse runs of * (same language, fewer states)
    collapsed: list[str] = []
    for token in tokens:
        if not (token == "*" and collapsed and collapsed[-1] == "*"):
            collapsed.append(token)
    return collapsed


def _one_char_overlap(x: str, y: str) -> bool:
    return x == "?" or y == "?" or x == y
