"""Example values shipped in environments/base.yaml that must be replaced before anything is deployed.

They keep a fresh clone working (``make synth``, ``make test`` need no edits), so validation accepts them;
``haflow synth`` and ``cdktf synth`` (main.py) warn about each one on stderr, and ``haflow check --deploy``
(the deploy runner's buildspec, and docs/deploy.md's step before ``cdktf deploy``) refuses them with exit 2:

- ``state.bucket: haflow-terraform-state``: S3 bucket names are global; with the example name the state
  (and the bootstrap stack's bucket) would go to a bucket someone else may already own.
- ``eks.deploy_access.repository_url: https://github.com/acme/haflow.git``: the deploy runner would check
  out, and run the buildspec of, a repository that is not yours.
"""

from __future__ import annotations

from dataclasses import dataclass

from haflow.config.model import Environment

EXAMPLE_STATE_BUCKET = "haflow-terraform-state"
EXAMPLE_REPOSITORY_URL = "https://github.com/acme/haflow.git"


@dataclass(frozen=True)
class Placeholder:
    key: str
    value: str
    why: str
    fix: str

    def message(self, environments: list[str]) -> str:
        return (f"{', '.join(environments)}: {self.key} = {self.value!r} is the example value shipped in "
                f"environments/base.yaml: {self.why}; {self.fix}")


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
    return found


def placeholder_messages(environments: list[Environment]) -> list[str]:
    """One message per example value still set, naming the environments that carry it."""
    by_key: dict[str, tuple[Placeholder, list[str]]] = {}
    for env in environments:
        for found in placeholders(env):
            by_key.setdefault(found.key, (found, []))[1].append(env.name)
    return [found.message(names) for found, names in by_key.values()]


def warn_text(environments: list[Environment]) -> str:
    """The loud warning synth prints (empty when every example value is replaced)."""
    messages = placeholder_messages(environments)
    if not messages:
        return ""
    lines = [f"WARNING: {len(messages)} example value(s) from environments/base.yaml are still set; fine for synth "
             f"and tests, refused by `haflow check --deploy` (the deploy runner runs it):"]
    lines += [f"WARNING:   - {message}" for message in messages]
    return "\n".join(lines)
