"""Route 53 failover routing for the ingress: a health check on each region's load balancer and a
PRIMARY / SECONDARY pair of records.

Route 53 answers with the primary while its health check passes and with the secondary otherwise,
from its data plane: failing traffic over needs no API call, so it works while the primary region
(and Route 53's control plane in us-east-1) is impaired.
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-configuring.html
https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/route-53-concepts.html (data plane, control plane)

The load balancers are made by Kubernetes for ingress-nginx's Service, so their DNS names are known
only after the platform stacks are deployed; the environment names them (``dr.dns``).
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordFailoverRoutingPolicy
from constructs import Construct

from haflow.config.dr import DnsFailover
from haflow.region_recovery import HEALTH_CHECK_FAILURE_THRESHOLD, HEALTH_CHECK_INTERVAL_SECONDS

# ingress-nginx answers /healthz on its HTTP port (the controller's default server). With ingress.tls the
# NLB serves only 443 (TLS terminated there, forwarded to that same HTTP port): the checks use HTTPS
# (Route 53 does not validate the certificate, https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
HEALTH_CHECKS = {False: ("HTTP", 80), True: ("HTTPS", 443)}
RECORD_TYPE = "CNAME"
ROLES = ("PRIMARY", "SECONDARY")


class DnsFailoverRecords(Construct):
    """One health check and one failover record per region, PRIMARY first."""

    def __init__(self, scope: Construct, id_: str, *, name: str, config: DnsFailover, tls: bool) -> None:
        """``tls``: the load balancers serve HTTPS on 443 only (ingress.tls), so the health checks use it."""
        super().__init__(scope, id_)
        check_type, check_port = HEALTH_CHECKS[tls]
        self.health_checks: dict[str, Route53HealthCheck] = {}
        self.records: dict[str, Route53Record] = {}
        targets = {"PRIMARY": config.primary_target, "SECONDARY": config.secondary_target}
        for role in ROLES:
            key = role.lower()
            self.health_checks[role] = Route53HealthCheck(
                self, f"{key}-health-check", type=check_type, fqdn=targets[role], port=check_port,
                resource_path=config.health_check_path, request_interval=HEALTH_CHECK_INTERVAL_SECONDS,
                failure_threshold=HEALTH_CHECK_FAILURE_THRESHOLD, tags={"Name": f"{name}-ingress-{key}"},
            )
            self.records[role] = Route53Record(
                self, f"{key}-record", zone_id=config.hosted_zone_id, name=config.record_name, type=RECORD_TYPE,
                ttl=config.ttl_seconds, records=[targets[role]], set_identifier=f"{name}-{key}",
                failover_routing_policy=Route53RecordFailoverRoutingPolicy(type=role),
                health_check_id=self.health_checks[role].id,
            )
