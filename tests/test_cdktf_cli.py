"""The cdktf CLI as make runs it prints no [ERROR] line when it succeeds (issue 22, 6).

Outside make, a TF_CLI_CONFIG_FILE naming a missing file (this machine's default) makes cdktf relay
Terraform's "Unable to open CLI configuration file" as [ERROR] lines on every command, and its
checkpoint call fails without a route to checkpoint-api.hashicorp.com. The Makefile exports
CHECKPOINT_DISABLE=1 and, when the named file is missing, deploy/terraformrc.

The cdktf CLI is found as tests/cdktf_cli.py says (`make cdktf-cli`; HAFLOW_REQUIRE_CDKTF=1 fails without one).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cdktf_cli import cdktf_cli
from tests.conftest import REPO_ROOT


def _cdktf() -> str:
    return str(cdktf_cli())


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("CHECKPOINT_DISABLE", "MAKEFLAGS")}
    env["TF_CLI_CONFIG_FILE"] = str(tmp_path / "missing.tfrc")
    return env


def _errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if "[ERROR]" in line]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_cdktf_through_make_prints_no_error_line(tmp_path: Path) -> None:
    cdktf = _cdktf()
    bare = subprocess.run([cdktf, "--version"], env=_environment(tmp_path), capture_output=True, text=True,
                          timeout=300)
    assert _errors(bare.stdout + bare.stderr), "cdktf no longer relays the missing CLI configuration"
    made = subprocess.run(["make", "-s", "cdktf", f"CDKTF={cdktf}", "ARGS=--version"], cwd=REPO_ROOT,
                          env=_environment(tmp_path), capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    assert made.stdout.strip() == "0.21.0"
    assert _errors(made.stdout + made.stderr) == []


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_cdktf_synth_through_make_prints_no_error_line_and_warns_about_the_examples(tmp_path: Path) -> None:
    cdktf = _cdktf()
    out = tmp_path / "cdktf.out"
    made = subprocess.run(["make", "-s", "cdktf", f"CDKTF={cdktf}", f"ARGS=synth --output {out}"], cwd=REPO_ROOT,
                          env=_environment(tmp_path), capture_output=True, text=True, timeout=900)
    output = made.stdout + made.stderr
    assert made.returncode == 0, output
    assert _errors(output) == [], output
    assert (out / "stacks" / "prod-foundation" / "cdk.tf.json").is_file()
    assert "example value(s) shipped in environments/ are still set" in output
