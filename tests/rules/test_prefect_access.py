"""HA-SEC-030..033 on the rendered objects: the Prefect API's basic auth, the worker's, Prefect's own database role,
and the master secret only in a hook. Each fault is a variant of the synthesized stacks rendered with the pinned
charts (Helm's engine), next to the environments as synthesized."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from haflow.config import Environment
from haflow.constructs import prefect_database
from haflow.render import RenderResult
from haflow.rules.engine import REGISTRY, Finding, Status, check_scope
from haflow.rules.rendered import Cluster
from tests.conftest import ENVIRONMENT_NAMES
from tests.render.conftest import Stacks, about, edit_values

Variant = Callable[..., tuple[RenderResult, list[Finding]]]
API = "Deployment/prefect/prefect-server"
WORKER = "Deployment/prefect-flows/prefect-worker"
RULES = ("HA-SEC-030", "HA-SEC-031", "HA-SEC-032", "HA-SEC-033")


def edit_manifests(env: str, release_name: str, change: Callable[[list[dict[str, Any]]], None]
                   ) -> Callable[[Stacks], None]:
    """A mutation of the objects a release of the local manifests chart sends (by release name)."""

    def mutate(stacks: Stacks) -> None:
        for body in stacks[f"{env}-platform"]["resource"]["helm_release"].values():
            if body.get("name") == release_name:
                values = yaml.safe_load(body["values"][0])
                change(values["objects"])
                body["values"] = [yaml.safe_dump(values)]
                return
        raise KeyError(release_name)

    return mutate


def _find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


@pytest.mark.parametrize("name", ENVIRONMENT_NAMES)
def test_every_environment_passes_and_the_rules_judge_something(
    name: str, rendered: dict[str, RenderResult], environments: dict[str, Environment],
) -> None:
    results = check_scope(Cluster(rendered[name]), environments[name], [REGISTRY[rule] for rule in RULES])
    failing = [r for r in results if r.status is Status.NON_COMPLIANT]
    assert failing == [], failing
    judged = {r.rule_id for r in results if r.status is Status.COMPLIANT}
    assert judged == set(RULES), f"{name}: rules that found nothing to judge: {set(RULES) - judged}"


def test_an_api_without_basic_auth_fails(render_variant: Variant) -> None:
    def off(values: dict[str, Any]) -> None:
        values["server"]["basicAuth"] = {"enabled": False}

    _, findings = render_variant("prod", edit_values("prod", "prefect-server", off))
    [finding] = about(findings, "HA-SEC-030", API)
    assert "no PREFECT_SERVER_API_AUTH_STRING" in finding.message


def test_an_api_password_written_into_the_values_fails(render_variant: Variant) -> None:
    def literal(values: dict[str, Any]) -> None:
        values["server"]["basicAuth"] = {"enabled": True, "authString": "admin:pass"}

    _, findings = render_variant("prod", edit_values("prod", "prefect-server", literal))
    [finding] = about(findings, "HA-SEC-030", API)
    assert "literal value" in finding.message


def test_an_api_password_in_a_secret_nothing_syncs_fails(render_variant: Variant) -> None:
    def by_hand(values: dict[str, Any]) -> None:
        values["server"]["basicAuth"] = {"enabled": True, "existingSecret": "made-by-hand"}

    _, findings = render_variant("prod", edit_values("prod", "prefect-server", by_hand))
    [finding] = about(findings, "HA-SEC-030", API)
    assert "which no ExternalSecret in prefect writes" in finding.message


def test_a_worker_without_the_password_fails(render_variant: Variant) -> None:
    def off(values: dict[str, Any]) -> None:
        values["worker"]["selfHostedServerApiConfig"]["basicAuth"] = {"enabled": False}

    _, findings = render_variant("prod", edit_values("prod", "prefect-worker", off))
    messages = [f.message for f in about(findings, "HA-SEC-031", WORKER)]
    assert any("no PREFECT_API_AUTH_STRING" in m for m in messages), messages
    assert any("flow-run Jobs would carry the password" in m for m in messages), messages


def test_prefect_signing_in_with_the_master_secret_fails(render_variant: Variant) -> None:
    """The plan before this change: the database URL built from the master secret, kept synced."""

    def master(objects: list[dict[str, Any]]) -> None:
        database = _find(objects, "ExternalSecret", "prefect-database")
        for item in database["spec"]["data"]:
            item["remoteRef"]["key"] = master_key[0]

    master_key: list[str] = []

    def remember(objects: list[dict[str, Any]]) -> None:
        bootstrap = _find(objects, "ExternalSecret", prefect_database.NAME)
        master_key.append(next(i["remoteRef"]["key"] for i in bootstrap["spec"]["data"]
                               if i["secretKey"] == "master_password"))

    def both(stacks: Stacks) -> None:
        edit_manifests("prod", prefect_database.RELEASE_NAME, remember)(stacks)
        edit_manifests("prod", "synced-secrets", master)(stacks)

    _, findings = render_variant("prod", both)
    [api] = [f for f in about(findings, "HA-SEC-032", API) if "'prefect-server'" in f.message]
    assert "from the Aurora master secret" in api.message
    [kept] = about(findings, "HA-SEC-033", "ExternalSecret/prefect/prefect-database")
    assert "keeps the master secret" in kept.message


def test_a_bootstrap_secret_kept_after_the_hook_fails(render_variant: Variant) -> None:
    def kept(objects: list[dict[str, Any]]) -> None:
        secret = _find(objects, "ExternalSecret", prefect_database.NAME)
        secret["metadata"]["annotations"]["helm.sh/hook-delete-policy"] = "before-hook-creation"

    _, findings = render_variant("prod", edit_manifests("prod", prefect_database.RELEASE_NAME, kept))
    [finding] = about(findings, "HA-SEC-033", f"ExternalSecret/prefect/{prefect_database.NAME}")
    assert "lacks hook-succeeded" in finding.message
