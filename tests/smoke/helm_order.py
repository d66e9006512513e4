"""Helm's install order for one release, derived from the rendered objects and the release's settings.

Helm 3 installs a release in this order (helm/helm pkg/action/install.go, ``performInstall``, at
0014d296abbd2edbc5f483802d41d6450c57d168; the terraform helm provider calls the same action):

1. the ``pre-install`` hooks (``execHook(rel, release.HookPreInstall, i.Timeout)``);
2. every other object of the release, created at once (``KubeClient.Create(resources)``);
3. when the release sets ``wait``: ``KubeClient.Wait(resources, i.Timeout)`` (``WaitWithJobs`` only with
   ``wait_for_jobs``): every Deployment has ``replicas - maxUnavailable`` ready pods (pkg/kube/ready.go,
   ``deploymentReady``), every StatefulSet all its replicas, within the release's ``timeout``;
4. the ``post-install`` hooks;

and an error in any step fails the install; with ``atomic`` the release is uninstalled (``failRelease``).
Hooks of one event run one after another, sorted by ``helm.sh/hook-weight`` then name (pkg/action/hooks.go,
``execHook``: ``sort.Stable(hookByWeight(executingHooks))``); a Job hook is waited on until it completes, within
the same timeout; ``before-hook-creation`` deletes the previous hook object first, ``hook-succeeded`` deletes it
once it has succeeded.

The smoke runs a release in exactly this order (``PrefectTier.install``), never in an order of its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from haflow import plan
from haflow.plan import HELM_RELEASE
from haflow.render.model import HOOK_ANNOTATION, RenderResult

PRE_INSTALL = "pre-install"
POST_INSTALL = "post-install"
WEIGHT_ANNOTATION = "helm.sh/hook-weight"
DELETE_POLICY_ANNOTATION = "helm.sh/hook-delete-policy"
# What Helm's wait checks readiness of (pkg/kube/ready.go, IsReady); Jobs only with wait_for_jobs
WAITED_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Pod", "PersistentVolumeClaim", "Service")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "Pod")
# helm_release defaults (terraform-provider-helm, resource_release.go) for what the plan leaves out
DEFAULT_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class ReleaseSettings:
    name: str
    namespace: str
    wait: bool
    wait_for_jobs: bool
    atomic: bool
    timeout_seconds: int


@dataclass(frozen=True)
class Hook:
    kind: str
    name: str
    events: tuple[str, ...]
    weight: int
    delete_policies: tuple[str, ...]
    manifest: Mapping[str, Any]


@dataclass(frozen=True)
class InstallOrder:
    """One release's install, step by step, as Helm runs it."""

    settings: ReleaseSettings
    pre_install: tuple[Hook, ...]
    resources: tuple[Mapping[str, Any], ...]  # created at once
    awaited: tuple[Mapping[str, Any], ...]  # what the wait checks (empty without wait)
    post_install: tuple[Hook, ...]

    def workloads(self) -> list[Mapping[str, Any]]:
        """The release's (non-hook) objects that run pods."""
        return [manifest for manifest in self.resources if manifest.get("kind") in WORKLOAD_KINDS]

    def steps(self) -> list[str]:
        """The order as text (printed in the smoke's summary)."""
        lines = [f"release {self.settings.name}: wait={self.settings.wait} atomic={self.settings.atomic} "
                 f"timeout={self.settings.timeout_seconds}s"]
        lines += [f"  1. pre-install hook {h.kind}/{h.name} (weight {h.weight})" for h in self.pre_install]
        lines.append("  2. create " + ", ".join(f"{m['kind']}/{m['metadata']['name']}" for m in self.resources))
        if self.awaited:
            lines.append("  3. wait for " + ", ".join(f"{m['kind']}/{m['metadata']['name']}" for m in self.awaited))
        lines += [f"  4. post-install hook {h.kind}/{h.name} (weight {h.weight})" for h in self.post_install]
        return lines


def release_settings(platform: Mapping[str, Any], release_name: str) -> ReleaseSettings:
    """The helm_release of the platform stack that installs ``release_name``: wait, atomic, timeout."""
    for resource in plan.resources(platform, HELM_RELEASE):
        body = resource.body
        if body.get("name") != release_name:
            continue
        return ReleaseSettings(
            name=release_name,
            namespace=str(body.get("namespace", "default")),
            wait=_flag(body.get("wait"), default=True),
            wait_for_jobs=_flag(body.get("wait_for_jobs"), default=False),
            atomic=_flag(body.get("atomic"), default=False),
            timeout_seconds=int(body.get("timeout", DEFAULT_TIMEOUT_SECONDS)),
        )
    raise LookupError(f"the platform stack has no helm_release named {release_name!r}")


def _flag(value: Any, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def hook_of(manifest: Mapping[str, Any]) -> Hook | None:
    annotations = (manifest.get("metadata") or {}).get("annotations") or {}
    events = annotations.get(HOOK_ANNOTATION)
    if not events:
        return None
    return Hook(
        kind=str(manifest.get("kind")),
        name=str(manifest["metadata"]["name"]),
        events=tuple(event.strip() for event in str(events).split(",")),
        weight=int(annotations.get(WEIGHT_ANNOTATION, 0)),
        delete_policies=tuple(p.strip() for p in str(annotations.get(DELETE_POLICY_ANNOTATION, "")).split(",")
                              if p.strip()),
        manifest=manifest,
    )


def _hooks(hooks: Sequence[Hook], event: str) -> tuple[Hook, ...]:
    return tuple(sorted((hook for hook in hooks if event in hook.events), key=lambda hook: (hook.weight, hook.name)))


def install_order(result: RenderResult, release_name: str) -> InstallOrder:
    """The install of ``release_name`` from the render gate's objects and the platform stack's settings."""
    settings = release_settings(result.platform, release_name)
    manifests = [item.manifest for item in result.objects if item.release == release_name]
    if not manifests:
        raise LookupError(f"the render has no objects of release {release_name!r}")
    hooks = [hook for hook in (hook_of(manifest) for manifest in manifests) if hook is not None]
    resources = tuple(manifest for manifest in manifests if hook_of(manifest) is None)
    waited = (*WAITED_KINDS, "Job") if settings.wait_for_jobs else WAITED_KINDS
    awaited = tuple(m for m in resources if m.get("kind") in waited and m.get("kind") in WORKLOAD_KINDS) \
        if settings.wait else ()
    return InstallOrder(settings, _hooks(hooks, PRE_INSTALL), resources, awaited, _hooks(hooks, POST_INSTALL))


def ready_pods_needed(manifest: Mapping[str, Any], replicas: int) -> int:
    """How many ready pods Helm's wait needs of a Deployment run at ``replicas``: replicas - maxUnavailable
    (pkg/kube/ready.go ``deploymentReady``; Kubernetes rounds a percentage maxUnavailable down), all of them for
    another kind."""
    if manifest.get("kind") != "Deployment":
        return replicas
    strategy = (manifest.get("spec") or {}).get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return replicas
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        unavailable = math.floor(replicas * int(value[:-1]) / 100)
    else:
        unavailable = int(value)
    return max(replicas - unavailable, 0)
