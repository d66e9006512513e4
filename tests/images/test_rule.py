"""HA-SEC-067: each locked digest was read within the review window (facts that age); on the plans' Helm
releases, naming the images of each release's chart and where each digest came from."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from haflow import facts, images, plan
from haflow.config import Environment
from haflow.rules import evaluate
from haflow.rules.engine import Finding
from tests.conftest import CHECK_DATE

RULE = "HA-SEC-067"
DIGEST = "sha256:" + "b" * 64


def findings(synthesized: dict[str, plan.StackJson], env: Environment, as_of: date) -> list[Finding]:
    return [f for f in evaluate(synthesized, env, as_of=as_of).findings if f.rule_id == RULE]


def lock_with(path: Path, source: str, checked: date) -> Path:
    document = json.loads(images.LOCK_FILE.read_text(encoding="utf-8"))
    for entry in document["images"].values():
        entry.update(digest=DIGEST, source=source, checked=checked.isoformat())
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_the_lock_is_current_today() -> None:
    """Fails (on purpose, like tests/test_facts.py) once a locked digest is older than the review window."""
    assert images.stale_entries(date.today(), facts.REVIEW_AFTER_DAYS) == []


def test_every_image_names_a_chart_the_platform_releases(synthesized: dict[str, plan.StackJson]) -> None:
    charts = {plan.chart_name(str(body.get("chart", "")))
              for body in synthesized["prod-platform"]["resource"]["helm_release"].values()}
    assert {image.chart for image in images.IMAGES} <= charts


def test_a_lock_read_from_the_registry_passes_until_it_ages(synthesized: dict[str, plan.StackJson],
                                                            environments: dict[str, Environment], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(images.LOCK_ENV, str(lock_with(tmp_path / "lock.json", images.REGISTRY_SOURCE, CHECK_DATE)))
    window = CHECK_DATE + timedelta(days=facts.REVIEW_AFTER_DAYS)
    assert findings(synthesized, environments["prod"], window) == []
    late = window + timedelta(days=1)
    found = [f for f in findings(synthesized, environments["prod"], late) if f.stack == "prod-platform"]
    assert {f.level for f in found} == {"warning"}
    messages = "\n".join(f.message for f in found)
    for image in images.IMAGES:
        assert (f"{image.reference}: its digest was read from its registry on {CHECK_DATE.isoformat()}, "
                f"{facts.REVIEW_AFTER_DAYS + 1} days before {late.isoformat()}") in messages
    # Each on the release of the chart that runs it: ingress-nginx's two images on the ingress-nginx release.
    ingress = (images.INGRESS_NGINX_CONTROLLER, images.INGRESS_NGINX_CERTGEN)
    [address] = {f.address for f in found if any(image.reference in f.message for image in ingress)}
    body = synthesized["prod-platform"]["resource"]["helm_release"][address.split(".", 1)[1]]
    assert plan.chart_name(str(body["chart"])) == "ingress-nginx"
    assert len([f for f in found if f.address == address]) == 2


def test_an_aged_digest_never_read_from_its_registry_says_where_it_came_from(
        synthesized: dict[str, plan.StackJson], environments: dict[str, Environment]) -> None:
    """The committed lock, judged after its window: each corroborated pin is named with its source; the images
    without a digest are HA-SEC-066's (rendered), not this rule's."""
    late = date.fromisoformat(images.pinned(images.RELOADER).checked) + timedelta(days=facts.REVIEW_AFTER_DAYS + 1)
    assert findings(synthesized, environments["prod"], CHECK_DATE) == []
    messages = "\n".join(f.message for f in findings(synthesized, environments["prod"], late))
    for pin in images.pins():
        if pin.digest is None:
            assert pin.image.reference not in messages
        else:
            assert f"{pin.image.reference}: its digest was read from {pin.source}, never from its registry" in messages
