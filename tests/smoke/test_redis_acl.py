"""Redis RBAC on the real Redis 7 of the smoke (docs/security-redis.md): the users of haflow.config.redis_acl,
set with ACL SETUSER from the access strings the ElastiCache users are built from.

- model-api, with the credential the platform renders for it (ExternalSecret model-api-redis, filled as External
  Secrets would), is refused Prefect's keys, streams, channels and every key-less command: real NOPERM errors;
  on its own prefix it works (so the refusals are the ACL, not a broken login);
- the default user is off: an unauthenticated client can run nothing, and nobody can sign in as it;
- Prefect ran every scenario of test_prefect_tier.py as ``prefect`` and Redis never refused it (ACL LOG, read
  before each restart of the server).
"""

from __future__ import annotations

import pytest

from haflow.config.redis_acl import MODEL_API_KEY_PREFIX, PREFECT
from haflow.constructs.model_api import NAMESPACE as MODEL_API_NAMESPACE
from haflow.constructs.model_api import REDIS_SECRET, REDIS_URL_KEY
from tests.smoke import podenv
from tests.smoke.conftest import Running, Session
from tests.smoke.servers import REDIS_ADMIN

# What model-api's credential must not do: each names one of Prefect's keys or channels, or reaches every key.
PREFECT_REACH = {
    "forge an event on Prefect's events stream": ("XADD", "events", "*", "event", "forged"),
    "queue a pickled task on the background services' docket": ("XADD", "prefect:stream", "*", "function", "x"),
    "queue a pickled task on the API's docket": ("XADD", "prefect-server:stream", "*", "function", "x"),
    "claim the docket's messages": ("XREADGROUP", "GROUP", "docket-workers", "forged", "COUNT", "1", "STREAMS",
                                    "prefect:stream", ">"),
    "read a perpetual task's state": ("HGETALL", "prefect:runs:monitor_late_runs"),
    "read the concurrency leases": ("ZRANGE", "prefect:concurrency:expirations", "0", "-1"),
    "poison the message deduplication": ("SET", "message:events:forged", "1"),
    "drop the triggers' wait list": ("DEL", "triggers:waitlist"),
    "write a Prefect key from a script": ("EVAL", "return redis.call('set', KEYS[1], 'x')", "1",
                                          "prefect:runs:forged"),
    "cancel a docket task": ("PUBLISH", "prefect:cancel:monitor_late_runs", "1"),
    "wipe every key": ("FLUSHALL",),
    "list every key": ("KEYS", "*"),
    "scan every key name": ("SCAN", "0"),
}
# The key the harness asks for as prefect, to show that user refused model-api's keys.
PREFECT_PROBE_KEY = f"{MODEL_API_KEY_PREFIX}probe-as-prefect"


@pytest.fixture(scope="module")
def model_api_url(session: Session, rendered: podenv.Rendered) -> str:
    """model-api's REDIS_URL as the platform renders it, filled with the fixtures' secrets (as External Secrets
    would) and pointed at the local Redis."""
    local = session.local("http://127.0.0.1:1/api", session.root / "pods")
    rewriter = podenv.Rewriter(rendered, local, "model-api", "model-api", MODEL_API_NAMESPACE)
    return rewriter.secret("REDIS_URL", REDIS_SECRET, REDIS_URL_KEY)


@pytest.mark.parametrize("what", list(PREFECT_REACH))
def test_model_apis_credential_is_refused_prefects_keys(session: Session, model_api_url: str, what: str) -> None:
    answer = session.redis.cli(*PREFECT_REACH[what], url=model_api_url)
    assert answer.stdout.startswith("NOPERM"), f"model-api could {what}: {answer.stdout}{answer.stderr}"


def test_model_apis_credential_works_on_its_own_prefix(session: Session, model_api_url: str) -> None:
    key = f"{MODEL_API_KEY_PREFIX}smoke-probe"
    assert session.redis.cli("SET", key, "cached", "EX", "60", url=model_api_url).stdout.strip() == "OK"
    assert session.redis.cli("GET", key, url=model_api_url).stdout.strip() == "cached"
    assert session.redis.cli("DEL", key, url=model_api_url).stdout.strip() == "1"


def test_prefects_user_is_refused_model_apis_keys(session: Session) -> None:
    answer = session.redis.cli("GET", PREFECT_PROBE_KEY, user=PREFECT.user_name,
                               password=session.redis.passwords[PREFECT.user_name])
    assert answer.stdout.startswith("NOPERM"), answer.stdout + answer.stderr


def test_the_default_user_is_off(session: Session) -> None:
    unauthenticated = session.redis.cli("GET", "events")
    assert unauthenticated.stdout.startswith("NOAUTH"), unauthenticated.stdout + unauthenticated.stderr
    as_default = session.redis.cli("AUTH", "default", "anything")
    assert "WRONGPASS" in as_default.stdout, as_default.stdout + as_default.stderr
    flags = session.redis.admin("ACL", "GETUSER", "default").splitlines()
    assert "off" in flags and "on" not in flags, flags


def test_prefect_ran_every_scenario_without_a_refusal(session: Session, running: Running) -> None:
    """After the scenarios (this module runs after test_prefect_tier.py): Prefect, signed in as ``prefect``,
    was never refused a key, channel or command, in any life of the server."""
    entries = session.redis.refusals + session.redis.acl_log()
    # the harness's own probe as prefect (test_prefects_user_is_refused_model_apis_keys) is no refusal of Prefect
    theirs = [entry for entry in entries
              if entry.get("username") == PREFECT.user_name and entry.get("object") != PREFECT_PROBE_KEY]
    assert theirs == [], f"Redis refused Prefect: {theirs[:5]}"
    clients = session.redis.admin("CLIENT", "LIST").splitlines()
    users = {field.removeprefix("user=") for line in clients for field in line.split() if field.startswith("user=")}
    assert PREFECT.user_name in users, f"no connection of the running tier signs in as prefect: {clients}"
    assert users <= {PREFECT.user_name, REDIS_ADMIN}, f"someone else is connected: {users}"
