"""Fast loading of the prebuilt provider bindings.

``import cdktf_cdktf_provider_aws`` runs a package ``__init__`` that imports all ~2,200 generated
resource modules (15-25 s and hundreds of MB here). Each generated module only needs the
package's ``_jsii`` submodule (which loads the jsii assembly) and its own code, so haflow
registers each provider package as an empty namespace whose ``__path__`` points at the installed
package: ``from cdktf_cdktf_provider_aws.vpc import Vpc`` then imports exactly that module.
The synthesized JSON is byte-identical to the eager import (tests/test_providers.py proves it);
set ``HAFLOW_EAGER_PROVIDERS=1`` to import the documented way instead.

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

PROVIDER_PACKAGES = (
    "cdktf_cdktf_provider_aws",
    "cdktf_cdktf_provider_helm",
    "cdktf_cdktf_provider_kubernetes",
)
EAGER_ENV = "HAFLOW_EAGER_PROVIDERS"


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


def install() -> None:
    """Make the provider packages importable module by module (or eagerly under HAFLOW_EAGER_PROVIDERS)."""
    eager = os.environ.get(EAGER_ENV, "") not in ("", "0")
    for package in PROVIDER_PACKAGES:
        if eager:
            importlib.import_module(package)
        else:
            _register_namespace(package)


install()
