"""Command fixtures: the session's synthesized stacks on disk (for `--from`), bad configurations every
configuration-reading command refuses."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from haflow.plan import STACK_FILE, StackJson

# (arguments, files in a copy of environments/, what the message says): exit 2 and no traceback.
BAD_CONFIGURATIONS = pytest.mark.parametrize(
    ("args", "files", "message"),
    [
        (["--env", "qa"], {}, "unknown environment 'qa'"),
        (["--env", "dev"], {"dev.yaml": "network: [\n"}, "YAML syntax error"),
        (["--env", "dev"], {"dev.yaml": "availability_zones: [us-east-1a]\n"}, "availability_zones"),
    ],
    ids=["unknown-environment", "yaml-syntax", "validation"],
)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


@pytest.fixture(scope="session")
def stacks_dir(tmp_path_factory: pytest.TempPathFactory, synthesized: dict[str, StackJson]) -> Path:
    """The session synth written out as `cdktf synth` lays it out: DIR/stacks/<stack>/cdk.tf.json."""
    root = tmp_path_factory.mktemp("check-from") / "cdktf.out"
    for name, stack in synthesized.items():
        path = root / "stacks" / name / STACK_FILE
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(stack, indent=2), encoding="utf-8")
    return root
