"""Secrets rules: no secret value is written into the plan (and so into the Terraform state).

Secrets belong in Secrets Manager, referenced by ARN and synced into pods by External Secrets. The
rule scans every attribute of every resource, the YAML values of Helm releases and container
environment variables, for a secret-named key holding a literal, and for values shaped like keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from haflow.plan import CDKTF_METADATA_KEY, HELM_RELEASE, is_expression
from haflow.rules.engine import ERROR, Outcome, rule
from haflow.rules.helm import release_values
from haflow.rules.stack import LiteralResource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment

# A key names a secret when, in snake_case, it ends with one of these words. Keys that name where a
# secret is kept (existing_secret, password_secret_key, secret_arn, secret_name, External Secrets'
# secretKey: the key inside a Kubernetes Secret) do not match.
SECRET_KEY = re.compile(
    r"(^|_)(password|passwd|auth_token|api_key|apikey|access_token|bearer_token|private_key|client_secret"
    r"|secret_access_key|secret_string|token)$|^secret$"
)
# Values that are secrets whatever their key.
SECRET_VALUES = (
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"), "a PEM private key"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:([^\s@${}]+)@"), "a URL with an inline password"),
)
# Go templates of External Secrets (`{{ .password }}`) are filled in the cluster, not in the plan.
TEMPLATE = re.compile(r"\{\{.*\}\}")


def snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).replace("-", "_").lower()


def literal_secrets(node: Any, path: str = "") -> Iterator[str]:
    """Paths in ``node`` holding a literal secret, with what was found."""
    if isinstance(node, Mapping):
        # A container env entry {name: DB_PASSWORD, value: ...} names its secret in `name`.
        name = node.get("name")
        if isinstance(name, str) and SECRET_KEY.search(snake(name)) and _is_literal_secret(node.get("value")):
            yield f"{path}.value ({name})"
        for key, value in node.items():
            if key == CDKTF_METADATA_KEY:
                continue
            here = f"{path}.{key}" if path else str(key)
            if SECRET_KEY.search(snake(str(key))) and _is_literal_secret(value):
                yield here
            else:
                yield from literal_secrets(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from literal_secrets(item, f"{path}[{index}]")
    elif isinstance(node, str) and not TEMPLATE.search(node):
        for pattern, what in SECRET_VALUES:
            if pattern.search(node):
                yield f"{path} ({what})"


def _is_literal_secret(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and not is_expression(value) and not TEMPLATE.search(value)


@rule(
    id="HA-SEC-001",
    level=ERROR,
    title="No literal secret values in the plan",
    rationale="Everything in a resource's arguments is stored in plain text in the Terraform plan and "
    "state, which many people and systems can read; a secret there is leaked.",
    fix="Keep the secret in Secrets Manager (RDS manage_master_user_password, a generated ElastiCache "
    "auth token) and reference it by ARN; pods get it through External Secrets.",
)
def no_literal_secrets(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    body = {key: value for key, value in resource.body.items() if key not in ("values", "set", "set_sensitive")}
    found = list(literal_secrets(body))
    if resource.type == HELM_RELEASE:
        found.extend(f"values {path}" for path in literal_secrets(release_values(resource)))
    return [f"{path} holds a literal secret" for path in found]
