"""Fast provider loading: byte-identical output to the documented eager import, at a fraction of the cost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from haflow.providers import EAGER_ENV, PROVIDER_PACKAGES
from tests.conftest import CONFIG_DIR, REPO_ROOT


@pytest.mark.slow
def test_fast_loading_synthesizes_byte_identical_json(synth_dir: Path, tmp_path: Path) -> None:
    eager_out = tmp_path / "eager.out"
    probe = (
        "import sys, runpy; "
        "from haflow import providers; "
        f"assert all(p in sys.modules and hasattr(sys.modules[p], '__all__') for p in {PROVIDER_PACKAGES!r}); "
        "from haflow.cli import main; "
        f"sys.argv = ['haflow', 'synth', '--config-dir', {str(CONFIG_DIR)!r}, '--out', {str(eager_out)!r}]; "
        "main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True,
        env={**os.environ, EAGER_ENV: "1"}, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    fast_files = sorted(p.relative_to(synth_dir) for p in (synth_dir / "stacks").rglob("cdk.tf.json"))
    eager_files = sorted(p.relative_to(eager_out) for p in (eager_out / "stacks").rglob("cdk.tf.json"))
    assert fast_files == eager_files and fast_files
    for relative in fast_files:
        assert (synth_dir / relative).read_bytes() == (eager_out / relative).read_bytes(), relative


def test_fast_loading_leaves_package_roots_unimported(synthesized: dict[str, object]) -> None:
    # The session synth ran in this process: the package objects are haflow's empty namespaces,
    # not the generated __init__ (which would define __all__ with ~2,200 names).
    for package in PROVIDER_PACKAGES:
        module = sys.modules.get(package)
        if module is not None:
            assert not hasattr(module, "__all__"), package
    loaded = [name for name in sys.modules if name.startswith("cdktf_cdktf_provider_aws.")]
    assert 0 < len(loaded) < 200
