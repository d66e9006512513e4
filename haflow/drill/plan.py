"""The synthesized plan of an environment, read the way a live check needs it.

Resources are found by type; attributes that reference other resources (``${aws_subnet.x.id}``) are
resolved to the referenced resource's literal identifier in the plan (its Name tag, cluster
identifier, bucket name, ...), and ``${data.aws_caller_identity.x.account_id}`` to the live account.
A reference that cannot be resolved raises Unresolved: the caller reports it, never passes it silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from haflow import plan
from haflow.plan import CDKTF_METADATA_KEY, Reference, StackJson

TOKEN = re.compile(r"\$\{([^}]*)\}")
# The attribute that holds each resource type's live identifier, which ``.id`` (and the attribute
# itself) resolve to. Names are the AWS provider's (6.x) argument names.
IDENTIFIER_ATTRIBUTE = {
    "aws_eks_cluster": "name",
    "aws_eks_node_group": "node_group_name",
    "aws_rds_cluster": "cluster_identifier",
    "aws_rds_global_cluster": "global_cluster_identifier",
    "aws_rds_cluster_instance": "identifier",
    "aws_elasticache_replication_group": "replication_group_id",
    "aws_s3_bucket": "bucket",
    "aws_db_subnet_group": "name",
    "aws_elasticache_subnet_group": "name",
}


class Unresolved(Exception):
    """A plan value refers to something that has no literal value in the plan or the live account."""


class PlanResource(plan.Resource):
    """A resource named the way a reader recognizes it in drift output."""

    @property
    def address(self) -> str:
        """``type.construct-path``: the Terraform logical id carries a hash."""
        path = self.body.get(CDKTF_METADATA_KEY, {}).get("metadata", {}).get("path", "")
        return f"{self.type}.{path.split('/', 1)[-1] if path else self.name}"


class Plan:
    """One synthesized stack, with references resolved against the live account id."""

    def __init__(self, stack: StackJson, *, account_id: str | None = None) -> None:
        self.stack = stack
        self.account_id = account_id

    def resources(self, rtype: str) -> Iterator[PlanResource]:
        for found in plan.resources(self.stack, rtype):
            yield PlanResource(found.type, found.name, found.body)

    def get(self, rtype: str, name: str) -> PlanResource:
        found = plan.find(self.stack, rtype, name)
        if found is None:
            raise Unresolved(f"${{{rtype}.{name}}} is not a resource of this plan")
        return PlanResource(found.type, found.name, found.body)

    def reference(self, value: Any) -> Reference | None:
        """The resource a whole-string reference such as ``${aws_subnet.x.id}`` points at, else None."""
        return plan.reference(value)

    def literal(self, value: Any) -> Any:
        """``value`` with every reference replaced by its literal; raises Unresolved when one has none."""
        if isinstance(value, list):
            return [self.literal(item) for item in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        return TOKEN.sub(lambda match: str(self._token(match.group(0))), value)

    def _token(self, token: str) -> Any:
        parts = token[2:-1].split(".")
        if parts[:2] == ["data", "aws_caller_identity"] and parts[-1] == "account_id":
            if self.account_id is None:
                raise Unresolved(f"{token} needs the live account id (STS GetCallerIdentity)")
            return self.account_id
        ref = plan.reference(token)
        if ref is not None and ref.rtype in IDENTIFIER_ATTRIBUTE:
            identifier = IDENTIFIER_ATTRIBUTE[ref.rtype]
            if ref.attribute in ("id", identifier):
                body = self.get(ref.rtype, ref.name).body
                if identifier in body:
                    return self.literal(body[identifier])
        raise Unresolved(f"{token} has no literal value in the plan")
