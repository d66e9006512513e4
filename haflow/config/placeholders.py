"""Example values shipped in environments/ that must be replaced before anything is deployed.

They keep a fresh clone working (``make synth``, ``make test`` need no edits), so validation accepts them;
``haflow synth`` and ``cdktf synth`` (main.py) warn about each one on stderr, and ``haflow check --deploy``
(the deploy runner's buildspec, and docs/deploy.md's step before ``cdktf deploy``) refuses them with exit 2:

- ``state.bucket: haflow-terraform-state``: S3 bucket names are global; with the example name the state
  (and the bootstrap stack's bucket) would go to a bucket someone else may already own.
- ``eks.deploy_access.repository_url: https://github.com/acme/haflow.git``: the deploy runner would check
  out, and run the buildspec of, a repository that is not yours.
- ``model_api.host`` under a domain reserved for examples (RFC 2606 / RFC 6761: example.com, .test, ...)
  and ``ingress.tls.hosted_zone_id: Z00000000000EXAMPLE`` (prod.yaml, staging.yaml): the certificate
  could never be validated, and clients could never resolve the name.
"""

from __future__ import annotations

from dataclasses import dataclass

from haflow.config.model import Environment

EXAMPLE_STATE_BUCKET = "haflow-terraform-state"
EXAMPLE_REPOSITORY_URL = "https://github.com/acme/haflow.git"
EXAMPLE_HOSTED_ZONE_ID = "Z00000000000EXAMPLE"
# Names reserved for documentation and testing: https://www.rfc-editor.org/rfc/rfc2606, rfc6761
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org", "example", "test", "invalid", "localhost")


def is_example_host(host: str) -> bool:
    return any(host == domain or host.endswith(f".{domain}") for domain in EXAMPLE_DOMAINS)


@dataclass(frozen=True)
class Placeholder:
    key: str
    value: str
    why: str
    fix: str

    def message(self, environments: list[str]) -> str:
        return (f"{', '.join(environments)}: {self.key} = {self.value!r} is an example value shipped in "
                f"environments/: {self.why}; {self.fix}")


def placeholders(env: Environment) -> list[Placeholder]:
    found = []
    if env.state.bucket == EXAMPLE_STATE_BUCKET:
        found.append(Placeholder(
            "state.bucket", env.state.bucket,
            "S3 bucket names are global, so the Terraform state would go to a bucket someone else may own",
            "set state.bucket in environments/base.yaml to a name of your own (e.g. <your-org>-haflow-tfstate)"))
    access = env.eks.deploy_access
    if access.mode == "runner" and access.repository_url == EXAMPLE_REPOSITORY_URL:
        found.append(Placeholder(
            "eks.deploy_access.repository_url", access.repository_url,
            "the deploy runner would check out and run a repository that is not yours",
            "set eks.deploy_access.repository_url in environments/base.yaml to your copy's HTTPS URL"))
    overlay = f"environments/{env.name}.yaml"
    if env.model_api.host and is_example_host(env.model_api.host):
        found.append(Placeholder(
            "model_api.host", env.model_api.host,
            "the name is reserved for examples: no client can resolve it and no certificate can be validated for it",
            f"set model_api.host in {overlay} to the name clients will use, in a zone you own"))
    if env.ingress.tls.hosted_zone_id == EXAMPLE_HOSTED_ZONE_ID:
        found.append(Placeholder(
            "ingress.tls.hosted_zone_id", EXAMPLE_HOSTED_ZONE_ID,
            "no such hosted zone: the certificate's validation records could not be written",
            "set ingress.tls.hosted_zone_id in environments/<env>.yaml to the zone of model_api.host "
            "(`aws route53 list-hosted-zones`), or use ingress.tls.certificate_arn"))
    return found


def placeholder_messages(environments: list[Environment]) -> list[str]:
    """One message per example value still set, naming the environments that carry it."""
    by_key: dict[tuple[str, str], tuple[Placeholder, list[str]]] = {}
    for env in environments:
        for found in placeholders(env):
            by_key.setdefault((found.key, found.value), (found, []))[1].append(env.name)
    return [found.message(names) for found, names in by_key.values()]


def warn_text(environments: list[Environment]) -> str:
    """The loud warning synth prints (empty when every example value is replaced)."""
    messages = placeholder_messages(environments)
    if not messages:
        return ""
    lines = [f"WARNING: {len(messages)} example value(s) shipped in environments/ are still set; fine for synth "
             f"and tests, refused by `haflow check --deploy` (the deploy runner runs it):"]
    lines += [f"WARNING:   - {message}" for message in messages]
    return "\n".join(lines)
