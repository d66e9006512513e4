"""Compare the live HA posture of an environment with its synthesized foundation plan.

The plan says what should exist, by resource type and attribute; each check family below finds the
live object (by Name tag or by the literal identifier the plan gives it) and reports every
difference as a Drift saying what was expected and what was found. A plan value the checks cannot
resolve is reported too, never skipped. Families follow the stack's section order: network, EKS,
Aurora, ElastiCache, S3.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from haflow.drill.clients import AwsClients, error_code
from haflow.drill.plan import Plan, PlanResource, Unresolved
from haflow.plan import block

# ec2 DescribeSubnets accepts at most 200 values per filter.
MAX_FILTER_VALUES = 200
NOT_FOUND = "none"


@dataclass(frozen=True)
class Drift:
    resource: str
    check: str
    expected: str
    found: str


@dataclass
class Findings:
    checked: list[str] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)

    def check(self, resource: PlanResource) -> None:
        self.checked.append(resource.address)

    def add(self, resource: str, check: str, expected: Any, found: Any) -> None:
        self.drift.append(Drift(resource, check, _show(expected), _show(found)))

    def compare(self, resource: str, check: str, expected: Any, found: Any) -> None:
        if expected != found:
            self.add(resource, check, expected, found)


@dataclass(frozen=True)
class Posture:
    """The outcome of one verify run."""

    environment: str
    plan: str
    where: str
    checked: list[str]
    drift: list[Drift]

    @property
    def matches(self) -> bool:
        return not self.drift

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "plan": self.plan,
            "where": self.where,
            "checked": len(self.checked),
            "match": self.matches,
            "drift": [asdict(item) for item in self.drift],
        }


def _show(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(item) for item in value) if value else NOT_FOUND
    if value is None:
        return NOT_FOUND
    return str(value).lower() if isinstance(value, bool) else str(value)


def verify(plan: Plan, aws: AwsClients) -> Findings:
    """Every check family over ``plan``; ``plan.account_id`` must already hold the live account."""
    findings = Findings()
    subnets = SubnetIndex(plan, aws)
    for family in (check_subnets, check_node_groups, check_aurora, check_global_membership, check_redis,
                   check_buckets):
        family(plan, aws, subnets, findings)
    return findings


class SubnetIndex:
    """Planned subnets (and their AZs) and live subnets, each looked up at most once."""

    def __init__(self, plan: Plan, aws: AwsClients) -> None:
        self.plan = plan
        self.aws = aws
        self._live_az: dict[str, str | None] = {}

    def planned_az(self, subnet_ref: Any) -> str:
        """The AZ the plan gives the subnet that ``subnet_ref`` (``${aws_subnet.x.id}``) points at."""
        ref = self.plan.reference(subnet_ref)
        if ref is None or ref.rtype != "aws_subnet":
            raise Unresolved(f"{subnet_ref!r} is not a reference to an aws_subnet of this plan")
        az = self.plan.literal(self.plan.get(ref.rtype, ref.name).body.get("availability_zone"))
        if not isinstance(az, str):
            raise Unresolved(f"{subnet_ref!r} has no literal availability_zone in the plan")
        return az

    def live_azs(self, subnet_ids: Iterable[str]) -> list[str | None]:
        """AZ of each live subnet id, None for an id that does not exist."""
        ids = list(subnet_ids)
        unknown = [sid for sid in ids if sid not in self._live_az]
        for sid in unknown:
            try:
                found = self.aws("ec2").describe_subnets(SubnetIds=[sid])["Subnets"]
            except ClientError as err:
                if error_code(err) != "InvalidSubnetID.NotFound":
                    raise
                found = []
            self._live_az[sid] = found[0]["AvailabilityZone"] if found else None
        return [self._live_az[sid] for sid in ids]


def _literal(plan: Plan, findings: Findings, resource: PlanResource, attribute: str) -> Any:
    """The resolved value of ``attribute``, or None after recording why it cannot be resolved."""
    try:
        return plan.literal(resource.body.get(attribute))
    except Unresolved as err:
        findings.add(resource.address, attribute, "a value resolvable from the plan", str(err))
        return None


def _identifier(plan: Plan, findings: Findings, resource: PlanResource, attribute: str) -> str | None:
    """The literal name the live object is found by, or None after recording why there is none."""
    if attribute not in resource.body:
        findings.add(
            resource.address,
            attribute,
            "a literal name to find the live object by",
            f"none (only {attribute}_prefix or a computed name, which cannot be matched)",
        )
        return None
    value = _literal(plan, findings, resource, attribute)
    return str(value) if value else None


def _not_found(err: ClientError, *codes: str) -> bool:
    return error_code(err) in codes


# -- network ------------------------------------------------------------------------------------


def check_subnets(plan: Plan, aws: AwsClients, _subnets: SubnetIndex, findings: Findings) -> None:
    planned: list[tuple[PlanResource, str]] = []
    for subnet in plan.resources("aws_subnet"):
        findings.check(subnet)
        try:
            name = plan.literal(subnet.body.get("tags", {}).get("Name"))
        except Unresolved as err:
            findings.add(subnet.address, "Name tag", "a literal Name tag to find the live subnet by", str(err))
            continue
        if not name:
            findings.add(subnet.address, "Name tag", "a Name tag to find the live subnet by", NOT_FOUND)
            continue
        planned.append((subnet, name))
    live: dict[str, list[dict[str, Any]]] = defaultdict(list)
    names = sorted({name for _, name in planned})
    paginator = aws("ec2").get_paginator("describe_subnets")
    for start in range(0, len(names), MAX_FILTER_VALUES):
        chunk = names[start : start + MAX_FILTER_VALUES]
        for page in paginator.paginate(Filters=[{"Name": "tag:Name", "Values": chunk}]):
            for found in page["Subnets"]:
                tags = {tag["Key"]: tag["Value"] for tag in found.get("Tags", [])}
                live[tags.get("Name", "")].append(found)
    for subnet, name in planned:
        matches = live.get(name, [])
        az, cidr = subnet.body.get("availability_zone"), subnet.body.get("cidr_block")
        if not matches:
            findings.add(subnet.address, "exists", f"subnet Name={name} in {az} ({cidr})", NOT_FOUND)
        elif len(matches) > 1:
            ids = [m["SubnetId"] for m in matches]
            findings.add(subnet.address, "unique", f"one subnet Name={name}", f"{len(ids)}: {', '.join(ids)}")
        else:
            findings.compare(subnet.address, "availability zone", az, matches[0]["AvailabilityZone"])
            findings.compare(subnet.address, "cidr block", cidr, matches[0]["CidrBlock"])


# -- EKS ------------------------------------------------------------------------------------------


def _ignores_desired_size(resource: PlanResource) -> bool:
    """True when Terraform leaves desired_size to the cluster autoscaler (lifecycle ignore_changes)."""
    ignored = resource.body.get("lifecycle", {}).get("ignore_changes", [])
    return ignored == "all" or any("desired_size" in str(item) for item in ignored)


def check_node_groups(plan: Plan, aws: AwsClients, subnets: SubnetIndex, findings: Findings) -> None:
    """AZs and scaling of each node group, and the AZs that hold guaranteed (min_size > 0) nodes."""
    expected_capacity: dict[str, set[str]] = defaultdict(set)
    live_capacity: dict[str, set[str]] = defaultdict(set)
    for group in plan.resources("aws_eks_node_group"):
        findings.check(group)
        cluster = _identifier(plan, findings, group, "cluster_name")
        name = _identifier(plan, findings, group, "node_group_name")
        if not cluster or not name:
            continue
        try:
            expected_azs = sorted({subnets.planned_az(ref) for ref in group.body.get("subnet_ids", [])})
        except Unresolved as err:
            findings.add(group.address, "subnet_ids", "subnets resolvable from the plan", str(err))
            continue
        scaling = block(group.body.get("scaling_config"))
        if scaling.get("min_size", 0) > 0:
            expected_capacity[cluster].update(expected_azs)
        try:
            live = aws("eks").describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
        except ClientError as err:
            if not _not_found(err, "ResourceNotFoundException"):
                raise
            findings.add(group.address, "exists", f"node group {name} in cluster {cluster}", NOT_FOUND)
            continue
        live_azs = subnets.live_azs(live.get("subnets", []))
        found_azs = sorted({az or f"unknown subnet {sid}" for az, sid in zip(live_azs, live["subnets"], strict=True)})
        findings.compare(group.address, "availability zones", expected_azs, found_azs)
        live_scaling = live.get("scalingConfig", {})
        keys = [("min_size", "minSize"), ("max_size", "maxSize")]
        if not _ignores_desired_size(group):
            keys.append(("desired_size", "desiredSize"))
        for plan_key, live_key in keys:
            if plan_key in scaling:
                findings.compare(group.address, f"scaling {plan_key}", scaling[plan_key], live_scaling.get(live_key))
        if live_scaling.get("minSize", 0) > 0:
            live_capacity[cluster].update(az for az in live_azs if az)
    for cluster, expected in sorted(expected_capacity.items()):
        findings.compare(
            f"aws_eks_node_group.* (cluster {cluster})",
            "AZs with guaranteed nodes (min_size > 0)",
            sorted(expected),
            sorted(live_capacity.get(cluster, set())),
        )


# -- Aurora ---------------------------------------------------------------------------------------


def check_aurora(plan: Plan, aws: AwsClients, _subnets: SubnetIndex, findings: Findings) -> None:
    """Members, their AZs and a single writer among the planned members, for each Aurora cluster."""
    planned_members: dict[str, list[tuple[PlanResource, str, str | None]]] = defaultdict(list)
    for instance in plan.resources("aws_rds_cluster_instance"):
        cluster_id = _identifier(plan, findings, instance, "cluster_identifier")
        identifier = _identifier(plan, findings, instance, "identifier")
        if cluster_id and identifier:
            az = _literal(plan, findings, instance, "availability_zone")
            planned_members[cluster_id].append((instance, identifier, az))
        else:
            findings.check(instance)
    rds = aws("rds")
    for cluster in plan.resources("aws_rds_cluster"):
        findings.check(cluster)
        cluster_id = _identifier(plan, findings, cluster, "cluster_identifier")
        if not cluster_id:
            continue
        members = planned_members.get(cluster_id, [])
        for instance, _, _ in members:
            findings.check(instance)
        try:
            live = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
        except ClientError as err:
            if not _not_found(err, "DBClusterNotFoundFault"):
                raise
            findings.add(cluster.address, "exists", f"Aurora cluster {cluster_id}", NOT_FOUND)
            continue
        findings.compare(cluster.address, "status", "available", live.get("Status"))
        writers = sorted(m["DBInstanceIdentifier"] for m in live.get("DBClusterMembers", []) if m["IsClusterWriter"])
        live_members = {m["DBInstanceIdentifier"] for m in live.get("DBClusterMembers", [])}
        live_azs = {
            db["DBInstanceIdentifier"]: db.get("AvailabilityZone")
            for page in rds.get_paginator("describe_db_instances").paginate(
                Filters=[{"Name": "db-cluster-id", "Values": [cluster_id]}]
            )
            for db in page["DBInstances"]
        }
        planned_ids = {identifier for _, identifier, _ in members}
        for instance, identifier, az in members:
            if identifier not in live_members:
                findings.add(instance.address, "cluster member", f"{identifier} in {az or 'any AZ'}", NOT_FOUND)
            elif az is not None:
                findings.compare(instance.address, "availability zone", az, live_azs.get(identifier))
        for extra in sorted(live_members - planned_ids):
            findings.add(
                cluster.address,
                "cluster member",
                "none (not in the plan)",
                f"{extra} in {live_azs.get(extra) or 'unknown AZ'}",
            )
        if len(writers) != 1 or writers[0] not in planned_ids:
            findings.add(
                cluster.address,
                "writer",
                f"exactly one writer among {', '.join(sorted(planned_ids))}",
                writers,
            )


def check_global_membership(plan: Plan, aws: AwsClients, _subnets: SubnetIndex, findings: Findings) -> None:
    """A cluster the plan puts into an Aurora global database is a member of that global cluster."""
    for cluster in plan.resources("aws_rds_cluster"):
        if "global_cluster_identifier" not in cluster.body:
            continue
        cluster_id = _identifier(plan, findings, cluster, "cluster_identifier")
        expected = _literal(plan, findings, cluster, "global_cluster_identifier")
        if not cluster_id or not expected:
            continue
        try:
            live = aws("rds").describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"][0]
        except ClientError as err:
            if not _not_found(err, "DBClusterNotFoundFault"):
                raise
            continue  # check_aurora reports the missing cluster
        findings.compare(cluster.address, "global cluster", expected, live.get("GlobalClusterIdentifier"))


# -- ElastiCache ----------------------------------------------------------------------------------


def _enabled(value: Any) -> str:
    return "enabled" if value is True or str(value).lower() == "true" else "disabled"


def check_redis(plan: Plan, aws: AwsClients, _subnets: SubnetIndex, findings: Findings) -> None:
    """Automatic failover, Multi-AZ, member count and member AZs of each replication group."""
    for group in plan.resources("aws_elasticache_replication_group"):
        findings.check(group)
        group_id = _identifier(plan, findings, group, "replication_group_id")
        if not group_id:
            continue
        try:
            live = aws("elasticache").describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
        except ClientError as err:
            if not _not_found(err, "ReplicationGroupNotFoundFault"):
                raise
            findings.add(group.address, "exists", f"replication group {group_id}", NOT_FOUND)
            continue
        findings.compare(
            group.address,
            "automatic failover",
            _enabled(group.body.get("automatic_failover_enabled")),
            live.get("AutomaticFailover"),
        )
        findings.compare(group.address, "Multi-AZ", _enabled(group.body.get("multi_az_enabled")), live.get("MultiAZ"))
        members = [m for node_group in live.get("NodeGroups", []) for m in node_group.get("NodeGroupMembers", [])]
        planned_azs = _literal(plan, findings, group, "preferred_cache_cluster_azs")
        count = group.body.get("num_cache_clusters") or (len(planned_azs) if planned_azs else None)
        if count is not None:
            findings.compare(group.address, "member count", count, len(members))
        if planned_azs:
            findings.compare(
                group.address,
                "member availability zones",
                sorted(planned_azs),
                sorted(str(m.get("PreferredAvailabilityZone")) for m in members),
            )


# -- S3 -------------------------------------------------------------------------------------------

PUBLIC_ACCESS_BLOCK = (
    ("block_public_acls", "BlockPublicAcls"),
    ("block_public_policy", "BlockPublicPolicy"),
    ("ignore_public_acls", "IgnorePublicAcls"),
    ("restrict_public_buckets", "RestrictPublicBuckets"),
)


def _for_bucket(plan: Plan, rtype: str, bucket: PlanResource, name: str) -> list[PlanResource]:
    """The ``rtype`` resources (versioning, encryption, ...) whose ``bucket`` is ``bucket``."""
    related = []
    for resource in plan.resources(rtype):
        target = resource.body.get("bucket")
        ref = plan.reference(target)
        if (ref is not None and (ref.rtype, ref.name) == ("aws_s3_bucket", bucket.name)) or target == name:
            related.append(resource)
    return related


def _s3_call(call: Callable[[], dict[str, Any]], *absent: str) -> dict[str, Any] | None:
    try:
        return call()
    except ClientError as err:
        if error_code(err) in absent:
            return None
        raise


def check_buckets(plan: Plan, aws: AwsClients, _subnets: SubnetIndex, findings: Findings) -> None:
    """Versioning, default encryption and public access block of each planned bucket."""
    s3 = aws("s3")
    for bucket in plan.resources("aws_s3_bucket"):
        findings.check(bucket)
        name = _identifier(plan, findings, bucket, "bucket")
        if not name:
            continue
        versioning = _s3_call(lambda: s3.get_bucket_versioning(Bucket=name), "NoSuchBucket")  # noqa: B023
        if versioning is None:
            findings.add(bucket.address, "exists", f"bucket {name}", NOT_FOUND)
            continue
        for resource in _for_bucket(plan, "aws_s3_bucket_versioning", bucket, name):
            findings.check(resource)
            expected = block(resource.body.get("versioning_configuration")).get("status")
            findings.compare(resource.address, "versioning", expected, versioning.get("Status", "never enabled"))
        for resource in _for_bucket(plan, "aws_s3_bucket_server_side_encryption_configuration", bucket, name):
            findings.check(resource)
            live = _s3_call(
                lambda: s3.get_bucket_encryption(Bucket=name),  # noqa: B023
                "ServerSideEncryptionConfigurationNotFoundError",
            )
            live_rule = (live or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [{}])[0]
            rule = block(resource.body.get("rule"))
            default = block(rule.get("apply_server_side_encryption_by_default"))
            findings.compare(
                resource.address,
                "encryption algorithm",
                default.get("sse_algorithm"),
                live_rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm"),
            )
            if "bucket_key_enabled" in rule:
                findings.compare(
                    resource.address,
                    "bucket key",
                    bool(rule["bucket_key_enabled"]),
                    bool(live_rule.get("BucketKeyEnabled", False)),
                )
        for resource in _for_bucket(plan, "aws_s3_bucket_public_access_block", bucket, name):
            findings.check(resource)
            live = _s3_call(
                lambda: s3.get_public_access_block(Bucket=name),  # noqa: B023
                "NoSuchPublicAccessBlockConfiguration",
            )
            settings = (live or {}).get("PublicAccessBlockConfiguration", {})
            for plan_key, live_key in PUBLIC_ACCESS_BLOCK:
                findings.compare(
                    resource.address,
                    plan_key,
                    bool(resource.body.get(plan_key, False)),
                    bool(settings.get(live_key, False)),
                )
