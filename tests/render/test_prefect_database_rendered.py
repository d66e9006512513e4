"""The prefect-database-bootstrap release as Helm's engine renders it: every object a hook, the master secret only
there, the program as shipped, the Prefect image the API runs, installed before prefect-server."""

from __future__ import annotations

import pytest

from haflow import contract
from haflow.constructs import prefect_database
from haflow.constructs.prefect import SERVER_NAMESPACE, SERVER_RELEASE
from haflow.render import RenderResult
from tests.conftest import ENVIRONMENT_NAMES
from tests.render.conftest import Stacks


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_the_bootstrap_is_hooks_only_and_runs_the_shipped_program(
    rendered: dict[str, RenderResult], env_name: str
) -> None:
    result = rendered[env_name]
    objects = [item for item in result.objects if item.release == prefect_database.RELEASE_NAME]
    assert {(item.kind, item.name) for item in objects} == {
        ("ConfigMap", prefect_database.NAME), ("ExternalSecret", prefect_database.NAME), ("Job", prefect_database.NAME)}
    assert all(item.hook == prefect_database.HOOK_EVENTS for item in objects), [(i.kind, i.hook) for i in objects]
    [config_map] = [item for item in objects if item.kind == "ConfigMap"]
    script = config_map.manifest["data"][prefect_database.SCRIPT_KEY]
    assert script == prefect_database.program_source()
    compile(script, prefect_database.SCRIPT_KEY, "exec")

    [job] = [item for item in objects if item.kind == "Job"]
    [container] = job.manifest["spec"]["template"]["spec"]["containers"]
    api = result.find("Deployment", SERVER_RELEASE, SERVER_NAMESPACE)
    assert api is not None
    assert container["image"] == api.manifest["spec"]["template"]["spec"]["containers"][0]["image"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["HAFLOW_PREFECT_LOGIN_ROLES"] == ",".join(contract.PREFECT_DATABASE_ROLES)
    assert env["HAFLOW_PREFECT_OWNER_ROLE"] == contract.PREFECT_DATABASE_OWNER


def test_the_program_survives_terraform_json_unchanged() -> None:
    """Terraform reads ``${`` and ``%{`` in a JSON string as an interpolation or a directive (a SCRAM verifier
    written as an f-string once turned into a Terraform reference here)."""
    source = prefect_database.program_source()
    assert "${" not in source and "%{" not in source


def test_prefect_server_installs_after_the_bootstrap(synthesized: Stacks) -> None:
    releases = synthesized["prod-platform"]["resource"]["helm_release"]
    [(bootstrap_id, _)] = [(key, body) for key, body in releases.items()
                           if body.get("name") == prefect_database.RELEASE_NAME]
    [server] = [body for body in releases.values() if body.get("name") == SERVER_RELEASE]
    assert f"helm_release.{bootstrap_id}" in server["depends_on"]
