"""Upstream facts that age: EKS Kubernetes support windows, EKS add-on versions, Aurora PostgreSQL minor
versions, the RDS CA bundle.

The bottom layer: config, constructs and rules import it; it imports nothing of haflow. Every fact
names the page it comes from and the day it was read. Facts go stale: ``stale_facts`` (rule
HA-EKS-010 and tests/test_facts.py) reports a source not re-read for ``REVIEW_AFTER_DAYS`` and a
support date that has passed without the table being updated, so a reviewer re-reads the pages
instead of trusting old numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    retrieved: date
    note: str = ""


# A source read longer ago than this is due for a re-read (EKS ships a Kubernetes minor about every
# four months and add-on builds every few weeks).
REVIEW_AFTER_DAYS = 120
# A Kubernetes version with fewer days of standard support left than this gets a warning (HA-EKS-007).
SUPPORT_WARNING_DAYS = 90

# --- EKS Kubernetes versions -------------------------------------------------------------------

EKS_CALENDAR = Source(
    "Amazon EKS User Guide: Kubernetes release calendar (Understand the Kubernetes version lifecycle on EKS)",
    "https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar",
    date(2026, 11, 29),
    "Dates cross-checked with https://endoflife.date/amazon-eks; standard support lasts 14 months from the "
    "EKS release, extended support 12 more (billed per cluster hour, on by default).",
)


@dataclass(frozen=True)
class KubernetesVersion:
    version: str
    eks_release: date
    end_of_standard_support: date
    end_of_extended_support: date

    def days_of_standard_support(self, as_of: date) -> int:
        """Days from ``as_of`` to the end of standard support (negative once it has ended)."""
        return (self.end_of_standard_support - as_of).days


EKS_KUBERNETES_VERSIONS: dict[str, KubernetesVersion] = {
    version.version: version
    for version in (
        KubernetesVersion("1.31", date(2024, 9, 26), date(2025, 11, 26), date(2026, 11, 26)),
        KubernetesVersion("1.32", date(2025, 1, 23), date(2026, 3, 23), date(2027, 3, 23)),
        KubernetesVersion("1.33", date(2025, 5, 29), date(2026, 7, 29), date(2027, 7, 29)),
        KubernetesVersion("1.34", date(2025, 10, 2), date(2026, 12, 2), date(2027, 12, 2)),
        KubernetesVersion("1.35", date(2026, 1, 27), date(2027, 3, 27), date(2028, 3, 27)),
    )
}

# --- EKS managed add-on versions per Kubernetes version ------------------------------------------
# The latest version of each add-on the EKS User Guide lists for a Kubernetes version. A pin that is
# not listed for the cluster's version is a finding (HA-EKS-008); confirm a new one with
# `aws eks describe-addon-versions --addon-name <name> --kubernetes-version <version>`.

ADDON_SOURCES: dict[str, Source] = {
    "vpc_cni": Source(
        "Amazon EKS User Guide: Amazon VPC CNI versions",
        "https://docs.aws.amazon.com/eks/latest/userguide/managing-vpc-cni.html#vpc-cni-latest-available-version",
        date(2026, 11, 29),
        "read from the stored copy of the page whose table starts at 1.35 (docs.amazonaws.cn mirror)",
    ),
    "coredns": Source(
        "Amazon EKS User Guide: CoreDNS versions",
        "https://docs.aws.amazon.com/eks/latest/userguide/managing-coredns.html#coredns-versions",
        date(2026, 11, 29),
        "read from the stored copy of the page whose table starts at 1.35 (docs.amazonaws.cn mirror)",
    ),
    "kube_proxy": Source(
        "Amazon EKS User Guide: kube-proxy versions",
        "https://docs.aws.amazon.com/eks/latest/userguide/managing-kube-proxy.html#kube-proxy-versions",
        date(2026, 11, 29),
        "read from the stored copy of the page whose table starts at 1.35 (docs.amazonaws.cn mirror)",
    ),
    "aws_ebs_csi_driver": Source(
        "aws-ebs-csi-driver releases (the EKS add-on ships the driver release as vX.Y.Z-eksbuild.N)",
        "https://github.com/kubernetes-sigs/aws-ebs-csi-driver/releases/tag/v1.57.1",
        date(2026, 11, 29),
        "the EKS User Guide has no per-Kubernetes-version table for this add-on; v1.57.1-eksbuild.1 is the "
        "build seen on EKS 1.35 clusters; confirm with describe-addon-versions before a bump",
    ),
}

ADDON_VERSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "1.35": {
        "vpc_cni": ("v1.21.1-eksbuild.7",),
        "coredns": ("v1.13.2-eksbuild.4",),
        "kube_proxy": ("v1.35.3-eksbuild.2",),
        "aws_ebs_csi_driver": ("v1.57.1-eksbuild.1",),
    },
    "1.34": {
        "vpc_cni": ("v1.21.1-eksbuild.7",),
        "coredns": ("v1.13.2-eksbuild.4",),
        "kube_proxy": ("v1.34.6-eksbuild.2",),
        "aws_ebs_csi_driver": ("v1.57.1-eksbuild.1",),
    },
    "1.33": {
        "vpc_cni": ("v1.21.1-eksbuild.7",),
        "coredns": ("v1.13.2-eksbuild.4",),
        "kube_proxy": ("v1.33.10-eksbuild.2",),
        "aws_ebs_csi_driver": ("v1.57.1-eksbuild.1",),
    },
}
# EKS add-on names as the API spells them, by the config key of each pin.
ADDON_NAMES = {
    "vpc_cni": "vpc-cni",
    "coredns": "coredns",
    "kube_proxy": "kube-proxy",
    "aws_ebs_csi_driver": "aws-ebs-csi-driver",
}

# --- Aurora PostgreSQL minor versions ------------------------------------------------------------------
# A cluster is created with the MAJOR.MINOR the configuration pins (database.engine_version); after that AWS's
# automatic minor upgrades own the version (HA-DB-006). CreateDBCluster refuses a minor AWS no longer offers,
# so the pin must be a minor still on offer on the day of the first deploy. Aurora keeps a minor for about a
# year (long-term-support minors for three): a minor whose PostgreSQL community release is more than
# AURORA_MINOR_AVAILABILITY_DAYS old may already be gone, and HA-DB-007 says so until someone confirms it.

AURORA_VERSION_POLICY = Source(
    "Amazon Aurora User Guide: Amazon Aurora version support (long-term support for selected minor versions)",
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.VersionPolicy.html",
    date(2026, 12, 7),
    "an LTS minor is available for at least three years, 'longer than the typical 12 months' of other minors",
)
AURORA_POSTGRES_RELEASES = Source(
    "Amazon Aurora PostgreSQL release notes: Aurora PostgreSQL release calendar for minor versions",
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/aurora-postgresql-relnotes.pdf",
    date(2026, 12, 7),
    "the calendar's rows (p. 16 of the PDF) could not be read from the stored copy; which minors Aurora shipped "
    "is from AWS's What's New announcements ('Aurora PostgreSQL ... now supports PostgreSQL versions 16.6, "
    "15.10, 14.15, 13.18 and 12.22'; '... has added support for PostgreSQL versions 17.6, 16.10, 15.14, 14.19 "
    "and 13.22'); confirm with `aws rds describe-db-engine-versions --engine aurora-postgresql`",
)
AURORA_POSTGRES_CALENDAR_COPY = Source(
    "endoflife.date: Amazon Aurora PostgreSQL (a copy of the release calendar's rows)",
    "https://endoflife.date/amazon-aurora-postgresql",
    date(2026, 12, 6),
    "PostgreSQL 16: Aurora standard support to 2029-02-28, latest minor 16.13 released by Aurora on 2026-04-06",
)
POSTGRES_RELEASES = Source(
    "PostgreSQL: release announcements (www.postgresql.org/about/newsarchive)",
    "https://www.postgresql.org/about/newsarchive/",
    date(2026, 12, 7),
    "the community release day of each minor: Aurora ships a minor on or after it",
)
AURORA_MINOR_AVAILABILITY_DAYS = 365


@dataclass(frozen=True)
class AuroraMinor:
    version: str
    # The earliest day Aurora can have shipped it: Aurora's own release day where a source gives it, else
    # PostgreSQL's community release of the minor (Aurora ships on or after it).
    shipped_on_or_after: date
    source: Source

    def possibly_gone_after(self) -> date:
        """The first day AWS may have stopped offering this minor for new clusters (the earliest release day
        plus the typical availability): before it the minor is surely on offer, after it maybe not."""
        return self.shipped_on_or_after + timedelta(days=AURORA_MINOR_AVAILABILITY_DAYS)


AURORA_POSTGRES_MINORS: dict[str, AuroraMinor] = {
    minor.version: minor
    for minor in (
        AuroraMinor("16.6", date(2024, 11, 21), POSTGRES_RELEASES),
        AuroraMinor("16.10", date(2025, 8, 14), POSTGRES_RELEASES),
        AuroraMinor("16.13", date(2026, 4, 6), AURORA_POSTGRES_CALENDAR_COPY),
    )
}
# What haflow pins by default: the newest minor of the supported major that Aurora is known to have shipped.
DEFAULT_AURORA_POSTGRES_VERSION = "16.13"

# --- The RDS certificate authorities --------------------------------------------------------------

RDS_CA_BUNDLE = Source(
    "Amazon RDS: certificate bundles for all AWS Regions (global-bundle.pem)",
    "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem",
    date(2026, 11, 29),
    "listed in https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/UsingWithRDS.SSL.html; fetched at "
    "plan time by the platform stack (Terraform http data source) into a ConfigMap, so CA additions arrive",
)
# What the fetched bundle must look like before it is trusted (checked in the plan by a postcondition).
PEM_CERTIFICATE_HEADER = "-----BEGIN CERTIFICATE-----"


def latest_kubernetes_version() -> str:
    return max(EKS_KUBERNETES_VERSIONS, key=lambda version: tuple(int(part) for part in version.split(".")))


def all_sources() -> list[Source]:
    return [EKS_CALENDAR, *ADDON_SOURCES.values(), AURORA_VERSION_POLICY, AURORA_POSTGRES_RELEASES,
            AURORA_POSTGRES_CALENDAR_COPY, POSTGRES_RELEASES, RDS_CA_BUNDLE]


def stale_facts(as_of: date) -> list[str]:
    """What in this module needs a re-read on ``as_of``: old sources, and a newest version past its support.

    The calendar is stale when its newest version has less standard support left than the warning
    window: EKS has published a newer version by then, and the table does not have it.
    """
    problems = [
        f"{source.title} was read on {source.retrieved.isoformat()}, more than {REVIEW_AFTER_DAYS} days before "
        f"{as_of.isoformat()}; re-read {source.url}"
        for source in all_sources()
        if as_of - source.retrieved > timedelta(days=REVIEW_AFTER_DAYS)
    ]
    newest = EKS_KUBERNETES_VERSIONS[latest_kubernetes_version()]
    if newest.days_of_standard_support(as_of) < SUPPORT_WARNING_DAYS:
        problems.append(
            f"the newest Kubernetes version in the EKS calendar ({newest.version}) leaves standard support on "
            f"{newest.end_of_standard_support.isoformat()}; add the versions EKS released since from "
            f"{EKS_CALENDAR.url}"
        )
    return problems
