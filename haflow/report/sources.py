"""The published figures the report rests on: one named constant per fact, with its source and quote.

Every figure in a report carries the id of one of these sources. Availability figures are monthly
uptime commitments (SLAs) or, where AWS publishes no SLA, the design target AWS states; an SLA is a
floor AWS commits to, so a composite of SLAs is a conservative estimate, not a forecast.
Where AWS documents a mechanism but no duration, the figure is marked ``assumed`` and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from haflow import region_recovery as dr


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str
    quote: str
    assumed: bool = False  # True: AWS documents the mechanism but not this number; haflow assumes it


def _source(id_: str, title: str, url: str, quote: str, *, assumed: bool = False) -> Source:
    return Source(id_, title, url, quote, assumed)


# --- Compute (EC2, hence EKS managed node groups; also the proxy for single-AZ network parts) ---
EC2_REGION_SLA_PERCENT = 99.99
EC2_INSTANCE_SLA_PERCENT = 99.5
EC2_REGION_SLA = _source(
    "ec2-region-sla",
    "Amazon Compute Service Level Agreement: Region-Level SLA",
    "https://aws.amazon.com/compute/sla/",
    "For Included Services with all running instances or tasks deployed concurrently across two or more AZs "
    "in the same region ... a Monthly Uptime Percentage of at least 99.99%",
)
EC2_INSTANCE_SLA = _source(
    "ec2-instance-sla",
    "Amazon Compute Service Level Agreement: Instance-Level SLA",
    "https://aws.amazon.com/compute/sla/",
    "AWS will use commercially reasonable efforts to make each individual Amazon EC2 instance available with "
    "an Instance-Level Uptime Percentage of at least 99.5%",
)

# --- Network ---
NAT_PER_AZ = _source(
    "vpc-nat-gateway-basics",
    "Amazon VPC User Guide: NAT gateway basics",
    "https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-basics.html",
    "Each NAT gateway is created in a specific Availability Zone and implemented with redundancy in that "
    "zone. ... if the NAT gateway's Availability Zone is down, resources in the other Availability Zones "
    "lose internet access. To improve resiliency, create a NAT gateway in each Availability Zone",
)
REGIONAL_NAT = _source(
    "vpc-nat-gateway-regional",
    "Amazon VPC User Guide: Regional NAT gateways for automatic multi-AZ expansion",
    "https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateways-regional.html",
    "A regional NAT gateway is a single NAT Gateway that works across multiple availability zones (AZs) in "
    "your VPC, providing redundancy, scalability and availability across all the AZs in a Region.",
)

# --- EKS control plane ---
EKS_SLA_PERCENT = 99.95
EKS_SLA = _source(
    "eks-sla",
    "Amazon EKS Service Level Agreement",
    "https://aws.amazon.com/eks/sla/",
    "AWS will use commercially reasonable efforts to make the Kubernetes endpoint for an Amazon EKS Cluster "
    "available with a Monthly Uptime Percentage of at least 99.95%",
)
EKS_CONTROL_PLANE = _source(
    "eks-architecture",
    "Amazon EKS User Guide: Amazon EKS architecture",
    "https://docs.aws.amazon.com/eks/latest/userguide/eks-architecture.html",
    "The control plane positions at least two API server instances and three etcd instances across three AWS "
    "Availability Zones within an AWS Region. ... If a control plane instance falters, Amazon EKS quickly "
    "replaces it, using a different Availability Zone if needed.",
)
EKS_DATA_PLANE = _source(
    "eks-bp-data-plane",
    "Amazon EKS Best Practices: EKS Data Plane",
    "https://docs.aws.amazon.com/eks/latest/best-practices/data-plane.html",
    "A resilient data plane consists of two or more worker nodes, can grow and shrink with the workload, and "
    "automatically recover from failures.",
)

# --- Kubernetes behaviour on node loss (upstream defaults; EKS does not change them) ---
NODE_MONITOR_GRACE_SECONDS = 50
POD_NOT_READY_TOLERATION_SECONDS = 300
K8S_NODE_MONITOR_GRACE = _source(
    "k8s-node-monitor-grace",
    "kube-controller-manager reference: --node-monitor-grace-period",
    "https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/",
    "--node-monitor-grace-period duration Default: 50s (40s before Kubernetes 1.32, "
    "kubernetes/kubernetes#126287): amount of time which we allow running Node to be unresponsive before "
    "marking it unhealthy",
)
K8S_TAINT_EVICTION = _source(
    "k8s-taint-based-evictions",
    "Kubernetes: Taints and Tolerations, taint based evictions",
    "https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions",
    "Kubernetes automatically adds a toleration for node.kubernetes.io/not-ready and "
    "node.kubernetes.io/unreachable with tolerationSeconds=300",
)

# --- Aurora ---
AURORA_MULTI_AZ_SLA_PERCENT = 99.99
AURORA_SINGLE_AZ_SLA_PERCENT = 99.9
AURORA_FAILOVER_SECONDS = 30
RDS_LATEST_RESTORABLE_SECONDS = 300
AURORA_SLA = _source(
    "aurora-sla",
    "Amazon Aurora Service Level Agreement",
    "https://aws.amazon.com/rds/aurora/sla/",
    "a Multi-AZ SLA that governs each Amazon Aurora cluster deployed across two or more AZs (Monthly Uptime "
    "Percentage 99.99%); a Single-AZ SLA that governs each Amazon Aurora cluster that is deployed to one AZ "
    "(Single-AZ Uptime Percentage 99.9%)",
)
AURORA_FAILOVER = _source(
    "aurora-faq-failover",
    "Amazon Aurora FAQs: What happens during a failover and how long does it take?",
    "https://aws.amazon.com/rds/aurora/faqs/",
    "If you have an Amazon Aurora Replica in the same or a different Availability Zone, when failing over, "
    "Amazon Aurora flips the canonical name record (CNAME) for your DB Instance to point at the healthy "
    "replica, which in turn is promoted to become the new primary. Start-to-finish, failover typically "
    "completes within 30 seconds.",
)
AURORA_SINGLE_INSTANCE = _source(
    "aurora-faq-single-instance",
    "Amazon Aurora FAQs: failover without a replica",
    "https://aws.amazon.com/rds/aurora/faqs/",
    "If you do not have an Amazon Aurora Replica (i.e., single instance) ... Aurora will attempt to create "
    "a new DB Instance in the same Availability Zone as your original instance. This replacement of the "
    "original instance is done on a best-effort basis and may not succeed, for example, if there is an issue that is "
    "broadly affecting the Availability Zone.",
)
AURORA_STORAGE = _source(
    "aurora-ha-storage",
    "Amazon Aurora User Guide: High availability for Aurora data",
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.AuroraHighAvailability.html",
    "When data is written to the primary DB instance, Aurora synchronously replicates the data across "
    "Availability Zones to six storage nodes associated with your cluster volume.",
)
RDS_PITR = _source(
    "rds-pitr",
    "Amazon RDS User Guide: Restoring a DB instance to a specified time (LatestRestorableTime)",
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIT.html",
    "You can restore a DB instance to a specific point in time ... The latest restorable time for a DB "
    "instance is typically within 5 minutes of the current time. (Aurora backups are continuous and "
    "incremental within the backup retention period.)",
)

# --- ElastiCache (Redis OSS / Valkey) ---
ELASTICACHE_MULTI_AZ_SLA_PERCENT = 99.99
ELASTICACHE_SINGLE_AZ_SLA_PERCENT = 99.5
ELASTICACHE_FAILOVER_SECONDS = 60
ELASTICACHE_SLA = _source(
    "elasticache-sla",
    "Amazon ElastiCache Service Level Agreement",
    "https://aws.amazon.com/elasticache/sla/",
    "Multi-AZ ElastiCache SLA: Monthly Uptime Percentage 99.99% for each Multi-AZ Configuration; Single-AZ "
    "ElastiCache SLA: 99.5% for each Single-AZ Configuration",
)
ELASTICACHE_FAILOVER = _source(
    "elasticache-auto-failover",
    "Amazon ElastiCache: Minimizing downtime with Multi-AZ (Valkey and Redis OSS)",
    "https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html",
    "The role of primary node will automatically fail over to one of the read replicas ... ElastiCache also "
    "propagates the Domain Name Service (DNS) name of the promoted replica. (AWS documents no failover "
    "duration: haflow assumes 60 s; measure it with `haflow drill`.)",
    assumed=True,
)

# --- S3 ---
S3_DESIGN_AVAILABILITY_PERCENT = 99.99
S3_DESIGN = _source(
    "s3-storage-classes",
    "Amazon S3 User Guide: storage classes (S3 Standard)",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-class-intro.html",
    "S3 Standard: designed for 99.999999999% (11 nines) durability and 99.99% availability of objects over a "
    "given year; data stored redundantly across a minimum of three Availability Zones. (The S3 SLA credits "
    "below 99.9%: https://aws.amazon.com/s3/sla/)",
)
S3_VERSIONING = _source(
    "s3-versioning",
    "Amazon S3 User Guide: Retaining multiple versions of objects with S3 Versioning",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",
    "With versioning you can recover more easily from both unintended user actions and application failures.",
)

# --- Load balancing (ingress-nginx's Service of type LoadBalancer: an NLB) ---
ELB_MULTI_AZ_SLA_PERCENT = 99.99
ELB_SINGLE_AZ_SLA_PERCENT = 99.9
ELB_SLA = _source(
    "elb-sla",
    "Amazon Elastic Load Balancing Service Level Agreement",
    "https://aws.amazon.com/elasticloadbalancing/sla/",
    "When a Load Balancer is deployed concurrently across two or more AZs (Multi-AZ Load Balancer) ... "
    "Monthly Uptime Percentage 99.99%; deployed in only one AZ (Single Load Balancer) ... 99.9%",
)

# --- Disaster recovery (a second region); the numbers live in haflow.region_recovery, which validation shares ---
AURORA_GLOBAL_LAG = _source(
    "aurora-global-database",
    "Amazon Aurora User Guide: Using Amazon Aurora global databases",
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database.html",
    "Aurora replicates data to the secondary AWS Regions using dedicated infrastructure, with latency typically "
    f"under one second (haflow counts {dr.AURORA_GLOBAL_LAG_SECONDS} s of writes lost on an unplanned failover; a "
    "planned switchover loses none).",
)
AURORA_GLOBAL_PROMOTION = _source(
    "aurora-global-promotion",
    "AWS Disaster Recovery Workshop: Aurora Global Database",
    "https://disaster-recovery.workshop.aws/en/services/databases/aurora/global-database.html",
    "with a global database, you can promote one of the AWS secondary regions to perform full read/write "
    f"workloads in less than a minute (haflow counts {dr.AURORA_GLOBAL_PROMOTION_SECONDS} s).",
)
AURORA_INSTANCE_CREATE = _source(
    "aurora-headless-secondary",
    "Amazon Aurora User Guide: headless secondary clusters of a global database",
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-attach.console.headless.html",
    "A headless secondary Aurora DB cluster is one without a DB instance. ... Without the DB instance, you're "
    "not charged for compute, only for storage. (Before it serves, an instance must be added; AWS documents "
    f"no duration for creating an instance: haflow assumes {dr.AURORA_INSTANCE_CREATE_SECONDS} s; measure it "
    "with `haflow drill failover region`.)",
    assumed=True,
)
S3_RTC = _source(
    "s3-replication-time-control",
    "Amazon S3 User Guide: Meeting compliance requirements with S3 Replication Time Control",
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html",
    "S3 RTC replicates most objects that you upload to Amazon S3 in seconds, and 99.99 percent of those "
    f"objects within 15 minutes ({dr.S3_RTC_REPLICATION_SECONDS} s).",
)
ROUTE53_HEALTH_CHECKS = _source(
    "route53-health-checks",
    "Amazon Route 53 Developer Guide: How Amazon Route 53 determines whether a health check is healthy",
    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html",
    f"Request interval {dr.HEALTH_CHECK_INTERVAL_SECONDS} s (standard); the endpoint is unhealthy after the "
    f"failure threshold ({dr.HEALTH_CHECK_FAILURE_THRESHOLD}) of consecutive failed checks; clients follow the "
    "failover record after its TTL.",
)
ROUTE53_SLA = _source(
    "route53-sla",
    "Amazon Route 53 Service Level Agreement",
    "https://aws.amazon.com/route53/sla/",
    "AWS will use commercially reasonable efforts to make Amazon Route 53 100% Available.",
)
EKS_NODE_SCALE_UP = _source(
    "eks-bp-cluster-autoscaler",
    "Amazon EKS Best Practices: Cluster Autoscaler",
    "https://docs.aws.amazon.com/eks/latest/best-practices/cas.html",
    "Cluster Autoscaler adds nodes when pods are pending. (AWS documents no duration for a scale-up: haflow "
    f"assumes {dr.NODE_SCALE_UP_SECONDS} s for nodes to join and pods to start.)",
    assumed=True,
)
PREFECT_DR_START = _source(
    "haflow-dr-prefect-start",
    "haflow docs: Disaster recovery runbook, the Prefect tier after promotion",
    "docs/disaster-recovery.md#runbook-detect-decide-fail-over-fail-back",
    "Prefect: once the secondary Aurora cluster is the writer, set dr.serving: true and apply the DR platform. "
    f"(No published duration: haflow assumes {dr.PREFECT_START_AFTER_PROMOTION_SECONDS} s for image pulls, the "
    "no-op migration and Ready pods; the smoke measures 61-83 s without image pulls.)",
    assumed=True,
)
DR_DECISION = _source(
    "haflow-dr-runbook",
    "haflow docs: Disaster recovery runbook (detect, decide, fail over, fail back)",
    "docs/disaster-recovery.md#runbook-detect-decide-fail-over-fail-back",
    "A regional failover is a human decision: the runbook budgets dr.decision_seconds for it (default "
    f"{dr.DEFAULT_DECISION_SECONDS} s). This is the environment's own figure, not an AWS one.",
    assumed=True,
)

SOURCES: dict[str, Source] = {
    source.id: source
    for source in (
        EC2_REGION_SLA,
        EC2_INSTANCE_SLA,
        NAT_PER_AZ,
        REGIONAL_NAT,
        EKS_SLA,
        EKS_CONTROL_PLANE,
        EKS_DATA_PLANE,
        K8S_NODE_MONITOR_GRACE,
        K8S_TAINT_EVICTION,
        AURORA_SLA,
        AURORA_FAILOVER,
        AURORA_SINGLE_INSTANCE,
        AURORA_STORAGE,
        RDS_PITR,
        ELASTICACHE_SLA,
        ELASTICACHE_FAILOVER,
        S3_DESIGN,
        S3_VERSIONING,
        ELB_SLA,
        AURORA_GLOBAL_LAG,
        AURORA_GLOBAL_PROMOTION,
        AURORA_INSTANCE_CREATE,
        S3_RTC,
        ROUTE53_HEALTH_CHECKS,
        ROUTE53_SLA,
        EKS_NODE_SCALE_UP,
        PREFECT_DR_START,
        DR_DECISION,
    )
}
