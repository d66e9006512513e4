"""Session-wide fixtures: the environments are loaded once and synthesized once per test session.

Importing the provider bindings and starting jsii costs seconds; every test that needs a
synthesized stack shares ``synthesized``. Tests that need a modified environment use
``synth_variant``, which reuses the already-loaded bindings (a fraction of a second each).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from haflow.config import Environment, environment_names, load_environments
from haflow.merge import deep_merge
from haflow.plan import StackJson, read_stacks
from haflow.providers import EAGER_ENV, PROVIDER_PACKAGES
from haflow.synthesis import synthesize
from tests.moto import moto_endpoint  # noqa: F401  (the session's moto_server, a fixture)

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / "environments"
# Whatever environments/ holds: a new overlay is picked up by every test without editing one.
ENVIRONMENT_NAMES = tuple(environment_names(CONFIG_DIR))
# The day rule tests judge support windows and dated facts on (`haflow check --as-of`); tests/test_facts.py
# is the one that looks at the real date, so the rest of the suite does not start failing on a calendar day.
CHECK_DATE = date(2026, 11, 29)


@pytest.fixture(scope="session")
def environments() -> dict[str, Environment]:
    return {env.name: env for env in load_environments(config_dir=CONFIG_DIR)}


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory, environments: dict[str, Environment]) -> Path:
    """The cdktf.out of every environment, synthesized once for the whole session."""
    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    synthesize(list(environments.values()), outdir)
    return outdir


@pytest.fixture(scope="session")
def synthesized(synth_dir: Path) -> dict[str, StackJson]:
    """Every stack of every environment, parsed."""
    return read_stacks(synth_dir)


@pytest.fixture(scope="session")
def synth_variant(
    tmp_path_factory: pytest.TempPathFactory, environments: dict[str, Environment]
) -> Callable[[str, dict[str, Any]], dict[str, StackJson]]:
    """Synthesize one environment with ``changes`` deep-merged into its validated config."""
    counter = itertools.count()

    def build(name: str, changes: dict[str, Any]) -> dict[str, StackJson]:
        document = deep_merge(environments[name].model_dump(), changes)
        variant = Environment.model_validate(document)
        outdir = tmp_path_factory.mktemp(f"variant-{next(counter)}") / "cdktf.out"
        return synthesize([variant], outdir)

    return build


# DNS failover for an environment with DR: none of the shipped environments has it (the load balancers' names
# exist only after the platform deploy), so the stacks it adds (<env>-dns-alarms) are tested on this variant.
DNS_FAILOVER = {
    "hosted_zone_id": "Z0123456789ABCDEFGHIJ", "record_name": "api.example.com",
    "primary_target": "primary-nlb.elb.us-east-1.amazonaws.com",
    "secondary_target": "secondary-nlb.elb.us-west-2.amazonaws.com",
}


@pytest.fixture(scope="session")
def dns_variant(
    synth_variant: Callable[[str, dict[str, Any]], dict[str, StackJson]], environments: dict[str, Environment],
) -> tuple[Environment, dict[str, StackJson]]:
    """prod with dr.dns, and its stacks (synthesized once per session)."""
    changes = {"dr": {"dns": DNS_FAILOVER}}
    env = Environment.model_validate(deep_merge(environments["prod"].model_dump(), changes))
    return env, synth_variant("prod", changes)


def resources(stack: StackJson, rtype: str) -> dict[str, dict[str, Any]]:
    """The resources of one type in a synthesized stack, by logical id."""
    found: dict[str, dict[str, Any]] = stack.get("resource", {}).get(rtype, {})
    return found


# The eager-import synth of tests/test_providers.py costs ~35 s of one core. It starts in the
# background as soon as collection selects that test, so it overlaps the rest of the session.
EAGER_TEST = "test_fast_loading_synthesizes_byte_identical_json"
EAGER_RUN = pytest.StashKey[tuple[subprocess.Popen[str], Path]]()


def own_node_choice() -> dict[str, str]:
    """This environment without the Node selection haflow made in this process, so a child makes its own."""
    return {key: value for key, value in os.environ.items() if key not in ("JSII_NODE", "NODE_OPTIONS")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.name == EAGER_TEST for item in items):
        return
    outdir = Path(tempfile.mkdtemp(prefix="haflow-eager-")) / "cdktf.out"
    code = (
        "import sys; from haflow import providers; "
        f"assert all(hasattr(sys.modules[p], '__all__') for p in {PROVIDER_PACKAGES!r}), 'not eager'; "
        "from haflow.cli import main; "
        f"sys.argv = ['haflow', 'synth', '--config-dir', {str(CONFIG_DIR)!r}, '--out', {str(outdir)!r}]; main()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env={**own_node_choice(), EAGER_ENV: "1"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    config.stash[EAGER_RUN] = (process, outdir)


def pytest_sessionfinish(session: pytest.Session) -> None:
    run = session.config.stash.get(EAGER_RUN, None)
    if run is None:
        return
    process, outdir = run
    if process.poll() is None:
        process.kill()
    process.communicate()
    shutil.rmtree(outdir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def eager_synth(pytestconfig: pytest.Config) -> tuple[Path, str]:
    """cdktf.out of every environment synthesized with the documented eager provider import, and its stderr."""
    process, outdir = pytestconfig.stash[EAGER_RUN]
    _, stderr = process.communicate(timeout=900)
    assert process.returncode == 0, stderr
    return outdir, stderr
