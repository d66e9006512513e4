"""The prefect-server and prefect-worker charts rendered with haflow's values (Helm's engine, pinned charts)."""

from __future__ import annotations

import json
import math
import re

import pytest

from haflow import contract
from haflow.config import Environment
from haflow.constructs import reloader
from haflow.constructs.helm import PREFECT_SERVER, PREFECT_WORKER, RELOADER
from haflow.constructs.prefect import (
    API_AUTH_SECRET,
    BACKGROUND_SERVICES_LABELS,
    DATABASE_SECRET,
    REDIS_SECRET,
    SERVER_NAMESPACE,
    SERVER_RELEASE,
    WORKER_RELEASE,
    prefect_server_values,
    prefect_worker_values,
)
from haflow.constructs.reloader import RELOADER_SECRET_ANNOTATION, reloader_values
from haflow.constructs.trust import RDS_CA_BUNDLE_KEY, RDS_CA_CONFIG_MAP, RDS_CA_MOUNT_PATH
from tests.conftest import ENVIRONMENT_NAMES
from tests.constructs.platform_fixtures import FAKE_INPUTS
from tests.constructs.rendering import Manifest, container, find, pod_spec, render

# The API server accepts a string IntOrString only as a percentage (k8s.io/apimachinery intstr,
# apps/v1 validation of rollingUpdate); Kubernetes rounds maxSurge up and maxUnavailable down.
PERCENT = re.compile(r"^\d+%$")


def server_objects(env: Environment) -> list[Manifest]:
    values = prefect_server_values(env.prefect, FAKE_INPUTS)
    return render(PREFECT_SERVER, values, release=SERVER_RELEASE, namespace=SERVER_NAMESPACE)


def scaled(value: int | str, replicas: int, *, round_up: bool) -> int:
    if isinstance(value, int):
        return value
    share = int(value.rstrip("%")) * replicas / 100
    return math.ceil(share) if round_up else math.floor(share)


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_rolling_update_is_accepted_by_the_api_server_and_never_drops_a_pod(
    environments: dict[str, Environment], env_name: str
) -> None:
    deployment = find(server_objects(environments[env_name]), "Deployment", "prefect-server")
    rolling = deployment["spec"]["strategy"]["rollingUpdate"]
    for key in ("maxUnavailable", "maxSurge"):
        value = rolling[key]
        assert isinstance(value, int) or PERCENT.match(value), f"{key} = {value!r}: a string must be a percentage"
    for replicas in range(2, 13):
        assert scaled(rolling["maxUnavailable"], replicas, round_up=False) == 0
        assert scaled(rolling["maxSurge"], replicas, round_up=True) >= 1


PREFECT_CONTAINERS = (
    ("Deployment", "prefect-server", "prefect-server"),
    ("Deployment", "prefect-server-background-services", "prefect-background-services"),
    ("Job", "prefect-server-db-migrations", "pre-upgrade-migration"),
)


@pytest.mark.parametrize(("kind", "name", "container_name"), PREFECT_CONTAINERS)
def test_every_prefect_container_verifies_aurora_against_the_rds_ca_bundle(
    environments: dict[str, Environment], kind: str, name: str, container_name: str
) -> None:
    workload = find(server_objects(environments["prod"]), kind, name)
    env = {item["name"]: item.get("value") for item in container(workload, container_name)["env"]}
    assert env["PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_ENABLED"] == "true"
    ca_file = env["PREFECT_SERVER_DATABASE_SQLALCHEMY_CONNECT_ARGS_TLS_CA_FILE"]
    assert ca_file == f"{RDS_CA_MOUNT_PATH}/{RDS_CA_BUNDLE_KEY}"
    mounts = {mount["name"]: mount for mount in container(workload, container_name)["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod_spec(workload)["volumes"]}
    [mount] = [m for m in mounts.values() if ca_file.startswith(m["mountPath"] + "/")]
    assert mount["readOnly"] is True
    assert volumes[mount["name"]]["configMap"]["name"] == RDS_CA_CONFIG_MAP


@pytest.mark.parametrize("env_name", ENVIRONMENT_NAMES)
def test_work_pool_template_runs_flows_in_the_flow_namespace_as_the_irsa_service_account(
    environments: dict[str, Environment], env_name: str
) -> None:
    env = environments[env_name]
    values = prefect_worker_values(env.prefect, FAKE_INPUTS)
    template = json.loads(values["worker"]["config"]["baseJobTemplate"]["configuration"])
    variables = template["variables"]["properties"]
    assert variables["namespace"]["default"] == env.prefect.flow_run_namespace
    assert "service_account_name" not in variables  # a deployment cannot pick the worker's account
    configuration = template["job_configuration"]
    assert configuration["namespace"] == "{{ namespace }}"
    manifest = configuration["job_manifest"]
    assert manifest["metadata"]["namespace"] == "{{ namespace }}"
    assert manifest["spec"]["template"]["spec"]["serviceAccountName"] == contract.PREFECT_FLOW_RUN_SERVICE_ACCOUNT_NAME
    # Every {{ placeholder }} of the job configuration is a declared variable (Prefect fills only those).
    placeholders = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", json.dumps(configuration)))
    assert placeholders <= set(variables), placeholders - set(variables)
    # The chart turns the template into the ConfigMap the worker registers the pool with.
    objects = render(PREFECT_WORKER, values, release=WORKER_RELEASE, namespace=env.prefect.flow_run_namespace)
    config_map = next(o for o in objects if o["kind"] == "ConfigMap")
    assert json.loads(config_map["data"]["baseJobTemplate.json"]) == template
    worker = find(objects, "Deployment", "prefect-worker")
    assert pod_spec(worker)["serviceAccountName"] == contract.PREFECT_WORKER_SERVICE_ACCOUNT_NAME


def test_background_services_are_spread_over_zones(environments: dict[str, Environment]) -> None:
    workload = find(server_objects(environments["prod"]), "Deployment", "prefect-server-background-services")
    labels = workload["spec"]["template"]["metadata"]["labels"]
    terms = pod_spec(workload)["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    zone_terms = [t["podAffinityTerm"] for t in terms
                  if t["podAffinityTerm"]["topologyKey"] == "topology.kubernetes.io/zone"]
    assert zone_terms
    assert all(labels.get(k) == v for k, v in zone_terms[0]["labelSelector"]["matchLabels"].items())
    assert labels["app.kubernetes.io/component"] == "background-services"
    assert zone_terms[0]["labelSelector"]["matchLabels"] == BACKGROUND_SERVICES_LABELS


@pytest.mark.parametrize(("name", "container_name"), [("prefect-server", "prefect-server"),
                                                      ("prefect-server-background-services",
                                                       "prefect-background-services")])
def test_prefect_pods_roll_when_a_synced_credential_changes(
    environments: dict[str, Environment], name: str, container_name: str
) -> None:
    """Reloader restarts a Deployment whose annotation names a Secret that changed (a rotated password)."""
    deployment = find(server_objects(environments["prod"]), "Deployment", name)
    watched = deployment["metadata"]["annotations"][RELOADER_SECRET_ANNOTATION].split(",")
    assert set(watched) == {API_AUTH_SECRET, DATABASE_SECRET, REDIS_SECRET}


def test_reloader_is_replicated_and_guarded(environments: dict[str, Environment]) -> None:
    objects = render(RELOADER, reloader_values(["prefect"]), release=reloader.RELEASE_NAME, namespace=reloader.NAMESPACE)
    deployment = find(objects, "Deployment", reloader.FULLNAME)
    assert deployment["spec"]["replicas"] >= 2
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    [pdb] = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    assert all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items())
    # enableHA: leader election among the pods (they learn their own name for the lease).
    assert "POD_NAME" in {item["name"] for item in pod_spec(deployment)["containers"][0]["env"]}
