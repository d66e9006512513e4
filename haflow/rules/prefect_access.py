"""Who may use Prefect: the API's basic auth on the server and the worker, and Prefect's own database role.

Read from the rendered objects (the render gate's output), where the credentials are what the pods get: an env
entry, the Secret it reads, and the ExternalSecret that builds that Secret from Secrets Manager. The Secrets
Manager secret behind an ExternalSecret is a stand-in for a Terraform reference in the render; the rules follow it
back to the expression (``RenderResult.placeholders``) to tell Aurora's master secret from Prefect's own
(``contract.names_master_secret``). Docs: docs/security-prefect.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from haflow import contract
from haflow.rules.engine import ERROR, NOT_APPLICABLE, RENDERED, Outcome, rule

if TYPE_CHECKING:
    from haflow.config.model import Environment
    from haflow.render.model import RenderedObject
    from haflow.rules.rendered import Cluster

SERVER_CHART = "prefect-server"
WORKER_CHART = "prefect-worker"
API_COMPONENT = "server"  # app.kubernetes.io/component of the API pods (prefect-server's templates/deployment.yaml)
SERVER_AUTH_ENV = "PREFECT_SERVER_API_AUTH_STRING"
CLIENT_AUTH_ENV = "PREFECT_API_AUTH_STRING"
# With these, prefect-kubernetes gives each flow-run Job the auth string as a secretKeyRef (KubernetesWorkerSettings
# api_auth_string_secret_name / _key), not as the worker's plain value.
JOB_AUTH_SECRET_NAME_ENV = "PREFECT_INTEGRATIONS_KUBERNETES_WORKER_API_AUTH_STRING_SECRET_NAME"
DATABASE_URL_ENVS = ("PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL")
HOOK_SUCCEEDED = "hook-succeeded"
DELETE_POLICY_ANNOTATION = "helm.sh/hook-delete-policy"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def _containers(manifest: Mapping[str, Any], groups: tuple[str, ...] = ("initContainers", "containers"),
                ) -> Iterator[Mapping[str, Any]]:
    pod = ((manifest.get("spec") or {}).get("template") or {}).get("spec") or {}
    for group in groups:
        for container in pod.get(group) or []:
            if isinstance(container, Mapping):
                yield container


def _env(container: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for entry in container.get("env") or []:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return entry
    return None


def _external_secret(cluster: Cluster, secret: str, namespace: str) -> RenderedObject | None:
    """The ExternalSecret that writes Secret ``namespace/secret``."""
    for item in cluster.result.by_kind("ExternalSecret"):
        target = ((item.manifest.get("spec") or {}).get("target") or {}).get("name") or item.name
        if target == secret and item.namespace == namespace:
            return item
    return None


def _remote_keys(cluster: Cluster, external: RenderedObject) -> list[str]:
    """The Secrets Manager secrets an ExternalSecret reads, as the plan names them (expression or name)."""
    spec = external.manifest.get("spec") or {}
    keys = [str((item.get("remoteRef") or {}).get("key", "")) for item in spec.get("data") or []]
    keys += [str((item.get("extract") or {}).get("key", "")) for item in spec.get("dataFrom") or []]
    return [cluster.result.placeholders.get(key, key) for key in keys if key]


def _synced(entry: Mapping[str, Any] | None, what: str, item: RenderedObject, cluster: Cluster) -> list[str]:
    """Problems with an env entry that must come from a Secret an ExternalSecret keeps (not a Helm hook)."""
    if entry is None:
        return [f"{item.address}: no {what}"]
    ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
    if not isinstance(ref, Mapping):
        return [f"{item.address}: {entry.get('name')} is a literal value in the pod spec, not a secretKeyRef"]
    external = _external_secret(cluster, str(ref.get("name")), item.namespace)
    if external is None:
        return [f"{item.address}: {entry.get('name')} reads Secret {ref.get('name')}, which no ExternalSecret in "
                f"{item.namespace} writes (a Secret made by hand is neither generated nor rotated)"]
    if external.hook:
        return [f"{item.address}: {entry.get('name')} reads Secret {ref.get('name')}, which exists only during a "
                f"Helm hook ({external.address})"]
    template = ((external.manifest.get("spec") or {}).get("target") or {}).get("template") or {}
    if template.get("data") and ref.get("key") not in template["data"]:
        return [f"{item.address}: {external.address} writes no key {ref.get('key')!r}"]
    return []


def _labels(item: RenderedObject) -> Mapping[str, Any]:
    template = (item.manifest.get("spec") or {}).get("template") or {}
    return (template.get("metadata") or {}).get("labels") or {}


@rule(
    id="HA-SEC-030",
    level=ERROR,
    title="The Prefect API requires basic auth, its password synced from Secrets Manager",
    rationale="Without PREFECT_SERVER_API_AUTH_STRING any caller that reaches the API can create a deployment or "
    "flow run with any image and command, which the worker starts with the flow role's AWS credentials, and can "
    "read /api/admin/settings, where server.docket.url carries the Redis password in clear (Prefect 3.8.3 types it "
    "str, not SecretStr). A generated password from Secrets Manager, kept in the cluster by External Secrets, is "
    "never in the plan and can be rotated.",
    fix="Set server.basicAuth.enabled with existingSecret (haflow/constructs/prefect.py, prefect_server_values) "
    "and an ExternalSecret writing its auth-string key (prefect_synced_secrets).",
    subjects=("Deployment",),
    reads=RENDERED,
)
def api_authentication(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    if item.chart != SERVER_CHART or _labels(item).get("app.kubernetes.io/component") != API_COMPONENT:
        return NOT_APPLICABLE
    problems: list[str] = []
    for container in _containers(item.manifest, ("containers",)):
        problems += _synced(_env(container, SERVER_AUTH_ENV), SERVER_AUTH_ENV, item, cluster)
    return problems


@rule(
    id="HA-SEC-031",
    level=ERROR,
    title="The Prefect worker and its flow runs authenticate to the API with the synced password",
    rationale="With basic auth on the API a worker without PREFECT_API_AUTH_STRING gets 401 on every poll and runs "
    "nothing; and without the worker's auth-string secret setting, prefect-kubernetes copies the worker's password "
    "into each flow-run Job's spec as a plain value, readable by anyone who can read Jobs.",
    fix="Set worker.selfHostedServerApiConfig.basicAuth.enabled with existingSecret (haflow/constructs/prefect.py, "
    "prefect_worker_values) and an ExternalSecret writing it in the worker's namespace (prefect_synced_secrets).",
    subjects=("Deployment",),
    reads=RENDERED,
)
def worker_authentication(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    if item.chart != WORKER_CHART:
        return NOT_APPLICABLE
    problems: list[str] = []
    for container in _containers(item.manifest, ("containers",)):
        entry = _env(container, CLIENT_AUTH_ENV)
        problems += _synced(entry, CLIENT_AUTH_ENV, item, cluster)
        job_secret = _env(container, JOB_AUTH_SECRET_NAME_ENV)
        ref = ((entry or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        if job_secret is None or job_secret.get("value") != ref.get("name"):
            problems.append(f"{item.address}: {JOB_AUTH_SECRET_NAME_ENV} does not name the auth string's Secret: "
                            "flow-run Jobs would carry the password as a plain env value")
    return problems


@rule(
    id="HA-SEC-032",
    level=ERROR,
    title="Prefect signs in to the database as its own role, not with the Aurora master credentials",
    rationale="The master user administers every role and database of the cluster; a Prefect pod (or code that "
    "reaches its environment) holding it can create roles, read any database and drop what it likes. Prefect "
    "needs only to own its own database.",
    fix="Build Prefect's connection URL from Prefect's database secret (haflow/constructs/prefect_credentials.py, "
    "synced by prefect_synced_secrets), whose role the bootstrap Job creates (docs/security-prefect.md).",
    subjects=WORKLOAD_KINDS,
    reads=RENDERED,
)
def own_database_role(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    if item.chart != SERVER_CHART:
        return NOT_APPLICABLE
    problems: list[str] = []
    checked = False
    for container in _containers(item.manifest):
        for name in DATABASE_URL_ENVS:
            entry = _env(container, name)
            if entry is None:
                continue
            checked = True
            ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
            if not isinstance(ref, Mapping):
                problems.append(f"{item.address}: container {container.get('name')!r} {name} is a literal value")
                continue
            external = _external_secret(cluster, str(ref.get("name")), item.namespace)
            if external is None:
                problems.append(f"{item.address}: {name} reads Secret {ref.get('name')}, which no ExternalSecret "
                                "writes: its credentials cannot be checked")
                continue
            master = [key for key in _remote_keys(cluster, external) if contract.names_master_secret(key)]
            if master:
                problems.append(f"{item.address}: container {container.get('name')!r} {name} is built by "
                                f"{external.address} from the Aurora master secret ({master[0]})")
    return problems if checked else NOT_APPLICABLE


@rule(
    id="HA-SEC-033",
    level=ERROR,
    title="The Aurora master secret is never kept in the cluster: only a Helm hook deleted on success reads it",
    rationale="A Secret External Secrets keeps in step with the master secret is readable by whoever may read "
    "Secrets in its namespace, and by every pod that mounts it, for as long as the platform runs. Creating "
    "Prefect's roles needs the master credentials for the minutes of the bootstrap only.",
    fix="Read the master secret only in the prefect-database-bootstrap release's hook ExternalSecret "
    "(haflow/constructs/prefect_database.py), whose helm.sh/hook-delete-policy includes hook-succeeded.",
    subjects=("ExternalSecret",),
    reads=RENDERED,
)
def master_secret_transient(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    master = [key for key in _remote_keys(cluster, item) if contract.names_master_secret(key)]
    if not master:
        return NOT_APPLICABLE
    if not item.hook:
        return [f"{item.address} keeps the master secret ({master[0]}) synced into the cluster"]
    annotations = (item.manifest.get("metadata") or {}).get("annotations") or {}
    policies = {p.strip() for p in str(annotations.get(DELETE_POLICY_ANNOTATION, "")).split(",")}
    if HOOK_SUCCEEDED not in policies:
        return [f"{item.address} is a hook ({item.hook}) that Helm keeps after it succeeds "
                f"({DELETE_POLICY_ANNOTATION} lacks {HOOK_SUCCEEDED}): the master secret stays in the cluster"]
    return []
