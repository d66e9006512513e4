"""Who may use Prefect, asked of the real programs (docs/security-prefect.md).

The tier runs with the rendered settings: the API's PREFECT_SERVER_API_AUTH_STRING, the worker's
PREFECT_API_AUTH_STRING (each from the ExternalSecret's template filled with the fixtures' password), and the
database URL built from Prefect's own role, which the rendered bootstrap Job created as the master user.

- Prefect 3.8.3's server refuses a caller without the password, or with a wrong one (401), the settings endpoint
  included; the probes' paths stay open; the worker and a flow run it starts authenticate and complete, and a
  worker given a wrong password is refused.
- PostgreSQL 15 sees Prefect sign in as ``prefect``, never as the master user; the objects belong to the owner
  role; and the login role is refused what it must not do (create a role or a database, become the master, read
  another database).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from haflow import contract
from haflow.config.redis_acl import PREFECT as PREFECT_REDIS
from haflow.constructs.prefect import API_AUTH_SECRET, SERVER_NAMESPACE
from haflow.rules.prefect_access import CLIENT_AUTH_ENV, SERVER_AUTH_ENV
from tests.smoke import podenv
from tests.smoke.client import ready
from tests.smoke.conftest import WORK_POOL, Measurements, Running, Session, create_deployment
from tests.smoke.processes import free_port, wait_for
from tests.smoke.servers import MASTER_USER, POSTGRES_BIN

RUN_TIMEOUT = 90.0
WORKER_REFUSAL_SECONDS = 60.0
OTHER_DATABASE = "someone_elses"


def call(running: Running, method: str, path: str, auth: tuple[str, str] | None) -> requests.Response:
    return requests.request(method, f"{running.tier.proxy.url}{path}", json={} if method == "POST" else None,
                            auth=auth, timeout=10)


def test_the_rendered_pods_take_the_api_password_from_the_synced_secret(rendered: podenv.Rendered) -> None:
    for role, variable in ((podenv.API, SERVER_AUTH_ENV), (podenv.WORKER, CLIENT_AUTH_ENV)):
        container = podenv.container_of(rendered.find(*podenv.ROLE_OBJECTS[role]))
        [entry] = [item for item in container["env"] if item["name"] == variable]
        assert entry["valueFrom"]["secretKeyRef"]["name"] == API_AUTH_SECRET, entry
    assert rendered.external_secret(API_AUTH_SECRET, SERVER_NAMESPACE)


def test_the_api_refuses_callers_without_the_password(running: Running, session: Session,
                                                      measurements: Measurements) -> None:
    user, password = session.api_auth
    refused = {
        "no credentials": None,
        "a wrong password": (user, password + "x"),
        "another user": ("admin", password),
    }
    for path in ("/flows/filter", "/deployments/filter"):
        for what, auth in refused.items():
            answer = call(running, "POST", path, auth)
            assert answer.status_code == 401, f"POST {path} with {what}: {answer.status_code} {answer.text[:200]}"
        assert call(running, "POST", path, session.api_auth).status_code == 200
    for what, auth in refused.items():
        answer = call(running, "GET", "/admin/settings", auth)
        assert answer.status_code == 401, f"GET /admin/settings with {what}: {answer.status_code}"
        assert session.redis.passwords[PREFECT_REDIS.user_name] not in answer.text and password not in answer.text
    # The kubelet's probes carry no credentials: Prefect leaves exactly these two paths open
    for path in ("/health", "/ready"):
        assert call(running, "GET", path, None).status_code == 200, path
    measurements.record("access: unauthenticated, wrong-password and wrong-user calls refused (401)", 0.0,
                        f"{len(refused) * 3} calls; /api/health and /api/ready open")


def test_the_settings_endpoint_shows_no_api_or_database_password_to_an_authenticated_caller(
    running: Running, session: Session,
) -> None:
    """The API's auth string and the database URL are SecretStr settings (masked). The Docket URL is not: Prefect
    3.8.3 types server.docket.url str, so a caller holding the API password reads the Redis password there. That is
    why the endpoint must be closed (the test above), and why flow runs, which hold the API password, are denied
    Redis by the NetworkPolicies (docs/security-prefect.md). Should Prefect mask it, the last assertion fails:
    update docs/security-prefect.md."""
    answer = call(running, "GET", "/admin/settings", session.api_auth)
    assert answer.status_code == 200, answer.text[:300]
    assert session.api_password not in answer.text
    assert session.prefect_password not in answer.text
    assert session.postgres.master_password not in answer.text
    docket_url = answer.json()["server"]["docket"]["url"]
    assert session.redis.passwords[PREFECT_REDIS.user_name] in docket_url, "Prefect now masks server.docket.url: update the docs"


def test_the_worker_and_a_flow_run_authenticate_and_complete(running: Running, measurements: Measurements) -> None:
    """The rendered worker (its auth string from the synced Secret) polls the pool; the process worker hands its
    settings, the auth string included, to the flow run, which reports its states to the API."""
    api = running.api
    started = time.monotonic()
    wait_for(lambda: any(pool["name"] == WORK_POOL for pool in api.post("/work_pools/filter", {})), 120,
             what=f"the authenticated worker creating work pool {WORK_POOL!r}")
    deployment = create_deployment(api, f"access-{uuid.uuid4().hex[:8]}", WORK_POOL)
    run = api.post(f"/deployments/{deployment}/create_flow_run", {"parameters": {"seconds": 0}})
    wait_for(lambda: api.state(run["id"])[0] in ("COMPLETED", "FAILED", "CRASHED"), RUN_TIMEOUT,
             what="the flow run finishing")
    assert api.state(run["id"])[0] == "COMPLETED", running.tier.logs(["worker"])
    measurements.record("access: the authenticated worker ran a flow run to Completed", time.monotonic() - started)


def test_a_worker_with_a_wrong_password_is_refused(running: Running, rendered: podenv.Rendered, session: Session,
                                                   tmp_path: Path) -> None:
    """Negative control: the rendered worker, its Secret holding another password, cannot start."""
    secrets = session.secrets()
    secrets = {marker: ({"password": "not-the-password"} if "api-auth" in marker else document)
               for marker, document in secrets.items()}
    local = session.local(running.tier.proxy.url, tmp_path, secrets=secrets)
    pod = podenv.pod_process(rendered, local, podenv.WORKER, "intruder", extra_env={
        "PREFECT_WORKER_WEBSERVER_PORT": (str(free_port()), "--with-healthcheck serves on 8080: a free loopback port"),
        "PREFECT_WORKER_WEBSERVER_HOST": ("127.0.0.1", "listen on loopback only"),
        **running.tier.marker(),
    })
    pod.write_files()
    try:
        result = subprocess.run(pod.argv, env=pod.env, cwd=pod.cwd, capture_output=True, text=True,
                                timeout=WORKER_REFUSAL_SECONDS, check=False)
        output, code = result.stdout + result.stderr, result.returncode
    except subprocess.TimeoutExpired as still_running:
        output = "".join(part.decode(errors="replace") if isinstance(part, bytes) else (part or "")
                         for part in (still_running.stdout, still_running.stderr))
        code = None
    assert "401" in output, f"exit {code}:\n{output[-2000:]}"
    assert code != 0, output[-2000:]


def psql_as(session: Session, role: str, password: str, database: str, sql: str) -> subprocess.CompletedProcess[str]:
    """``sql`` as ``role`` over TLS on the TCP port, as a pod connects (not the superuser's socket)."""
    return subprocess.run(
        [str(POSTGRES_BIN / "psql"), "-v", "ON_ERROR_STOP=1", "-At", "-c", sql,
         f"host=127.0.0.1 port={session.postgres.port} dbname={database} user={role} sslmode=verify-full "
         f"sslrootcert={session.database_ca}"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": os.environ.get("PATH", ""), "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"},
    )


def test_prefect_signs_in_as_its_own_role_and_its_objects_belong_to_the_owner_role(
    running: Running, session: Session,
) -> None:
    wait_for(lambda: all(ready(running.tier.api_ports[i]) for i in running.tier.api_instances()), 120,
             what="API ready")
    users = session.postgres.psql("select distinct usename from pg_stat_activity where datname = 'prefect' "
                                  "and backend_type = 'client backend' and pid <> pg_backend_pid()").stdout.split()
    assert users and set(users) <= set(contract.PREFECT_DATABASE_ROLES), users
    assert MASTER_USER not in users
    owners = session.postgres.psql("select distinct pg_get_userbyid(relowner) from pg_class c join pg_namespace n "
                                   "on n.oid = c.relnamespace where n.nspname = 'public'").stdout.split()
    assert owners == [contract.PREFECT_DATABASE_OWNER], owners
    database_owner = session.postgres.psql("select pg_get_userbyid(datdba) from pg_database "
                                           "where datname = 'prefect'").stdout.strip()
    assert database_owner == contract.PREFECT_DATABASE_OWNER


@pytest.fixture
def someone_elses_database(session: Session) -> str:
    """A database and table of the master user's that are not Prefect's."""
    postgres = session.postgres
    if not postgres.psql(f"select 1 from pg_database where datname = '{OTHER_DATABASE}'",
                         database="postgres").stdout.strip():
        postgres.psql(f"create database {OTHER_DATABASE} owner {MASTER_USER}", database="postgres")
        postgres.psql(f"set role {MASTER_USER}; create table private_data (id int); insert into private_data values (1)",
                      database=OTHER_DATABASE)
    return OTHER_DATABASE


@pytest.mark.parametrize(("database", "sql", "refusal"), [
    ("prefect", "create role intruder login password 'x'", "permission denied to create role"),
    ("prefect", "create database intruder", "permission denied to create database"),
    ("prefect", f"set role {MASTER_USER}", "permission denied to set role"),
    ("prefect", "alter role current_user createrole", "permission denied"),
    (OTHER_DATABASE, "select * from private_data", "permission denied for table private_data"),
])
def test_prefects_role_is_refused_what_it_must_not_do(
    running: Running, session: Session, someone_elses_database: str, database: str, sql: str, refusal: str,
) -> None:
    allowed = psql_as(session, session.prefect_role, session.prefect_password, "prefect", "select current_user")
    assert allowed.returncode == 0 and allowed.stdout.strip() == contract.PREFECT_DATABASE_OWNER, allowed.stderr
    # The master can do it (a refusal of the role, not a broken statement)
    if database == OTHER_DATABASE:
        control = psql_as(session, MASTER_USER, session.postgres.master_password, database, sql)
        assert control.returncode == 0, control.stderr
    refused = psql_as(session, session.prefect_role, session.prefect_password, database, sql)
    assert refused.returncode != 0 and refusal in refused.stderr, (refused.returncode, refused.stdout, refused.stderr)
