"""The Terraform gate: every AWS-only stack through the real terraform and the AWS provider of the mirror.

Each stack is copied to a scratch directory with a local backend and the provider version the mirror holds
(haflow/review/terraform.py: the working directory, its CLI config, the mock provider settings). What that
version's schema (``terraform providers schema -json``) does not know is removed from the copy and listed
as not checked by Terraform, never dropped silently: the bindings haflow synthesizes with target a newer
provider (6.x) than the mirror may hold (5.100.0). Then ``terraform validate``; a stack that validates is
planned (``terraform plan -refresh=false``, an empty state) with every provider endpoint on a moto_server,
so the data sources are read and the provider builds every create as it would against AWS.

A stack reading another stack's outputs (``terraform_remote_state``, a cdktf cross-stack reference: the
``<env>-dns-alarms`` stack reads the DR foundation's health-check ids) reads them here from a stand-in state
file the gate writes (backend ``local``), whose outputs are the placeholder strings ``gate-remote-<output>``:
the producing stack is only planned, never applied, so its outputs have no values. Terraform still reads the
data source and checks every reference into it; the report lists each stand-in.

Files a stack names relative to its directory (cdktf assets: the Prefect password rotation function's zip, whose
``filebase64sha256`` Terraform reads at plan) travel with the copy: the ``assets`` directory beside the
synthesized stack is copied into the scratch directory.

Stacks needing a provider the mirror lacks (helm, kubernetes: the platform stacks) are not validated; the
report names them and the providers they need.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haflow.review.terraform import (
    TerraformError,
    Workdir,
    mirror,
    mirrored_aws_versions,
    provider_config,
    strip_unknown,
    terraform_binary,
)
from haflow.rules.engine import Finding
from haflow.rules.terraform import PLANS, VALIDATES

# Keys of a resource or data block that are Terraform's own, not the provider's (``//``: cdktf's metadata,
# a comment to Terraform's JSON syntax).
META_ARGUMENTS = frozenset({"//", "lifecycle", "depends_on", "provider", "count", "for_each", "provisioner",
                            "connection"})
PROVIDER_META = frozenset({"alias"})
ATTRIBUTE_ROOT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*")
STATE_FILE = "terraform.tfstate"
ASSETS_DIR = "assets"  # where cdktf puts a stack's assets, beside its cdk.tf.json
REMOTE_STATE = "terraform_remote_state"
REMOTE_OUTPUT = re.compile(r"data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")


class GateUnavailable(Exception):
    """The gate cannot run here; the message says exactly what is missing and how to provide it."""


@dataclass(frozen=True)
class Diagnostic:
    """One diagnostic of ``terraform validate``: where (the resource address, when Terraform names one) and
    Terraform's own message."""

    stack: str
    severity: str
    address: str
    summary: str
    detail: str

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.stack}: {self.address}: {self.summary}{detail}"


@dataclass
class StackOutcome:
    stack: str
    unchecked: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan_error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    # data.terraform_remote_state.<name> -> the outputs read from the gate's stand-in state
    stand_ins: dict[str, list[str]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def planned(self) -> bool:
        return not self.errors and self.plan_error is None


@dataclass
class GateReport:
    aws_version: str
    outcomes: list[StackOutcome]
    # stack -> the providers it needs that the mirror does not hold
    not_validated: dict[str, list[str]]
    seconds: float

    @property
    def clean(self) -> bool:
        return all(outcome.planned for outcome in self.outcomes)


def providers_of(stack: Mapping[str, Any]) -> list[str]:
    required = (stack.get("terraform") or {}).get("required_providers") or {}
    return sorted(required)


def split_stacks(stacks: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], dict[str, list[str]]]:
    """The AWS-only stacks (the gate runs them), and the others with the providers they need besides aws."""
    aws_only = [name for name, stack in stacks.items() if providers_of(stack) == ["aws"]]
    others = {name: [p for p in providers_of(stack) if p != "aws"] for name, stack in stacks.items()
              if name not in aws_only}
    return aws_only, others


def available_aws_version() -> str:
    """The AWS provider version of the mirror, or GateUnavailable saying what is missing."""
    if terraform_binary() is None:
        raise GateUnavailable("no terraform on PATH: install Terraform 1.11.4 (the version CI pins) to run the "
                              "Terraform gate")
    versions = mirrored_aws_versions()
    if not versions:
        raise GateUnavailable(f"no hashicorp/aws provider in the filesystem mirror {mirror()} (set "
                              f"HAFLOW_TF_PLUGIN_MIRROR to a mirror made with `terraform providers mirror`)")
    return versions[-1]


def _strip_block(body: Mapping[str, Any], block: Mapping[str, Any], meta: frozenset[str],
                 prefix: str) -> tuple[dict[str, Any], list[str]]:
    own = {key: value for key, value in body.items() if key not in meta}
    kept, dropped = strip_unknown(own, block)
    kept.update({key: value for key, value in body.items() if key in meta})
    return kept, [f"{prefix}.{path}" for path in dropped]


def _strip_ignore_changes(body: dict[str, Any], block: Mapping[str, Any], prefix: str) -> list[str]:
    """Entries of lifecycle.ignore_changes naming what the schema does not know (Terraform refuses them)."""
    lifecycle = body.get("lifecycle")
    if not isinstance(lifecycle, dict) or not isinstance(lifecycle.get("ignore_changes"), list):
        return []
    known = set(block.get("attributes") or {}) | set(block.get("block_types") or {})
    kept: list[Any] = []
    dropped: list[Any] = []
    for entry in lifecycle["ignore_changes"]:
        match = ATTRIBUTE_ROOT.match(entry) if isinstance(entry, str) else None
        (kept if match is None or match.group(0) in known else dropped).append(entry)
    lifecycle["ignore_changes"] = kept
    return [f"{prefix}.lifecycle.ignore_changes[{entry}]" for entry in dropped]


def remote_stand_ins(document: dict[str, Any]) -> dict[str, list[str]]:
    """Point every ``terraform_remote_state`` of ``document`` at a local stand-in state file
    (``remote-<name>.tfstate``, written by ``write_stand_ins``); the outputs each is read for, by name."""
    sources = (document.get("data") or {}).get(REMOTE_STATE) or {}
    text = json.dumps({key: value for key, value in document.items() if key != "data"}) + json.dumps(
        {rtype: body for rtype, body in (document.get("data") or {}).items() if rtype != REMOTE_STATE})
    read: dict[str, set[str]] = {name: set() for name in sources}
    for name, output in REMOTE_OUTPUT.findall(text):
        read.setdefault(name, set()).add(output)
    for name in sources:
        sources[name] = {"backend": "local", "config": {"path": f"remote-{name}.tfstate"}}
    return {name: sorted(outputs) for name, outputs in read.items() if name in sources}


def write_stand_ins(directory: Path, stand_ins: Mapping[str, list[str]]) -> None:
    """The stand-in state of each remote state: a version 4 state with the outputs as placeholder strings."""
    for name, outputs in stand_ins.items():
        state = {"version": 4, "terraform_version": "1.11.4", "serial": 1,
                 "lineage": "0b6c1d3e-8f6a-4c1e-9a59-000000000001",
                 "outputs": {output: {"value": f"gate-remote-{output}", "type": "string"} for output in outputs},
                 "resources": []}
        (directory / f"remote-{name}.tfstate").write_text(json.dumps(state, indent=1), encoding="utf-8")


def gate_config(stack: Mapping[str, Any], schema: Mapping[str, Any], aws_version: str,
                endpoint: str) -> tuple[dict[str, Any], list[str]]:
    """The stack as the gate runs it, and what it removed (``address.path``, the provider's schema does not
    know it): a local backend, the mirror's provider version, every AWS endpoint on ``endpoint``."""
    document = copy.deepcopy(dict(stack))
    unchecked: list[str] = []
    settings = document.setdefault("terraform", {})
    settings["backend"] = {"local": {"path": STATE_FILE}}
    settings["required_providers"] = {"aws": {"source": "hashicorp/aws", "version": aws_version}}
    provider_block = schema["provider"]["block"]
    endpoint_names = sorted(provider_block["block_types"]["endpoints"]["block"].get("attributes") or {})
    blocks = (document.get("provider") or {}).get("aws") or [{}]
    configured = []
    for index, original in enumerate(blocks if isinstance(blocks, list) else [blocks]):
        name = f"provider.aws[{original.get('alias', index)}]"
        kept, dropped = _strip_block(original, provider_block, PROVIDER_META, name)
        unchecked += dropped
        region = str(kept.get("region") or "us-east-1")
        kept.pop("assume_role", None)
        kept.update(provider_config(region))
        kept["s3_use_path_style"] = True
        kept["endpoints"] = [dict.fromkeys(endpoint_names, endpoint)]
        configured.append(kept)
    document["provider"] = {"aws": configured}
    # Terraform's own data source (built in, not the AWS provider's): kept as it is, out of the schema check.
    remote = (document.get("data") or {}).pop(REMOTE_STATE, None)
    for section, schemas in (("resource", schema["resource_schemas"]), ("data", schema["data_source_schemas"])):
        for rtype, instances in list((document.get(section) or {}).items()):
            prefix = "data." if section == "data" else ""
            if rtype not in schemas:
                for name in instances:
                    unchecked.append(f"{prefix}{rtype}.{name} (the whole {section} type)")
                del document[section][rtype]
                continue
            block = schemas[rtype]["block"]
            for name, body in list(instances.items()):
                address = f"{prefix}{rtype}.{name}"
                kept, dropped = _strip_block(body, block, META_ARGUMENTS, address)
                dropped += _strip_ignore_changes(kept, block, address)
                instances[name] = kept
                unchecked += dropped
    if remote is not None:
        document.setdefault("data", {})[REMOTE_STATE] = remote
    return document, unchecked


def _diagnostics(stack: str, output: str) -> list[Diagnostic]:
    document = json.loads(output)
    found = []
    for item in document.get("diagnostics") or []:
        snippet = item.get("snippet") or {}
        address = item.get("address") or snippet.get("context") or (item.get("range") or {}).get("filename") or "-"
        found.append(Diagnostic(stack, str(item.get("severity")), str(address).removeprefix("resource."),
                                str(item.get("summary")), " ".join(str(item.get("detail") or "").split())))
    return found


def _owner(path: str) -> str:
    """The resource address a removed path belongs to (``type.name`` or ``data.type.name``)."""
    parts = path.split(" ", 1)[0].split(".")
    return ".".join(parts[:3] if parts[0] == "data" else parts[:2])


def _version_gaps(outcome: StackOutcome) -> list[Diagnostic]:
    """The validation errors on resources the gate cut attributes from: what the rest says is the cut
    copy's problem (a 6.x-only form of the resource, e.g. a regional NAT gateway without subnet_id), not
    the stack's. Empty unless every error is one."""
    cut = {_owner(path) for path in outcome.unchecked}
    errors = outcome.errors
    return errors if errors and all(error.address in cut for error in errors) else []


def _without(document: dict[str, Any], address: str) -> None:
    """``document`` without the resource at ``address``; a reference to one of its attributes becomes the
    literal ``gate-unchecked-<attribute>``, a depends_on on it goes."""
    rtype, name = address.split(".", 1)
    del document["resource"][rtype][name]
    if not document["resource"][rtype]:
        del document["resource"][rtype]
    whole = re.compile(rf"^\$\{{{re.escape(address)}\.([A-Za-z0-9_]+)\}}$")
    inside = re.compile(rf"\b{re.escape(address)}\.([A-Za-z0-9_]+)")

    def rewrite(value: Any) -> Any:
        if isinstance(value, str):
            match = whole.match(value)
            return f"gate-unchecked-{match.group(1)}" if match else inside.sub(r'"gate-unchecked-\1"', value)
        if isinstance(value, list):
            return [rewrite(item) for item in value if item != address]
        if isinstance(value, dict):
            return {key: rewrite(item) for key, item in value.items()}
        return value

    for key in list(document):
        if key != "terraform":
            document[key] = rewrite(document[key])


def _counts(plan: Mapping[str, Any]) -> dict[str, int]:
    counted: Counter[str] = Counter()
    for change in plan.get("resource_changes") or []:
        actions = change["change"]["actions"]
        kind = "replace" if sorted(actions) == ["create", "delete"] else actions[0]
        counted[kind if change.get("mode") != "data" else "read"] += 1
    return dict(counted)


def copy_assets(stack_dir: Path | None, workdir: Path) -> None:
    """The stack's cdktf assets (``<stack_dir>/assets``), where the stack's relative paths expect them."""
    source = stack_dir / ASSETS_DIR if stack_dir is not None else None
    target = workdir / ASSETS_DIR
    shutil.rmtree(target, ignore_errors=True)
    if source is not None and source.is_dir():
        shutil.copytree(source, target)


def check_stack(name: str, stack: Mapping[str, Any], workdir: Workdir, schema: Mapping[str, Any],
                endpoint: str, stack_dir: Path | None = None) -> StackOutcome:
    """Validate and plan one AWS-only stack in ``workdir``; ``stack_dir`` is where it was synthesized (its assets
    are there; left out: a stack without assets)."""
    started = time.monotonic()
    copy_assets(stack_dir, workdir.path)
    document, unchecked = gate_config(stack, schema, workdir.aws_version, endpoint)
    outcome = StackOutcome(name, unchecked, stand_ins=remote_stand_ins(document))
    write_stand_ins(workdir.path, outcome.stand_ins)
    (workdir.path / STATE_FILE).unlink(missing_ok=True)
    (workdir.path / "cdk.tf.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
    workdir.run("init", "-input=false", "-no-color")
    validated = workdir.call("validate", "-json", "-no-color")
    outcome.diagnostics = _diagnostics(name, validated.stdout)
    gaps = _version_gaps(outcome)
    if gaps:
        for gap in gaps:
            _without(document, gap.address)
            outcome.unchecked.append(f"{gap.address} (the whole resource: without what was removed, "
                                     f"Terraform says: {gap.summary}: {gap.detail})")
        (workdir.path / "cdk.tf.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
        validated = workdir.call("validate", "-json", "-no-color")
        outcome.diagnostics = _diagnostics(name, validated.stdout)
    if validated.returncode == 0 and not outcome.errors:
        try:
            outcome.counts = _counts(workdir.plan_json("plan"))
        except TerraformError as err:
            outcome.plan_error = str(err)
    outcome.seconds = time.monotonic() - started
    return outcome


def provider_schema(root: Path, aws_version: str) -> dict[str, Any]:
    """The mirror's AWS provider schema, read once in ``root``."""
    workdir = Workdir.create(root, aws_version)
    workdir.write_config({})
    workdir.init()
    return workdir.provider_schema()


def run_gate(stacks: Mapping[str, Mapping[str, Any]], scratch: Path, endpoint: str,
             aws_version: str | None = None, stacks_dir: Path | None = None) -> GateReport:
    """The gate over ``stacks`` (name -> synthesized JSON) in ``scratch``, against the moto_server at
    ``endpoint``; ``stacks_dir`` is the synth output's ``stacks`` directory, holding each stack's assets."""
    started = time.monotonic()
    version = aws_version or available_aws_version()
    aws_only, others = split_stacks(stacks)
    schema = provider_schema(scratch / "_schema", version)
    outcomes = [check_stack(name, stacks[name], Workdir.create(scratch / name, version), schema, endpoint,
                            stacks_dir / name if stacks_dir is not None else None)
                for name in aws_only]
    return GateReport(version, outcomes, others, time.monotonic() - started)


def format_gate(report: GateReport) -> list[str]:
    """The gate's report, line by line: per stack the plan counts (or why none), the validation errors, and
    every attribute not checked by Terraform; then the stacks it could not validate."""
    lines = [f"Terraform gate: {len(report.outcomes)} AWS-only stack(s) with hashicorp/aws {report.aws_version} "
             f"in {report.seconds:.1f}s"]
    for outcome in report.outcomes:
        if outcome.errors:
            state = f"INVALID ({len(outcome.errors)} validation error(s))"
        elif outcome.plan_error is not None:
            state = "validates, PLAN FAILED"
        else:
            counts = ", ".join(f"{count} to {kind}" for kind, count in sorted(outcome.counts.items()))
            state = f"validates; plan: {counts or 'no changes'}"
        lines.append(f"  {outcome.stack}: {state} ({outcome.seconds:.1f}s)")
        lines += [f"    error: {d.address}: {d.summary}: {d.detail}" for d in outcome.errors]
        if outcome.plan_error:
            lines += [f"    {line}" for line in outcome.plan_error.splitlines()]
        for remote, outputs in sorted(outcome.stand_ins.items()):
            lines.append(f"    data.{REMOTE_STATE}.{remote}: read from the gate's stand-in state (the producing "
                         f"stack is not applied here), outputs {', '.join(outputs) or '(none)'} as placeholders")
        if outcome.unchecked:
            lines.append(f"    not checked by Terraform (unknown to hashicorp/aws {report.aws_version}, removed "
                         f"from the gate's copy): {len(outcome.unchecked)}")
            lines += [f"      {path}" for path in outcome.unchecked]
    for name, needs in sorted(report.not_validated.items()):
        lines.append(f"  {name}: NOT VALIDATED here: needs the {', '.join(needs)} provider(s), which the mirror "
                     f"does not hold")
    return lines


WITH_ADDRESS = re.compile(r"^\s*with ([A-Za-z0-9_.\[\]\"-]+),\s*$", re.MULTILINE)


def findings(report: GateReport, env: str, stacks: list[str]) -> list[Finding]:
    """The gate's verdicts on ``stacks`` (those of environment ``env``) as findings of HA-TF-001/002."""
    found: list[Finding] = []
    for outcome in report.outcomes:
        if outcome.stack not in stacks:
            continue
        found += [Finding(VALIDATES.id, VALIDATES.level, env, outcome.stack, d.address,
                          f"terraform validate (hashicorp/aws {report.aws_version}): {d.summary}: {d.detail}",
                          VALIDATES.fix) for d in outcome.errors]
        if outcome.plan_error is not None:
            where = WITH_ADDRESS.search(outcome.plan_error)
            found.append(Finding(PLANS.id, PLANS.level, env, outcome.stack, where.group(1) if where else "-",
                                 f"terraform plan -refresh=false against moto: {outcome.plan_error}", PLANS.fix))
    return found
