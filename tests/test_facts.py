"""haflow/facts.py: the dated upstream facts are consistent, and a test fails once they are due for a re-read."""

from __future__ import annotations

from datetime import date

import pytest

from haflow import facts


def test_the_facts_are_current_today() -> None:
    """Fails (on purpose) once a source is older than REVIEW_AFTER_DAYS or the newest version nears its end."""
    assert facts.stale_facts(date.today()) == []


@pytest.mark.parametrize("version", list(facts.EKS_KUBERNETES_VERSIONS.values()), ids=lambda v: v.version)
def test_calendar_entries_follow_the_eks_support_policy(version: facts.KubernetesVersion) -> None:
    """Standard support lasts 14 months from the EKS release, extended support 12 more: a typo shows here."""
    standard_months = (version.end_of_standard_support.year - version.eks_release.year) * 12 + (
        version.end_of_standard_support.month - version.eks_release.month
    )
    assert standard_months == 14
    assert version.end_of_extended_support == version.end_of_standard_support.replace(
        year=version.end_of_standard_support.year + 1
    )


@pytest.mark.parametrize("kubernetes_version", list(facts.ADDON_VERSIONS))
def test_addon_tables_cover_every_addon_and_kube_proxy_matches_the_minor(kubernetes_version: str) -> None:
    listed = facts.ADDON_VERSIONS[kubernetes_version]
    assert set(listed) == set(facts.ADDON_NAMES)
    assert all(version.startswith(f"v{kubernetes_version}.") for version in listed["kube_proxy"])
    assert kubernetes_version in facts.EKS_KUBERNETES_VERSIONS


def test_every_source_names_a_page_and_a_day() -> None:
    for source in facts.all_sources():
        assert source.url.startswith("https://")
        assert source.retrieved <= date.today()


def test_stale_facts_names_what_to_re_read() -> None:
    later = date(2027, 6, 1)
    problems = facts.stale_facts(later)
    assert any(facts.RDS_CA_BUNDLE.url in problem for problem in problems)
    assert any("newest Kubernetes version in the EKS calendar" in problem for problem in problems)
