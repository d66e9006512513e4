"""DR Prefect on a real PostgreSQL hot standby, then promoted (docs/prefect-install-order.md, "DR").

prod's secondary region runs on an Aurora global-database secondary, read-only until the region failover
detaches and promotes it. PostgreSQL's hot standby is the stand-in: pg_basebackup of the smoke's primary (after
the tier installed on it and wrote a flow), streaming, ``pg_is_in_recovery()`` true.

Shown, in order: the DR platform as synthesized (``dr.serving`` false) installs no Prefect release, so nothing
touches the read-only database and Helm has nothing to wait for, while what the tier needs (the synced Secret,
the RDS CA bundle) is in place; the tier as it would run if installed before promotion never becomes ready on
the standby (negative control); after ``pg_promote()``, the DR platform with ``dr.serving: true`` (the failover
runbook's change) installs in Helm's order and serves the data written in the primary region.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from haflow.config import Environment
from haflow.constructs import prefect_database
from haflow.constructs.prefect import DATABASE_SECRET, SERVER_NAMESPACE, SERVER_RELEASE, WORKER_RELEASE
from haflow.merge import deep_merge
from haflow.plan import StackJson
from haflow.render import RenderResult, render_environment
from tests.smoke import podenv
from tests.smoke.conftest import STARTUP_API_REPLICAS, TIER_RELEASES, Measurements, Running, Session
from tests.smoke.helm_order import install_order
from tests.smoke.proxy import Proxy
from tests.smoke.servers import Postgres
from tests.smoke.stack import InstallFailed, PrefectTier

# Long enough for the init containers (which succeed on the standby: the schema is at head and alembic writes
# nothing) and the API's first start on a loaded machine, to reach its first write
NEGATIVE_CONTROL_SECONDS = 150.0
PRIMARY_FLOW = "written-in-the-primary-region"
READ_ONLY_ERRORS = ("read-only transaction", "recovery is in progress")


@pytest.fixture(scope="module")
def standby(session: Session, running: Running) -> Iterator[Postgres]:
    """A hot standby of the primary, taken after the primary tier installed and the scenarios ran."""
    running.api.post("/flows/", {"name": PRIMARY_FLOW})
    log_dir = session.logs / "standby"
    log_dir.mkdir(parents=True, exist_ok=True)
    server = Postgres(session.run_id, session.postgres.certificate, log_dir)
    try:
        server.standby_of(session.postgres)
        server.start()
        assert server.in_recovery()
        yield server
    finally:
        server.stop()


def serving(prod: Environment) -> Environment:
    return Environment.model_validate(deep_merge(prod.model_dump(), {"dr": {"serving": True}}))


@pytest.fixture(scope="module")
def standby_render(prod_stacks: dict[str, StackJson], prod: Environment) -> RenderResult:
    """prod-dr-platform as synthesized: dr.serving false."""
    assert prod.dr.serving is False
    return render_environment(prod_stacks, prod, secondary=True)


@pytest.fixture(scope="module")
def serving_render(synth_variant: Callable[[str, dict[str, Any]], dict[str, StackJson]],
                   prod: Environment) -> RenderResult:
    """prod-dr-platform after the failover runbook sets dr.serving: true."""
    return render_environment(synth_variant("prod", {"dr": {"serving": True}}), serving(prod), secondary=True)


def dr_tier(session: Session, rendered: podenv.Rendered, standby: Postgres, name: str) -> tuple[PrefectTier, Proxy]:
    proxy = Proxy("/api/ready", 3)
    proxy.start()
    tier = PrefectTier(rendered, session.local(proxy.url, session.root / f"pods-{name}", postgres_port=standby.port),
                       proxy, session.run_id, session.logs / name, api_replicas=STARTUP_API_REPLICAS,
                       api_auth=session.api_auth)
    tier.log_dir.mkdir(parents=True, exist_ok=True)
    tier.plan()
    return tier, proxy


def test_dr_standby_installs_no_prefect_release_and_keeps_what_the_tier_needs(
    standby_render: RenderResult, standby: Postgres
) -> None:
    assert standby.in_recovery()
    releases = {item.release for item in standby_render.objects}
    assert not {SERVER_RELEASE, WORKER_RELEASE, prefect_database.RELEASE_NAME} & releases, releases
    assert "prefect_flow_run_role_arn" in standby_render.platform.get("output", {})
    rendered = podenv.render_result_objects(standby_render)
    assert rendered.external_secret(DATABASE_SECRET, SERVER_NAMESPACE)
    assert any(item.kind == "ConfigMap" and item.namespace == SERVER_NAMESPACE for item in standby_render.objects)


def test_negative_control_the_tier_before_promotion_never_becomes_ready_on_the_standby(
    session: Session, serving_render: RenderResult, standby: Postgres, measurements: Measurements
) -> None:
    tier, proxy = dr_tier(session, podenv.render_result_objects(serving_render), standby, "dr-before-promotion")
    started = time.monotonic()
    try:
        with pytest.raises(InstallFailed) as failure:
            tier.install(install_order(serving_render, SERVER_RELEASE), timeout=NEGATIVE_CONTROL_SECONDS)
    finally:
        tier.stop_all()
        proxy.stop()
    logs = "\n".join(path.read_text(errors="replace") for path in tier.log_dir.glob("*.log"))
    cause = next((error for error in READ_ONLY_ERRORS if error in logs), "")
    assert cause, f"no read-only error in the DR tier's logs:\n{logs[-3000:]}"
    assert standby.in_recovery()
    measurements.record("DR negative control: the tier on the un-promoted standby", time.monotonic() - started,
                        f"{str(failure.value).splitlines()[0][:160]}; cause: {cause!r}")


def test_after_promotion_the_dr_tier_installs_in_helm_order_and_serves_the_primary_data(
    session: Session, serving_render: RenderResult, standby: Postgres, measurements: Measurements
) -> None:
    started = time.monotonic()
    standby.promote()
    promoted = time.monotonic() - started
    tier, proxy = dr_tier(session, podenv.render_result_objects(serving_render), standby, "dr-promoted")
    try:
        for release in TIER_RELEASES:  # the bootstrap finds the replicated roles and sets the same password
            tier.install(install_order(serving_render, release))
        flows = {flow["name"] for flow in tier.api().post("/flows/filter", {})}
        assert PRIMARY_FLOW in flows, flows
        measurements.record("DR: pg_promote, then the DR tier installed in Helm's order", time.monotonic() - started,
                            f"promotion {promoted:.1f} s; init containers "
                            f"{[(i, code, round(s, 1)) for i, code, s in tier.init_runs]}; primary's flows served")
    finally:
        tier.stop_all()
        proxy.stop()
