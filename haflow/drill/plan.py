"""The synthesized plan of an environment, read the way a live check needs it.

Resources are found by type; attributes that reference other resources (``${aws_subnet.x.id}``) are
resolved to the referenced resource's literal identifier in the plan (its Name tag, cluster
identifier, bucket name, ...), and ``${data.aws_caller_identity.x.account_id}`` to the live account.
A reference that cannot be resolved raises Unresolved: the caller reports it, never passes it silently.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from haflow.config.model import Environment
from haflow.synthesis import STACK_FILE, StackJson

TOKEN = re.compile(r"\$\{([^}]*)\}")
# The attribute that holds each resource type's live identifier, which ``.id`` (and the attribute
# itself) resolve to. Names are the AWS provider's (6.x) argument names.
IDENTIFIER_ATTRIBUTE = {
    "aws_eks_cluster": "name",
    "aws_eks_node_group": "node_group_name",
    "aws_rds_cluster": "cluster_identifier",
    "aws_rds_cluster_instance": "identifier",
    "aws_elasticache_replication_group": "replication_group_id",
    "aws_s3_bucket": "bucket",
    "aws_db_subnet_group": "name",
    "aws_elasticache_subnet_group": "name",
}


class Unresolved(Exception):
    """A plan value refers to something that has no literal value in the plan or the live account."""


@dataclass(frozen=True)
class PlanResource:
    rtype: str
    name: str
    body: dict[str, Any]

    @property
    def address(self) -> str:
        """``type.construct-path``: what a reader recognizes (the Terraform logical id carries a hash)."""
        path = self.body.get("//", {}).get("metadata", {}).get("path", "")
        return f"{self.rtype}.{path.split('/', 1)[-1] if path else self.name}"


@dataclass(frozen=True)
class Reference:
    rtype: str
    name: str
    attribute: str


class Plan:
    """One synthesized stack, with references resolved against the live account id."""

    def __init__(self, stack: StackJson, *, account_id: str | None = None) -> None:
        self.stack = stack
        self.account_id = account_id

    def resources(self, rtype: str) -> Iterator[PlanResource]:
        for name, body in self.stack.get("resource", {}).get(rtype, {}).items():
            yield PlanResource(rtype, name, body)

    def get(self, rtype: str, name: str) -> PlanResource:
        body = self.stack.get("resource", {}).get(rtype, {}).get(name)
        if body is None:
            raise Unresolved(f"${{{rtype}.{name}}} is not a resource of this plan")
        return PlanResource(rtype, name, body)

    def has(self, rtype: str) -> bool:
        return bool(self.stack.get("resource", {}).get(rtype))

    def reference(self, value: Any) -> Reference | None:
        """The resource a whole-string reference such as ``${aws_subnet.x.id}`` points at, else None."""
        if not isinstance(value, str):
            return None
        match = TOKEN.fullmatch(value)
        if not match:
            return None
        parts = match.group(1).split(".")
        if len(parts) != 3 or parts[0] == "data":
            return None
        return Reference(*parts)

    def literal(self, value: Any) -> Any:
        """``value`` with every reference replaced by its literal; raises Unresolved when one has none."""
        if isinstance(value, list):
            return [self.literal(item) for item in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        return TOKEN.sub(lambda match: str(self._token(match.group(1))), value)

    def _token(self, expression: str) -> Any:
        parts = expression.split(".")
        if parts[:2] == ["data", "aws_caller_identity"] and parts[-1] == "account_id":
            if self.account_id is None:
                raise Unresolved(f"${{{expression}}} needs the live account id (STS GetCallerIdentity)")
            return self.account_id
        if len(parts) == 3 and parts[0] in IDENTIFIER_ATTRIBUTE:
            rtype, name, attribute = parts
            identifier = IDENTIFIER_ATTRIBUTE[rtype]
            if attribute in ("id", identifier):
                body = self.get(rtype, name).body
                if identifier in body:
                    return self.literal(body[identifier])
        raise Unresolved(f"${{{expression}}} has no literal value in the plan")


def block(value: Any) -> dict[str, Any]:
    """A nested block as cdktf writes it: an object, or a list holding one object; {} when absent."""
    if isinstance(value, list):
        return value[0] if value and isinstance(value[0], dict) else {}
    return value if isinstance(value, dict) else {}


def stack_file(plan_dir: Path, env: Environment) -> Path:
    return plan_dir / "stacks" / env.foundation_stack_name / STACK_FILE


def load_foundation_plan(env: Environment, plan_dir: Path) -> tuple[StackJson, str]:
    """The environment's foundation stack from ``plan_dir``, synthesized into a temp dir when absent.

    Returns the stack and where it came from. Synthesizing never touches ``plan_dir``: another
    environment's output there stays as it was.
    """
    if stack_file(plan_dir, env).is_file():
        path = stack_file(plan_dir, env)
        stack: StackJson = json.loads(path.read_text(encoding="utf-8"))
        return stack, str(path)
    from haflow.synthesis import synthesize

    with tempfile.TemporaryDirectory(prefix="haflow-drill-") as scratch:
        stacks = synthesize([env], Path(scratch) / "cdktf.out")
    return stacks[env.foundation_stack_name], f"a fresh synth of {env.name} (no {stack_file(plan_dir, env)})"
