"""The Prefect database migration that runs before the API and background-services containers start.

Helm installs a release in this order (helm/helm pkg/action/install.go, performInstall): pre-install hooks,
the release's objects, the wait for every Deployment to be ready (``wait = true``), then post-install hooks.
prefect-server 2026.8.18172642 runs its migration Job as a ``post-install,pre-upgrade`` hook (the annotation is
fixed in templates/pre-upgrade-hook.yaml, no value changes it), so on a first install on an empty database the
migration would come only after the wait; but Prefect 3.8.3 API pods write on start (block type registration,
an upsert into ``block_type``, ``PREFECT_SERVER_REGISTER_BLOCKS_ON_START`` defaults true), which fails on the
empty schema: they crash-loop, the wait ends at the release timeout and ``atomic`` uninstalls the release.

So every API and background-services pod gets an init container that runs the chart's migration command
(``prefect server database upgrade -y``, the chart's ``migrations.command``) before its main container starts.
Prefect's migrations take no cross-process lock (prefect.server.database.alembic_commands holds a
threading.Lock only), and several pods start at once: the init container holds a PostgreSQL session-level
advisory lock around the command, so one pod migrates and the others then find the schema at head. A pod that
dies while holding it drops its session and with it the lock. Waiting pods poll for the lock rather than block
on it (see LOCK_POLL_SECONDS). On an upgrade, the chart's pre-upgrade Job still
migrates before the Deployments roll; the init containers then find nothing to do.

The init container uses Prefect's own engine (``provide_database_interface().engine()``) for the lock, so the
connection URL and the TLS settings (the RDS CA bundle) are the ones the API uses.
"""

from __future__ import annotations

from typing import Any

# pg_advisory_lock key: any bigint that nothing else on the database uses; "haflow" in ASCII
MIGRATION_LOCK_KEY = 0x686166_6C6F77
# The lock is polled (pg_try_advisory_lock), not waited on in one statement: Prefect's engine gives every
# statement a timeout (asyncpg command_timeout, PREFECT_SERVER_DATABASE_TIMEOUT), shorter than a first migration.
LOCK_POLL_SECONDS = 2
# The chart's migrations.command (values.yaml of prefect-server 2026.8.18172642)
MIGRATION_COMMAND = ["prefect", "server", "database", "upgrade", "-y"]
INIT_CONTAINER_NAME = "database-migration"
# The image's entrypoint, as the chart runs the server: tini, then the image's entrypoint.sh, which execs the args
IMAGE_ENTRYPOINT = ["/usr/bin/tini", "-g", "--", "/opt/prefect/entrypoint.sh"]
# The chart's own image for the server (rendered by the chart: extraInitContainers go through its tpl)
CHART_IMAGE = "{{ .Values.global.prefect.image.repository }}:{{ .Values.global.prefect.image.prefectTag }}"
# The chart's migrations.securityContext
SECURITY_CONTEXT = {
    "runAsUser": 1001, "runAsNonRoot": True, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
}
# The chart's migrations.resources
RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
SCRATCH_VOLUME = "scratch"  # the chart's emptyDir of every server pod (HOME and /tmp live there)
HOME = "/home/prefect"

MIGRATE_UNDER_LOCK = f"""\
import asyncio, subprocess, sys
import sqlalchemy as sa
from prefect.server.database import provide_database_interface


async def main():
    engine = await provide_database_interface().engine()
    async with engine.connect() as connection:
        print("haflow: waiting for the migration lock", flush=True)
        while not (await connection.execute(sa.text("select pg_try_advisory_lock({MIGRATION_LOCK_KEY})"))).scalar():
            await connection.commit()
            await asyncio.sleep({LOCK_POLL_SECONDS})
        await connection.commit()
        print("haflow: migration lock held; running {' '.join(MIGRATION_COMMAND)}", flush=True)
        code = await asyncio.to_thread(subprocess.call, {MIGRATION_COMMAND!r})
        await connection.execute(sa.text("select pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        await connection.commit()
    await engine.dispose()
    return code


sys.exit(asyncio.run(main()))
"""


def migration_init_container(
    *, database_secret: str, connection_url_key: str, prefect_env: list[dict[str, str]],
    volume_mounts: list[dict[str, Any]],
) -> dict[str, Any]:
    """The init container for the API and background-services pods (values for the chart's
    ``server.extraInitContainers`` / ``backgroundServices.extraInitContainers``)."""
    return {
        "name": INIT_CONTAINER_NAME,
        "image": CHART_IMAGE,
        "command": list(IMAGE_ENTRYPOINT),
        "args": ["python", "-c", MIGRATE_UNDER_LOCK],
        "workingDir": HOME,
        "env": [
            {"name": "HOME", "value": HOME},
            {"name": "PREFECT_SERVER_DATABASE_CONNECTION_URL",
             "valueFrom": {"secretKeyRef": {"name": database_secret, "key": connection_url_key}}},
            *prefect_env,
        ],
        "resources": {kind: dict(amounts) for kind, amounts in RESOURCES.items()},
        "securityContext": dict(SECURITY_CONTEXT),
        "volumeMounts": [
            {"name": SCRATCH_VOLUME, "mountPath": HOME, "subPath": "migration-home"},
            {"name": SCRATCH_VOLUME, "mountPath": "/tmp", "subPath": "migration-tmp"},
            *volume_mounts,
        ],
    }
