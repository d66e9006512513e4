"""Scenarios 1-6 of the Prefect runtime smoke, in order, on one running tier (see docs/smoke.md).

Each scenario has a time bound, records its measured seconds (printed in the session summary) and
leaves the tier working for the next one.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from haflow import contract
from haflow.config import Environment
from haflow.constructs import prefect_database
from haflow.constructs.prefect import DOCKET_REDELIVERY_SECONDS, GUARD_STOP_SECONDS
from haflow.in_image.docket_guard import BACKSTOP_MESSAGE, MESSAGE_PREFIX
from haflow.plan import StackJson
from haflow.report import estimate
from tests.smoke import podenv
from tests.smoke.client import Api, RequestFailed, ready
from tests.smoke.conftest import READY_TIMEOUT, WORK_POOL, Measurements, Running, Session, create_deployment
from tests.smoke.helm_order import Hook, InstallOrder
from tests.smoke.processes import wait_for
from tests.smoke.stack import MAX_RESTART_BACKOFF, RESTART_BACKOFF, PrefectTier

TERMINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
RUN_TIMEOUT = 90.0
LATE_POOL = "smoke-no-worker"  # a pool no worker polls: its runs can only become Late
# Scenario 5's bound on Docket's recovery (see the test): pydocket 0.23.1's Worker reconnection_delay (Prefect
# 3.8.3 keeps the default), PREFECT_SERVER_SERVICES_LATE_RUNS_LOOP_SECONDS (default), a process start.
RECONNECT_SECONDS = 5.0
LATE_RUNS_LOOP_SECONDS = 5.0
PROCESS_START_SECONDS = 30.0
GUARD_MESSAGE = MESSAGE_PREFIX


def now(offset: float = 0.0) -> str:
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=offset)).isoformat()


def start_run(api: Api, deployment_id: str, seconds: float = 0.0) -> str:
    run = api.post(f"/deployments/{deployment_id}/create_flow_run",
                   {"parameters": {"seconds": seconds}, "idempotency_key": uuid.uuid4().hex})
    run_id: str = run["id"]
    return run_id


def scheduled_run(api: Api, deployment_id: str, at_offset: float) -> str:
    """A run scheduled ``at_offset`` seconds from now, as the scheduler would create it."""
    run = api.post(f"/deployments/{deployment_id}/create_flow_run", {
        "idempotency_key": uuid.uuid4().hex,
        "state": {"type": "SCHEDULED", "name": "Scheduled", "state_details": {"scheduled_time": now(at_offset)}},
    })
    run_id: str = run["id"]
    return run_id


def wait_states(api: Api, run_ids: list[str], timeout: float, done: tuple[str, ...] = TERMINAL) -> dict[str, str]:
    states: dict[str, str] = {}

    def all_done() -> bool:
        for run_id in run_ids:
            states[run_id] = api.state(run_id)[0]
        return all(state in done for state in states.values())

    wait_for(all_done, timeout, interval=0.5, what=f"{len(run_ids)} flow run(s) reaching {done}")
    return states


def events_for(api: Api, run_id: str, event: str) -> list[dict[str, Any]]:
    page = api.post("/events/filter", {
        "filter": {"event": {"name": [event]}, "any_resource": {"id": [f"prefect.flow-run.{run_id}"]},
                   "occurred": {"since": now(-3600)}},
        "limit": 10,
    })
    found: list[dict[str, Any]] = page.get("events", [])
    return found


class Poller:
    """A client hitting the API through the proxy all along a scenario, as the UI and workers do."""

    def __init__(self, api: Api, path: str) -> None:
        self.api = Api(api.url, api.auth)
        self.path = path
        self.requests = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.requests += 1
            try:
                self.api.get(self.path)
            except RequestFailed as error:
                self.failed.append(str(error))

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@pytest.fixture(scope="module")
def deployment(running: Running) -> str:
    """The flow deployment on the worker's pool (the pool the worker creates on start)."""
    tier = running.tier
    wait_for(lambda: all(ready(tier.api_ports[i]) for i in tier.api_instances()), READY_TIMEOUT + 60,
             what="API processes ready before the deployment is created")
    api = running.api
    wait_for(lambda: any(pool["name"] == WORK_POOL for pool in api.post("/work_pools/filter", {})), 60,
             what=f"the worker creating work pool {WORK_POOL!r}")
    return create_deployment(api, "smoke", WORK_POOL)


@pytest.fixture(scope="module")
def late_deployment(running: Running) -> str:
    api = running.api
    if not any(pool["name"] == LATE_POOL for pool in api.post("/work_pools/filter", {})):
        api.post("/work_pools/", {"name": LATE_POOL, "type": "process"})
    return create_deployment(api, "smoke-late", LATE_POOL)


@pytest.fixture(autouse=True)
def scenario_clock(request: pytest.FixtureRequest, measurements: Measurements) -> Iterator[None]:
    start = time.monotonic()
    yield
    measurements.record(f"{request.node.name} (whole test)", time.monotonic() - start)


def test_1_every_api_ready_and_a_deployment_runs_to_completed(
    running: Running, deployment: str, measurements: Measurements
) -> None:
    tier, api = running.tier, running.api
    started = time.monotonic()
    for instance in tier.api_instances():
        assert ready(tier.api_ports[instance]), f"{instance} not ready\n{tier.logs([instance])}"
    tier.wait_in_rotation(tier.api_instances(), 30)
    run_id = start_run(api, deployment)
    state = wait_states(api, [run_id], RUN_TIMEOUT)[run_id]
    assert state == "COMPLETED", f"flow run {run_id} ended {state}\n{tier.logs(['worker'])}"
    measurements.record("1. deployment run through the worker to Completed", time.monotonic() - started)


def test_2_killing_an_api_process_loses_no_run_and_no_request(
    running: Running, deployment: str, measurements: Measurements
) -> None:
    tier, api = running.tier, running.api
    victim = tier.api_instances()[0]
    start = time.monotonic()
    runs = [start_run(api, deployment, seconds=5) for _ in range(3)]
    wait_states(api, runs, 60, done=("RUNNING", *TERMINAL))
    with Poller(api, f"/flow_runs/{runs[0]}") as poller:
        tier.kill(victim)
        states = wait_states(api, runs, RUN_TIMEOUT)
    assert set(states.values()) == {"COMPLETED"}, f"{states}\n{tier.logs(['worker'])}"
    assert not poller.failed, f"requests failed beyond retries: {poller.failed}"
    measurements.record(
        "2. runs completed with one API process killed", time.monotonic() - start,
        f"({poller.requests} polls through the proxy, {len(poller.api.retried)} retried, 0 failed; "
        f"proxy resets {tier.proxy.resets})",
    )
    tier.revive(victim)
    measurements.record(f"2. {victim} replaced and ready again", tier.wait_api_ready([victim], READY_TIMEOUT))
    tier.wait_in_rotation(tier.api_instances(), 30)


def test_3_background_services_outage_schedules_marks_late_and_loses_nothing(
    running: Running, deployment: str, late_deployment: str, measurements: Measurements
) -> None:
    tier, api = running.tier, running.api
    background = tier.background_instances()
    for instance in background:
        tier.kill(instance)
    down = time.monotonic()
    # While the background services are down: runs due now on a pool no worker polls (to become Late),
    # a deployment with a schedule (to be scheduled), and a run through the worker (its events wait in Redis).
    late_runs = [scheduled_run(api, late_deployment, at_offset=-60) for _ in range(2)]
    scheduled = api.post("/flows/", {"name": "smoke-sleep"})
    schedule_deployment = api.post("/deployments/", {
        "name": "smoke-scheduled", "flow_id": scheduled["id"], "work_pool_name": LATE_POOL,
        "entrypoint": "smoke_flows.py:sleep", "schedules": [{"schedule": {"interval": 3600}, "active": True}],
    })["id"]
    worker_run = start_run(api, deployment)
    assert wait_states(api, [worker_run], RUN_TIMEOUT)[worker_run] == "COMPLETED", tier.logs(["worker"])
    assert {api.state(r)[1] for r in late_runs} == {"Scheduled"}, "marked Late while the background services were down"
    outage = time.monotonic() - down
    for instance in background:
        tier.revive(instance)
    back = time.monotonic()

    def marked_late() -> bool:
        return {api.state(r)[1] for r in late_runs} == {"Late"}

    late_seconds = wait_for(marked_late, 60, what="runs due during the outage marked Late")

    def scheduled_runs() -> bool:
        runs = api.flow_runs(deployments={"id": {"any_": [schedule_deployment]}})
        return len(runs) > 0

    schedule_seconds = wait_for(scheduled_runs, 90, what="the scheduler creating runs of the new deployment")

    def persisted() -> bool:
        return bool(events_for(api, worker_run, "prefect.flow-run.Completed"))

    event_seconds = wait_for(persisted, 60, what="the Completed event emitted during the outage persisted")
    measurements.record("3. background services down (kill -> restart)", outage)
    measurements.record("3. due runs marked Late after restart", late_seconds)
    measurements.record("3. new deployment scheduled after restart", schedule_seconds,
                        "(main scheduler loop: PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS, default 60)")
    measurements.record("3. events emitted during the outage persisted after restart", event_seconds)
    assert time.monotonic() - back < 120


def test_5_redis_failover_messaging_and_docket_recover(
    running: Running, session: Session, deployment: str, late_deployment: str, measurements: Measurements
) -> None:
    tier, api = running.tier, running.api
    restarts_before = len(tier.restarts_of())
    start = time.monotonic()
    session.redis.failover(downtime=3.0)
    tier.wait_api_ready(tier.api_instances(), READY_TIMEOUT)
    api_seconds = time.monotonic() - start
    run_id = start_run(api, deployment)
    late = scheduled_run(api, late_deployment, at_offset=-60)
    assert wait_states(api, [run_id], RUN_TIMEOUT)[run_id] == "COMPLETED", tier.logs(["worker"])
    run_seconds = time.monotonic() - start
    # messaging: the event persister (background services) reads the run's events from Redis streams
    wait_for(lambda: bool(events_for(api, run_id, "prefect.flow-run.Completed")), 60,
             what="a Completed event after the Redis failover persisted (messaging)")
    events_seconds = time.monotonic() - start
    # docket: the late-runs service is a Docket perpetual task, run by the Docket worker of the background
    # services. The worker reconnects RECONNECT_SECONDS after losing Redis; the first command on each pooled
    # connection to the old server then fails, and when that happens while a task is claimed or completed,
    # pydocket 0.23.1 ends the worker (an ExceptionGroup its reconnect loop does not catch) while the process
    # lives on. The rendered container program exits then (haflow.in_image.docket_guard)
    # and the kubelet restarts it after its back-off. Bound: the reconnect + the late-runs loop + the back-off
    # + a process start (about 7 s measured, allowed 30 s on a loaded 2-core machine).
    background = tier.background_instances()
    backoff = min(RESTART_BACKOFF * 2 ** len(tier.restarts_of(background)), MAX_RESTART_BACKOFF)
    # If the worker died running the late-runs task, its message comes back only after the redelivery timeout
    # the rendered command sets (haflow.constructs.prefect.DOCKET_REDELIVERY_SECONDS), from its death.
    bound = (RECONNECT_SECONDS + LATE_RUNS_LOOP_SECONDS
             + max(backoff + PROCESS_START_SECONDS, DOCKET_REDELIVERY_SECONDS + LATE_RUNS_LOOP_SECONDS))
    try:
        wait_for(lambda: api.state(late)[1] == "Late", max(bound - (time.monotonic() - start), 0),
                 what="a due run marked Late after the failover (docket)")
    except TimeoutError as error:
        raise AssertionError(f"{error} ({bound:.0f} s from the failover)\n{tier.logs(background)}") from None
    docket_seconds = time.monotonic() - start
    new_restarts = tier.restarts_of()[restarts_before:]
    guard_fired = sum(line.startswith(GUARD_MESSAGE) for name in background
                      for line in tier.processes[name].log.read_text(errors="replace").splitlines())
    measurements.record("5. Redis failover: every API ready again", api_seconds)
    measurements.record("5. Redis failover: a run Completed through the worker", run_seconds)
    measurements.record("5. Redis failover: messaging (event persisted)", events_seconds)
    measurements.record("5. Redis failover: docket (late run marked)", docket_seconds,
                        f"bound {bound:.0f} s; restarts: {[(r.instance, r.exit_code) for r in new_restarts]}; "
                        f"Docket worker died and the process exited: {guard_fired} time(s) this session")


# Test-only fault: the Docket worker of one extra background-services process dies as pydocket 0.23.1's
# does after a Redis failover (an ExceptionGroup around a ConnectionError), FAULT_AFTER seconds after start.
FAULT_AFTER = 8.0
FAULT_SITECUSTOMIZE = f"""\
import asyncio
from docket import Worker


async def _dies(self):
    await asyncio.sleep({FAULT_AFTER})
    raise ExceptionGroup("unhandled errors in a TaskGroup", [ConnectionError("injected by the haflow smoke")])


Worker.run_forever = _dies
"""


def faulty_background_pod(tier: PrefectTier, session: Session, instance: str, sitecustomize: str, why: str) -> Path:
    """An extra background-services pod, as rendered, whose Python first runs ``sitecustomize`` (a test-only
    fault); returns the fault's directory."""
    fault_dir = session.root / instance
    fault_dir.mkdir(exist_ok=True)
    (fault_dir / "sitecustomize.py").write_text(sitecustomize, encoding="utf-8")
    tier.pod(podenv.BACKGROUND, instance, extra_env={"PYTHONPATH": (str(fault_dir), f"test-only: {why}")})
    return fault_dir


def test_5b_a_dead_docket_worker_stops_the_services_in_order_and_exits_1(
    running: Running, session: Session, measurements: Measurements
) -> None:
    """The rendered background-services program (haflow.in_image.docket_guard, from its ConfigMap) on a worker
    that dies for sure: scenario 5 hits the death only in some runs. The services stop the way Ctrl-C stops them
    (so the event persister writes what it has acknowledged), well before the hard-exit backstop, and the exit
    is 1. The stop is timed from the guard's message, not from the process start (a slow start under load is
    not a slow stop)."""
    tier = running.tier
    instance = "background-fault"
    faulty_background_pod(tier, session, instance, FAULT_SITECUSTOMIZE, "sitecustomize kills the Docket worker")
    tier.held.add(instance)  # the kubelet stand-in must not restart it: this test watches one life
    log_file = tier.log_dir / f"{instance}.log"
    earlier = log_file.stat().st_size if log_file.exists() else 0  # the log is appended to: read this life only
    process = tier.start(instance)

    def log() -> str:
        with log_file.open("rb") as text:
            text.seek(earlier)
            return text.read().decode("utf-8", errors="replace")

    try:
        wait_for(lambda: GUARD_MESSAGE in log() or not process.alive(), PROCESS_START_SECONDS + FAULT_AFTER + 60,
                 interval=0.1, what="the guard's message after the Docket worker died")
        fired = time.monotonic()
        wait_for(lambda: not process.alive(), GUARD_STOP_SECONDS + 30, interval=0.1,
                 what="the background services exiting after their Docket worker died")
        seconds = time.monotonic() - fired
    finally:
        tier.remove(instance)
    assert GUARD_MESSAGE in log(), process.tail()
    assert BACKSTOP_MESSAGE not in log(), f"the hard-exit backstop ended it ({seconds:.1f} s):\n{process.tail(80)}"
    assert "All services stopped" in log(), f"the services did not stop in order:\n{process.tail()}"
    assert process.returncode() == 1, process.tail()
    assert seconds < GUARD_STOP_SECONDS, f"the orderly stop took {seconds:.1f} s (backstop at {GUARD_STOP_SECONDS} s)"
    measurements.record("5b. Docket worker died: services stopped in order, exit 1", seconds,
                        f"from the guard's message (backstop at {GUARD_STOP_SECONDS} s)")


def test_5c_a_worker_that_died_running_late_runs_hands_the_task_over_after_the_redelivery_timeout(
    running: Running, session: Session, late_deployment: str, measurements: Measurements
) -> None:
    """The worker dies right after claiming monitor_late_runs (test-only fault, as a lost connection does):
    the task's runs key says running and its message is pending under the dead consumer, so the restarted
    process neither re-seeds it nor gets it before the redelivery timeout. With docket's default (5 min)
    nothing is marked Late for five minutes; the rendered command sets DOCKET_REDELIVERY_SECONDS."""
    tier, api = running.tier, running.api
    rendered_background = tier.background_instances()
    for name in rendered_background:  # only the faulty process may take the task
        tier.kill(name)
    instance = "background-claim-fault"
    marker = session.root / f"{instance}-died"
    faulty_background_pod(tier, session, instance, f"""\
from pathlib import Path
from docket.execution import Execution
from redis.exceptions import ConnectionError

claim = Execution.claim


async def claim_then_lose_the_connection(self, worker):
    claimed = await claim(self, worker)
    if self.key == "monitor_late_runs" and not Path({str(marker)!r}).exists():
        Path({str(marker)!r}).touch()
        raise ConnectionError("injected by the haflow smoke: connection lost after the claim")
    return claimed


Execution.claim = claim_then_lose_the_connection
""", "sitecustomize loses the connection after one claim")
    try:
        tier.start(instance)  # not held: the kubelet stand-in restarts it after the guard stops it
        late = scheduled_run(api, late_deployment, at_offset=-60)
        wait_for(marker.exists, 60, what="the fault in monitor_late_runs' claim")
        died = time.monotonic()
        bound = max(RESTART_BACKOFF + PROCESS_START_SECONDS, DOCKET_REDELIVERY_SECONDS) + 2 * LATE_RUNS_LOOP_SECONDS
        try:
            wait_for(lambda: api.state(late)[1] == "Late", bound, what="the due run marked Late by the restarted "
                     "process (after the redelivery timeout)")
        except TimeoutError as error:
            raise AssertionError(f"{error}\n{tier.logs([instance])}") from None
        seconds = time.monotonic() - died
        restarts = tier.restarts_of([instance])
        assert restarts and restarts[0].exit_code == 1, f"the guard did not stop the process: {tier.logs([instance])}"
    finally:
        tier.remove(instance)
        for name in rendered_background:
            tier.revive(name)
    measurements.record("5c. worker died running late runs: run marked Late after", seconds,
                        f"from the death; redelivery timeout {DOCKET_REDELIVERY_SECONDS} s (docket's default: "
                        f"300 s), bound {bound:.0f} s")


def test_4_aurora_style_failover_recovers_within_the_reported_rto(
    running: Running, session: Session, deployment: str, measurements: Measurements,
    prod_stacks: dict[str, StackJson], prod: Environment,
) -> None:
    tier, api = running.tier, running.api
    report = {c.key: c for c in estimate(prod_stacks, prod).components}
    prefect_rto = report["prefect"].rto
    assert prefect_rto is not None and prefect_rto.value is not None, "haflow report gives Prefect no RTO"
    aurora_rto = report["aurora"].rto
    restarts_before = len(tier.restarts_of())
    start = time.monotonic()
    session.postgres.failover(downtime=5.0)

    def serving() -> bool:
        if not all(ready(tier.api_ports[i]) for i in tier.api_instances()):
            return False
        try:
            api.request("GET", f"/deployments/{deployment}", retries=0)
        except RequestFailed:
            return False
        return True

    wait_for(serving, prefect_rto.value + 60, interval=0.5, what="API serving after the database failover")
    measured = time.monotonic() - start
    new_restarts = tier.restarts_of()[restarts_before:]
    run_id = start_run(api, deployment)
    assert wait_states(api, [run_id], RUN_TIMEOUT)[run_id] == "COMPLETED", tier.logs(["worker"])
    measurements.record("4. database failover: API serving again (no restart)", measured,
                        f"haflow report's Prefect RTO: {prefect_rto.value:.0f} s; "
                        f"(source {prefect_rto.source}); Aurora failover: {aurora_rto.value if aurora_rto else '?'} s")
    assert not new_restarts, f"the API needed a restart: {[(r.instance, r.exit_code, r.log_tail) for r in new_restarts]}"
    assert prefect_rto.value >= measured, (
        f"haflow report assumes Prefect recovers in {prefect_rto.value:.0f} s; measured {measured:.1f} s")


RELOADER_ANNOTATION = "secret.reloader.stakater.com/reload"


def rotate(running: Running, session: Session, bootstrap: Hook) -> tuple[str, str]:
    """What the alternating-users rotation does (docs/security-prefect.md): the database secret now names the other
    login role with a new password, and the bootstrap Job (haflow.in_image.prefect_database, run again as the
    rendered hook) sets that password on that role; the role the pods use keeps its password."""
    old = session.prefect_role
    new = next(role for role in contract.PREFECT_DATABASE_ROLES if role != old)
    session.prefect_role, session.prefect_password = new, uuid.uuid4().hex
    tier = running.tier
    tier.local = session.local(tier.proxy.url, session.root / "pods")
    tier.pod(podenv.BOOTSTRAP, "database-bootstrap")
    tier.run_hook(bootstrap, 120)
    return old, new


def sessions_of(session: Session) -> dict[str, int]:
    """Client sessions on Prefect's database, by login role."""
    rows = session.postgres.psql("select usename, count(*) from pg_stat_activity where datname = 'prefect' "
                                 "and backend_type = 'client backend' and pid <> pg_backend_pid() group by usename"
                                 ).stdout.split()
    return {name: int(count) for name, count in (row.split("|") for row in rows)}


def sync_and_roll(running: Running, session: Session) -> None:
    """External Secrets re-syncs the Secret; Reloader rolls each annotated Deployment one pod at a time."""
    tier = running.tier
    tier.local = session.local(tier.proxy.url, session.root / "pods")
    for name in tier.api_instances():
        tier.pod("api", name, listen_port=tier.api_ports[name])
        tier.kill(name)
        tier.revive(name)
        tier.wait_api_ready([name], READY_TIMEOUT)
        tier.wait_in_rotation([name], 30)
    for name in tier.background_instances():
        tier.pod("background-services", name)
        tier.kill(name)
        tier.revive(name)


def test_6_alternating_users_rotation_of_prefects_database_role_has_no_outage(
    running: Running, session: Session, deployment: str, rendered: Any, install_orders: dict[str, InstallOrder],
    measurements: Measurements,
) -> None:
    """Prefect signs in as its own role; a rotation gives the *other* login role a new password and points the
    secret at it. External Secrets re-syncs (up to refreshInterval) and Reloader rolls the Deployments; meanwhile
    the pods still sign in as the previous role, whose password did not change, so even sessions replaced inside
    the window (a failover, a pool recycle) connect. Shown: no failed request through the window and the roll,
    with every session of the previous role ended inside the window; the new pods sign in as the other role; a
    flow run completes on tables the first role created (they belong to the owner role both act as)."""
    tier, api = running.tier, running.api
    refresh = rendered.external_secret("prefect-database", "prefect")["spec"].get("refreshInterval", "?")
    for role in ("api", "background-services"):
        annotations = rendered.find(*podenv.ROLE_OBJECTS[role])["metadata"].get("annotations") or {}
        assert "prefect-database" in annotations.get(RELOADER_ANNOTATION, "").split(","), (
            f"{role}: no {RELOADER_ANNOTATION} naming prefect-database: nothing rolls the pods after a rotation, "
            "they keep the old role until restarted by hand")
    [bootstrap] = [hook for hook in install_orders[prefect_database.RELEASE_NAME].pre_install if hook.kind == "Job"]
    before = sessions_of(session)
    assert set(before) == {session.prefect_role}, f"Prefect's sessions before the rotation: {before}"
    start = time.monotonic()
    old, new = rotate(running, session, bootstrap)
    with Poller(api, f"/deployments/{deployment}") as window:
        session.postgres.psql("select pg_terminate_backend(pid) from pg_stat_activity "
                              f"where usename = '{old}' and pid <> pg_backend_pid()", database="postgres")
        time.sleep(5)  # the window until External Secrets re-syncs (up to refreshInterval)
        reconnected = sessions_of(session)
    with Poller(api, f"/deployments/{deployment}") as roll:
        sync_and_roll(running, session)
    rolled = time.monotonic() - start
    run_id = start_run(api, deployment)
    assert wait_states(api, [run_id], RUN_TIMEOUT)[run_id] == "COMPLETED", tier.logs(["worker"])
    after = sessions_of(session)
    measurements.record("6. rotation: window before the re-sync, previous role's sessions ended", 5.0,
                        f"{window.requests} requests, {len(window.failed)} failed (refreshInterval {refresh}); "
                        f"sessions then {reconnected}")
    measurements.record("6. rotation: re-sync + Reloader roll, API serving throughout", rolled,
                        f"{roll.requests} requests, {len(roll.failed)} failed; sessions after {after}")
    assert not window.failed, window.failed
    assert not roll.failed, roll.failed
    assert set(after) == {new}, f"after the roll Prefect should sign in as {new} only: {after}"
