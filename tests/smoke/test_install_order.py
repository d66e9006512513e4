"""The Prefect tier installed in Helm's order on an empty database (docs/prefect-install-order.md).

The order comes from the rendered objects and the helm_release settings (tests/smoke/helm_order.py), never
from the harness: prefect-server's migration Job is a post-install hook, so it runs after the wait. Shown:
the chart as haflow set it before (no init container) never becomes ready on an empty database (a negative
control, bounded at NEGATIVE_CONTROL_SECONDS instead of the release's 900 s: nothing in the release can
migrate before the wait ends, so waiting longer only adds restarts), and the platform as synthesized now
installs and serves.
"""

from __future__ import annotations

import copy
import time

from haflow.constructs import prefect_database
from haflow.constructs.prefect import SERVER_RELEASE, WORKER_RELEASE
from haflow.constructs.prefect_migrations import INIT_CONTAINER_NAME
from tests.smoke import podenv
from tests.smoke.client import ready
from tests.smoke.conftest import STARTUP_API_REPLICAS, Measurements, Running, Session, schema_tables
from tests.smoke.helm_order import POST_INSTALL, InstallOrder
from tests.smoke.proxy import Proxy
from tests.smoke.stack import InstallFailed, PrefectTier

NEGATIVE_CONTROL_SECONDS = 60.0
# Prefect 3.8.3's start-up write on an empty schema (block registration reads/upserts block_type)
EMPTY_SCHEMA_ERROR = 'relation "block_type" does not exist'


def test_helm_runs_the_chart_migration_job_only_after_the_wait(install_orders: dict[str, InstallOrder]) -> None:
    server = install_orders[SERVER_RELEASE]
    assert server.settings.wait and server.settings.atomic and server.settings.timeout_seconds == 900
    assert server.pre_install == ()
    assert [(hook.kind, hook.name) for hook in server.post_install] == [("Job", "prefect-server-db-migrations")]
    assert POST_INSTALL in server.post_install[0].events
    assert {(m["kind"], m["metadata"]["name"]) for m in server.awaited} == {
        ("Deployment", "prefect-server"), ("Deployment", "prefect-server-background-services")}
    assert [m["metadata"]["name"] for m in install_orders[WORKER_RELEASE].awaited] == ["prefect-worker"]


def without_init_containers(rendered: podenv.Rendered) -> podenv.Rendered:
    """The release as haflow rendered it before the fix: no migration init container on any pod."""
    objects = copy.deepcopy(rendered.objects)
    for manifest in objects:
        if manifest.get("kind") in ("Deployment", "StatefulSet"):
            podenv.pod_spec(manifest).pop("initContainers", None)
    return podenv.Rendered(objects, rendered.placeholders)


def test_negative_control_without_the_init_container_the_first_install_times_out(
    session: Session, rendered: podenv.Rendered, install_orders: dict[str, InstallOrder], measurements: Measurements
) -> None:
    assert schema_tables(session) == [], "the negative control must start on an empty database"
    old = without_init_containers(rendered)
    proxy = Proxy("/api/ready", 3)
    proxy.start()
    tier = PrefectTier(old, session.local(proxy.url, session.root / "pods-old"), proxy, session.run_id,
                       session.logs / "old", api_replicas=STARTUP_API_REPLICAS)
    tier.log_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        tier.plan()
        assert all(not processes for processes in tier.init.values())
        # Prefect's database roles, as the platform creates them before prefect-server (no table: the schema
        # stays empty)
        tier.install(install_orders[prefect_database.RELEASE_NAME])
        try:
            tier.install(install_orders[SERVER_RELEASE], timeout=NEGATIVE_CONTROL_SECONDS)
        except InstallFailed as error:
            failure = error
        else:
            raise AssertionError("the release without the init container became ready on an empty database")
    finally:
        tier.stop_all()
        proxy.stop()
    seconds = time.monotonic() - started
    assert "timed out" in str(failure) and "Deployment/prefect-server" in str(failure), failure
    api_logs = "\n".join((tier.log_dir / f"{name}.log").read_text(errors="replace")
                         for name in tier.api_instances())
    assert EMPTY_SCHEMA_ERROR in api_logs, api_logs[-3000:]
    api_restarts = [instance for instance, _ in failure.restarts if instance.startswith("api-")]
    assert api_restarts, "the API processes should have exited and been restarted (CrashLoopBackOff)"
    assert schema_tables(session) == [], "nothing may migrate before the post-install hook"
    measurements.record("install order, negative control: no init container, empty database", seconds,
                        f"never ready within {NEGATIVE_CONTROL_SECONDS:.0f} s (release timeout 900 s); API restarts "
                        f"{len(api_restarts)}; '{EMPTY_SCHEMA_ERROR}'; the migration hook never ran")


def test_the_install_in_helm_order_succeeds_on_an_empty_database(running: Running, session: Session) -> None:
    tier = running.tier
    assert "alembic_version" in schema_tables(session)
    assert all(ready(tier.api_ports[name]) for name in tier.api_instances())
    pods_with_init = [name for name in tier.pods if tier.init.get(name)]
    assert sorted(pods_with_init) == sorted([*tier.api_instances(), *tier.background_instances()])
    assert all(init.role.endswith(f"(init {INIT_CONTAINER_NAME})") for name in pods_with_init
               for init in tier.init[name])
    assert sorted(instance for instance, code, _ in tier.init_runs if code == 0) == sorted(pods_with_init)
    logs = "\n".join((tier.log_dir / f"{name}-init.log").read_text() for name in pods_with_init)
    assert logs.count("migration lock held") == len(pods_with_init)
