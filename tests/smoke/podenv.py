"""From the rendered prefect-server / prefect-worker objects to local processes: argv and environment.

Everything a container gets is kept as rendered, except what cannot be the same on this machine:

- hostnames and ports of AWS endpoints (render placeholders) -> the local PostgreSQL / Redis;
- the in-cluster Service URL -> the local round-robin proxy; listen addresses/ports -> loopback + a free port;
- secret values (``valueFrom.secretKeyRef``) -> the ExternalSecret's template for that key, filled with the
  fixtures' credentials where External Secrets would fill in Secrets Manager's values;
- paths inside a volume mount (in the environment and the args) -> the same path under a local directory
  standing in for the pod's filesystem, a ConfigMap's PEM certificates (the RDS CA bundle) -> the fixture's
  database CA; other ConfigMap files (the Docket guard's program) are written as rendered;
- the container's command (the image's tini + entrypoint) -> its args run with ``.venv-prefect/bin`` on PATH,
  and the Kubernetes work pool type -> ``process`` (a Kubernetes work pool cannot run here).

Every rewrite is a ``Rewrite`` row (printed as the rewrite table). Anything the harness cannot carry over
(an unknown secret, an ``envFrom``, a ``fieldRef`` it does not know, a template function it cannot fill)
raises ``Unsupported``: a setting the pods get is never dropped silently.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

from haflow.constructs import prefect_database
from haflow.constructs.prefect import SERVER_NAMESPACE, SERVER_RELEASE, WORKER_RELEASE

API = "api"
BACKGROUND = "background-services"
MIGRATIONS = "migrations"
WORKER = "worker"
BOOTSTRAP = "database-bootstrap"
ROLES = (BOOTSTRAP, MIGRATIONS, API, BACKGROUND, WORKER)
# (kind, name) of the rendered object each role runs as
ROLE_OBJECTS = {
    API: ("Deployment", SERVER_RELEASE),
    BACKGROUND: ("Deployment", f"{SERVER_RELEASE}-background-services"),
    MIGRATIONS: ("Job", f"{SERVER_RELEASE}-db-migrations"),
    WORKER: ("Deployment", WORKER_RELEASE),
    BOOTSTRAP: ("Job", prefect_database.NAME),
}
IMAGE_ENTRYPOINT = ["/usr/bin/tini", "-g", "--", "/opt/prefect/entrypoint.sh"]
PEM_HEADER = "-----BEGIN CERTIFICATE-----"
TEMPLATE_FIELD = re.compile(r"\{\{\s*\.(\w+)\s*(\|\s*(\w+)\s*)?\}\}")


class Unsupported(Exception):
    """Something a rendered pod gets that the harness cannot reproduce: a test failure, never a skip."""


@dataclass(frozen=True)
class Rewrite:
    role: str
    setting: str
    rendered: str
    local: str
    why: str


@dataclass(frozen=True)
class LocalServices:
    """What the fixtures provide in place of AWS and the cluster."""

    postgres_port: int
    redis_port: int
    api_url: str  # the Service: the local proxy
    # Secrets Manager as the fixtures fill it: which secret (by what its ARN expression names) holds what
    secrets: Mapping[str, Mapping[str, str]]
    database_ca: Path
    trust_store: Path
    venv_bin: Path
    pod_root: Path
    process_job_template: Path  # `prefect work-pool get-default-base-job-template --type process`
    host: str = "127.0.0.1"


@dataclass
class PodProcess:
    """One container as a local process: argv, environment, and every rewrite made to get them."""

    role: str
    instance: str
    argv: list[str]
    env: dict[str, str]
    rendered_env: list[str]
    cwd: Path
    rewrites: list[Rewrite] = field(default_factory=list)
    files: dict[Path, bytes] = field(default_factory=dict)

    def write_files(self) -> None:
        for path, content in self.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)


@dataclass(frozen=True)
class Rendered:
    """The rendered objects the harness reads (``haflow.render`` result), plus its placeholder map."""

    objects: list[dict[str, Any]]
    placeholders: Mapping[str, str]

    def find(self, kind: str, name: str) -> dict[str, Any]:
        for manifest in self.objects:
            if manifest.get("kind") == kind and manifest.get("metadata", {}).get("name") == name:
                return manifest
        raise Unsupported(f"the render has no {kind} {name!r}: the harness runs what the chart renders")

    def external_secret(self, secret_name: str, namespace: str) -> dict[str, Any]:
        for manifest in self.objects:
            if manifest.get("kind") != "ExternalSecret":
                continue
            target = manifest["spec"].get("target", {}).get("name") or manifest["metadata"]["name"]
            if target == secret_name and manifest["metadata"].get("namespace") == namespace:
                return manifest
        raise Unsupported(f"no ExternalSecret renders Secret {namespace}/{secret_name}")


def service_kind(expression: str) -> str:
    """Which local service a Terraform expression's value stands for: 'postgres', 'redis' or ''."""
    lowered = expression.lower()
    if "aws_rds_cluster" in lowered or "aws_db_" in lowered:
        return "postgres"
    if "aws_elasticache" in lowered:
        return "redis"
    return ""


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = manifest["spec"]["template"]["spec"]
    return spec


class Rewriter:
    """Maps rendered values to local ones for one pod instance, recording each change."""

    def __init__(self, rendered: Rendered, local: LocalServices, role: str, instance: str, namespace: str) -> None:
        self.rendered = rendered
        self.local = local
        self.role = role
        self.namespace = namespace
        self.root = local.pod_root / instance
        self.rewrites: list[Rewrite] = []
        self.hosts: dict[str, str] = {}
        self.ports: dict[str, str] = {}
        for value, expression in rendered.placeholders.items():
            kind = service_kind(expression)
            if not kind:
                continue
            if value.isdigit():
                self.ports[value] = str(local.postgres_port if kind == "postgres" else local.redis_port)
            else:
                self.hosts[value] = local.host
        self.mounts: dict[str, Path] = {}
        self.listen_port: dict[str, str] = {}

    def record(self, setting: str, rendered: str, local: str, why: str) -> None:
        if rendered != local:
            self.rewrites.append(Rewrite(self.role, setting, rendered, local, why))

    def endpoints(self, value: str) -> str:
        """Placeholder hostnames and ports of AWS endpoints -> the local servers."""
        for placeholder, host in self.hosts.items():
            value = value.replace(placeholder, host)
        for placeholder, port in self.ports.items():
            value = re.sub(rf"(?<=:){placeholder}\b", port, value)
            if value == placeholder:
                value = port
        return value

    def value(self, setting: str, value: str) -> str:
        local = self.endpoints(value)
        why = "AWS endpoint -> local server"
        if value in self.listen_port:
            local, why = self.listen_port[value], "container port -> a free loopback port"
        elif value == "0.0.0.0":
            local, why = self.local.host, "listen on loopback only"
        elif value.startswith("/"):
            mounted = self.mounted(value)
            if mounted is not None:
                local, why = str(mounted), "path in a pod volume -> the same path under the local pod root"
        elif value.startswith("http://") or value.startswith("https://"):
            local, why = self.url(value)
        self.record(setting, value, local, why)
        return local

    def url(self, value: str) -> tuple[str, str]:
        parts = urlsplit(value)
        service = f"{SERVER_RELEASE}.{SERVER_NAMESPACE}.svc.cluster.local"
        if parts.hostname in (service, f"{SERVER_RELEASE}.{SERVER_NAMESPACE}", SERVER_RELEASE, "localhost"):
            return self.local.api_url.rstrip("/") + parts.path.removeprefix("/api"), "Service -> the local proxy"
        return self.endpoints(value), "AWS endpoint -> local server"

    def mounted(self, path: str) -> Path | None:
        for mount_path, local in sorted(self.mounts.items(), key=lambda item: -len(item[0])):
            if path == mount_path or path.startswith(mount_path.rstrip("/") + "/"):
                return local / path[len(mount_path):].lstrip("/")
        return None

    def secret(self, setting: str, name: str, key: str) -> str:
        external = self.rendered.external_secret(name, self.namespace)
        spec = external["spec"]
        template = spec.get("target", {}).get("template", {}).get("data", {})
        remote: dict[str, str] = {}
        for item in spec.get("data", []):
            ref = item["remoteRef"]
            remote[item["secretKey"]] = self.remote_value(ref["key"], ref.get("property"), f"{name}.{key}")
        if template:
            if key not in template:
                raise Unsupported(f"Secret {name} has no key {key!r} in ExternalSecret {external['metadata']['name']}")
            filled = fill_template(template[key], remote, f"ExternalSecret {name} key {key}")
        elif key in remote:
            filled = remote[key]
        else:
            raise Unsupported(f"Secret {name} has no key {key!r}")
        local = self.endpoints(filled)
        self.rewrites.append(Rewrite(
            self.role, setting, f"secret {name}/{key} = {mask(template.get(key, key))}", mask_secret(local, remote),
            "ExternalSecret template filled with the fixtures' credentials"))
        return local

    def remote_value(self, arn: str, prop: str | None, what: str) -> str:
        expression = self.rendered.placeholders.get(arn, arn)
        for marker, document in self.local.secrets.items():
            if marker in expression:
                if prop is None:
                    if len(document) != 1:
                        raise Unsupported(f"{what}: secret {expression} is JSON, the ExternalSecret names no property")
                    return next(iter(document.values()))
                if prop not in document:
                    raise Unsupported(f"{what}: secret {expression} has no property {prop!r} in the fixture")
                return document[prop]
        raise Unsupported(f"{what}: the fixtures hold no secret for {expression}")


def mask(value: str) -> str:
    return value if len(value) < 80 else value[:77] + "..."


def mask_secret(value: str, remote: Mapping[str, str]) -> str:
    for secret in remote.values():
        if secret and len(secret) > 6:
            value = value.replace(quote_plus(secret), "***").replace(secret, "***")
    return value


def fill_template(template: str, values: Mapping[str, str], what: str) -> str:
    """External Secrets' Go template, for the two forms the platform uses: {{ .key }} and {{ .key | urlquery }}."""

    def substitute(match: re.Match[str]) -> str:
        key, function = match.group(1), match.group(3)
        if key not in values:
            raise Unsupported(f"{what}: template field .{key} has no remote value")
        if function is None:
            return values[key]
        if function == "urlquery":
            return quote_plus(values[key])
        raise Unsupported(f"{what}: template function {function!r} is not reproduced by the harness")

    filled = TEMPLATE_FIELD.sub(substitute, template)
    if "{{" in filled:
        raise Unsupported(f"{what}: template {template!r} has a form the harness does not fill")
    return filled


def container_of(manifest: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = pod_spec(manifest)["containers"]
    if len(containers) != 1:
        raise Unsupported(f"{manifest['metadata']['name']}: {len(containers)} containers; the harness runs one")
    return containers[0]


def init_containers(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = pod_spec(manifest).get("initContainers") or []
    for container in containers:
        if container.get("restartPolicy") == "Always":
            raise Unsupported(f"{manifest['metadata']['name']}: sidecar init container {container['name']!r} "
                              "(restartPolicy Always) is not run by the harness")
    return containers


def init_processes(
    rendered: Rendered, local: LocalServices, role: str, instance: str,
    extra_env: Mapping[str, tuple[str, str]] | None = None,
) -> list[PodProcess]:
    """The pod's init containers as local processes, in the order the kubelet runs them (each to completion)."""
    manifest = rendered.find(*ROLE_OBJECTS[role])
    return [pod_process(rendered, local, role, instance, init=container["name"], extra_env=extra_env)
            for container in init_containers(manifest)]


def pod_process(
    rendered: Rendered, local: LocalServices, role: str, instance: str, *,
    listen_port: int | None = None, extra_env: Mapping[str, tuple[str, str]] | None = None,
    init: str | None = None,
) -> PodProcess:
    """The local process for one pod of ``role`` (its main container, or the init container named ``init``),
    with every rewrite recorded."""
    kind, name = ROLE_OBJECTS[role]
    manifest = rendered.find(kind, name)
    namespace = manifest["metadata"].get("namespace", SERVER_NAMESPACE)
    spec = pod_spec(manifest)
    if init is None:
        container = container_of(manifest)
    else:
        matching = [c for c in init_containers(manifest) if c["name"] == init]
        if not matching:
            raise Unsupported(f"{name}: no init container {init!r}")
        container = matching[0]
        role = f"{role} (init {init})"
    rewriter = Rewriter(rendered, local, role, instance, namespace)
    rewriter.root.mkdir(parents=True, exist_ok=True)
    files = mount_volumes(rewriter, rendered, spec, container)
    if listen_port is not None:
        for port in container.get("ports", []):
            rewriter.listen_port[str(port["containerPort"])] = str(listen_port)

    if container.get("envFrom"):
        raise Unsupported(f"{name}: envFrom {container['envFrom']} is not carried over by the harness")
    env: dict[str, str] = {}
    rendered_env: list[str] = []
    for item in container.get("env", []):
        variable = item["name"]
        rendered_env.append(variable)
        if "value" in item:
            env[variable] = rewriter.value(variable, str(item["value"]))
        elif "secretKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["secretKeyRef"]
            env[variable] = rewriter.secret(variable, ref["name"], ref["key"])
        else:
            raise Unsupported(f"{name}: env {variable} = {item.get('valueFrom')} is not carried over by the harness")

    argv = command_line(rewriter, container, local)
    added = {
        "PATH": (f"{local.venv_bin}:/usr/bin:/bin", "the image's PATH: Prefect 3.8.3 from .venv-prefect"),
        "SSL_CERT_FILE": (str(local.trust_store),
                          "the image's system trust store: public roots, here the CA of the Redis certificate"),
        **(extra_env or {}),
    }
    for variable, (value, why) in added.items():
        if variable in env:
            raise Unsupported(f"{name}: the harness would override rendered {variable}")
        rewriter.rewrites.append(Rewrite(role, variable, "(image / not set)", value, why))
        env[variable] = value
    working_dir = container.get("workingDir")
    cwd = rewriter.mounted(working_dir) if working_dir else None
    if working_dir and cwd is None:
        raise Unsupported(f"{name}: workingDir {working_dir} is not in a volume the harness maps")
    if working_dir:
        rewriter.record("workingDir", working_dir, str(cwd), "path in a pod volume -> the same path under the local pod root")
    return PodProcess(role, instance, argv, env, rendered_env, cwd or rewriter.root, rewriter.rewrites, files)


def mount_volumes(rewriter: Rewriter, rendered: Rendered, spec: dict[str, Any], container: dict[str, Any]) -> dict[Path, bytes]:
    """Each volume mount -> a local directory (or file, for a ``subPath`` of a ConfigMap), with the
    ConfigMap's files written there: PEM certificates (the RDS CA bundle) -> the fixture database CA, a
    Kubernetes base job template -> the process worker's (the pool type the harness runs)."""
    volumes = {volume["name"]: volume for volume in spec.get("volumes") or []}
    files: dict[Path, bytes] = {}
    for mount in container.get("volumeMounts") or []:
        path = mount["mountPath"]
        local = rewriter.root / path.lstrip("/")
        rewriter.mounts[path] = local
        volume = volumes.get(mount["name"], {})
        if "secret" in volume:
            raise Unsupported(f"volume {mount['name']}: Secret volumes are not carried over by the harness")
        if "configMap" not in volume:
            local.mkdir(parents=True, exist_ok=True)
            continue
        config_map = rendered.find("ConfigMap", volume["configMap"]["name"])
        data = {key: str(value) for key, value in (config_map.get("data") or {}).items()}
        if mount.get("subPath"):
            if mount["subPath"] not in data:
                raise Unsupported(f"volume {mount['name']}: ConfigMap has no key {mount['subPath']!r}")
            files[local] = config_map_file(rewriter, mount["name"], mount["subPath"], data[mount["subPath"]])
        else:
            local.mkdir(parents=True, exist_ok=True)
            for key, content in data.items():
                files[local / key] = config_map_file(rewriter, mount["name"], key, content)
    return files


def config_map_file(rewriter: Rewriter, volume: str, key: str, content: str) -> bytes:
    setting = f"volume {volume}: {key}"
    if PEM_HEADER in content or key.endswith((".pem", ".crt")):
        rewriter.record(setting, "RDS CA bundle (fetched at plan time)",
                        f"{rewriter.local.database_ca.name} (fixture database CA)",
                        "the CA that signed the local PostgreSQL's certificate")
        return rewriter.local.database_ca.read_bytes()
    if '"job_configuration"' in content and '"job_manifest"' in content:
        rewriter.record(setting, "the Kubernetes work pool's base job template",
                        "the process work pool's default base job template",
                        "the pool type the harness runs; the Kubernetes template is tested as data")
        return rewriter.local.process_job_template.read_bytes()
    return content.encode()


def command_line(rewriter: Rewriter, container: dict[str, Any], local: LocalServices) -> list[str]:
    command = list(container.get("command") or [])
    args = [str(arg) for arg in container.get("args") or []]
    if command == IMAGE_ENTRYPOINT:
        rewriter.record("command", shlex.join(command), f"(none: args run with {local.venv_bin} on PATH)",
                        "the image's tini + entrypoint.sh; the local process has no image")
        command = []
    elif command[:1] == ["/bin/sh"] and any("pipefail" in arg for arg in args):
        rewriter.record("command", "/bin/sh", "bash",
                        "this machine's /bin/sh is dash 0.5.12 (Debian 12), which rejects `set -o pipefail`")
        command = ["bash", *command[1:]]
    argv = command + args
    rewritten = []
    for index, arg in enumerate(argv):
        previous = argv[index - 1] if index else ""
        new = arg
        if previous == "--port" and arg in rewriter.listen_port:
            new = rewriter.listen_port[arg]
            rewriter.record("arg --port", arg, new, "container port -> a free loopback port")
        elif previous == "--type" and arg == "kubernetes":
            new = "process"
            rewriter.record("arg --type", arg, new,
                            "a Kubernetes work pool cannot run here (no cluster); its base job template is tested as data")
        elif arg.startswith("/") and (mounted := rewriter.mounted(arg)) is not None:
            new = str(mounted)
            rewriter.record(f"arg {index}", arg, new, "path in a pod volume -> the same path under the local pod root")
        rewritten.append(new)
    return rewritten


def rewrite_table(processes: Iterable[PodProcess]) -> str:
    rows = []
    seen: set[tuple[str, str, str, str]] = set()
    for process in processes:
        for rewrite in process.rewrites:
            key = (rewrite.role, rewrite.setting, rewrite.rendered, rewrite.why)
            if key not in seen:
                seen.add(key)
                rows.append(rewrite)
    widths = [max(len(getattr(r, f)) for r in rows) if rows else 4 for f in ("role", "setting")]
    lines = [f"{'role':<{widths[0]}}  {'setting':<{widths[1]}}  rendered -> local  (why)"]
    for r in rows:
        lines.append(f"{r.role:<{widths[0]}}  {r.setting:<{widths[1]}}  {r.rendered} -> {r.local}  ({r.why})")
    return "\n".join(lines)


def render_result_objects(result: Any) -> Rendered:
    """Adapt ``haflow.render``'s RenderResult: its objects' manifests and its placeholder map."""
    return Rendered([obj.manifest for obj in result.objects], dict(result.placeholders))

