"""Typed stand-ins for the Terraform references inside Helm values and Kubernetes resources.

A platform stack reads the foundation's values through ``terraform_remote_state`` outputs
(``${data.terraform_remote_state.<input>.outputs.<output>}``); the foundation stack says what each output
is (``${aws_rds_cluster.<id>.port}``). The stand-in takes the type of that attribute, so a chart that
does arithmetic on a port, or validates an ARN, sees the shape it will get at apply time: a port is an
int, an ARN is ARN-shaped, an endpoint a hostname, an EKS endpoint an https URL.

Every stand-in is unique, and ``Placeholders.expressions`` maps it back to the expression it replaced,
so a reader of the rendered objects (the IRSA rule, the runtime harness) can follow it to its source.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from haflow import contract
from haflow.plan import REFERENCE, Reference

_EXPRESSION = re.compile(r"\$\{[^}]*\}")
_REMOTE_OUTPUT = re.compile(r"^\$\{data\.terraform_remote_state\.[^.}]+\.outputs\.([^.}\[]+)\}$")
ACCOUNT = "123456789012"
# The EKS service-linked endpoints and data-store endpoints AWS hands out look like this.
_PORTS = {"aws_db_instance": contract.POSTGRES_PORT, "aws_rds_cluster": contract.POSTGRES_PORT,
          "aws_elasticache_replication_group": contract.REDIS_PORT, "aws_elasticache_cluster": contract.REDIS_PORT}
_ARN_SERVICE = {"aws_iam_role": "iam", "aws_iam_policy": "iam", "aws_secretsmanager_secret": "secretsmanager",
                "aws_kms_key": "kms", "aws_s3_bucket": "s3", "aws_sqs_queue": "sqs", "aws_sns_topic": "sns",
                "aws_iam_openid_connect_provider": "iam", "aws_eks_cluster": "eks"}


@dataclass(frozen=True)
class Target:
    """What an expression stands for: a resource attribute of some stack, or unknown ("", "")."""

    rtype: str
    name: str
    attribute: str


@dataclass
class Placeholders:
    """Stand-ins for one environment; ``expressions`` maps each stand-in (as text) to its expression."""

    region: str
    outputs: Mapping[str, Any]  # the foundation stack's outputs, by name
    expressions: dict[str, str] = field(default_factory=dict)
    _by_expression: dict[str, Any] = field(default_factory=dict)

    def substitute(self, value: Any, key: str = "") -> Any:
        """``value`` with every ``${...}`` replaced; a whole-string reference keeps its own type."""
        if isinstance(value, Mapping):
            return {k: self.substitute(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(item, key) for item in value]
        if not isinstance(value, str) or "${" not in value:
            return value
        whole = _EXPRESSION.fullmatch(value)
        if whole:
            return self.stand_in(value, key)
        return _EXPRESSION.sub(lambda match: str(self.stand_in(match.group(0), key)), value)

    def stand_in(self, expression: str, key: str = "") -> Any:
        if expression in self._by_expression:
            return self._by_expression[expression]
        target = self.target(expression)
        value = self._typed(target, key)
        while str(value) in self.expressions:  # keep every stand-in unique, so it maps back
            value = value + 1 if isinstance(value, int) else f"{value}x"
        self._by_expression[expression] = value
        self.expressions[str(value)] = expression
        return value

    def target(self, expression: str) -> Target:
        """The resource attribute an expression names, through the foundation's outputs when it is remote."""
        remote = _REMOTE_OUTPUT.match(expression)
        if remote:
            output = self.outputs.get(remote.group(1))
            expression = str(output.get("value")) if isinstance(output, Mapping) else ""
        match = REFERENCE.fullmatch(expression)
        if not match:
            return Target("", "", "")
        rtype, name, attribute = match.groups()
        reference = Reference(rtype, name, (attribute or "").removeprefix("."))
        return Target(reference.rtype, reference.name, reference.attribute)

    def _typed(self, target: Target, key: str) -> Any:
        slug = _slug(target.name or key or "value")
        attribute = target.attribute.rsplit(".", 1)[-1]
        if attribute == "port" or (not target.attribute and key.lower().endswith("port")):
            return _PORTS.get(target.rtype, 8080)
        if attribute.endswith("arn"):
            return self._arn(target, slug)
        if target.rtype == "aws_eks_cluster" and attribute == "endpoint":
            return f"https://{slug[:32].upper()}.gr7.{self.region}.eks.amazonaws.com"
        if attribute.endswith(("endpoint", "address")) or key.lower().endswith(("host", "hostname")):
            return f"{slug}.placeholder.{self.region}.amazonaws.com"
        if attribute == "data":  # certificate_authority[0].data
            return base64.b64encode(f"placeholder {slug}".encode()).decode()
        if target.rtype == "aws_cloudwatch_log_group" and attribute == "name":
            return f"/placeholder/{slug}"
        return f"placeholder-{slug}"

    def _arn(self, target: Target, slug: str) -> str:
        service = "secretsmanager" if "secret" in target.attribute else _ARN_SERVICE.get(target.rtype, "placeholder")
        if service == "iam":
            kind = "oidc-provider" if "openid" in target.rtype else target.rtype.removeprefix("aws_iam_")
            return f"arn:aws:iam::{ACCOUNT}:{kind}/{slug}"
        if service == "s3":
            return f"arn:aws:s3:::{slug}"
        if service == "secretsmanager":
            return f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:{slug}-AbCdEf"
        if target.rtype.startswith("aws_acm_certificate"):  # the certificate, or its validation
            return f"arn:aws:acm:{self.region}:{ACCOUNT}:certificate/{uuid.uuid5(uuid.NAMESPACE_URL, slug)}"
        return f"arn:aws:{service}:{self.region}:{ACCOUNT}:{slug}"


def _slug(text: str) -> str:
    """A DNS label from a cdktf logical id (``cache_replication-group_FA5C54CF`` -> ``cache-replication-group``)."""
    words = [word for word in re.split(r"[^A-Za-z0-9]+", text) if word]
    if len(words) > 1 and re.fullmatch(r"[0-9A-F]{8}", words[-1]):
        words = words[:-1]
    return "-".join(words).lower()[:50].strip("-") or "value"
