"""Seed a local endpoint (moto_server) with what a synthesized foundation plan describes, as far as the
drills look at it: VPCs and subnets, the EKS cluster and node groups, the Aurora cluster and instances,
the Redis replication group, the S3 buckets and their settings; the alerts topics, the CloudWatch alarms
and the FIS experiment role and templates (haflow drill az / node). Each node group gets the Auto Scaling
group EKS would make for it, with its desired number of instances.

Every value comes from the plan (names, AZs, CIDRs, scaling, instance identifiers, bucket settings);
what only a real deploy produces (role ARNs, KMS keys) is stood in for. Subnet references are
followed to the subnets created here, the way Terraform would wire them. It runs against a local
endpoint only: a real account is deployed with `cdktf deploy`, never seeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from haflow.drill.clients import AwsClients
from haflow.drill.plan import Plan, Unresolved
from haflow.plan import block

STAND_IN_ROLE = "arn:aws:iam::123456789012:role/haflow-drill-seed"


class NotLocal(Exception):
    """Seeding was asked of the real AWS APIs."""


def seed_plan(plan: Plan, aws: AwsClients, *, global_cluster: str | None = None) -> None:
    """Create in the local endpoint behind ``aws`` every resource of ``plan`` that `drill verify` checks.

    ``global_cluster``: the Aurora Global Database the plan's own (primary) cluster is the source of, as
    the DR plan's ``source_db_cluster_identifier`` makes it; the primary joins it first, so it is the
    global writer, as after ``cdktf deploy`` (create it with ``seed_global_clusters`` beforehand).
    """
    _local_only(aws)
    subnet_ids = _network(plan, aws)
    _eks(plan, aws, subnet_ids)
    _aurora(plan, aws, global_cluster)
    _redis(plan, aws)
    _buckets(plan, aws)
    _alarms_and_experiments(plan, aws, subnet_ids)


def seed_global_clusters(dr_plan: Plan, aws: AwsClients) -> list[str]:
    """Create the DR plan's global clusters (empty, see _aurora) before the primary joins them; their ids."""
    _local_only(aws)
    created = []
    for global_cluster in dr_plan.resources("aws_rds_global_cluster"):
        identifier = str(dr_plan.literal(global_cluster.body["global_cluster_identifier"]))
        # moto resolves SourceDBClusterIdentifier only in us-east-1: an empty global cluster, which the
        # primary cluster joins first and so becomes its writer, as the source cluster is in AWS.
        aws("rds").create_global_cluster(GlobalClusterIdentifier=identifier, Engine="aurora-postgresql")
        created.append(identifier)
    return created


def _local_only(aws: AwsClients) -> None:
    if aws.endpoint is None:
        raise NotLocal("seeding writes stand-in resources: it runs against a local endpoint only "
                       "(--endpoint-url http://127.0.0.1:5000 or LOCALSTACK_HOST); deploy a real account with cdktf")


def _tags(plan: Plan, body: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": str(plan.literal(value))} for key, value in body.get("tags", {}).items()]


def _network(plan: Plan, aws: AwsClients) -> dict[str, str]:
    """Create the VPCs and subnets; returns the live id of each planned subnet, by logical name."""
    ec2 = aws("ec2")
    vpc_ids = {
        vpc.name: ec2.create_vpc(
            CidrBlock=vpc.body["cidr_block"],
            TagSpecifications=[{"ResourceType": "vpc", "Tags": _tags(plan, vpc.body)}],
        )["Vpc"]["VpcId"]
        for vpc in plan.resources("aws_vpc")
    }
    subnet_ids = {}
    for subnet in plan.resources("aws_subnet"):
        vpc = plan.reference(subnet.body["vpc_id"])
        assert vpc is not None
        subnet_ids[subnet.name] = ec2.create_subnet(
            VpcId=vpc_ids[vpc.name],
            CidrBlock=subnet.body["cidr_block"],
            AvailabilityZone=subnet.body["availability_zone"],
            TagSpecifications=[{"ResourceType": "subnet", "Tags": _tags(plan, subnet.body)}],
        )["Subnet"]["SubnetId"]
    return subnet_ids


def _live_subnets(plan: Plan, refs: list[str], subnet_ids: dict[str, str]) -> list[str]:
    found = []
    for ref in refs:
        target = plan.reference(ref)
        assert target is not None and target.rtype == "aws_subnet", ref
        found.append(subnet_ids[target.name])
    return found


def _eks(plan: Plan, aws: AwsClients, subnet_ids: dict[str, str]) -> None:
    eks = aws("eks")
    for cluster in plan.resources("aws_eks_cluster"):
        eks.create_cluster(
            name=plan.literal(cluster.body["name"]),
            roleArn=STAND_IN_ROLE,
            resourcesVpcConfig={
                "subnetIds": _live_subnets(plan, block(cluster.body["vpc_config"])["subnet_ids"], subnet_ids)
            },
        )
    for group in plan.resources("aws_eks_node_group"):
        scaling = block(group.body["scaling_config"])
        eks.create_nodegroup(
            clusterName=plan.literal(group.body["cluster_name"]),
            nodegroupName=plan.literal(group.body["node_group_name"]),
            subnets=_live_subnets(plan, group.body["subnet_ids"], subnet_ids),
            nodeRole=STAND_IN_ROLE,
            scalingConfig={
                "minSize": scaling["min_size"],
                "maxSize": scaling["max_size"],
                "desiredSize": scaling["desired_size"],
            },
        )
        _node_group_capacity(plan, aws, group.body, subnet_ids)


def _node_group_capacity(plan: Plan, aws: AwsClients, body: Mapping[str, Any], subnet_ids: dict[str, str]) -> None:
    """The Auto Scaling group EKS runs a managed node group's instances in (the name the endpoint reports),
    at the group's desired size, its instances tagged with the cluster's name as EKS tags them."""
    cluster, name = plan.literal(body["cluster_name"]), plan.literal(body["node_group_name"])
    group = aws("eks").describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
    ec2 = aws("ec2")
    image = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    template = ec2.create_launch_template(
        LaunchTemplateName=f"{name}-stand-in", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.medium"},
    )["LaunchTemplate"]["LaunchTemplateId"]
    desired = int(block(body["scaling_config"])["desired_size"])
    for asg in group["resources"]["autoScalingGroups"]:
        aws("autoscaling").create_auto_scaling_group(
            AutoScalingGroupName=asg["name"], LaunchTemplate={"LaunchTemplateId": template},
            MinSize=desired, MaxSize=desired, DesiredCapacity=desired,
            VPCZoneIdentifier=",".join(_live_subnets(plan, body["subnet_ids"], subnet_ids)),
            Tags=[{"Key": "eks:cluster-name", "Value": cluster, "PropagateAtLaunch": True},
                  {"Key": "eks:nodegroup-name", "Value": name, "PropagateAtLaunch": True}],
        )


def _aurora(plan: Plan, aws: AwsClients, joins: str | None) -> None:
    rds = aws("rds")
    existing = {g["GlobalClusterIdentifier"] for g in rds.describe_global_clusters().get("GlobalClusters", [])}
    for global_cluster in plan.resources("aws_rds_global_cluster"):
        identifier = str(plan.literal(global_cluster.body["global_cluster_identifier"]))
        if identifier not in existing:  # not made before the primary joined it (seed_global_clusters)
            rds.create_global_cluster(GlobalClusterIdentifier=identifier, Engine="aurora-postgresql")
    for cluster in plan.resources("aws_rds_cluster"):
        if "global_cluster_identifier" in cluster.body and "master_username" not in cluster.body:
            rds.create_db_cluster(
                DBClusterIdentifier=plan.literal(cluster.body["cluster_identifier"]), Engine=cluster.body["engine"],
                GlobalClusterIdentifier=plan.literal(cluster.body["global_cluster_identifier"]),
            )
            continue
        rds.create_db_cluster(
            DBClusterIdentifier=plan.literal(cluster.body["cluster_identifier"]),
            Engine=cluster.body["engine"],
            MasterUsername=cluster.body.get("master_username", "haflow"),
            ManageMasterUserPassword=True,
            **({"GlobalClusterIdentifier": joins} if joins else {}),
        )
    # Lowest promotion tier first: moto makes the first instance of a cluster its writer, as the
    # first instance Terraform creates becomes the writer in AWS.
    instances = sorted(plan.resources("aws_rds_cluster_instance"), key=lambda i: i.body.get("promotion_tier", 1))
    for instance in instances:
        rds.create_db_instance(
            DBInstanceIdentifier=plan.literal(instance.body["identifier"]),
            DBClusterIdentifier=plan.literal(instance.body["cluster_identifier"]),
            Engine=instance.body["engine"],
            DBInstanceClass=instance.body["instance_class"],
            AvailabilityZone=instance.body["availability_zone"],
            PromotionTier=instance.body.get("promotion_tier", 1),
        )


def _redis(plan: Plan, aws: AwsClients) -> None:
    for group in plan.resources("aws_elasticache_replication_group"):
        members = group.body["num_cache_clusters"]
        aws("elasticache").create_replication_group(
            ReplicationGroupId=plan.literal(group.body["replication_group_id"]),
            ReplicationGroupDescription=group.body["description"],
            Engine=group.body.get("engine", "redis"),
            CacheNodeType=group.body["node_type"],
            NumCacheClusters=members,
            # moto 5.2 ignores NumCacheClusters when cluster mode is disabled and creates one node
            # unless ReplicasPerNodeGroup is given; AWS takes NumCacheClusters alone.
            ReplicasPerNodeGroup=members - 1,
            AutomaticFailoverEnabled=str(group.body["automatic_failover_enabled"]).lower() == "true",
            MultiAZEnabled=str(group.body["multi_az_enabled"]).lower() == "true",
            PreferredCacheClusterAZs=group.body["preferred_cache_cluster_azs"],
        )


def _buckets(plan: Plan, aws: AwsClients) -> None:
    s3 = aws("s3")
    names = {bucket.name: plan.literal(bucket.body["bucket"]) for bucket in plan.resources("aws_s3_bucket")}
    # Outside us-east-1, S3 needs the bucket's region in the request.
    where = (
        {} if aws.region in (None, "us-east-1") else {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
    )
    for name in names.values():
        s3.create_bucket(Bucket=name, **where)

    def bucket_of(resource_body: Mapping[str, Any]) -> str:
        ref = plan.reference(resource_body["bucket"])
        assert ref is not None and ref.rtype == "aws_s3_bucket"
        return str(names[ref.name])

    for versioning in plan.resources("aws_s3_bucket_versioning"):
        s3.put_bucket_versioning(
            Bucket=bucket_of(versioning.body),
            VersioningConfiguration={"Status": block(versioning.body["versioning_configuration"])["status"]},
        )
    for encryption in plan.resources("aws_s3_bucket_server_side_encryption_configuration"):
        rule = block(encryption.body["rule"])
        default = block(rule["apply_server_side_encryption_by_default"])
        s3.put_bucket_encryption(
            Bucket=bucket_of(encryption.body),
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": default["sse_algorithm"]},
                        "BucketKeyEnabled": bool(rule.get("bucket_key_enabled", False)),
                    }
                ]
            },
        )
    for access in plan.resources("aws_s3_bucket_public_access_block"):
        s3.put_public_access_block(
            Bucket=bucket_of(access.body),
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": bool(access.body.get("block_public_acls", False)),
                "BlockPublicPolicy": bool(access.body.get("block_public_policy", False)),
                "IgnorePublicAcls": bool(access.body.get("ignore_public_acls", False)),
                "RestrictPublicBuckets": bool(access.body.get("restrict_public_buckets", False)),
            },
        )


def _arn(plan: Plan, aws: AwsClients, account: str, token: Any, subnet_ids: dict[str, str]) -> str:
    """The live ARN a ``${type.name.arn}`` reference of the plan stands for here."""
    ref = plan.reference(token)
    if ref is None:
        return str(plan.literal(token))
    body = plan.get(ref.rtype, ref.name).body
    region = aws.region
    if ref.rtype == "aws_cloudwatch_metric_alarm":
        return f"arn:aws:cloudwatch:{region}:{account}:alarm:{plan.literal(body['alarm_name'])}"
    if ref.rtype == "aws_iam_role":
        return f"arn:aws:iam::{account}:role/{plan.literal(body['name'])}"
    if ref.rtype == "aws_subnet":
        return f"arn:aws:ec2:{region}:{account}:subnet/{subnet_ids[ref.name]}"
    if ref.rtype == "aws_eks_node_group":
        cluster, name = plan.literal(body["cluster_name"]), plan.literal(body["node_group_name"])
        return str(aws("eks").describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]["nodegroupArn"])
    if ref.rtype == "aws_rds_cluster":
        return f"arn:aws:rds:{region}:{account}:cluster:{plan.literal(body['cluster_identifier'])}"
    if ref.rtype == "aws_elasticache_replication_group":
        return f"arn:aws:elasticache:{region}:{account}:replicationgroup:{plan.literal(body['replication_group_id'])}"
    raise Unresolved(f"{token}: no stand-in ARN for {ref.rtype}")


def _alarms_and_experiments(plan: Plan, aws: AwsClients, subnet_ids: dict[str, str]) -> None:
    """The alerts topics; the alarms whose dimensions are literals of the plan (a NAT gateway's id is not);
    the FIS experiment role and templates, their ARNs stood in for as the plan's references name them."""
    account = aws("sts").get_caller_identity()["Account"]
    for topic in plan.resources("aws_sns_topic"):
        aws("sns").create_topic(Name=str(plan.literal(topic.body["name"])))
    for alarm in plan.resources("aws_cloudwatch_metric_alarm"):
        body = alarm.body
        try:
            dimensions = [{"Name": key, "Value": str(plan.literal(value))}
                          for key, value in (body.get("dimensions") or {}).items()]
        except Unresolved:
            continue
        if not body.get("metric_name"):
            continue
        aws("cloudwatch").put_metric_alarm(
            AlarmName=str(plan.literal(body["alarm_name"])), AlarmDescription=str(body.get("alarm_description", "")),
            Namespace=body["namespace"], MetricName=body["metric_name"], Dimensions=dimensions,
            Statistic=body["statistic"], Period=int(body["period"]), EvaluationPeriods=int(body["evaluation_periods"]),
            Threshold=float(body["threshold"]), ComparisonOperator=body["comparison_operator"],
            TreatMissingData=body.get("treat_missing_data", "missing"),
        )
    for role in plan.resources("aws_iam_role"):
        if "fis.amazonaws.com" in str(role.body.get("assume_role_policy")):
            aws("iam").create_role(RoleName=str(plan.literal(role.body["name"])),
                                   AssumeRolePolicyDocument=str(role.body["assume_role_policy"]))
    for template in plan.resources("aws_fis_experiment_template"):
        body = template.body
        targets = {}
        for target in body.get("target") or []:
            entry: dict[str, Any] = {"resourceType": target["resource_type"], "selectionMode": target["selection_mode"]}
            if target.get("resource_arns"):
                entry["resourceArns"] = [_arn(plan, aws, account, arn, subnet_ids) for arn in target["resource_arns"]]
            if target.get("resource_tag"):
                entry["resourceTags"] = {t["key"]: str(plan.literal(t["value"])) for t in target["resource_tag"]}
            if target.get("filter"):
                entry["filters"] = [{"path": f["path"], "values": f["values"]} for f in target["filter"]]
            if target.get("parameters"):
                entry["parameters"] = dict(target["parameters"])
            targets[target["name"]] = entry
        actions = {
            action["name"]: {
                "actionId": action["action_id"],
                "parameters": {p["key"]: p["value"] for p in action.get("parameter") or []},
                "targets": {block(action["target"])["key"]: block(action["target"])["value"]},
            }
            for action in body.get("action") or []
        }
        aws("fis").create_experiment_template(
            description=body["description"], roleArn=_arn(plan, aws, account, body["role_arn"], subnet_ids),
            stopConditions=[{"source": c["source"], "value": _arn(plan, aws, account, c["value"], subnet_ids)}
                            for c in body.get("stop_condition") or []],
            targets=targets, actions=actions, tags={k: str(v) for k, v in (body.get("tags") or {}).items()},
        )
