"""The availability zones of each AWS region, as the names an account uses in its configuration.

Sources (retrieved 2026-11-29):
- AWS Availability Zones, the AZ IDs of every region:
  https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-availability-zones.html
- Regions with independently mapped Availability Zones (us-east-1, us-west-1, ap-northeast-1,
  ca-central-1, ...): an account sees its own subset of the letters listed here, e.g. two of
  us-west-1a/b/c, and ap-northeast-1b only in accounts that had it before it closed to new ones:
  https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html
- The zone names EC2 DescribeAvailabilityZones returns, as recorded by moto 5.2
  (moto/ec2/models/availability_zones_and_regions.py), for the letters of the regions above.

AWS adds regions and zones: after REVIEW_BY, tests/config/test_zones.py fails until the table is
checked against the pages above again (and the dates here moved).
"""

from __future__ import annotations

from datetime import date

RETRIEVED = date(2026, 11, 29)
REVIEW_BY = date(2027, 11, 29)

# region -> the letters of its availability zones
ZONE_LETTERS: dict[str, str] = {
    "af-south-1": "abc",
    "ap-east-1": "abc",
    "ap-east-2": "abc",
    "ap-northeast-1": "abcd",
    "ap-northeast-2": "abcd",
    "ap-northeast-3": "abc",
    "ap-south-1": "abc",
    "ap-south-2": "abc",
    "ap-southeast-1": "abc",
    "ap-southeast-2": "abc",
    "ap-southeast-3": "abc",
    "ap-southeast-4": "abc",
    "ap-southeast-5": "abc",
    "ap-southeast-6": "abc",
    "ap-southeast-7": "abc",
    "ca-central-1": "abd",
    "ca-west-1": "abc",
    "cn-north-1": "abd",
    "cn-northwest-1": "abc",
    "eu-central-1": "abc",
    "eu-central-2": "abc",
    "eu-north-1": "abc",
    "eu-south-1": "abc",
    "eu-south-2": "abc",
    "eu-west-1": "abc",
    "eu-west-2": "abc",
    "eu-west-3": "abc",
    "il-central-1": "abc",
    "me-central-1": "abc",
    "me-south-1": "abc",
    "mx-central-1": "abc",
    "sa-east-1": "abc",
    "us-east-1": "abcdef",
    "us-east-2": "abc",
    "us-gov-east-1": "abc",
    "us-gov-west-1": "abc",
    "us-west-1": "abc",
    "us-west-2": "abcd",
}


def zones_of(region: str) -> list[str] | None:
    """The AZ names of ``region``, or None when the table does not know it."""
    letters = ZONE_LETTERS.get(region)
    return None if letters is None else [f"{region}{letter}" for letter in letters]
