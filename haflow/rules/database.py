"""Database rules (Aurora PostgreSQL): a reader to fail over to, in another AZ; protection, backups,
encryption and a password nobody types."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from haflow import facts
from haflow.rules.engine import ERROR, NOT_APPLICABLE, WARNING, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment

# master_password_wo computed from a secret version's secret_string (e.g. through jsondecode(...).password).
SECRET_VERSION_STRING = re.compile(r"\baws_secretsmanager_secret_version\.[A-Za-z0-9_-]+\.secret_string\b")
MIN_INSTANCES = 2
MIN_BACKUP_RETENTION_DAYS = 7
# aws_rds_cluster.backup_retention_period defaults to 1 day in the AWS provider.
DEFAULT_BACKUP_RETENTION_DAYS = 1


def instances_of(cluster: LiteralResource, stack: Stack) -> list[LiteralResource]:
    return stack.referencing(cluster, "aws_rds_cluster_instance", "cluster_identifier")


def is_global_secondary(cluster: LiteralResource) -> bool:
    """A secondary cluster of an Aurora global database: it joins a global cluster and, taking its data
    from the primary's storage, has no master user of its own. Its recovery is a regional failover
    (the HA-DR rules), not an in-region promotion."""
    return cluster.has("global_cluster_identifier") and not cluster.has("master_username")


@rule(
    id="HA-DB-001",
    level=ERROR,
    title="Aurora has at least two instances in distinct AZs",
    rationale="Aurora fails over by promoting a reader; with no reader, or a reader in the writer's AZ, "
    "an instance or AZ failure means recreating an instance (10+ minutes) instead of a ~30 s failover.",
    fix="Set the database to two or more instances, each with its own availability_zone.",
    subjects=("aws_rds_cluster",),
)
def instances_in_distinct_azs(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if is_global_secondary(cluster):
        return NOT_APPLICABLE  # headless (pilot light) or a standby reader: promoted as a region, see HA-DR-002
    instances = instances_of(cluster, stack)
    if len(instances) < MIN_INSTANCES:
        return [f"the cluster has {len(instances)} instance(s); at least {MIN_INSTANCES} are needed for failover"]
    azs = {instance.string("availability_zone") for instance in instances}
    if len(azs) < MIN_INSTANCES:
        return [f"the {len(instances)} instances share {len(azs)} AZ ({', '.join(sorted(azs))})"]
    return []


@rule(
    id="HA-DB-002",
    level=ERROR,
    title="Aurora deletion protection is on",
    rationale="Deletion protection makes AWS refuse to delete the cluster, whatever Terraform or a person "
    "asks; the database is the platform's system of record.",
    fix="Set deletion_protection = true.",
    subjects=("aws_rds_cluster",),
)
def deletion_protection(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not cluster.boolean("deletion_protection", False):
        return ["deletion_protection is off"]
    return []


@rule(
    id="HA-DB-003",
    level=ERROR,
    title=f"Aurora keeps automated backups for at least {MIN_BACKUP_RETENTION_DAYS} days",
    rationale="Point-in-time restore is the recovery from bad writes and deletes, which replication copies "
    "faithfully; a week covers a problem found after a weekend.",
    fix=f"Set backup_retention_period >= {MIN_BACKUP_RETENTION_DAYS}.",
    subjects=("aws_rds_cluster",),
)
def backup_retention(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    days = cluster.integer("backup_retention_period", DEFAULT_BACKUP_RETENTION_DAYS)
    if days < MIN_BACKUP_RETENTION_DAYS:
        return [f"backup_retention_period is {days} day(s)"]
    return []


@rule(
    id="HA-DB-004",
    level=ERROR,
    title="Aurora storage is encrypted",
    rationale="Encryption at rest covers the volume, its snapshots and backups; it can only be chosen when "
    "the cluster is created.",
    fix="Set storage_encrypted = true (and kms_key_id to a customer key).",
    subjects=("aws_rds_cluster",),
)
def storage_encrypted(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not cluster.boolean("storage_encrypted", False):
        return ["storage_encrypted is off"]
    return []


@rule(
    id="HA-DB-005",
    level=ERROR,
    title="The master password is managed by Secrets Manager",
    rationale="A password in Terraform ends up in the plan and the state; a Secrets-Manager-managed "
    "password is generated, stored and rotated by AWS and never appears in either. A member of an Aurora "
    "global database cannot use it; its password is generated into a Secrets Manager secret and passed "
    "as the write-only master_password_wo, which Terraform never stores.",
    fix="Set manage_master_user_password = true and remove master_password (in a global database: "
    "master_password_wo from an aws_secretsmanager_secret_version).",
    subjects=("aws_rds_cluster",),
)
def managed_master_password(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if is_global_secondary(cluster):
        return NOT_APPLICABLE  # the master user comes with the primary's storage
    problems = []
    write_only = cluster.body.get("master_password_wo")
    from_secret = isinstance(write_only, str) and bool(SECRET_VERSION_STRING.search(write_only))
    if not cluster.boolean("manage_master_user_password", False) and not from_secret:
        problems.append("manage_master_user_password is off and master_password_wo does not come from a "
                        "Secrets Manager secret version")
    if cluster.has("master_password"):
        problems.append("master_password is set in the plan")
    return problems


@rule(
    id="HA-DB-006",
    level=ERROR,
    title="A pinned minor engine version does not fight automatic minor upgrades",
    rationale="With auto_minor_version_upgrade on, AWS moves the cluster and its instances past the pinned "
    "MAJOR.MINOR in a maintenance window; the next plan then asks for the old minor, a downgrade RDS refuses, "
    "and every apply of the stack fails until the configuration is edited by hand. For Aurora PostgreSQL the "
    "provider's engine_version takes MAJOR.MINOR (a bare major is not an Aurora version), so the version is "
    "left to AWS after creation with lifecycle.ignore_changes.",
    fix="Add engine_version to lifecycle.ignore_changes of every aws_rds_cluster and aws_rds_cluster_instance "
    "that pins a minor (haflow: MINOR_UPGRADES_OWN_THE_VERSION in haflow/constructs/database.py), or turn "
    "auto_minor_version_upgrade off and own the upgrades.",
    subjects=("aws_rds_cluster", "aws_rds_cluster_instance"),
)
def minor_version_left_to_upgrades(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    version = resource.body.get("engine_version")
    if resource.type == "aws_rds_cluster":
        members = stack.referencing(resource, "aws_rds_cluster_instance", "cluster_identifier")
        upgrades = any(member.boolean("auto_minor_version_upgrade", True) for member in members)
    else:
        upgrades = resource.boolean("auto_minor_version_upgrade", True)  # the provider's default is true
    if version is None or not upgrades:
        return NOT_APPLICABLE
    ignored = (resource.body.get("lifecycle") or {}).get("ignore_changes") or []
    if ignored == "all" or "engine_version" in ignored:
        return []
    return [f"engine_version = {version!r} with automatic minor upgrades on and engine_version not in "
            "lifecycle.ignore_changes: the plan after AWS's first minor upgrade is a downgrade"]


@rule(
    id="HA-DB-007",
    level=WARNING,
    title="The pinned Aurora minor is one AWS still offers for new clusters",
    rationale="CreateDBCluster refuses a minor AWS has withdrawn, so a first deploy (a new environment, the DR "
    "secondary, a restore) with an old pin fails. Aurora keeps a minor about a year (long-term-support minors "
    "three); haflow/facts.py records when each minor shipped, with its source, and warns once the minor may be "
    "gone, until someone re-reads the calendar.",
    fix="Pin a minor on offer today (`aws rds describe-db-engine-versions --engine aurora-postgresql "
    "--query 'DBEngineVersions[].EngineVersion'`) in database.engine_version, and record it with its source in "
    "AURORA_POSTGRES_MINORS (haflow/facts.py).",
    subjects=("aws_rds_cluster",),
)
def minor_version_on_offer(cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    version = cluster.body.get("engine_version")
    if not isinstance(version, str) or cluster.body.get("engine") != "aurora-postgresql":
        return NOT_APPLICABLE
    minor = facts.AURORA_POSTGRES_MINORS.get(version)
    if minor is None:
        return [f"engine_version {version!r} is not in haflow's table of Aurora PostgreSQL minors "
                f"(haflow/facts.py AURORA_POSTGRES_MINORS: {', '.join(facts.AURORA_POSTGRES_MINORS)}): whether AWS "
                "offers it is unchecked"]
    gone = minor.possibly_gone_after()
    if stack.as_of >= gone:
        return [f"Aurora PostgreSQL {version} shipped on or after {minor.shipped_on_or_after} ({minor.source.url}); "
                f"minors are typically offered for {facts.AURORA_MINOR_AVAILABILITY_DAYS} days, so from {gone} AWS "
                f"may refuse new clusters on it ({stack.as_of} is {(stack.as_of - gone).days} days past)"]
    return []
