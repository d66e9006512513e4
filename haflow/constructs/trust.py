"""Trust for Aurora's certificates: the RDS CA bundle, fetched at plan time into a ConfigMap.

Prefect verifies the server certificate only against the CA file it is given (otherwise the image's
system store, which holds no RDS CA), so the bundle must reach every Prefect container.

Why fetched at plan time rather than committed: the bundle is public, served over HTTPS by AWS
(``haflow.facts.RDS_CA_BUNDLE``), and AWS adds CAs to it ahead of rotations (rds-ca-rsa2048-g1 and its
successors); a copy in the repository would have to be refreshed by hand before each rotation, while a
fetch at every plan picks additions up and the plan shows them as a ConfigMap change. A postcondition
refuses anything but a 200 answer holding PEM certificates, so a captive portal or an error page never
becomes the trust store. The deploy runner reaches the URL through the VPC's NAT gateways.
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import (
    ITerraformDependable,
    TerraformDataSource,
    TerraformProvider,
    TerraformStack,
)
from cdktf_cdktf_provider_kubernetes.config_map_v1 import ConfigMapV1
from constructs import Construct

from haflow import facts

RDS_CA_CONFIG_MAP = "rds-ca-bundle"
RDS_CA_BUNDLE_KEY = "rds-ca-bundle.pem"
RDS_CA_MOUNT_PATH = "/etc/haflow/rds-ca"
# hashicorp/http: the data source's url, status_code and response_body (provider 3.x).
# https://registry.terraform.io/providers/hashicorp/http/latest/docs/data-sources/http
HTTP_PROVIDER = {"source": "hashicorp/http", "version": "~> 3.5"}


class RdsCaBundle(Construct):
    """The RDS global CA bundle as ConfigMap ``rds-ca-bundle`` (key ``rds-ca-bundle.pem``) in ``namespace``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, namespace: str, provider: TerraformProvider,
        depends_on: Sequence[ITerraformDependable] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        TerraformStack.of(self).add_override("terraform.required_providers.http", HTTP_PROVIDER)
        # No prebuilt binding for hashicorp/http is loaded: the generic data source, with the provider
        # declared in required_providers (it needs no configuration block).
        fetched = TerraformDataSource(self, "fetch", terraform_resource_type="http")
        fetched.add_override("url", facts.RDS_CA_BUNDLE.url)
        fetched.add_override("lifecycle", {
            "postcondition": [{
                "condition": f'${{self.status_code == 200 && strcontains(self.response_body, '
                             f'"{facts.PEM_CERTIFICATE_HEADER}")}}',
                "error_message": f"{facts.RDS_CA_BUNDLE.url} did not answer 200 with PEM certificates; "
                                 "Prefect could not verify Aurora with it",
            }],
        })
        self.config_map = ConfigMapV1(
            self, "config-map",
            metadata={"name": RDS_CA_CONFIG_MAP, "namespace": namespace},
            data={RDS_CA_BUNDLE_KEY: fetched.get_string_attribute("response_body")},
            provider=provider,
            depends_on=list(depends_on) or None,
        )


def ca_volume() -> dict[str, object]:
    """The pod volume holding the bundle (for a chart's extraVolumes)."""
    return {"name": RDS_CA_CONFIG_MAP, "configMap": {"name": RDS_CA_CONFIG_MAP}}


def ca_volume_mount() -> dict[str, object]:
    """Where containers read it (for a chart's extraVolumeMounts)."""
    return {"name": RDS_CA_CONFIG_MAP, "mountPath": RDS_CA_MOUNT_PATH, "readOnly": True}


def ca_file() -> str:
    return f"{RDS_CA_MOUNT_PATH}/{RDS_CA_BUNDLE_KEY}"
