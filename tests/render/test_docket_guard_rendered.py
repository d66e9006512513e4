"""The rendered release runs the Docket guard from its ConfigMap (render gate: Helm's engine, pinned charts, the
kubernetes_config_map_v1 resource as the API object the provider creates)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from haflow.constructs import docket_guard as shipped
from haflow.constructs.prefect import DOCKET_REDELIVERY_SECONDS, GUARD_STOP_SECONDS, SERVER_NAMESPACE
from haflow.in_image import docket_guard
from haflow.render import RenderResult
from tests.conftest import ENVIRONMENT_NAMES

BACKGROUND_SERVICES = "prefect-server-background-services"
# the chart's default command for the container: the image's tini + entrypoint, which execs the args
IMAGE_ENTRYPOINT = ["/usr/bin/tini", "-g", "--", "/opt/prefect/entrypoint.sh"]


def background_services(result: RenderResult) -> tuple[dict[str, Any], dict[str, Any]]:
    found = result.find("Deployment", BACKGROUND_SERVICES, SERVER_NAMESPACE)
    assert found is not None, f"no Deployment {BACKGROUND_SERVICES} rendered"
    template = found.manifest["spec"]["template"]
    [container] = template["spec"]["containers"]
    return template, container


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_background_services_run_the_guard_from_its_config_map(
    rendered: dict[str, RenderResult], env_name: str
) -> None:
    result = rendered[env_name]
    template, container = background_services(result)
    assert container["command"] == IMAGE_ENTRYPOINT
    assert container["args"] == ["python", f"{shipped.MOUNT_PATH}/{shipped.SCRIPT_KEY}"]

    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == shipped.MOUNT_PATH]
    assert mount.get("readOnly") is True and "subPath" not in mount, mount
    [volume] = [v for v in template["spec"]["volumes"] if v["name"] == mount["name"]]
    config_map = result.find("ConfigMap", volume["configMap"]["name"], SERVER_NAMESPACE)
    assert config_map is not None, f"volume {volume} names a ConfigMap the release does not get"
    script = config_map.manifest["data"][shipped.SCRIPT_KEY]
    assert script == shipped.guard_source()
    compile(script, shipped.SCRIPT_KEY, "exec")

    annotation = template["metadata"]["annotations"][shipped.CHECKSUM_ANNOTATION]
    assert annotation == hashlib.sha256(script.encode()).hexdigest(), "a changed guard would not roll the pods"

    env = {item["name"]: item["value"] for item in container["env"] if "value" in item}
    settings = docket_guard.Settings.from_environment(env)
    assert settings == docket_guard.Settings(float(DOCKET_REDELIVERY_SECONDS), float(GUARD_STOP_SECONDS))


def test_the_guard_source_survives_terraform_json_unchanged() -> None:
    """Terraform reads ``${`` and ``%{`` in a JSON string as an interpolation or a directive: the ConfigMap
    would hold something else than the module."""
    source = shipped.guard_source()
    assert "${" not in source and "%{" not in source
