"""Disaster-recovery rules: a secondary region that differs, data copied there, DR stacks that can be
planned while the primary region is down, traffic that can follow, and every stateful resource accounted for.

The DR stacks are ``<env>-dr-foundation`` and ``<env>-dr-platform``; rules on the primary side apply to
``<env>-foundation`` when the environment has DR (or when its plan still replicates, so that removing
replication is seen by `haflow diff`).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from haflow import contract, dr_posture, fis, plan
from haflow.plan import as_list, block
from haflow.rules.engine import ERROR, NOT_APPLICABLE, Outcome, rule
from haflow.rules.stack import LiteralResource, Stack

if TYPE_CHECKING:
    from haflow.config.model import Environment

RTC_MINUTES = 15
# One resource per DR stack anchors the stack-level rules (the VPC of the foundation, the default
# StorageClass of the platform), so each stack gets one result.
FOUNDATION_ANCHOR = "aws_vpc"
PLATFORM_ANCHOR = "kubernetes_storage_class_v1"
REGION_IN_ARN = re.compile(r"^arn:[^:]*:[a-z0-9-]+:([a-z0-9-]*):")


def is_dr_stack(stack: Stack, env: Environment) -> bool:
    return stack.name in (env.dr_foundation_stack_name, env.dr_platform_stack_name)


def provider_regions(document: Mapping[str, Any]) -> list[str]:
    """The region of every AWS provider block of a stack."""
    return [str(item.get("region")) for item in as_list((document.get("provider") or {}).get("aws"))
            if isinstance(item, Mapping)]



@rule(
    id="HA-DR-001",
    level=ERROR,
    title="The DR stacks run in a region other than the primary",
    rationale="A secondary in the primary's region shares its fate: the region's loss takes both copies.",
    fix="Set dr.secondary_region to another region than region (e.g. us-west-2 for us-east-1).",
    subjects=(FOUNDATION_ANCHOR,),
)
def secondary_differs(anchor: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if stack.name != env.dr_foundation_stack_name:
        return NOT_APPLICABLE
    regions = provider_regions(stack.document)
    if not regions:
        return ["the stack has no AWS provider with a region"]
    return [f"an AWS provider of the DR stack is in the primary region {region}" for region in regions
            if region == env.region]


@rule(
    id="HA-DR-002",
    level=ERROR,
    title="Aurora is a global database with a secondary cluster, encrypted with a key of its own region",
    rationale="Aurora Global Database replicates storage to the secondary region (typically under a second) "
    "and promotes it in about a minute; without a secondary member, a region loss means restoring from "
    "backups, if any survive outside the region.",
    fix="Keep the DR foundation's aws_rds_global_cluster with source_db_cluster_identifier (the primary) and an "
    "aws_rds_cluster joining it with storage_encrypted and a kms_key_id of the DR stack.",
    subjects=("aws_rds_global_cluster",),
)
def global_cluster_with_secondary(global_cluster: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    problems = []
    if not global_cluster.has("source_db_cluster_identifier"):
        problems.append("source_db_cluster_identifier is not set: the primary cluster does not join it")
    members = stack.referencing(global_cluster, "aws_rds_cluster", "global_cluster_identifier")
    if not members:
        return [*problems, "no aws_rds_cluster of this stack joins the global cluster"]
    for member in members:
        if not member.boolean("storage_encrypted", False):
            problems.append(f"{member.address} is not encrypted")
        elif stack.resolve(member.body.get("kms_key_id"), "aws_kms_key") is None:
            problems.append(f"{member.address}.kms_key_id is not a key of this (the secondary's) stack")
    return problems


@rule(
    id="HA-DR-003",
    level=ERROR,
    title="The artifacts bucket replicates to the secondary region with Replication Time Control",
    rationale="S3 RTC replicates 99.99% of new objects within 15 minutes and reports the lag; without it "
    "replication has no bound, and neither has the artifacts' region RPO. Delete-marker replication must be "
    "a decision (Enabled or Disabled), not a default.",
    fix="Give the artifacts bucket an aws_s3_bucket_replication_configuration whose rule is Enabled, with "
    "destination.replication_time and metrics Enabled at 15 minutes and delete_marker_replication set.",
    subjects=("aws_s3_bucket",),
)
def crr_with_rtc(bucket: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if stack.name != env.foundation_stack_name:
        return NOT_APPLICABLE
    configurations = stack.referencing(bucket, "aws_s3_bucket_replication_configuration", "bucket")
    logs_only = dr_posture.posture(bucket, dict(stack.document)).kind == dr_posture.LOST
    if logs_only or (not configurations and not env.dr.enabled):
        return NOT_APPLICABLE
    if not configurations:
        return ["the bucket has no replication configuration"]
    problems = []
    for rule_body in as_list(configurations[0].body.get("rule")):
        destination = block(rule_body.get("destination"))
        rtc, metrics = block(destination.get("replication_time")), block(destination.get("metrics"))
        if rule_body.get("status") != "Enabled":
            problems.append(f"rule {rule_body.get('id')} is {rule_body.get('status')}")
        if rtc.get("status") != "Enabled" or block(rtc.get("time")).get("minutes") != RTC_MINUTES:
            problems.append(f"rule {rule_body.get('id')}: Replication Time Control is not on at {RTC_MINUTES} min")
        if metrics.get("status") != "Enabled":
            problems.append(f"rule {rule_body.get('id')}: replication metrics are off (RTC needs them)")
        if block(rule_body.get("delete_marker_replication")).get("status") not in ("Enabled", "Disabled"):
            problems.append(f"rule {rule_body.get('id')}: delete_marker_replication is not decided")
        key = str(block(destination.get("encryption_configuration")).get("replica_kms_key_id", ""))
        region = REGION_IN_ARN.match(key)
        if region is None or region.group(1) == env.region:
            problems.append(f"rule {rule_body.get('id')}: the replica key {key!r} is not a key of another region")
    return problems


@rule(
    id="HA-DR-004",
    level=ERROR,
    title="The DR stacks read nothing from the primary region at plan time",
    rationale="When the primary region is down, a plan that reads its state bucket, calls its APIs through a "
    "provider or data source, or follows remote state kept there fails, and the secondary cannot be deployed "
    "when it is needed most.",
    fix="Keep the DR stacks' backend and remote state in the secondary state bucket, their providers and "
    "data sources in the secondary region, and derive what they need of the primary from configuration.",
    subjects=(FOUNDATION_ANCHOR, PLATFORM_ANCHOR),
)
def reads_nothing_from_primary(anchor: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if not is_dr_stack(stack, env):
        return NOT_APPLICABLE
    document = stack.document
    problems = []
    backend = block((document.get("terraform") or {}).get("backend", {}).get("s3"))
    if backend.get("region") in (None, env.region) or backend.get("bucket") == env.state.bucket:
        problems.append(f"the S3 backend is {backend.get('bucket')} in {backend.get('region')}: the primary's")
    problems += [f"AWS provider in the primary region {region}" for region in provider_regions(document)
                 if region == env.region]
    for kind in ("helm", "kubernetes"):
        for provider in as_list((document.get("provider") or {}).get(kind)):
            if f"--region {env.region}" in " ".join(plan.strings(provider)):
                problems.append(f"the {kind} provider authenticates against {env.region}")
    for rtype, items in (document.get("data") or {}).items():
        for name, body in (items or {}).items():
            if rtype == "terraform_remote_state":
                config = block(body.get("config"))
                if config.get("region") in (None, env.region) or config.get("bucket") == env.state.bucket:
                    problems.append(f"data.terraform_remote_state.{name} reads {config.get('bucket')} in "
                                    f"{config.get('region')}")
            elif isinstance(body, Mapping) and body.get("region") == env.region:
                problems.append(f"data.{rtype}.{name} calls the primary region")
    for resource in plan.resources(document):
        if resource.body.get("region") == env.region:
            problems.append(f"{resource.address} is managed in the primary region")
    return problems


@rule(
    id="HA-DR-005",
    level=ERROR,
    title="Traffic fails over by DNS, or the environment states that failover is manual",
    rationale="Data in the secondary helps no one until clients reach it; Route 53 failover records with "
    "health checks move them without an API call during the outage. Without a hosted zone in dr.dns, the "
    "report says traffic failover is manual.",
    fix="Set dr.dns (hosted zone, record, both load balancers) for PRIMARY and SECONDARY failover records "
    "with health checks, or leave it out and follow the manual runbook.",
    subjects=(FOUNDATION_ANCHOR,),
)
def dns_failover(anchor: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if stack.name != env.dr_foundation_stack_name:
        return NOT_APPLICABLE
    # Failover records only: the ACM certificate's validation records (ingress.tls.hosted_zone_id) route nothing.
    records = [record for record in stack.resources("aws_route53_record")
               if record.body.get("failover_routing_policy")]
    if env.dr.dns is None:
        return [] if not records else ["the plan has Route 53 failover records but dr.dns is not configured"]
    roles = {}
    for record in records:
        role = block(record.body.get("failover_routing_policy")).get("type")
        if role is None:
            continue
        if stack.resolve(record.body.get("health_check_id"), "aws_route53_health_check") is None:
            return [f"{record.address} ({role}) has no health check of this stack"]
        roles[role] = record
    missing = [role for role in ("PRIMARY", "SECONDARY") if role not in roles]
    return [f"no {role} failover record with a health check" for role in missing]


@rule(
    id="HA-DR-006",
    level=ERROR,
    title="Every stateful resource has a cross-region copy or a stated loss",
    rationale="A region loss takes everything kept only there; each store must be replicated, rebuilt by "
    "the secondary, or explicitly accepted as lost, so the region RPO covers every store.",
    fix="Replicate it (global database, CRR, secret replica) or state its loss in haflow/dr_posture.py with "
    "the reason.",
    subjects=dr_posture.STATEFUL_TYPES,
)
def stateful_accounted_for(resource: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if stack.name != env.foundation_stack_name or not env.dr.enabled:
        return NOT_APPLICABLE
    found = dr_posture.posture(resource, dict(stack.document))
    return [] if found.kind else [found.how]


@rule(
    id="HA-DR-007",
    level=ERROR,
    title="The primary stacks' Terraform state is replicated to the DR state bucket in the secondary region",
    rationale="The DR stacks keep their state in the secondary region; the primary stacks' state lives in the "
    "primary's bucket. Without a copy, losing the primary region loses the record of what the primary stacks "
    "manage, and rebuilding or failing back starts from imports instead of a plan.",
    fix="Give the environment's state bucket (bootstrap stack) an aws_s3_bucket_replication_configuration "
    "whose Enabled rules cover <key_prefix>/<env>-foundation.tfstate and <env>-platform.tfstate, copy to the "
    "DR state bucket with Replication Time Control, and replicate delete markers (the lock files').",
    subjects=("aws_s3_bucket",),
)
def state_replicated(bucket: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if stack.name != contract.BOOTSTRAP_STACK or bucket.body.get("bucket") != env.state.bucket:
        return NOT_APPLICABLE
    keys = [env.state.object_key(name) for name in (env.foundation_stack_name, env.platform_stack_name)]
    rules = [item for configuration in stack.referencing(bucket, "aws_s3_bucket_replication_configuration", "bucket")
             for item in as_list(configuration.body.get("rule"))
             if any(key.startswith(str(block(item.get("filter")).get("prefix", ""))) for key in keys)]
    if not env.dr.enabled and not rules:
        return NOT_APPLICABLE  # the shared bucket may replicate other environments' state
    replica = env.dr.state_bucket_for(env.state.bucket) if env.dr.enabled else None
    covered: set[str] = set()
    problems = []
    for rule_body in rules:
        destination = block(rule_body.get("destination"))
        target = stack.resolve(destination.get("bucket"), "aws_s3_bucket")
        if target is None or (replica is not None and target.body.get("bucket") != replica):
            continue
        name = rule_body.get("id")
        if rule_body.get("status") != "Enabled":
            problems.append(f"rule {name} is {rule_body.get('status')}")
            continue
        if block(block(destination.get("replication_time")).get("time")).get("minutes") != RTC_MINUTES:
            problems.append(f"rule {name}: Replication Time Control is not on at {RTC_MINUTES} min")
        if block(rule_body.get("delete_marker_replication")).get("status") != "Enabled":
            problems.append(f"rule {name}: delete markers are not replicated (a lock file's delete would not be)")
        covered.add(str(block(rule_body.get("filter")).get("prefix", "")))
    for key in keys:
        if not any(key.startswith(prefix) for prefix in covered):
            problems.append(f"s3://{env.state.bucket}/{key} is not replicated to s3://{replica or 'a DR bucket'}")
    return problems


# S3 User Guide, "Replicating encrypted objects", S3 Bucket Keys and replication: with Bucket Keys on, KMS
# sees the bucket's ARN as the encryption context aws:s3:arn, not the object's.
KMS_REPLICATION_DOC = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html"
CONTEXT_KEY = "kms:EncryptionContext:aws:s3:arn"
ROOT_ARN = re.compile(r"^arn:[^:]*:iam::[^:]*:root$|:iam::\$\{data\.aws_caller_identity\.[^}]+\}:root$")


def _statements(document: Any) -> list[Mapping[str, Any]]:
    parsed = json.loads(document) if isinstance(document, str) else document
    if not isinstance(parsed, Mapping):
        return []
    return [s for s in as_list(parsed.get("Statement")) if isinstance(s, Mapping)]


def _allows(statement: Mapping[str, Any], action: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    return any(fnmatch.fnmatchcase(action, str(pattern)) for pattern in as_list(statement.get("Action")))


def _context_admits(statement: Mapping[str, Any], arn: str) -> bool:
    """The statement's encryption-context condition (under any operator) lets KMS requests for ``arn`` through;
    no such condition admits every context."""
    values = [value for test in (statement.get("Condition") or {}).values() if isinstance(test, Mapping)
              for key, given in test.items() if key == CONTEXT_KEY for value in as_list(given)]
    return not values or any(fnmatch.fnmatchcase(arn, str(value)) for value in values)


def _names_key(statement: Mapping[str, Any], key: str, stack: Stack) -> bool:
    """The statement's Resource covers ``key`` (a reference to a key of the stack, or a key or alias ARN)."""
    target = stack.resolve(key, "aws_kms_key")
    as_key_arn = re.sub(r":alias/.*$", ":key/alias-target", key)
    for resource in as_list(statement.get("Resource")):
        if resource == "*" or (target is not None and stack.resolve(resource, "aws_kms_key") == target):
            return True
        if target is None and fnmatch.fnmatchcase(as_key_arn, str(resource)):
            return True
    return False


def _key_policy_delegates(key: LiteralResource, role_arn: str, action: str) -> bool:
    """``key``'s policy lets IAM policies of the account grant ``action`` (the default key policy, also what
    KMS applies when none is given) or names the role itself."""
    document = key.body.get("policy")
    if document is None:
        return True
    for statement in _statements(document):
        principals = as_list((statement.get("Principal") or {}).get("AWS")) if isinstance(
            statement.get("Principal"), Mapping) else as_list(statement.get("Principal"))
        if _allows(statement, action) and any(p == role_arn or ROOT_ARN.search(str(p)) for p in principals):
            return True
    return False


@rule(
    id="HA-DR-008",
    level=ERROR,
    title="The replication role may decrypt the source and encrypt the replicas under S3 Bucket Keys",
    rationale="With S3 Bucket Keys on, KMS sees the bucket ARN, not the object ARN, as the encryption context "
    f"aws:s3:arn ({KMS_REPLICATION_DOC}, S3 Bucket Keys and replication). A role whose kms:Decrypt on the "
    "source key or kms:Encrypt/kms:Decrypt on the replica key is conditioned on '<bucket>/*' only is refused "
    "by KMS: every object ends FAILED, silently, and neither the state's nor the artifacts' copy in the "
    "secondary region exists. The keys' policies must let the role's IAM policy work (the default key policy, "
    "or the role named).",
    fix="Condition the replication role's KMS statements on the bucket ARN as well (haflow: "
    "s3_encryption_context() in haflow/constructs/replication.py), grant kms:Decrypt on the source key and "
    "kms:Encrypt and kms:Decrypt on the replica key, and keep the keys' policies delegating to the account.",
    subjects=("aws_s3_bucket_replication_configuration",),
)
def replication_kms_allowed(configuration: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    source = stack.referenced(configuration, "bucket", "aws_s3_bucket")
    role = stack.referenced(configuration, "role", "aws_iam_role")
    encryption = stack.referencing(source, "aws_s3_bucket_server_side_encryption_configuration", "bucket")
    if not encryption:
        return NOT_APPLICABLE  # SSE-S3: no KMS key to use
    default = block(block(as_list(encryption[0].body.get("rule"))[0] if as_list(encryption[0].body.get("rule"))
                          else {}).get("apply_server_side_encryption_by_default"))
    source_key = default.get("kms_master_key_id")
    if default.get("sse_algorithm") not in ("aws:kms", "aws:kms:dsse") or not source_key:
        return NOT_APPLICABLE
    statements = [statement for policy in stack.referencing(role, "aws_iam_role_policy", "role")
                  for statement in _statements(policy.body.get("policy"))]
    role_arn = f"${{{role.address}.arn}}"
    source_arn = f"${{{source.address}.arn}}"
    problems = []
    if not any(_allows(s, "kms:Decrypt") and _names_key(s, source_key, stack) and _context_admits(s, source_arn)
               for s in statements):
        problems.append(f"no statement of the role allows kms:Decrypt on the source key {source_key} for the "
                        f"encryption context {source_arn} (the bucket ARN, S3 Bucket Keys)")
    key = stack.resolve(source_key, "aws_kms_key")
    if key is not None and not _key_policy_delegates(key, role_arn, "kms:Decrypt"):
        problems.append(f"the source key {key.address}'s policy neither delegates to the account nor names the role")
    for rule_body in as_list(configuration.body.get("rule")):
        destination = block(rule_body.get("destination"))
        replica_key = block(destination.get("encryption_configuration")).get("replica_kms_key_id")
        if not replica_key:
            continue
        bucket = str(destination.get("bucket"))
        for action in ("kms:Encrypt", "kms:Decrypt"):
            if not any(_allows(s, action) and _names_key(s, str(replica_key), stack) and _context_admits(s, bucket)
                       for s in statements):
                problems.append(f"rule {rule_body.get('id')}: no statement of the role allows {action} on the "
                                f"replica key {replica_key} for the encryption context {bucket} (the bucket ARN)")
        target = stack.resolve(replica_key, "aws_kms_key")
        if target is not None and not _key_policy_delegates(target, role_arn, "kms:Encrypt"):
            problems.append(f"rule {rule_body.get('id')}: the replica key {target.address}'s policy neither "
                            "delegates to the account nor names the role")
    return problems


# --- node and AZ drills with AWS FIS (haflow.constructs.fault_injection) ----------------------------------
FIS_TEMPLATE = "aws_fis_experiment_template"
# The AZ drill's actions: FIS's "AZ Availability: Power Interruption" scenario on this platform's resources.
AZ_DRILL_ACTIONS = frozenset({
    "aws:ec2:stop-instances", "aws:ebs:pause-volume-io", "aws:network:disrupt-connectivity",
    "aws:rds:failover-db-cluster", "aws:elasticache:replicationgroup-interrupt-az-power",
})
NODE_DRILL_ACTIONS = frozenset({"aws:eks:terminate-nodegroup-instances"})


def _drill_templates(stack: Stack) -> dict[str, list[LiteralResource]]:
    found: dict[str, list[LiteralResource]] = {}
    for template in stack.resources(FIS_TEMPLATE):
        drill = str((template.body.get("tags") or {}).get(contract.TAG_DRILL, ""))
        found.setdefault(drill, []).append(template)
    return found


def _action_ids(template: LiteralResource) -> set[str]:
    return {str(action.get("action_id")) for action in as_list(template.body.get("action"))
            if isinstance(action, Mapping)}


@rule(
    id="HA-DR-020",
    level=ERROR,
    title="FIS templates rehearse losing each AZ and a node, and stop on CloudWatch alarms",
    rationale="Multi-AZ is a claim until a zone is lost: the node groups, Aurora, Redis and the subnets of one "
    "AZ must fail together (FIS's AZ Availability: Power Interruption) and the platform recover. An experiment "
    "without a stop condition keeps hurting a platform that is already failing worse than intended.",
    fix="Keep haflow.constructs.fault_injection.FaultInjection in the foundation: one AZ template per AZ with "
    "the scenario's five actions, a node-termination template, each stopping on RegionAlarms.stop_condition_alarms.",
    subjects=(FOUNDATION_ANCHOR,),
)
def fis_drills(anchor: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    if stack.name != env.foundation_stack_name:
        return NOT_APPLICABLE
    templates = _drill_templates(stack)
    problems = []
    zonal = {str((t.body.get("tags") or {}).get(contract.TAG_DRILL_AZ)): t
             for t in templates.get(contract.DRILL_AZ, [])}
    for az in env.availability_zones:
        template = zonal.get(az)
        if template is None:
            problems.append(f"no FIS template tagged {contract.TAG_DRILL}={contract.DRILL_AZ}, "
                            f"{contract.TAG_DRILL_AZ}={az}")
        elif missing := sorted(AZ_DRILL_ACTIONS - _action_ids(template)):
            problems.append(f"{template.address} lacks the AZ scenario's {', '.join(missing)}")
    nodes = templates.get(contract.DRILL_NODE, [])
    if not nodes:
        problems.append(f"no FIS template tagged {contract.TAG_DRILL}={contract.DRILL_NODE}")
    problems += [f"{t.address} lacks {', '.join(sorted(NODE_DRILL_ACTIONS - _action_ids(t)))}"
                 for t in nodes if NODE_DRILL_ACTIONS - _action_ids(t)]
    for template in stack.resources(FIS_TEMPLATE):
        conditions = [block(c) for c in as_list(template.body.get("stop_condition"))]
        alarms = [c for c in conditions if c.get("source") == fis.STOP_CONDITION_SOURCE
                  and stack.resolve(c.get("value"), "aws_cloudwatch_metric_alarm") is not None]
        if not alarms:
            problems.append(f"{template.address} stops on no CloudWatch alarm of this stack")
    return problems


def _role_policies(stack: Stack, role: LiteralResource) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The role's inline statements, and the managed policies attached to it (their actions are unknown here)."""
    statements = [s for policy in stack.referencing(role, "aws_iam_role_policy", "role")
                  for s in _statements(policy.body.get("policy"))]
    managed = [str(a.body.get("policy_arn"))
               for a in stack.referencing(role, "aws_iam_role_policy_attachment", "role")]
    return statements, managed


@rule(
    id="HA-DR-021",
    level=ERROR,
    title="The FIS experiment role may do exactly what its templates' actions need",
    rationale="The experiment role stops instances, fails databases over and cuts subnets off: any permission "
    "beyond its actions' (a wildcard, a managed policy, an action no template uses) widens what a mistaken or "
    "misused experiment can break; a missing one makes the drill fail half-way, leaving a zone half-lost.",
    fix="Grant the role only the permissions haflow.fis.ACTION_PERMISSIONS lists for its templates' actions "
    "(FaultInjection does), scoped to the platform's resources where IAM allows.",
    subjects=(FIS_TEMPLATE,),
)
def fis_role_least_privilege(template: LiteralResource, stack: Stack, env: Environment) -> Outcome:
    role = stack.referenced(template, "role_arn", "aws_iam_role")
    needed: set[str] = set()
    unknown = []
    for sibling in stack.resources(FIS_TEMPLATE):
        if stack.resolve(sibling.body.get("role_arn"), "aws_iam_role") != role:
            continue
        for action_id in _action_ids(sibling):
            if action_id not in fis.ACTION_PERMISSIONS:
                unknown.append(action_id)
            needed |= fis.ACTION_PERMISSIONS.get(action_id, frozenset())
    statements, managed = _role_policies(stack, role)
    granted = {str(a) for s in statements if s.get("Effect") == "Allow" for a in as_list(s.get("Action"))}
    problems = [f"{role.address}: managed policy {arn} attached (its actions are not the templates')"
                for arn in managed]
    problems += [f"action {action_id} has no known permissions (add it to haflow.fis.ACTION_PERMISSIONS)"
                 for action_id in sorted(set(unknown))]
    problems += [f"{role.address} grants {action}, which no action of its templates needs"
                 for action in sorted(granted - needed)]
    problems += [f"{role.address} lacks {action}, which the templates' actions need"
                 for action in sorted(needed - granted)]
    return problems
