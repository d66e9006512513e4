"""Fast loading of the prebuilt provider bindings.

``import cdktf_cdktf_provider_aws`` runs a package ``__init__`` that imports all ~2,200 generated
resource modules (15-25 s and hundreds of MB here). Each generated module only needs the
package's ``_jsii`` submodule (which loads the jsii assembly) and its own code, so haflow
registers each provider package as an empty namespace whose ``__path__`` points at the installed
package: ``from cdktf_cdktf_provider_aws.vpc import Vpc`` then imports exactly that module.
The synthesized JSON is byte-identical to the eager import (tests/test_providers.py proves it);
set ``HAFLOW_EAGER_PROVIDERS=1`` to import the documented way instead.

The generated code checks every argument twice. In Python, with typeguard, after resolving the type
hints of a module-level stub function (``typing.get_type_hints(_typecheckingstub__...)``); then the
receiver, the jsii kernel, deserializes every value against the assembly's own type of it and refuses
a mismatch with an error naming the key (``Key 'enableDnsHostnames': ... Value is not a boolean``).
The kernel's check is the stricter one: typeguard 2 lets a string through where ``bool | IResolvable``
is expected, the kernel does not (tests/test_providers.py shows both). In the fast mode the Python
copy is skipped for calls from the generated bindings (typeguard called from anywhere else still
checks), a fifth of a synth's time; the stubs' hints, which the generated code still reads, are
resolved once and reused.

Importing this module is cheap (no binding is imported); import it before any binding module
(``haflow.constructs`` and ``haflow.stacks`` do so in their ``__init__``).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types
import typing
from typing import Any

PROVIDER_PACKAGES = (
    "cdktf_cdktf_provider_aws",
    "cdktf_cdktf_provider_helm",
    "cdktf_cdktf_provider_kubernetes",
)
EAGER_ENV = "HAFLOW_EAGER_PROVIDERS"
# Packages whose jsii-generated type-checking stubs get their hints resolved once.
JSII_PACKAGES = (*PROVIDER_PACKAGES, "cdktf", "constructs")
_STUB_PREFIX = "_typecheckingstub__"


def _register_namespace(package: str) -> None:
    """Put an empty package object for ``package`` in sys.modules so its __init__ never runs."""
    if package in sys.modules:
        return
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"{package} is not installed; run `make synth` to build .venv")
    module = types.ModuleType(package, f"Prebuilt CDKTF bindings for {package} (loaded per resource by haflow)")
    module.__path__ = list(spec.submodule_search_locations)
    module.__file__ = spec.origin
    module.__spec__ = importlib.machinery.ModuleSpec(package, None, origin=spec.origin, is_package=True)
    module.__spec__.submodule_search_locations = module.__path__
    sys.modules[package] = module


def _is_binding_stub(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return getattr(obj, "__name__", "").startswith(_STUB_PREFIX) and module.split(".", 1)[0] in JSII_PACKAGES


def _cache_stub_type_hints() -> None:
    """Resolve each generated stub's type hints once (see the module docstring); anything else as before."""
    resolve = typing.get_type_hints
    if getattr(resolve, "caches_binding_stubs", False):
        return
    resolved: dict[Any, dict[str, Any]] = {}

    def get_type_hints(obj: Any, globalns: Any = None, localns: Any = None, include_extras: bool = False
                       ) -> dict[str, Any]:
        if globalns is None and localns is None and not include_extras and _is_binding_stub(obj):
            if obj not in resolved:
                resolved[obj] = resolve(obj)
            return dict(resolved[obj])
        return resolve(obj, globalns, localns, include_extras)

    get_type_hints.caches_binding_stubs = True  # type: ignore[attr-defined]
    typing.get_type_hints = get_type_hints


def _skip_binding_typeguard() -> None:
    """typeguard.check_type returns at once when a generated binding calls it (see the module docstring)."""
    import typeguard

    check = typeguard.check_type
    if getattr(check, "skips_binding_calls", False):
        return

    def check_type(*args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__") or ""
        if caller.split(".", 1)[0] in JSII_PACKAGES:
            return None  # the jsii kernel checks this value against the assembly's type
        return check(*args, **kwargs)

    check_type.skips_binding_calls = True  # type: ignore[attr-defined]
    typeguard.check_type = check_type


def install() -> None:
    """Make the provider packages importable module by module (or eagerly under HAFLOW_EAGER_PROVIDERS)."""
    eager = os.environ.get(EAGER_ENV, "") not in ("", "0")
    for package in PROVIDER_PACKAGES:
        if eager:
            importlib.import_module(package)
        else:
            _register_namespace(package)
    if not eager:
        _cache_stub_type_hints()
        _skip_binding_typeguard()


install()
