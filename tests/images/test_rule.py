"""HA-SEC-067: each locked digest was read from its registry, within the review window; on the plans' Helm
releases, naming the images of each release's chart."""

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


def test_every_image_names_a_chart_the_platform_releases(synthesized: dict[str, plan.StackJson]) -> None:
    charts = {plan.chart_name(str(body.get("chart", "")))
              for body in synthesized["prod-platform"]["resource"]["helm_release"].values()}
    assert {image.chart for image in images.IMAGES} <= charts


def test_the_committed_pins_not_read_from_a_registry_are_named(synthesized: dict[str, plan.StackJson],
                                                               environments: dict[str, Environment]) -> None:
    found = findings(synthesized, environments["prod"], CHECK_DATE)
    assert {f.level for f in found} == {"warning"}
    messages = "\n".join(f.message for f in found)
    for pin in images.pins():
        if pin.digest is None:
            assert pin.image.reference not in messages  # HA-SEC-066's, on the rendered pods
        else:
            assert f"{pin.image.reference}: its digest was never read from its registry" in messages
    # Each on the release of the chart that runs it: ingress-nginx's two images on the ingress-nginx release.
    addresses = {f.address for f in found if f.stack == "prod-platform" and any(
        image.reference in f.message for image in (images.INGRESS_NGINX_CONTROLLER, images.INGRESS_NGINX_CERTGEN))}
    [address] = addresses
    body = synthesized["prod-platform"]["resource"]["helm_release"][address.split(".", 1)[1]]
    assert plan.chart_name(str(body["chart"])) == "ingress-nginx"


def test_a_lock_read_from_the_registry_passes_until_it_ages(synthesized: dict[str, plan.StackJson],
                                                            environments: dict[str, Environment], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(images.LOCK_ENV, str(lock_with(tmp_path / "lock.json", images.REGISTRY_SOURCE, CHECK_DATE)))
    assert findings(synthesized, environments["prod"], CHECK_DATE) == []
    window = CHECK_DATE + timedelta(days=facts.REVIEW_AFTER_DAYS)
    assert findings(synthesized, environments["prod"], window) == []
    late = window + timedelta(days=1)
    found = findings(synthesized, environments["prod"], late)
    messages = "\n".join(f.message for f in found)
    for image in images.IMAGES:
        assert (f"{image.reference}: its digest was read from its registry on {CHECK_DATE.isoformat()}, "
                f"{facts.REVIEW_AFTER_DAYS + 1} days before {late.isoformat()}") in messages
