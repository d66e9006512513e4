"""Network: a VPC with public, private and data subnets in every AZ.

- public: internet gateway route, NAT gateways, internet-facing load balancers
  (tag kubernetes.io/role/elb, which the AWS Load Balancer Controller and the in-tree
  service controller use to find subnets: https://docs.aws.amazon.com/eks/latest/userguide/network-load-balancing.html)
- private: EKS nodes and pods, default route to a NAT gateway (in the same AZ when per-AZ)
- data: Aurora and ElastiCache, no route to the internet
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from haflow.config.network import Network as NetworkConfig
from haflow.config.subnets import plan_subnets
from haflow.constructs.iam import assume_role_policy, policy_document

ANYWHERE = "0.0.0.0/0"
# Flow logs aggregated every 60 s rather than the default 600 s: faster incident forensics.
FLOW_LOG_AGGREGATION_SECONDS = 60
# aws_nat_gateway.availability_mode of a regional NAT gateway (the default, "zonal", lives in one subnet).
REGIONAL_NAT_MODE = "regional"


@dataclass(frozen=True)
class SubnetTier:
    """The subnets of one tier, by AZ in config order."""

    ids_by_az: dict[str, str]
    arns_by_az: dict[str, str]

    @property
    def ids(self) -> list[str]:
        return list(self.ids_by_az.values())

    @property
    def arns(self) -> list[str]:
        return list(self.arns_by_az.values())


# The actions the VPC User Guide's flow-log role policy lists ("IAM role for publishing flow logs to
# CloudWatch Logs": https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html), which the
# guide grants on "*". Scoped here as narrowly as each action allows.
FLOW_LOG_GROUP_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                          "logs:DescribeLogStreams")
FLOW_LOG_LIST_ACTIONS = ("logs:DescribeLogGroups",)


def flow_log_statements(log_group_arn: str, region: str, account_id: str, partition: str) -> list[dict[str, object]]:
    """The flow-log role's statements: the group-level actions on the flow-log group and its streams; and
    DescribeLogGroups, a list call that cannot be scoped to one group (its resource is every log group of the
    account and region, ``log-group:*``; the Service Authorization Reference for CloudWatch Logs), on this
    account's groups in this region, not on ``*``."""
    return [
        {"Sid": "WriteTheFlowLogGroup", "Effect": "Allow", "Action": list(FLOW_LOG_GROUP_ACTIONS),
         "Resource": [log_group_arn, f"{log_group_arn}:*"]},
        {"Sid": "ListLogGroups", "Effect": "Allow", "Action": list(FLOW_LOG_LIST_ACTIONS),
         "Resource": f"arn:{partition}:logs:{region}:{account_id}:log-group:*"},
    ]


class Network(Construct):
    """VPC, subnets, gateways, routes, flow logs, S3 gateway endpoint and data subnet groups."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        region: str,
        availability_zones: list[str],
        config: NetworkConfig,
        account_id: str,
        partition: str,
        kms_key_arn: str | None = None,
    ) -> None:
        """``kms_key_arn`` encrypts the flow-log group; left out, CloudWatch's own encryption is used.
        ``account_id`` and ``partition`` scope the flow-log role's DescribeLogGroups to this account's groups."""
        super().__init__(scope, id_)
        self.availability_zones = list(availability_zones)
        plan = plan_subnets(config.cidr, self.availability_zones, config.subnet_prefix_lengths.model_dump())

        self.vpc = Vpc(
            self, "vpc", cidr_block=config.cidr, enable_dns_support=True, enable_dns_hostnames=True,
            tags={"Name": name},
        )
        self.vpc_id = self.vpc.id
        self.cidr = config.cidr
        # The default security group admits all traffic between its members; lock it down so nothing
        # can use it by accident (CIS AWS 5.4).
        DefaultSecurityGroup(self, "default-security-group", vpc_id=self.vpc.id, tags={"Name": f"{name}-default"})
        igw = InternetGateway(self, "internet-gateway", vpc_id=self.vpc.id, tags={"Name": name})

        tier_tags = {
            "public": {"kubernetes.io/role/elb": "1"},
            "private": {"kubernetes.io/role/internal-elb": "1"},
            "data": {},
        }
        subnets: dict[str, dict[str, Subnet]] = {tier: {} for tier in tier_tags}
        for planned in plan:
            subnets[planned.tier][planned.az] = Subnet(
                self, f"{planned.tier}-{planned.az}", vpc_id=self.vpc.id, cidr_block=planned.cidr,
                availability_zone=planned.az, map_public_ip_on_launch=False,
                tags={"Name": f"{name}-{planned.tier}-{planned.az}", "haflow/tier": planned.tier,
                      **tier_tags[planned.tier]},
            )
        self.public_subnets = SubnetTier({az: s.id for az, s in subnets["public"].items()},
                                         {az: s.arn for az, s in subnets["public"].items()})
        self.private_subnets = SubnetTier({az: s.id for az, s in subnets["private"].items()},
                                         {az: s.arn for az, s in subnets["private"].items()})
        self.data_subnets = SubnetTier({az: s.id for az, s in subnets["data"].items()},
                                         {az: s.arn for az, s in subnets["data"].items()})

        public_rt = RouteTable(self, "public-route-table", vpc_id=self.vpc.id, tags={"Name": f"{name}-public"})
        Route(self, "public-default-route", route_table_id=public_rt.id,
              destination_cidr_block=ANYWHERE, gateway_id=igw.id)
        for az, subnet in subnets["public"].items():
            RouteTableAssociation(self, f"public-{az}-association", subnet_id=subnet.id, route_table_id=public_rt.id)

        nat_by_az: dict[str, NatGateway] = {}
        if config.nat_gateways == "regional":
            # One NAT gateway for the VPC that AWS spreads over every AZ with subnets (automatic mode:
            # AWS allocates the Elastic IPs); it has no subnet of its own, so no AZ whose loss cuts egress.
            # Every private route table points at it. https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateways-regional.html
            nat_azs = self.availability_zones[:1]
            nat_by_az[nat_azs[0]] = NatGateway(
                self, "nat-regional", vpc_id=self.vpc.id, availability_mode=REGIONAL_NAT_MODE,
                connectivity_type="public", tags={"Name": f"{name}-nat-regional"}, depends_on=[igw],
            )
        else:
            nat_azs = self.availability_zones if config.nat_gateways == "per_az" else self.availability_zones[:1]
            for az in nat_azs:
                eip = Eip(self, f"nat-eip-{az}", domain="vpc", tags={"Name": f"{name}-nat-{az}"})
                nat_by_az[az] = NatGateway(
                    self, f"nat-{az}", allocation_id=eip.id, subnet_id=subnets["public"][az].id,
                    connectivity_type="public", tags={"Name": f"{name}-nat-{az}"}, depends_on=[igw],
                )
        self.nat_gateway_count = len(nat_by_az)
        # By the AZ whose subnet holds it (the first AZ for a regional gateway), for the NAT alarms.
        self.nat_gateway_ids = {az: nat.id for az, nat in nat_by_az.items()}

        private_route_tables: list[str] = []
        for az, subnet in subnets["private"].items():
            table = RouteTable(self, f"private-route-table-{az}", vpc_id=self.vpc.id,
                               tags={"Name": f"{name}-private-{az}"})
            nat = nat_by_az.get(az, nat_by_az[nat_azs[0]])
            Route(self, f"private-default-route-{az}", route_table_id=table.id,
                  destination_cidr_block=ANYWHERE, nat_gateway_id=nat.id)
            RouteTableAssociation(self, f"private-{az}-association", subnet_id=subnet.id, route_table_id=table.id)
            private_route_tables.append(table.id)

        data_rt = RouteTable(self, "data-route-table", vpc_id=self.vpc.id, tags={"Name": f"{name}-data"})
        for az, subnet in subnets["data"].items():
            RouteTableAssociation(self, f"data-{az}-association", subnet_id=subnet.id, route_table_id=data_rt.id)

        # S3 traffic (artifacts, image layers from ECR's S3) stays on the AWS network and costs no NAT.
        VpcEndpoint(
            self, "s3-gateway-endpoint", vpc_id=self.vpc.id, service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway", route_table_ids=[*private_route_tables, data_rt.id],
            tags={"Name": f"{name}-s3"},
        )

        log_group = CloudwatchLogGroup(
            self, "flow-log-group", name=f"/haflow/{name}/vpc-flow-logs",
            retention_in_days=config.flow_log_retention_days, kms_key_id=kms_key_arn,
        )
        flow_role = IamRole(
            self, "flow-log-role", name=f"{name}-vpc-flow-logs",
            assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"),
        )
        IamRolePolicy(
            self, "flow-log-policy", role=flow_role.id, name="write-flow-logs",
            policy=policy_document(*flow_log_statements(log_group.arn, region, account_id, partition)),
        )
        FlowLog(
            self, "flow-log", vpc_id=self.vpc.id, traffic_type=config.flow_log_traffic_type,
            log_destination_type="cloud-watch-logs", log_destination=log_group.arn,
            iam_role_arn=flow_role.arn, max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
            tags={"Name": name},
        )

        db_group = DbSubnetGroup(self, "db-subnet-group", name=f"{name}-data",
                                 subnet_ids=self.data_subnets.ids, description=f"{name} Aurora subnets")
        cache_group = ElasticacheSubnetGroup(self, "cache-subnet-group", name=f"{name}-data",
                                             subnet_ids=self.data_subnets.ids,
                                             description=f"{name} ElastiCache subnets")
        self.db_subnet_group_name = db_group.name
        self.cache_subnet_group_name = cache_group.name
