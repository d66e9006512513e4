"""struct_kwargs: Kubernetes objects written as plain data reach jsii as the binding's typed structs."""

from __future__ import annotations

import pytest

from haflow.constructs.structs import struct_kwargs


def test_dicts_inside_lists_become_structs() -> None:
    from cdktf_cdktf_provider_kubernetes.provider import KubernetesProvider, KubernetesProviderExec

    kwargs = struct_kwargs(KubernetesProvider, {"host": "h", "exec": [{"api_version": "v1", "command": "aws"}]})
    (block,) = kwargs["exec"]
    assert isinstance(block, KubernetesProviderExec)
    assert (block.api_version, block.command) == ("v1", "aws")


def test_plain_maps_stay_maps() -> None:
    from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1Metadata

    kwargs = struct_kwargs(NamespaceV1Metadata, {"name": "n", "labels": {"a": "b"}})
    assert kwargs["labels"] == {"a": "b"}


def test_a_misspelt_field_fails_loudly() -> None:
    from cdktf_cdktf_provider_kubernetes.namespace_v1 import NamespaceV1Metadata

    with pytest.raises(TypeError, match="NamespaceV1Metadata has no argument"):
        struct_kwargs(NamespaceV1Metadata, {"nmae": "n"})
