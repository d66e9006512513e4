"""One function per component: read the plan, return the component's AZs, replicas, failover and figures.

Each function is pure over the plan. A component the plan does not contain comes back as
"not present in plan"; a value that cannot be resolved counts against the component (it is not
assumed to be redundant).
"""

from __future__ import annotations

from collections.abc import Callable

from haflow.kube import spreads_over_zones
from haflow.plan import Resource, as_bool, as_int, as_list, block, lookup, release_values
from haflow.report import sources as aws
from haflow.report.model import Component, Figure, absent
from haflow.report.plan import EnvironmentPlan

ELB_SUBNET_TAG = "kubernetes.io/role/elb"

MULTI_AZ_COMPUTE = Figure(aws.EC2_REGION_SLA_PERCENT, aws.EC2_REGION_SLA.id)
SINGLE_INSTANCE = Figure(aws.EC2_INSTANCE_SLA_PERCENT, aws.EC2_INSTANCE_SLA.id)
# A pod on a lost node: NotReady after the grace period, evicted after the default toleration.
SINGLE_REPLICA_RTO = Figure(
    aws.NODE_MONITOR_GRACE_SECONDS + aws.POD_NOT_READY_TOLERATION_SECONDS,
    aws.K8S_TAINT_EVICTION.id,
    f"node NotReady after {aws.NODE_MONITOR_GRACE_SECONDS} s + eviction after "
    f"{aws.POD_NOT_READY_TOLERATION_SECONDS} s, then the pod starts elsewhere (start time not included)",
)
MULTI_REPLICA_RTO = Figure(
    aws.NODE_MONITOR_GRACE_SECONDS,
    aws.K8S_NODE_MONITOR_GRACE.id,
    "the other replicas keep serving; endpoints on the lost node are removed when it turns NotReady",
)


def network(plan: EnvironmentPlan) -> Component:
    subnets = plan.resources("aws_subnet")
    if not subnets:
        return absent("network", "Network (VPC, subnets, NAT)", "aws_subnet")
    tiers: dict[str, set[str]] = {}
    for subnet in subnets:
        tier = str((subnet.body.get("tags") or {}).get("haflow/tier", "untagged"))
        tiers.setdefault(tier, set()).add(str(subnet.body.get("availability_zone")))
    azs = sorted(set().union(*tiers.values()))
    nats = plan.resources("aws_nat_gateway")
    nat_azs = sorted({az for nat in nats for az in plan.subnet_azs(nat.body.get("subnet_id"))})
    private_azs = sorted(tiers.get("private", set(azs)))
    per_az = bool(nat_azs) and set(private_azs) <= set(nat_azs)
    regional = [nat for nat in nats if nat.body.get("availability_mode") == "regional"]
    tier_text = ", ".join(f"{tier} {len(zones)} AZ" for tier, zones in sorted(tiers.items()))
    if regional:
        failover = "regional NAT gateway: AWS runs it in every AZ with subnets, so an AZ's loss keeps egress"
        availability = Figure(
            aws.EC2_REGION_SLA_PERCENT,
            aws.REGIONAL_NAT.id,
            "zone-resilient like a gateway per AZ; multi-AZ compute figure as proxy (no NAT gateway SLA)",
        )
        rto = Figure(0, aws.REGIONAL_NAT.id, "no failover needed: the gateway serves every AZ")
    elif per_az:
        failover = f"NAT gateway per AZ ({len(nats)}): an AZ's loss leaves the others' egress intact"
        availability = Figure(
            aws.EC2_REGION_SLA_PERCENT,
            aws.EC2_REGION_SLA.id,
            "no NAT gateway SLA is published; multi-AZ compute figure as proxy",
        )
        rto = Figure(0, aws.NAT_PER_AZ.id, "no failover needed: each AZ has its own NAT gateway")
    else:
        failover = (
            f"NAT gateway only in {', '.join(nat_azs) or 'no AZ'}: its AZ's loss cuts egress for "
            "every AZ until routes are changed by hand"
        )
        availability = Figure(
            aws.EC2_INSTANCE_SLA_PERCENT,
            aws.EC2_INSTANCE_SLA.id,
            "single-AZ NAT gateway; single-instance figure as proxy",
        )
        rto = Figure(None, aws.NAT_PER_AZ.id, "unbounded: manual re-routing or the AZ's recovery")
    return Component(
        "network",
        "Network (VPC, subnets, NAT)",
        True,
        resources=[nat.address for nat in nats],
        azs=azs,
        replicas=len(nats),
        failover=failover,
        availability_factors=[availability],
        rto=rto,
        notes=[f"subnets: {tier_text}"],
    )


def eks_control_plane(plan: EnvironmentPlan) -> Component:
    clusters = plan.resources("aws_eks_cluster")
    if not clusters:
        return absent("eks", "EKS control plane", "aws_eks_cluster")
    cluster = clusters[0]
    subnet_azs = plan.subnet_azs(block(cluster.body.get("vpc_config")).get("subnet_ids"))
    return Component(
        "eks",
        "EKS control plane",
        True,
        resources=[cluster.address],
        azs=subnet_azs,
        failover="AWS-managed: >= 2 API servers and 3 etcd members across 3 AZs, replaced automatically",
        availability_factors=[Figure(aws.EKS_SLA_PERCENT, aws.EKS_SLA.id)],
        rto=Figure(0, aws.EKS_CONTROL_PLANE.id, "API servers in other AZs keep serving"),
        notes=[f"cluster ENIs in {len(subnet_azs)} AZ(s)"] if subnet_azs else [],
    )


def node_groups(plan: EnvironmentPlan) -> Component:
    groups = plan.resources("aws_eks_node_group")
    if not groups:
        return absent("node_groups", "EKS node groups", "aws_eks_node_group")
    serving_azs: set[str] = set()
    nodes = 0
    notes = []
    for group in groups:
        scaling = block(group.body.get("scaling_config"))
        minimum = as_int(scaling.get("min_size"))
        group_azs = plan.subnet_azs(group.body.get("subnet_ids"))
        tainted = bool(as_list(group.body.get("taint")))
        notes.append(
            f"{group.name}: AZs {', '.join(group_azs) or 'unresolved'}, min {minimum}"
            + (" (tainted, e.g. GPU: not counted)" if tainted else "")
        )
        if minimum and minimum >= 1 and not tainted:
            serving_azs.update(group_azs)
            nodes += minimum
    azs = sorted(serving_azs)
    redundant = len(azs) >= 2
    return Component(
        "node_groups",
        "EKS node groups",
        True,
        resources=[g.address for g in groups],
        azs=azs,
        replicas=nodes,
        failover="managed node groups in several AZs: workloads reschedule onto the surviving AZs"
        if redundant
        else "nodes in one AZ only: its loss stops every workload",
        availability_factors=[MULTI_AZ_COMPUTE if redundant else SINGLE_INSTANCE],
        rto=Figure(0, aws.EKS_DATA_PLANE.id, "nodes in the other AZs keep running")
        if redundant
        else Figure(None, aws.EKS_DATA_PLANE.id, "unbounded: no nodes outside the lost AZ"),
        notes=notes,
    )


def aurora(plan: EnvironmentPlan) -> Component:
    clusters = plan.resources("aws_rds_cluster")
    if not clusters:
        return absent("aurora", "Aurora PostgreSQL", "aws_rds_cluster")
    cluster = clusters[0]
    instances = [i for i in plan.resources("aws_rds_cluster_instance") if _belongs_to(plan, i, cluster)]
    pinned = [str(i.body["availability_zone"]) for i in instances if i.body.get("availability_zone")]
    azs = sorted(set(pinned))
    notes = []
    if len(pinned) < len(instances):
        notes.append(
            f"{len(instances) - len(pinned)} instance(s) without availability_zone: "
            "RDS picks the AZ, so distinct AZs are not proven"
        )
    multi_az = len(instances) >= 2 and len(azs) >= 2
    retention = as_int(cluster.body.get("backup_retention_period"))
    notes.append(f"backup retention {retention if retention is not None else 'default (1)'} day(s)")
    return Component(
        "aurora",
        "Aurora PostgreSQL",
        True,
        resources=[cluster.address] + [i.address for i in instances],
        azs=azs,
        replicas=len(instances),
        failover="promote an Aurora Replica in another AZ (cluster endpoint CNAME flips)"
        if multi_az
        else "no replica in another AZ: Aurora re-creates the instance, best effort",
        availability_factors=[
            Figure(
                aws.AURORA_MULTI_AZ_SLA_PERCENT if multi_az else aws.AURORA_SINGLE_AZ_SLA_PERCENT,
                aws.AURORA_SLA.id,
                "Multi-AZ SLA" if multi_az else "Single-AZ SLA",
            )
        ],
        rto=Figure(aws.AURORA_FAILOVER_SECONDS, aws.AURORA_FAILOVER.id)
        if multi_az
        else Figure(None, aws.AURORA_SINGLE_INSTANCE.id, "unbounded when the instance's AZ is lost"),
        rpo=Figure(
            aws.RDS_LATEST_RESTORABLE_SECONDS,
            aws.RDS_PITR.id,
            "failover loses no committed data (shared 6-way storage); a restore from backup can "
            "lose up to the last ~5 minutes",
        ),
        notes=notes,
    )


def _belongs_to(plan: EnvironmentPlan, instance: Resource, cluster: Resource) -> bool:
    """An instance belongs to the cluster it references; a literal identifier counts for the only cluster."""
    owners = plan.referenced(instance.body.get("cluster_identifier"), "aws_rds_cluster")
    return not owners or any(owner.name == cluster.name for owner in owners)


def redis(plan: EnvironmentPlan) -> Component:
    groups = plan.resources("aws_elasticache_replication_group")
    if not groups:
        return absent("redis", "ElastiCache Redis", "aws_elasticache_replication_group")
    group = groups[0].body
    nodes = as_int(group.get("num_cache_clusters"))
    if nodes is None:
        replicas = as_int(group.get("replicas_per_node_group"))
        shards = as_int(group.get("num_node_groups")) or 1
        nodes = (replicas + 1) * shards if replicas is not None else None
    azs = sorted({str(az) for az in as_list(group.get("preferred_cache_cluster_azs"))})
    auto_failover = as_bool(group.get("automatic_failover_enabled")) is True
    multi_az = as_bool(group.get("multi_az_enabled")) is True
    redundant = auto_failover and multi_az and (nodes or 0) >= 2
    missing = [
        text
        for ok, text in (
            (auto_failover, "automatic_failover_enabled"),
            (multi_az, "multi_az_enabled"),
            ((nodes or 0) >= 2, ">= 2 nodes"),
        )
        if not ok
    ]
    return Component(
        "redis",
        "ElastiCache Redis",
        True,
        resources=[groups[0].address],
        azs=azs,
        replicas=nodes,
        failover="Multi-AZ automatic failover: a replica is promoted, the primary endpoint follows"
        if redundant
        else f"no automatic Multi-AZ failover (missing: {', '.join(missing)})",
        availability_factors=[
            Figure(
                aws.ELASTICACHE_MULTI_AZ_SLA_PERCENT if redundant else aws.ELASTICACHE_SINGLE_AZ_SLA_PERCENT,
                aws.ELASTICACHE_SLA.id,
            )
        ],
        rto=Figure(
            aws.ELASTICACHE_FAILOVER_SECONDS, aws.ELASTICACHE_FAILOVER.id, "duration assumed: AWS documents none"
        )
        if redundant
        else Figure(None, aws.ELASTICACHE_FAILOVER.id, "unbounded: the node is replaced only after its AZ recovers"),
        notes=[
            "not a store of record (Prefect messaging and cache): left out of the RPO; asynchronous "
            "replication can drop the last writes on failover"
        ],
    )


def s3(plan: EnvironmentPlan) -> Component:
    buckets = plan.resources("aws_s3_bucket")
    if not buckets:
        return absent("s3", "S3 artifacts", "aws_s3_bucket")
    versioned: set[str] = set()
    for versioning in plan.resources("aws_s3_bucket_versioning"):
        status = block(versioning.body.get("versioning_configuration")).get("status")
        if status == "Enabled":
            versioned.update(bucket.name for bucket in plan.referenced(versioning.body.get("bucket"), "aws_s3_bucket"))
    unversioned = [bucket.address for bucket in buckets if bucket.name not in versioned]
    return Component(
        "s3",
        "S3 artifacts",
        True,
        resources=[bucket.address for bucket in buckets],
        azs=["regional (>= 3 AZs)"],
        failover="regional service: objects stored across >= 3 AZs, no failover to manage",
        availability_factors=[Figure(aws.S3_DESIGN_AVAILABILITY_PERCENT, aws.S3_DESIGN.id, "design availability")],
        rto=Figure(0, aws.S3_DESIGN.id),
        rpo=Figure(0, aws.S3_VERSIONING.id, "versioned: overwritten or deleted objects are recoverable")
        if not unversioned
        else Figure(None, aws.S3_VERSIONING.id, f"unversioned ({', '.join(unversioned)}): deletes are unrecoverable"),
        notes=["durability 99.999999999% (design)"],
    )


def _workload(
    key: str,
    title: str,
    address: list[str],
    replicas: int | None,
    zone_spread: bool,
    azs: list[str],
    notes: list[str],
    extra_factors: list[Figure] | None = None,
) -> Component:
    count = replicas if replicas is not None else 1
    redundant = count >= 2
    factors = list(extra_factors or [])
    if not redundant:
        factors.append(SINGLE_INSTANCE)
    spread = "spread over zones" if zone_spread else "zone spread best effort (scheduler default)"
    return Component(
        key,
        title,
        True,
        resources=address,
        azs=azs,
        replicas=count,
        failover=f"{count} replicas, {spread}" if redundant else "single replica: rescheduled after eviction",
        availability_factors=factors,
        rto=MULTI_REPLICA_RTO if redundant else SINGLE_REPLICA_RTO,
        notes=notes + ([] if replicas is not None else ["replica count not set: chart default 1 assumed"]),
    )


def ingress(plan: EnvironmentPlan) -> Component:
    release = plan.helm_release("ingress-nginx")
    if release is None:
        return absent("ingress", "Ingress (NLB + ingress-nginx)", "helm_release ingress-nginx")
    values = release_values(release, skip_unreadable=True)
    replicas = as_int(lookup(values, "controller.replicaCount"))
    if as_bool(lookup(values, "controller.autoscaling.enabled")):
        replicas = as_int(lookup(values, "controller.autoscaling.minReplicas")) or replicas
    public_azs = sorted(
        {
            str(s.body.get("availability_zone"))
            for s in plan.resources("aws_subnet")
            if str((s.body.get("tags") or {}).get(ELB_SUBNET_TAG)) == "1"
        }
    )
    nlb = Figure(
        aws.ELB_MULTI_AZ_SLA_PERCENT if len(public_azs) >= 2 else aws.ELB_SINGLE_AZ_SLA_PERCENT,
        aws.ELB_SLA.id,
        f"NLB in the subnets tagged {ELB_SUBNET_TAG} ({len(public_azs)} AZ)",
    )
    return _workload(
        "ingress",
        "Ingress (NLB + ingress-nginx)",
        [release.address],
        replicas,
        spreads_over_zones(lookup(values, "controller.topologySpreadConstraints"), None),
        public_azs,
        [],
        extra_factors=[nlb],
    )


def prefect(plan: EnvironmentPlan) -> Component:
    release = plan.helm_release("prefect-server")
    if release is None:
        return absent("prefect", "Prefect server and worker", "helm_release prefect-server")
    values = release_values(release, skip_unreadable=True)
    replicas = as_int(lookup(values, "server.replicaCount"))
    worker = plan.helm_release("prefect-worker")
    notes = [f"server replicas: {replicas if replicas is not None else 'chart default (1)'}"]
    if lookup(values, "backgroundServices.runAsSeparateDeployment") is True:
        # Scheduling and late-run marking live there: it is on the path as much as the API.
        background = as_int(lookup(values, "backgroundServices.replicaCount"))
        notes.append(f"background-services replicas: {background if background is not None else 'chart default (1)'}")
        replicas = min(replicas or 1, background or 1)
    if worker is not None:
        # Flow runs start only while a worker polls: the API and the worker are both on the path.
        worker_replicas = as_int(lookup(release_values(worker, skip_unreadable=True), "worker.replicaCount"))
        notes.append(f"worker replicas: {worker_replicas if worker_replicas is not None else 'chart default (1)'}")
        replicas = min(replicas or 1, worker_replicas or 1)
    addresses = [release.address] + ([worker.address] if worker else [])
    return _workload(
        "prefect",
        "Prefect server and worker",
        addresses,
        replicas,
        spreads_over_zones(lookup(values, "server.topologySpreadConstraints"), lookup(values, "server.affinity")),
        [],
        notes,
    )


def model_api(plan: EnvironmentPlan) -> Component:
    deployments = [
        d
        for d in plan.resources("kubernetes_deployment_v1", "kubernetes_deployment")
        if "model-api" in str(block(d.body.get("metadata")).get("name", d.name))
    ]
    if not deployments:
        return absent("model_api", "model-api", "kubernetes_deployment_v1 model-api")
    deployment = deployments[0]
    spec = block(deployment.body.get("spec"))
    replicas = as_int(spec.get("replicas"))
    notes = []
    for hpa in plan.resources("kubernetes_horizontal_pod_autoscaler_v2", "kubernetes_horizontal_pod_autoscaler"):
        hpa_spec = block(hpa.body.get("spec"))
        if "model-api" in str(block(hpa_spec.get("scale_target_ref")).get("name", "")):
            floor = as_int(hpa_spec.get("min_replicas"))
            if floor is not None:
                notes.append(f"HPA floor {floor}")
                replicas = max(replicas or 0, floor)
    pod_spec = block(block(spec.get("template")).get("spec"))
    return _workload(
        "model_api",
        "model-api",
        [deployment.address],
        replicas,
        spreads_over_zones(pod_spec.get("topology_spread_constraint"), None),
        [],
        notes,
    )


COMPONENTS: tuple[Callable[[EnvironmentPlan], Component], ...] = (
    network,
    eks_control_plane,
    node_groups,
    aurora,
    redis,
    s3,
    ingress,
    prefect,
    model_api,
)
