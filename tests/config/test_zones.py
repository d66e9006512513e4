"""The per-region availability zone table: sourced data, with a date after which it must be checked again."""

from __future__ import annotations

from datetime import date

from haflow.config import zones


def test_the_zone_table_is_not_past_its_review_date() -> None:
    assert date.today() <= zones.REVIEW_BY, (
        f"haflow/config/zones.py was retrieved {zones.RETRIEVED}: check it against the AWS pages it cites, "
        "then move RETRIEVED and REVIEW_BY"
    )


def test_the_zone_table_lists_at_least_three_zones_per_region() -> None:
    """AWS: each region has at least three Availability Zones (aws-availability-zones.html)."""
    assert all(len(zones.zones_of(region) or []) >= 3 for region in zones.ZONE_LETTERS)
    assert zones.zones_of("eu-west-1") == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert zones.zones_of("xx-mars-1") is None
