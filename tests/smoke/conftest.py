"""Fixtures of the Prefect runtime smoke: real PostgreSQL and Redis (TLS), Prefect 3.8.3 run as prod renders it.

Everything here is marked ``smoke`` (``make smoke`` runs only these; ``pytest -m "not smoke"`` leaves them
out locally). One tier per session; every process it starts is ended at the end of the session, and any
process still carrying the session's marker then is killed, even after a failed test.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from haflow import contract
from haflow.config import Environment
from haflow.config.redis_acl import CONSUMERS
from haflow.constructs import prefect_database
from haflow.constructs.database import master_secret_name
from haflow.constructs.prefect import SERVER_RELEASE, WORKER_RELEASE
from haflow.constructs.prefect_credentials import api_auth_secret_name, database_secret_name
from haflow.plan import StackJson
from haflow.render import RenderResult, render_environment
from tests.smoke import podenv, tls
from tests.smoke.client import Api
from tests.smoke.helm_order import InstallOrder, install_order
from tests.smoke.processes import reap
from tests.smoke.proxy import Proxy
from tests.smoke.servers import INSTALL_HINT, MASTER_USER, Postgres, Redis, missing_binaries
from tests.smoke.stack import FLOWS_DIR, PrefectTier, environment_table

SMOKE_DIR = Path(__file__).resolve().parent
REPO_ROOT = SMOKE_DIR.parent.parent
ENVIRONMENT = "prod"
PREFECT_VENV = Path(os.environ.get("HAFLOW_PREFECT_VENV", REPO_ROOT / ".venv-prefect"))
WORK_POOL = "kubernetes"  # the rendered worker's --pool
READY_TIMEOUT = 90.0
STARTUP_API_REPLICAS = 2
# Which fixture secret each ExternalSecret's remoteRef stands for (by what its ARN expression names)
# (RDS-managed without DR; with DR, the secret haflow creates for the global database's primary, and its replica
# in the secondary region, which the DR platform names rather than references)
DATABASE_SECRET_MARKERS = ("master_user_secret", "database_master-secret", master_secret_name(ENVIRONMENT))
# Each Redis consumer's password secret (haflow.constructs.cache: construct id <consumer>-password-secret)
CACHE_SECRET_MARKERS = {user.user_name: f"{user.consumer}-password-secret" for user in CONSUMERS}
# Prefect's own credentials (haflow.constructs.prefect_credentials), referenced by the primary, named by the DR platform
PREFECT_DATABASE_SECRET_MARKERS = ("prefect-credentials_database-secret", database_secret_name(ENVIRONMENT))
API_AUTH_SECRET_MARKERS = ("prefect-credentials_api-auth-secret", api_auth_secret_name(ENVIRONMENT))
# The releases of the Prefect tier, in the platform stack's order (depends_on): the database roles, the server, the
# worker
TIER_RELEASES = (prefect_database.RELEASE_NAME, SERVER_RELEASE, WORKER_RELEASE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SMOKE_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.smoke)


@dataclass
class Measurements:
    rows: list[tuple[str, float, str]] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    def record(self, what: str, seconds: float, detail: str = "") -> None:
        self.rows.append((what, seconds, detail))
        print(f"{what}: {seconds:.1f} s {detail}")


MEASUREMENTS = Measurements()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not MEASUREMENTS.rows and not MEASUREMENTS.tables:
        return
    terminalreporter.section("Prefect smoke")
    for table in MEASUREMENTS.tables:
        terminalreporter.write_line(table)
    for what, seconds, detail in MEASUREMENTS.rows:
        terminalreporter.write_line(f"{what:<58} {seconds:7.1f} s  {detail}")


@pytest.fixture(scope="session")
def measurements() -> Measurements:
    return MEASUREMENTS


def require_dependencies() -> None:
    problems = [f"missing {binary}" for binary in missing_binaries()]
    if not (PREFECT_VENV / "bin" / "prefect").exists():
        problems.append(f"missing {PREFECT_VENV}/bin/prefect (Prefect 3.8.3)")
    if problems:
        pytest.fail(f"the Prefect smoke cannot run: {'; '.join(problems)}. Fix: {INSTALL_HINT}; `make smoke-deps` "
                    "also builds .venv-prefect. To leave the smoke out locally: pytest -m 'not smoke'", pytrace=False)


@dataclass
class Session:
    """What every scenario shares: the run id, directories, CAs and servers."""

    run_id: str
    root: Path
    database_ca: Path
    trust_store: Path
    process_job_template: Path
    postgres: Postgres
    redis: Redis
    # Secrets Manager's values of Prefect's database secret (the login role it names now) and API password
    prefect_role: str = contract.PREFECT_DATABASE_ROLES[0]
    prefect_password: str = field(default_factory=lambda: secrets.token_urlsafe(24).replace("-", "x").replace("_", "y"))
    api_password: str = field(default_factory=lambda: secrets.token_urlsafe(24).replace("-", "x").replace("_", "y"))

    @property
    def api_auth(self) -> tuple[str, str]:
        """What a client of the API sends (basic auth user and password)."""
        return contract.PREFECT_API_USER, self.api_password

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def secrets(self) -> dict[str, dict[str, str]]:
        """Secrets Manager as the fixtures fill it (the RDS master secret, Prefect's database role and API password,
        each Redis user's password)."""
        master = {"username": MASTER_USER, "password": self.postgres.master_password}
        role = {"username": self.prefect_role, "password": self.prefect_password}
        api = {"password": self.api_password}
        return {
            **dict.fromkeys(DATABASE_SECRET_MARKERS, master),
            **dict.fromkeys(PREFECT_DATABASE_SECRET_MARKERS, role),
            **dict.fromkeys(API_AUTH_SECRET_MARKERS, api),
            **{marker: {"password": self.redis.passwords[user]} for user, marker in CACHE_SECRET_MARKERS.items()},
        }

    def local(self, api_url: str, pod_root: Path, **overrides: object) -> podenv.LocalServices:
        values: dict[str, object] = {
            "postgres_port": self.postgres.port, "redis_port": self.redis.port, "api_url": api_url,
            "secrets": self.secrets(), "database_ca": self.database_ca, "trust_store": self.trust_store,
            "venv_bin": PREFECT_VENV / "bin", "pod_root": pod_root, "process_job_template": self.process_job_template,
        }
        values.update(overrides)
        return podenv.LocalServices(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def session() -> Iterator[Session]:
    require_dependencies()
    run_id = uuid.uuid4().hex
    root = Path(tempfile.mkdtemp(prefix="haflow-smoke-"))
    servers: list[Postgres | Redis] = []
    try:
        (root / "ca").mkdir()
        database_ca = tls.authority("haflow smoke RDS CA (stands in for rds-ca-rsa2048-g1)")
        public_root = tls.authority("haflow smoke public root (stands in for Amazon's public roots)")
        (root / "ca" / "rds-ca.pem").write_bytes(database_ca.pem)
        (root / "ca" / "system-trust-store.pem").write_bytes(public_root.pem)
        template = root / "process-base-job-template.json"
        template.write_text(subprocess.run(
            [str(PREFECT_VENV / "bin" / "prefect"), "work-pool", "get-default-base-job-template", "--type", "process"],
            capture_output=True, text=True, check=True, timeout=60,
            env={"PATH": "/usr/bin:/bin", "HOME": str(root), "PREFECT_HOME": str(root / ".prefect")},
        ).stdout)
        postgres = Postgres(run_id, tls.server_certificate(database_ca, "postgres", root / "pg-cert"), root / "logs")
        servers.append(postgres)
        postgres.init()
        postgres.start()
        postgres.bootstrap()
        redis = Redis(run_id, tls.server_certificate(public_root, "redis", root / "redis-cert"),
                      root / "ca" / "system-trust-store.pem", root / "logs")
        servers.append(redis)
        redis.start()
        yield Session(run_id, root, root / "ca" / "rds-ca.pem", root / "ca" / "system-trust-store.pem", template,
                      postgres, redis)
    finally:
        for server in reversed(servers):
            server.stop()
        reap(run_id)
        if os.environ.get("HAFLOW_SMOKE_KEEP_LOGS"):
            print(f"smoke logs kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def prod(environments: dict[str, Environment]) -> Environment:
    return environments[ENVIRONMENT]


@pytest.fixture(scope="session")
def prod_stacks(synth_variant: Callable[[str, dict[str, Any]], dict[str, StackJson]]) -> dict[str, StackJson]:
    """prod synthesized alone (``make smoke`` needs no other environment)."""
    return synth_variant(ENVIRONMENT, {})


@pytest.fixture(scope="session")
def render_result(prod_stacks: dict[str, StackJson], prod: Environment) -> RenderResult:
    return render_environment(prod_stacks, prod)


@pytest.fixture(scope="session")
def rendered(render_result: RenderResult) -> podenv.Rendered:
    """The prod environment's rendered objects, as the render gate (haflow.render) produces them."""
    return podenv.render_result_objects(render_result)


@pytest.fixture(scope="session")
def install_orders(render_result: RenderResult) -> dict[str, InstallOrder]:
    """How Helm installs each Prefect release: from the rendered objects and the helm_release settings."""
    return {release: install_order(render_result, release) for release in TIER_RELEASES}


def schema_tables(session: Session) -> list[str]:
    listed = session.postgres.psql("select tablename from pg_tables where schemaname = 'public' order by 1")
    return [line for line in listed.stdout.split() if line]


@dataclass
class Running:
    tier: PrefectTier
    api: Api
    started: float


@pytest.fixture(scope="session")
def running(
    session: Session, rendered: podenv.Rendered, install_orders: dict[str, InstallOrder], measurements: Measurements
) -> Iterator[Running]:
    """prod's Prefect tier, scaled down, installed in Helm's order on an EMPTY database: prefect-database-bootstrap
    (its hook Job creates Prefect's database roles as the master), prefect-server (its hooks, its objects, the wait
    within the release's timeout, its post-install hooks), then prefect-worker (depends_on the server). Started once; scenarios break it and leave it working."""
    tables = schema_tables(session)
    assert tables == [], f"the install must start on an empty database; it holds {tables}"
    api_probe = podenv.container_of(rendered.find(*podenv.ROLE_OBJECTS[podenv.API]))["readinessProbe"]
    proxy = Proxy(api_probe["httpGet"]["path"], int(api_probe.get("failureThreshold", 3)))
    proxy.start()
    tier = PrefectTier(rendered, session.local(proxy.url, session.root / "pods"), proxy, session.run_id,
                       session.logs, api_replicas=STARTUP_API_REPLICAS, api_auth=session.api_auth)
    try:
        tier.plan()
        measurements.tables.append("rewrite table (rendered -> local):\n" + environment_table(tier.pods))
        measurements.tables.append("Helm's install order (from the rendered objects and the helm_release):\n"
                                   + "\n".join(line for order in install_orders.values() for line in order.steps()))
        started = time.monotonic()
        for release, order in install_orders.items():
            for step, seconds in tier.install(order).items():
                measurements.record(f"install {release}: {step}", seconds)
        measurements.record("1. prefect-server + prefect-worker installed in Helm's order on an empty database",
                            time.monotonic() - started,
                            f"init containers: {[(i, code, round(s, 1)) for i, code, s in tier.init_runs]}; "
                            f"restarts: {[(r.instance, r.exit_code) for r in tier.restarts_of()]}")
        yield Running(tier, tier.api(), started)
    finally:
        tier.stop_all()
        proxy.stop()


@pytest.fixture(scope="session")
def migrated(running: Running) -> float:
    """The schema at head: the install in Helm's order migrated it (the pods' init containers)."""
    return running.started


def create_deployment(api: Api, name: str, work_pool: str, **extra: object) -> str:
    flow = api.post("/flows/", {"name": "smoke-sleep"})
    deployment = api.post("/deployments/", {
        "name": name, "flow_id": flow["id"], "work_pool_name": work_pool, "entrypoint": "smoke_flows.py:sleep",
        "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": str(FLOWS_DIR)}}],
        **extra,
    })
    deployment_id: str = deployment["id"]
    return deployment_id
