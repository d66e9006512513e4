"""checkov's terraform_json runner over synthesized stacks, and its kubernetes runner over the objects the render
gate made of each platform stack (Helm's engine, the pinned charts), with haflow's justified skips applied.

checkov reads cdktf's ``cdk.tf.json`` directly, but ignores inline skip comments there (JSON has no
comments), so accepted findings live in one file, ``checkov-skips.yaml``: check id, the stacks and
resource addresses it covers, and a reason. A failed check without a matching skip is an error; a
skip that matches nothing is reported, like an unused suppression. A rendered object is named by its platform stack
and ``Kind/namespace/name`` (``Kind/name`` when cluster-scoped), as the rendered rules name it.

checkov is imported only when this runs (it costs seconds).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from haflow.errors import MISSING, ConfigError, ConfigIssue
from haflow.output import repository_root
from haflow.plan import STACK_FILE
from haflow.reader import display, read_yaml
from haflow.rules.engine import ERROR, UNUSED_CHECKOV_SKIP, Finding

SKIPS_FILE = Path("checkov-skips.yaml")
Framework = Literal["terraform_json", "kubernetes"]
TERRAFORM_JSON: Framework = "terraform_json"
KUBERNETES: Framework = "kubernetes"
MIN_REASON_LENGTH = 10


def _terraform_only() -> list[Framework]:
    return [TERRAFORM_JSON]


class CheckovSkip(BaseModel):
    """One accepted checkov finding."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: str = Field(description="checkov check id, e.g. CKV_AWS_144")
    reason: str = Field(description="Why the check does not apply or is accepted, at least 10 characters")
    stacks: list[str] = Field(default_factory=lambda: ["*"], description="Stack name patterns; default all")
    resources: list[str] = Field(default_factory=list, description="Resource addresses; empty: every resource")
    frameworks: list[Framework] = Field(
        default_factory=_terraform_only,
        description="checkov frameworks the skip covers: terraform_json (the synthesized stacks, addresses "
        "<type>.<logical id>) and/or kubernetes (the rendered objects, addresses Kind/namespace/name)")

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if len(value.strip()) < MIN_REASON_LENGTH:
            raise ValueError(f"a skip needs a reason of at least {MIN_REASON_LENGTH} characters")
        return value

    def covers(self, check_id: str, stack: str, address: str) -> bool:
        return (
            check_id == self.check
            and framework_of(address) in self.frameworks
            and any(fnmatch.fnmatchcase(stack, pattern) for pattern in self.stacks)
            and (not self.resources or address in self.resources)
        )


def framework_of(address: str) -> str:
    """Which checkov run reported a failure: rendered objects are named Kind/namespace/name, plan resources
    <type>.<logical id> (no slash)."""
    return KUBERNETES if "/" in address else TERRAFORM_JSON


class SkipsDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    skips: list[CheckovSkip] = Field(default_factory=list)


def skips_file_for(config_dir: Path) -> Path:
    """checkov-skips.yaml of the configuration's repository: at the root of the git repository holding
    ``config_dir`` (the directory above it when it is in none), wherever haflow is run from."""
    return (repository_root(config_dir) or config_dir.resolve().parent) / SKIPS_FILE.name


def load_skips(path: Path) -> list[CheckovSkip]:
    """The skips in ``path`` (none when it does not exist); ConfigError naming each bad entry."""
    if not path.exists():
        return []
    try:
        return SkipsDocument.model_validate(read_yaml(path) or {}).skips
    except ValidationError as err:
        raise ConfigError(
            [
                ConfigIssue(
                    display(path), ".".join(str(part) for part in error["loc"]), error.get("input", MISSING),
                    error["msg"], "each skip is {check, reason, stacks?, resources?, frameworks?}",
                )
                for error in err.errors()
            ]
        ) from None


@dataclass
class CheckovOutcome:
    failures: list[Finding] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)
    unused: list[Finding] = field(default_factory=list)
    passed: int = 0
    parsing_errors: list[str] = field(default_factory=list)
    check_names: dict[str, str] = field(default_factory=dict)


RenderedManifests = dict[str, Sequence[tuple[str, Mapping[str, Any]]]]


def run_checkov(stacks: dict[str, dict[str, Any]], skips: list[CheckovSkip], env_of: dict[str, str],
                rendered: RenderedManifests | None = None) -> CheckovOutcome:
    """Run checkov on ``stacks`` (stack name -> synthesized JSON) with its terraform_json framework and, given
    ``rendered`` (platform stack name -> (address, manifest) of each object the render gate made of it), its
    kubernetes framework over those objects; apply ``skips`` to both. A rendered object's failure is named by the
    platform stack and the object's ``Kind/namespace/name``, as the rendered rules name it."""
    logging.getLogger("checkov").setLevel(logging.ERROR)
    outcome = CheckovOutcome()
    failed = _terraform_failures(stacks, env_of, outcome)
    if rendered:
        failed += _kubernetes_failures(rendered, env_of, outcome)
    outcome.failures, outcome.skipped, outcome.unused = apply_skips(
        failed, skips, list(dict.fromkeys([*stacks, *(rendered or {})])),
        frameworks=(TERRAFORM_JSON, KUBERNETES) if rendered else (TERRAFORM_JSON,))
    return outcome


def _terraform_failures(stacks: dict[str, dict[str, Any]], env_of: dict[str, str],
                        outcome: CheckovOutcome) -> list[Finding]:
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform_json.runner import TerraformJsonRunner

    with tempfile.TemporaryDirectory(prefix="haflow-checkov-") as scratch:
        by_file: dict[str, str] = {}
        for name in stacks:
            copy = Path(scratch) / name / STACK_FILE
            copy.parent.mkdir(parents=True)
            copy.write_text(json.dumps(checkov_view(stacks[name]), indent=2), encoding="utf-8")
            by_file[str(copy.resolve())] = name
        report = TerraformJsonRunner().run(
            root_folder=None,
            files=sorted(by_file),
            runner_filter=RunnerFilter(framework=["terraform_json"], show_progress_bar=False),
        )
    failed: list[Finding] = []
    for current in report if isinstance(report, list) else [report]:
        outcome.passed += len(current.passed_checks)
        outcome.parsing_errors.extend(current.parsing_errors)
        for record in current.failed_checks:
            outcome.check_names[record.check_id] = record.check_name
            stack = by_file.get(str(Path(record.file_abs_path).resolve()), "")
            failed.append(
                Finding(
                    record.check_id, ERROR, env_of.get(stack, ""), stack,
                    _address(record.resource, stacks.get(stack, {})), f"checkov: {record.check_name}",
                    record.guideline or f"fix the resource, or add a justified skip to {SKIPS_FILE}",
                )
            )
    return failed


def _kubernetes_failures(rendered: RenderedManifests, env_of: dict[str, str],
                         outcome: CheckovOutcome) -> list[Finding]:
    """checkov's kubernetes framework over the rendered objects, one file per object (so each failure maps back
    to exactly one object, whatever name checkov gives it)."""
    import yaml
    from checkov.kubernetes.runner import Runner as KubernetesRunner
    from checkov.runner_filter import RunnerFilter

    with tempfile.TemporaryDirectory(prefix="haflow-checkov-k8s-") as scratch:
        by_file: dict[str, tuple[str, str]] = {}
        for stack, objects in rendered.items():
            folder = Path(scratch) / stack
            folder.mkdir(parents=True)
            for index, (address, manifest) in enumerate(objects):
                path = folder / f"{index:05d}.yaml"
                path.write_text(yaml.safe_dump(_plain(manifest), sort_keys=False), encoding="utf-8")
                by_file[str(path.resolve())] = (stack, address)
        report = KubernetesRunner().run(
            root_folder=scratch,
            runner_filter=RunnerFilter(framework=["kubernetes"], show_progress_bar=False),
        )
    failed: list[Finding] = []
    for current in report if isinstance(report, list) else [report]:
        outcome.passed += len(current.passed_checks)
        outcome.parsing_errors.extend(current.parsing_errors)
        for record in current.failed_checks:
            outcome.check_names[record.check_id] = record.check_name
            stack, address = by_file.get(str(Path(record.file_abs_path).resolve()), ("", record.resource))
            failed.append(
                Finding(
                    record.check_id, ERROR, env_of.get(stack, ""), stack, address,
                    f"checkov (rendered object): {record.check_name}",
                    record.guideline or f"fix the release's values, or add a justified skip to {SKIPS_FILE}",
                )
            )
    return failed


def _plain(node: Any) -> Any:
    """A manifest as plain dicts and lists (rendered objects may hold read-only mappings)."""
    if isinstance(node, Mapping):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(item) for item in node]
    return node


def apply_skips(
    failed: list[Finding], skips: list[CheckovSkip], stack_names: list[str],
    frameworks: Sequence[str] = (TERRAFORM_JSON,),
) -> tuple[list[Finding], list[tuple[Finding, str]], list[Finding]]:
    """Split checkov failures into unjustified ones and skipped ones (with the reason); report unused skips.

    A skip whose stacks or frameworks were not part of this run (dev's, when only prod is checked; the rendered
    objects', with the render gate off) is not unused.
    """
    failures: list[Finding] = []
    skipped: list[tuple[Finding, str]] = []
    used: set[int] = set()
    for finding in failed:
        index = next(
            (i for i, skip in enumerate(skips) if skip.covers(finding.rule_id, finding.stack, finding.address)), None
        )
        if index is None:
            failures.append(finding)
        else:
            used.add(index)
            skipped.append((finding, skips[index].reason))
    unused = [
        Finding(
            UNUSED_CHECKOV_SKIP.id, UNUSED_CHECKOV_SKIP.level, "", "", f"skips[{index}]",
            f"skip of {skip.check} matches no checkov failure", UNUSED_CHECKOV_SKIP.fix,
        )
        for index, skip in enumerate(skips)
        if index not in used
        and any(fnmatch.fnmatchcase(name, pattern) for name in stack_names for pattern in skip.stacks)
        and any(framework in frameworks for framework in skip.frameworks)
    ]
    return failures, skipped, unused


def checkov_view(stack: dict[str, Any]) -> dict[str, Any]:
    """The stack as checkov 3.1 can parse it: without ``locals`` and ``terraform.required_version``.

    checkov's terraform_json parser expects every block entry to be an object and raises on a cdktf
    TerraformLocal (``"locals": {"name": "${...}"}``) and on the string ``required_version``; no checkov
    check reads either, and a resource attribute referring to a local stays an unresolved expression to
    checkov either way.
    """
    view = {key: value for key, value in stack.items() if key != "locals"}
    if "terraform" in view:
        view["terraform"] = {key: value for key, value in view["terraform"].items() if key != "required_version"}
    return view


def _address(resource: str, stack: dict[str, Any]) -> str:
    """``<type>.<logical id>``; checkov 3.1 names some terraform_json resources ``resource.<logical id>``."""
    kind, _, name = resource.partition(".")
    if kind != "resource":
        return resource
    for rtype, items in (stack.get("resource") or {}).items():
        if name in items:
            return f"{rtype}.{name}"
    return resource

