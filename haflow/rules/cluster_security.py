"""Least privilege in the cluster: who each workload runs as, what it may touch, and what it runs.

Read over the rendered objects (Helm's engine, the pinned charts) and, for the IRSA trust, the foundation's
plan. The design and what each rule proves: docs/security-cluster.md.

- the Prefect flow runs run as a service account of their own (the flow IRSA role trusts it and nothing binds
  RBAC to it), the worker as one with RBAC and no AWS role;
- the components that need no cluster-wide reach are scoped: ingress-nginx to the namespaces it serves,
  Reloader to ``prefect``, External Secrets to the ClusterSecretStore haflow writes;
- every container image is pinned by digest.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from haflow import contract, facts, images, plan
from haflow.rules.engine import ERROR, NOT_APPLICABLE, RENDERED, WARNING, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack, Unverifiable

if TYPE_CHECKING:
    from haflow.config.model import Environment
    from haflow.render.model import RenderedObject
    from haflow.rules.rendered import Cluster

PREFECT_WORKER_CHART = "prefect-worker"
# The key of the prefect-worker chart's ConfigMap that holds the work pool's base job template.
BASE_JOB_TEMPLATE_KEY = "baseJobTemplate.json"
# Prefect's job variable that, when the template declares it, lets a deployment pick the flow runs' account.
SERVICE_ACCOUNT_VARIABLE = "service_account_name"
TEMPLATE_PLACEHOLDER = re.compile(r"\{\{.*\}\}")
BINDINGS = ("RoleBinding", "ClusterRoleBinding")
POD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


def _pod_spec(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    from haflow.rules.rendered import pod_template_spec

    return pod_template_spec(manifest)


def base_job_template(item: RenderedObject) -> Mapping[str, Any] | None:
    """The work pool's base job template a prefect-worker ConfigMap carries; None for any other object."""
    if item.kind != "ConfigMap" or item.chart != PREFECT_WORKER_CHART:
        return None
    raw = (item.manifest.get("data") or {}).get(BASE_JOB_TEMPLATE_KEY)
    if not isinstance(raw, str):
        return None
    try:
        document = json.loads(raw)
    except ValueError:
        return {}
    return document if isinstance(document, Mapping) else {}


def flow_run_account(template: Mapping[str, Any]) -> Any:
    """The serviceAccountName of the template's job manifest, as written (a name, a placeholder, or None)."""
    manifest = (template.get("job_configuration") or {}).get("job_manifest") or {}
    return _pod_spec(manifest).get("serviceAccountName")


def worker_accounts(cluster: Cluster) -> set[tuple[str, str]]:
    """(namespace, name) of the accounts the Prefect worker's pods run as."""
    return {(item.namespace, str(_pod_spec(item.manifest).get("serviceAccountName") or "default"))
            for item in cluster.result.by_kind("Deployment") if item.chart == PREFECT_WORKER_CHART}


def flow_run_accounts(cluster: Cluster) -> set[tuple[str, str]]:
    """(namespace, name) of the accounts the work pool's flow runs run as (where the template names one)."""
    found = set()
    for item in cluster.result.by_kind("ConfigMap"):
        template = base_job_template(item)
        account = flow_run_account(template) if template is not None else None
        if isinstance(account, str) and not TEMPLATE_PLACEHOLDER.search(account):
            namespace = (((template or {}).get("variables") or {}).get("properties") or {}).get("namespace") or {}
            found.add((str(namespace.get("default") or item.namespace), account))
    return found


def bound_to(cluster: Cluster, namespace: str, name: str) -> list[str]:
    """The RoleBindings and ClusterRoleBindings that name the service account ``namespace/name``."""
    return [binding.address for kind in BINDINGS for binding in cluster.result.by_kind(kind)
            for subject in binding.manifest.get("subjects") or []
            if isinstance(subject, Mapping) and subject.get("kind") == "ServiceAccount"
            and subject.get("name") == name and (subject.get("namespace") or binding.namespace) == namespace]


# --- the Prefect worker and its flow runs ---------------------------------------------------------------

@rule(
    id="HA-SEC-060",
    level=ERROR,
    title="Prefect flow runs run as a service account of their own, fixed by the work pool's base job template",
    rationale="A flow run is arbitrary code from whoever can create a deployment. Run as the worker's account it "
    "can create and delete any Job and read every pod's log in the flow-run namespace; a template variable for "
    "the account lets any deployment pick the worker's.",
    fix="Write the flow-run account's name into the job manifest (haflow/constructs/work_pool.py, "
    "contract.PREFECT_FLOW_RUN_SERVICE_ACCOUNT_NAME) and declare no service_account_name variable.",
    subjects=("ConfigMap",),
    reads=RENDERED,
)
def flow_runs_have_their_own_account(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    template = base_job_template(item)
    if template is None:
        return NOT_APPLICABLE
    if not template:
        return [f"{item.address}: {BASE_JOB_TEMPLATE_KEY} is not a JSON object"]
    problems = []
    account = flow_run_account(template)
    variables = ((template.get("variables") or {}).get("properties")) or {}
    if not isinstance(account, str) or not account:
        problems.append(f"{item.address}: the job manifest names no serviceAccountName, so flow runs run as "
                        f"'default'")
    elif TEMPLATE_PLACEHOLDER.search(account):
        problems.append(f"{item.address}: serviceAccountName is the template variable {account!r}: a deployment "
                        f"chooses which account its flow runs use")
    elif any(name == account for _, name in worker_accounts(cluster)):
        problems.append(f"{item.address}: flow runs run as {account!r}, the account the worker itself runs as")
    if SERVICE_ACCOUNT_VARIABLE in variables:
        problems.append(f"{item.address}: the template declares the job variable {SERVICE_ACCOUNT_VARIABLE!r}")
    return problems


@rule(
    id="HA-SEC-061",
    level=ERROR,
    title="The Prefect worker's account assumes no AWS role; the flow runs' account has no RBAC and no API token",
    rationale="The long-running worker needs the Kubernetes API (create Jobs, read pod logs), never the flows' "
    "AWS credentials; the flow runs need the AWS role, never the Kubernetes API. Each account holding only its "
    "half keeps a compromised flow from starting Jobs and a compromised worker from reading the artifacts.",
    fix="Leave the worker's ServiceAccount without eks.amazonaws.com/role-arn (prefect_worker_values); create the "
    "flow-run ServiceAccount with the IRSA annotation, automountServiceAccountToken false and no RoleBinding "
    "(haflow/constructs/prefect.py FlowRunServiceAccount).",
    subjects=("ServiceAccount",),
    reads=RENDERED,
)
def worker_and_flow_run_accounts(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    key = (item.namespace, item.name)
    annotations = (item.manifest.get("metadata") or {}).get("annotations") or {}
    is_worker, is_flow_run = key in worker_accounts(cluster), key in flow_run_accounts(cluster)
    if not is_worker and not is_flow_run:
        return NOT_APPLICABLE
    problems = []
    if is_worker and contract.IRSA_ANNOTATION in annotations:
        problems.append(f"{item.address}: the worker's account carries {contract.IRSA_ANNOTATION} "
                        f"(the flows' AWS role in the worker's pods)")
    if is_flow_run:
        problems += [f"{item.address}: the flow runs' account is bound by {binding}"
                     for binding in bound_to(cluster, *key)]
        if item.manifest.get("automountServiceAccountToken") is not False:
            problems.append(f"{item.address}: automountServiceAccountToken is not false: every flow-run pod gets "
                            f"a Kubernetes API token it never needs")
    return problems


@rule(
    id="HA-SEC-062",
    level=ERROR,
    title="No IAM role trusts the Prefect worker's service account",
    rationale="The worker runs the whole time and creates pods; an AWS role it can assume puts the flows' "
    "credentials (read/write on the artifacts bucket model-api serves from) in a pod that never runs a flow.",
    fix="Trust the flow runs' account instead (contract.workload_service_accounts, key prefect-flow-run).",
    subjects=("aws_iam_role",),
)
def worker_assumes_no_role(role: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    # The policy is literal JSON whose condition keys name the OIDC issuer by reference; only the subjects matter.
    raw = role.body.get("assume_role_policy", "")
    if not isinstance(raw, str) or not raw.lstrip().startswith("{"):
        raise Unverifiable("assume_role_policy", f"{raw!r} is not a JSON policy document")
    worker = contract.prefect_worker_service_account(env.prefect.flow_run_namespace).subject
    subjects = list(web_identity_subjects(raw))
    if not subjects:
        return NOT_APPLICABLE
    return [f"the trust policy's subject {subject!r} admits {worker} (the Prefect worker)"
            for subject in subjects if fnmatch.fnmatchcase(worker, subject)]


def web_identity_subjects(policy_text: str) -> Iterator[str]:
    """The ``:sub`` values of a trust policy's web-identity statements (StringEquals / StringLike)."""
    try:
        policy = json.loads(policy_text)
    except ValueError:
        return
    for statement in plan.as_list(policy.get("Statement")):
        if "sts:AssumeRoleWithWebIdentity" not in plan.as_list(statement.get("Action")):
            continue
        for operator, conditions in (statement.get("Condition") or {}).items():
            if operator in ("StringEquals", "StringLike"):
                for key, values in conditions.items():
                    if str(key).endswith(":sub"):
                        yield from (str(value) for value in plan.as_list(values))


# --- cluster-wide reach --------------------------------------------------------------------------------

# The Kubernetes API server's own ClusterRoles a chart binds, with their rules as the API server creates them
# (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go, ClusterRoles(); unchanged since RBAC went GA in 1.8):
# rules judge them as if rendered. Any other role the platform binds and does not render cannot be judged.
BUILT_IN_CLUSTER_ROLES: dict[str, list[dict[str, list[str]]]] = {
    # metrics-server binds it: the creates are non-mutating reviews of tokens and access.
    "system:auth-delegator": [
        {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
        {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
    ],
}


def cluster_wide_grants(cluster: Cluster, namespace: str, account: str, api_group: str, resource: str,
                        verbs: set[str]) -> list[str]:
    """How the service account ``namespace/account`` holds any of ``verbs`` on ``resource`` in every namespace: the
    ClusterRoleBindings naming it whose ClusterRole grants that (the API server's own roles in
    BUILT_IN_CLUSTER_ROLES are judged by their known rules; any other ClusterRole the platform does not render
    cannot be judged, and is reported as such)."""
    roles: dict[str, Mapping[str, Any]] = {name: {"rules": rules} for name, rules in BUILT_IN_CLUSTER_ROLES.items()}
    roles.update({item.name: item.manifest for item in cluster.result.by_kind("ClusterRole")})
    found = []
    for binding in cluster.result.by_kind("ClusterRoleBinding"):
        subjects = [subject for subject in binding.manifest.get("subjects") or [] if isinstance(subject, Mapping)]
        if not any(subject.get("kind") == "ServiceAccount" and subject.get("name") == account
                   and subject.get("namespace") == namespace for subject in subjects):
            continue
        role_name = str((binding.manifest.get("roleRef") or {}).get("name", ""))
        role = roles.get(role_name)
        if role is None:
            found.append(f"{binding.address} binds ClusterRole {role_name!r}, which the platform does not render: "
                         f"what it grants cannot be judged")
            continue
        for grant in role.get("rules") or []:
            groups, resources = set(grant.get("apiGroups") or []), set(grant.get("resources") or [])
            granted = set(grant.get("verbs") or [])
            if ({api_group, "*"} & groups and {resource, "*"} & resources and ({"*"} | verbs) & granted
                    and not grant.get("resourceNames")):
                shown = sorted(verbs & granted) or sorted(granted)
                found.append(f"{binding.address} -> ClusterRole/{role_name} grants {'/'.join(shown)} on {resource} "
                             f"in every namespace")
                break
    return found


def _containers(item: RenderedObject) -> list[Mapping[str, Any]]:
    return [c for c in _pod_spec(item.manifest).get("containers") or [] if isinstance(c, Mapping)]


def _args(item: RenderedObject) -> list[str]:
    return [str(arg) for container in _containers(item) for arg in [*(container.get("command") or []),
                                                                    *(container.get("args") or [])]]


def _flag(args: list[str], name: str) -> str | None:
    """The value of ``--name=value`` among ``args`` (the last one wins, as Go's flag package does)."""
    values = [arg.split("=", 1)[1] for arg in args if arg.startswith(f"--{name}=")]
    return values[-1] if values else None


def _account(item: RenderedObject) -> tuple[str, str]:
    return item.namespace, str(_pod_spec(item.manifest).get("serviceAccountName") or "default")


INGRESS_NGINX_CHART = "ingress-nginx"
RELOADER_CHART = "reloader"
EXTERNAL_SECRETS_CHART = "external-secrets"
READ = {"get", "list", "watch"}
WRITE = {"update", "patch"}


def _is_ingress_controller(item: RenderedObject) -> bool:
    return item.chart == INGRESS_NGINX_CHART and any("/nginx-ingress-controller" in arg for arg in _args(item))


@rule(
    id="HA-SEC-063",
    level=ERROR,
    title="The internet-facing ingress controller watches only the namespaces it serves and reads no Secret "
    "cluster-wide",
    rationale="ingress-nginx parses attacker-controlled requests and renders nginx configuration from "
    "Ingress annotations (CVE-2025-1974 ran code in the controller). The chart's default ClusterRole lets it "
    "list and watch every Secret in the cluster, and still does with controller.scope on: a compromised "
    "controller then holds every credential the cluster stores.",
    fix="Set controller.scope.enabled with scope.namespace and rbac.scope (haflow/constructs/ingress.py), and "
    "grant the served namespace through a Role (scoped_rbac_objects).",
    subjects=("Deployment",),
    reads=RENDERED,
)
def ingress_controller_scoped(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    if not _is_ingress_controller(item):
        return NOT_APPLICABLE
    problems = []
    if not _flag(_args(item), "watch-namespace"):
        problems.append(f"{item.address}: no --watch-namespace: the controller reads Ingresses, Services and "
                        f"Secrets of every namespace")
    problems += [f"{item.address} runs as {'/'.join(_account(item))}: {grant}"
                 for grant in cluster_wide_grants(cluster, *_account(item), "", "secrets", READ)]
    return problems


@rule(
    id="HA-SEC-064",
    level=ERROR,
    title="Reloader watches only the namespaces of the Deployments it rolls, and can restart nothing elsewhere",
    rationale="Reloader restarts any Deployment its annotation names; run globally (the chart's default) it can "
    "patch every Deployment and read every Secret and ConfigMap in the cluster, while haflow needs it in the "
    "namespaces whose Deployments carry secret.reloader.stakater.com/reload only.",
    fix="Set reloader.watchGlobally: false and reloader.namespaces to those namespaces "
    "(haflow/constructs/reloader.py, the platform stack's watched_namespaces).",
    subjects=("Deployment",),
    reads=RENDERED,
)
def reloader_scoped(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    if item.chart != RELOADER_CHART or item.hook:
        return NOT_APPLICABLE
    watched = _flag(_args(item), "namespaces")
    needed = {other.namespace for other in cluster.result.objects
              if contract.RELOADER_SECRET_ANNOTATION in ((other.manifest.get("metadata") or {}).get("annotations")
                                                         or {})}
    problems = []
    if not watched:
        problems.append(f"{item.address}: no --namespaces: Reloader watches every namespace")
    else:
        # A namespace watched with no annotated Deployment yet is accepted: a DR standby's Prefect tier is installed
        # only at promotion, and the watch must not change then.
        missing = needed - set(watched.split(","))
        if missing:
            problems.append(f"{item.address}: does not watch {', '.join(sorted(missing))}, whose Deployments carry "
                            f"{contract.RELOADER_SECRET_ANNOTATION}: a rotation would never reach them")
    for resource, group, verbs in (("deployments", "apps", WRITE), ("secrets", "", READ)):
        problems += [f"{item.address}: {grant}" for grant in cluster_wide_grants(cluster, *_account(item), group,
                                                                                 resource, verbs)]
    return problems


@rule(
    id="HA-SEC-065",
    level=ERROR,
    title="External Secrets serves only the ClusterSecretStore haflow writes: no namespaced SecretStore or "
    "PushSecret can use its IAM role",
    rationale="A SecretStore whose AWS provider has no auth block runs on the controller's own IRSA role: anyone "
    "who may create one in any namespace reads every secret the role can (the Aurora master secret, the Redis "
    "token). Without the SecretStore CRD and reconciler no such store exists; the ClusterSecretStore's "
    "conditions list the namespaces that may use it.",
    fix="Set processSecretStore/processPushSecret/processClusterPushSecret false and crds.createSecretStore/"
    "createPushSecret/createClusterPushSecret false (haflow/constructs/secrets.py), and give every "
    "ClusterSecretStore conditions naming its namespaces.",
    subjects=("Deployment", "ClusterSecretStore", "SecretStore", "helm_release"),
    reads=RENDERED,
)
def external_secrets_cluster_store_only(subject: Any, cluster: Cluster, env: Environment) -> Outcome:
    from haflow.render.model import RenderedRelease

    if isinstance(subject, RenderedRelease):
        if subject.chart != EXTERNAL_SECRETS_CHART:
            return NOT_APPLICABLE
        crds = subject.values.get("crds") or {}
        return [f"{subject.address}: crds.{key} is not false: the chart installs the {kind} CRD"
                for key, kind in (("createSecretStore", "SecretStore"), ("createPushSecret", "PushSecret"),
                                  ("createClusterPushSecret", "ClusterPushSecret"))
                if crds.get(key, True) is not False]
    if subject.kind == "SecretStore":
        return [f"{subject}: a namespaced SecretStore, which may run on the controller's own IAM role"]
    if subject.kind == "ClusterSecretStore":
        conditions = (subject.manifest.get("spec") or {}).get("conditions") or []
        if not any(isinstance(c, Mapping) and (c.get("namespaces") or c.get("namespaceSelector")
                                               or c.get("namespaceRegexes")) for c in conditions):
            return [f"{subject.address}: no conditions: an ExternalSecret in any namespace may use it"]
        return []
    if subject.chart != EXTERNAL_SECRETS_CHART:
        return NOT_APPLICABLE
    args = _args(subject)
    if any(arg in ("webhook", "certcontroller") for arg in args):
        return NOT_APPLICABLE
    return [f"{subject.address}: --{flag} is not false: the controller reconciles {what}"
            for flag, what in (("enable-secret-store-reconciler", "namespaced SecretStores"),
                               ("enable-push-secret-reconciler", "PushSecrets"),
                               ("enable-cluster-push-secret-reconciler", "ClusterPushSecrets"))
            if _flag(args, flag) != "false"]


SECRET_READ_ACTION = "secretsmanager:GetSecretValue"


def _secret_marker(cluster: Cluster, key: Any) -> str:
    """What a role's policy holds for the secret an ExternalSecret names: the reference to the foundation resource
    behind a stand-in (``aws_secretsmanager_secret.x``, ``aws_rds_cluster.x`` for RDS's managed secret), or the
    ``:secret:<name>-`` of an ARN pattern for a secret named literally."""
    resource = cluster.result.foundation_resource(key)
    return resource.address if resource is not None else f":secret:{key}-"


def _granted_secrets(cluster: Cluster, role: plan.Resource) -> list[str]:
    """The Resource entries of the role's inline statements that allow reading secret values."""
    granted: list[str] = []
    for policy in plan.resources(cluster.result.foundation, "aws_iam_role_policy"):
        if f"{role.address}." not in str(policy.body.get("role")):
            continue
        try:
            statements = json.loads(str(policy.body.get("policy"))).get("Statement") or []
        except ValueError:
            continue
        for statement in statements:
            actions = plan.as_list(statement.get("Action"))
            if statement.get("Effect") == "Allow" and any(fnmatch.fnmatch(SECRET_READ_ACTION, str(a)) for a in actions):
                granted += [str(r) for r in plan.as_list(statement.get("Resource"))]
    return granted


@rule(
    id="HA-SEC-070",
    level=ERROR,
    title="Each namespace's secret store reads exactly the secrets synced into that namespace",
    rationale="With one store for every namespace, an ExternalSecret in model-api (whoever may edit that namespace) "
    "could sync the Aurora master secret or Prefect's credentials: a store is as wide as the role it reads as. "
    "One ClusterSecretStore per namespace, usable only there and reading as a role that may read only that "
    "namespace's secrets, keeps each namespace to its own; a secret the role cannot read fails the sync at run "
    "time, so both directions are checked.",
    fix="Keep haflow.constructs.secrets' store per namespace (conditions: that namespace; provider.aws.role: "
    "PlatformInputs.secret_store_roles) and grant each store's role (haflow.constructs.irsa.secret_store_roles, "
    "in both foundations) exactly the secrets of that namespace's SyncedSecrets.",
    subjects=("ClusterSecretStore",),
    reads=RENDERED,
)
def secret_store_per_namespace(store: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    spec = store.manifest.get("spec") or {}
    namespaces = [str(n) for c in spec.get("conditions") or [] if isinstance(c, Mapping)
                  for n in c.get("namespaces") or []]
    if len(namespaces) != 1:
        return [f"{store.address}: usable from {namespaces or 'every namespace'}: one namespace per store"]
    namespace = namespaces[0]
    role_arn = ((spec.get("provider") or {}).get("aws") or {}).get("role")
    role = cluster.result.foundation_resource(role_arn) if role_arn else None
    if role is None or role.type != "aws_iam_role":
        return [f"{store.address}: reads as {'the controller' if not role_arn else repr(role_arn)}, not a role of "
                f"the foundation made for namespace {namespace}"]
    synced: dict[str, str] = {}
    for item in cluster.result.by_kind("ExternalSecret"):
        item_spec = item.manifest.get("spec") or {}
        if item.namespace != namespace or (item_spec.get("secretStoreRef") or {}).get("name") != store.name:
            continue
        for data in item_spec.get("data") or []:
            key = ((data or {}).get("remoteRef") or {}).get("key")
            synced.setdefault(_secret_marker(cluster, key), f"ExternalSecret/{namespace}/{item.name}")
    granted = _granted_secrets(cluster, role)
    problems = [f"{store.address}: its role {role.address} cannot read the secret ({marker.strip(':-')}) "
                f"{user} syncs" for marker, user in sorted(synced.items())
                if not any(marker in resource for resource in granted)]
    # A DR standby installs the Prefect tier, and with it the bootstrap hook that reads the master secret, only at
    # promotion (dr.serving); the grant is made ahead so that the failover changes nothing in the DR foundation.
    standby = cluster.result.platform_stack == env.dr_platform_stack_name and not env.dr.serving
    problems += [f"{store.address}: its role {role.address} reads {resource}, which nothing in {namespace} syncs"
                 for resource in granted if not any(marker in resource for marker in synced)
                 and not (standby and contract.names_master_secret(resource))]
    return problems


# The accounts that may read Secrets in every namespace, each with the reason; any other is HA-SEC-072's finding.
CLUSTER_SECRET_READERS: dict[tuple[str, str], str] = {
    (contract.EXTERNAL_SECRETS_SERVICE_ACCOUNT.namespace, contract.EXTERNAL_SECRETS_SERVICE_ACCOUNT.name):
        "External Secrets writes each synced Secret into the namespace that reads it",
    ("external-secrets", "external-secrets-cert-controller"):
        "the external-secrets chart 2.8.0 hard-codes it in the cert controller's ClusterRole (it watches its "
        "webhook's certificate Secret); no value narrows it",
    ("monitoring", "kube-prometheus-stack-operator"):
        "prometheus-operator reads the Secrets monitors and Alertmanager configurations reference and writes "
        "Prometheus' and Alertmanager's generated configuration",
}


@rule(
    id="HA-SEC-072",
    level=ERROR,
    title="Only the components that must can read Secrets in every namespace",
    rationale="A list of Secrets returns their data: an account that may get, list or watch Secrets cluster-wide "
    "holds the Aurora master credentials synced into prefect, the Redis passwords and every service-account "
    "credential stored as a Secret. Charts grant it by default where a feature could use it (kube-state-metrics' "
    "secrets collector, for kube_secret_* series nothing of haflow reads). The accepted readers are named with "
    "their reasons in haflow/rules/cluster_security.py (CLUSTER_SECRET_READERS) and docs/security-cluster.md.",
    fix="Turn off the chart feature that needs it (kube-state-metrics: drop `secrets` from collectors, "
    "haflow/constructs/observability.py), scope the component to its namespaces, or, when a component truly "
    "needs it, add its account to CLUSTER_SECRET_READERS with the reason.",
    subjects=POD_KINDS,
    reads=RENDERED,
)
def cluster_secret_readers(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    account = _account(item)
    if account in CLUSTER_SECRET_READERS:
        return []
    return [f"{item.address} runs as {'/'.join(account)}: {grant}"
            for grant in cluster_wide_grants(cluster, *account, "", "secrets", READ)]


# --- service-account identities ---------------------------------------------------------------------------

TOKEN_RESOURCES = frozenset({"serviceaccounts/token", "serviceaccounts/*", "*"})
IMPERSONATED_RESOURCES = frozenset({"serviceaccounts", "users", "groups", "*"})


@rule(
    id="HA-SEC-071",
    level=ERROR,
    title="No rendered role lets a pod mint a token for, or impersonate, another service account",
    rationale="With IRSA a service account's token is its AWS identity: whoever may create a TokenRequest for an "
    "account (create on serviceaccounts/token) gets a token with the audience sts.amazonaws.com and assumes that "
    "account's IAM role, and impersonation is the same reach through the API server. A controller holding either "
    "cluster-wide (External Secrets' chart default) turns one compromised pod into every IRSA role of the platform: "
    "the Aurora master secret's readers, the artifacts bucket's writers (Kubernetes, RBAC good practices, "
    "'Privilege escalation risks', https://kubernetes.io/docs/concepts/security/rbac-good-practices/). haflow's "
    "ClusterSecretStores have no auth block: External Secrets signs in with its own IRSA credentials (the AWS SDK's "
    "default chain) and chains to each store's role, with no token of another account.",
    fix="Turn the permission off in the chart's values (external-secrets: rbac.serviceAccountTokenCreate: false, "
    "haflow/constructs/secrets.py); where a component needs a token of one account, grant it with resourceNames "
    "naming that account in its own namespace.",
    subjects=("ClusterRole", "Role"),
    reads=RENDERED,
)
def no_token_minting(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    scope = "any namespace's" if item.kind == "ClusterRole" else f"namespace {item.namespace}'s"
    problems = []
    for grant in item.manifest.get("rules") or []:
        if not isinstance(grant, Mapping) or grant.get("resourceNames"):
            continue  # named accounts only: the scoping the chart documents
        if not {"", "*"} & set(grant.get("apiGroups") or []):
            continue
        resources, verbs = set(grant.get("resources") or []), set(grant.get("verbs") or [])
        if resources & TOKEN_RESOURCES and verbs & {"create", "*"}:
            problems.append(f"{item.address}: may create a token for {scope} service accounts "
                            f"({', '.join(sorted(resources & TOKEN_RESOURCES))}: {', '.join(sorted(verbs))})")
        if resources & IMPERSONATED_RESOURCES and verbs & {"impersonate", "*"}:
            problems.append(f"{item.address}: may impersonate {scope} "
                            f"{', '.join(sorted(resources & IMPERSONATED_RESOURCES))}")
    return problems


# --- images ---------------------------------------------------------------------------------------------

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@rule(
    id="HA-SEC-066",
    level=WARNING,
    title="Every rendered container image is pinned by digest",
    rationale="A tag is mutable: a re-pushed tag runs different code on the nodes that pull after the push, and "
    "a compromised registry account can replace what a release runs without a change to the plan. A digest "
    "names one manifest list. Pods prometheus-operator builds count too: a Prometheus or Alertmanager resource's "
    "spec.image, and the config reloader the operator's --prometheus-config-reloader argument injects into them. A "
    "warning, not an error: a digest that could not be sourced is not invented "
    "(haflow/images.lock.json says which images have none and why); each one is named here until it is pinned.",
    fix="Lock the image's digest with `haflow images lock` where its registry is reachable (it writes "
    "haflow/images.lock.json; `--check` compares it with the registry before a deploy) and render it through the "
    "chart's digest value, or into the tag where the chart has none. model-api's own "
    "image: set model_api.image_digest (and model_api.canary.image_digest for a canary of another tag).",
    subjects=(*POD_KINDS, "Prometheus", "Alertmanager"),
    reads=RENDERED,
)
def images_pinned_by_digest(item: RenderedObject, cluster: Cluster, env: Environment) -> Outcome:
    from haflow.rules.rendered import running_images

    return [f"{item.address}: {what} runs {image or 'no image'} by tag only"
            for what, image in running_images(item.manifest) if not DIGEST.search(image)]


@rule(
    id="HA-SEC-067",
    level=WARNING,
    title="Each locked image digest was read within the review window",
    rationale="A digest is immutable, the tag it was read for is not: a lock entry not re-read for "
    f"{facts.REVIEW_AFTER_DAYS} days (the review window of the other dated facts, HA-EKS-010) misses a re-pushed "
    "tag (a rebuild for a CVE in the base image) and a deleted image, whose pull then fails when a node first "
    "needs it, at a scale-out or in a failover. The message says where each digest came from: one that was never "
    "read from its registry (a chart's values, public pins) is re-read there. A warning: `haflow images lock "
    "--check` in the deploy runner is the gate; this names, in every `haflow check`, the entries due for it.",
    fix="Run `haflow images lock` where the registries are reachable (it reads each digest with `skopeo "
    "inspect --raw` and records the source and the day in haflow/images.lock.json), review the lock's diff and "
    "commit it; docs/security-cluster.md#image-digests.",
    subjects=("helm_release",),
)
def image_digests_current(release: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    chart = plan.chart_name(release.string("chart", ""))
    if not any(image.chart == chart for image in images.IMAGES):
        return NOT_APPLICABLE
    return images.stale_entries(stack.as_of, facts.REVIEW_AFTER_DAYS, chart=chart)
