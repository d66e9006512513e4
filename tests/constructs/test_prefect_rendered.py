"""The prefect-server and prefect-worker charts rendered with haflow's values (Helm's engine, pinned charts)."""

from __future__ import annotations

import math
import re

import pytest

from haflow.config import Environment
from haflow.constructs.helm import PREFECT_SERVER
from haflow.constructs.prefect import SERVER_NAMESPACE, SERVER_RELEASE, prefect_server_values
from tests.constructs.platform_fixtures import FAKE_INPUTS
from tests.constructs.rendering import Manifest, find, render

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


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
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
