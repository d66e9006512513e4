"""The ACM certificate the ingress NLB terminates TLS with, requested and validated through Route 53.

Used when ``ingress.tls.hosted_zone_id`` is set: one certificate for ``model_api.host``, DNS-validated
with the CNAME records ACM asks for, written into the hosted zone
(https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html). ``aws_acm_certificate_validation``
waits until ACM has issued it, so nothing downstream (the platform stack's load balancer) gets the ARN of a
certificate an NLB listener would refuse. ACM renews a DNS-validated certificate on its own while the
records stay in the zone. A certificate is regional: each region's foundation requests its own, and the
validation record of one domain is the same for every region of an account (``allow_overwrite``).
"""

from __future__ import annotations

from cdktf import TerraformIterator, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

VALIDATION_METHOD = "DNS"
VALIDATION_RECORD_TTL_SECONDS = 60
# TLS 1.2+ clients and NLB listeners both take ECDSA P-256, which ACM renews like RSA 2048.
KEY_ALGORITHM = "EC_prime256v1"


class EdgeCertificate(Construct):
    """A DNS-validated ACM certificate for ``domain_name``; ``arn`` is set once ACM has issued it."""

    def __init__(
        self, scope: Construct, construct_id: str, *, name: str, domain_name: str, hosted_zone_id: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.certificate = AcmCertificate(
            self, "certificate", domain_name=domain_name, validation_method=VALIDATION_METHOD,
            key_algorithm=KEY_ALGORITHM, tags={"Name": f"{name}-ingress"},
            # A replacement (a new host) is issued before the old one is released from the listener.
            lifecycle={"create_before_destroy": True},
        )
        # One record per domain ACM validates, keyed by the domain name (known at plan time).
        options = TerraformIterator.from_complex_list(self.certificate.domain_validation_options, "domain_name")
        self.validation_records = Route53Record(
            self, "validation-record", for_each=options, zone_id=hosted_zone_id,
            name=options.get_string("resource_record_name"), type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")], ttl=VALIDATION_RECORD_TTL_SECONDS,
            allow_overwrite=True,
        )
        self.validation = AcmCertificateValidation(
            self, "validation", certificate_arn=self.certificate.arn,
            validation_record_fqdns=Token.as_list(
                TerraformIterator.from_resources(self.validation_records).pluck_property("fqdn")),
        )
        self.arn = self.validation.certificate_arn
