"""The real Terraform run offline: a working directory with its own CLI config (providers from a filesystem
mirror, nothing from the network), the AWS provider configured with mock credentials, and the provider's
schema to strip what that provider version does not know.

The bindings haflow synthesizes with target a newer AWS provider than a mirror may hold (6.x against
5.100.0 here): ``strip_unknown`` drops the attributes and blocks the mirror's provider has no schema for,
and says which, so a plan can still be made with it. Nothing here needs AWS: plans are made with
``-refresh=false`` against a state file written by the caller.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIRROR_VARIABLE = "HAFLOW_TF_PLUGIN_MIRROR"
DEFAULT_MIRROR = Path("/opt/tf-plugins")
AWS_SOURCE = "registry.terraform.io/hashicorp/aws"
MOCK_REGION = "us-east-1"
MOCK_ACCOUNT = "123456789012"
TIMEOUT_SECONDS = 600


class TerraformError(Exception):
    """A terraform command failed; the message holds the command and the end of its output."""


def terraform_binary() -> str | None:
    return shutil.which("terraform")


def mirror() -> Path:
    return Path(os.environ.get(MIRROR_VARIABLE) or DEFAULT_MIRROR)


def mirrored_aws_versions(root: Path | None = None) -> list[str]:
    """The AWS provider versions the filesystem mirror holds (unpacked layout)."""
    provider = (root or mirror()) / AWS_SOURCE
    return sorted(p.name for p in provider.iterdir() if p.is_dir()) if provider.is_dir() else []


def provider_config(region: str = MOCK_REGION) -> dict[str, Any]:
    """The AWS provider with mock keys: it plans without asking AWS anything."""
    return {
        "region": region, "access_key": "mock-access-key", "secret_key": "mock-secret-key",
        "skip_credentials_validation": True, "skip_requesting_account_id": True,
        "skip_metadata_api_check": True, "skip_region_validation": True,
    }


@dataclass
class Workdir:
    """One terraform working directory configured for the mirror; ``env`` is only for its commands."""

    path: Path
    aws_version: str
    env: dict[str, str] = field(default_factory=dict)
    region: str = MOCK_REGION

    @classmethod
    def create(cls, path: Path, aws_version: str, plugin_mirror: Path | None = None,
               region: str = MOCK_REGION) -> Workdir:
        path.mkdir(parents=True, exist_ok=True)
        root = plugin_mirror or mirror()
        config = path / ".terraformrc"
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{root}"\n    include = ["{AWS_SOURCE}"]\n  }}\n'
            f'  direct {{\n    exclude = ["{AWS_SOURCE}"]\n  }}\n}}\n', encoding="utf-8")
        env = {**os.environ, "TF_CLI_CONFIG_FILE": str(config), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1",
               "TF_INPUT": "0"}
        for leak in ("TF_CLI_ARGS", "TF_CLI_ARGS_plan", "TF_WORKSPACE", "AWS_PROFILE"):
            env.pop(leak, None)
        return cls(path, aws_version, env, region)

    def write_config(self, resources: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> None:
        """main.tf.json: the AWS provider pinned to the mirror's version, ``resources`` and ``extra`` blocks."""
        document: dict[str, Any] = {
            "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": self.aws_version}}},
            "provider": {"aws": provider_config(self.region)},
        }
        if resources:
            document["resource"] = resources
        document.update(extra or {})
        (self.path / "main.tf.json").write_text(json.dumps(document, indent=1), encoding="utf-8")

    def call(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``terraform ARGS`` in this directory, whatever its exit code."""
        return subprocess.run(["terraform", *args], cwd=self.path, env=self.env, capture_output=True,
                              text=True, timeout=TIMEOUT_SECONDS, check=False)

    def run(self, *args: str) -> str:
        completed = self.call(*args)
        if completed.returncode != 0:
            tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-40:])
            raise TerraformError(f"terraform {' '.join(args)} in {self.path} failed ({completed.returncode}):\n{tail}")
        return completed.stdout

    def init(self) -> None:
        self.run("init", "-input=false", "-no-color", "-backend=false")

    def plan_json(self, name: str = "plan") -> dict[str, Any]:
        """``terraform plan -refresh=false -out`` then ``terraform show -json``: the plan as CI produces it.

        Left in the directory: NAME.tfplan (the binary planfile), NAME.txt (the text plan), NAME.json."""
        planfile = f"{name}.tfplan"
        text_plan = self.run("plan", "-refresh=false", "-input=false", "-no-color", "-lock=false", f"-out={planfile}")
        (self.path / f"{name}.txt").write_text(text_plan, encoding="utf-8")
        text = self.run("show", "-json", planfile)
        (self.path / f"{name}.json").write_text(text, encoding="utf-8")
        document: dict[str, Any] = json.loads(text)
        return document

    def schema(self) -> dict[str, Any]:
        """The AWS provider's resource schemas (``terraform providers schema -json``), by resource type."""
        schemas: dict[str, Any] = self.provider_schema()["resource_schemas"]
        return schemas

    def provider_schema(self) -> dict[str, Any]:
        """The AWS provider's whole schema: ``provider`` (its own block), ``resource_schemas`` and
        ``data_source_schemas``."""
        document = json.loads(self.run("providers", "schema", "-json"))
        provider: dict[str, Any] = document["provider_schemas"][AWS_SOURCE]
        return provider


def write_state(path: Path, resources: list[dict[str, Any]]) -> None:
    """A state file (version 4) holding ``resources``: dicts of type, name, schema_version, attributes and
    the names of its sensitive attributes (Terraform plans an update when the marks differ from the schema's)."""
    state = {
        "version": 4, "terraform_version": "1.11.4", "serial": 1,
        "lineage": "0b6c1d3e-8f6a-4c1e-9a59-000000000000", "outputs": {},
        "resources": [
            {"mode": "managed", "type": r["type"], "name": r["name"],
             "provider": f'provider["{AWS_SOURCE}"]',
             "instances": [{"schema_version": r.get("schema_version", 0), "attributes": r["attributes"],
                            "sensitive_attributes": [[{"type": "get_attr", "value": name}]
                                                     for name in r.get("sensitive", ())],
                            "private": "bnVsbA=="}]}
            for r in resources
        ],
    }
    path.write_text(json.dumps(state, indent=1), encoding="utf-8")


def strip_unknown(body: Mapping[str, Any], block: Mapping[str, Any],
                  prefix: str = "") -> tuple[dict[str, Any], list[str]]:
    """``body`` without the attributes and nested blocks ``block`` (a provider schema block) does not have,
    and the paths dropped."""
    attributes = block.get("attributes") or {}
    nested = block.get("block_types") or {}
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in body.items():
        path = f"{prefix}{key}"
        if key in attributes:
            kept[key] = value
        elif key in nested:
            inner = nested[key].get("block") or {}
            items = value if isinstance(value, list) else [value]
            cleaned = []
            for item in items:
                if isinstance(item, Mapping):
                    stripped, lost = strip_unknown(item, inner, f"{path}.")
                    cleaned.append(stripped)
                    dropped += lost
            kept[key] = cleaned if isinstance(value, list) else (cleaned[0] if cleaned else value)
        else:
            dropped.append(path)
    return kept, dropped
