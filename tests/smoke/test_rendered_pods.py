"""The harness's reading of the rendered pods (no servers): nothing a pod gets is dropped, anything it cannot
carry over fails loudly, and the Kubernetes work pool's base job template, which cannot run here, as data."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest

from haflow.config import Environment
from haflow.contract import PREFECT_FLOW_RUN_SERVICE_ACCOUNT_NAME
from tests.smoke import podenv
from tests.smoke.conftest import PREFECT_VENV, Session

TEMPLATE_KEY = "baseJobTemplate.json"
# Prefect's own template resolution (prefect.utilities.templating), with each variable's default
RESOLVE = """
import json, sys
from prefect.utilities.templating import apply_values
template = json.load(open(sys.argv[1]))
defaults = {k: v["default"] for k, v in template["variables"]["properties"].items() if "default" in v}
print(json.dumps(apply_values(template["job_configuration"], defaults)))
"""


@pytest.mark.parametrize("role", podenv.ROLES)
def test_every_rendered_setting_reaches_the_local_process(
    role: str, rendered: podenv.Rendered, session: Session, tmp_path: Path
) -> None:
    container = podenv.container_of(rendered.find(*podenv.ROLE_OBJECTS[role]))
    process = podenv.pod_process(rendered, session.local("http://127.0.0.1:1/api", tmp_path), role, role,
                                 listen_port=4999)
    rendered_names = [item["name"] for item in container.get("env", [])]
    dropped = sorted(set(rendered_names) - set(process.env))
    assert not dropped, f"{role}: rendered settings the harness dropped: {dropped}"
    rendered_args = [str(a) for a in container.get("args") or []]
    assert len(process.argv) >= len(rendered_args)
    changed = {arg for arg, local in zip(rendered_args, process.argv[-len(rendered_args):], strict=True) if arg != local}
    for arg in changed:
        assert any(r.rendered == arg for r in process.rewrites), f"{role}: arg {arg!r} changed without a rewrite row"
    for name in rendered_names:
        value = process.env[name]
        original = next(item for item in container["env"] if item["name"] == name)
        if "value" in original and str(original["value"]) != value:
            assert any(r.setting == name for r in process.rewrites), f"{role}: {name} changed without a rewrite row"


def test_a_setting_the_harness_cannot_carry_over_fails(rendered: podenv.Rendered, session: Session, tmp_path: Path) -> None:
    objects = copy.deepcopy(rendered.objects)
    kind, name = podenv.ROLE_OBJECTS[podenv.API]
    manifest = next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)
    podenv.pod_spec(manifest)["containers"][0]["env"].append(
        {"name": "SOMETHING", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "y"}}})
    with pytest.raises(podenv.Unsupported, match="SOMETHING"):
        podenv.pod_process(podenv.Rendered(objects, rendered.placeholders),
                           session.local("http://127.0.0.1:1/api", tmp_path), podenv.API, "api")


def test_kubernetes_base_job_template_runs_flows_where_the_worker_may(
    rendered: podenv.Rendered, prod: Environment, tmp_path: Path
) -> None:
    """The Kubernetes work pool cannot run here (no cluster). Its base job template, resolved by Prefect's own
    templating with the defaults: Jobs go to the flow-run namespace (the worker's RBAC) as the flow runs'
    own service account, the one the flow IRSA role trusts."""
    config_map = next(o for o in rendered.objects if o.get("kind") == "ConfigMap"
                      and TEMPLATE_KEY in (o.get("data") or {}))
    template = tmp_path / TEMPLATE_KEY
    template.write_text(config_map["data"][TEMPLATE_KEY])
    resolved = json.loads(subprocess.run(
        [str(PREFECT_VENV / "bin" / "python"), "-c", RESOLVE, str(template)], capture_output=True, text=True,
        check=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    ).stdout)
    manifest = resolved["job_manifest"]
    assert manifest["metadata"]["namespace"] == prod.prefect.flow_run_namespace
    assert manifest["spec"]["template"]["spec"]["serviceAccountName"] == PREFECT_FLOW_RUN_SERVICE_ACCOUNT_NAME
    assert config_map["metadata"]["namespace"] == prod.prefect.flow_run_namespace


@pytest.mark.parametrize("role", [podenv.API, podenv.BACKGROUND])
def test_the_migration_init_container_runs_as_rendered(
    role: str, rendered: podenv.Rendered, session: Session, tmp_path: Path
) -> None:
    [container] = podenv.init_containers(rendered.find(*podenv.ROLE_OBJECTS[role]))
    [process] = podenv.init_processes(rendered, session.local("http://127.0.0.1:1/api", tmp_path), role, role)
    dropped = sorted({item["name"] for item in container["env"]} - set(process.env))
    assert not dropped, f"{role} init container: rendered settings the harness dropped: {dropped}"
    assert process.argv == [str(arg) for arg in container["args"]]
    assert process.env["PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_ENABLED"] == "true"
