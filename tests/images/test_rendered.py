"""The lock is what reaches the pods: `haflow images lock` reads every image from a real registry (docker-registry
on 127.0.0.1, pushed with the real skopeo), prod is synthesized with that lock ($HAFLOW_IMAGES_LOCK), and Helm's
engine renders the pinned charts: every container (and Prometheus/Alertmanager resource, and the config reloader
prometheus-operator injects) running one of haflow's images names it by the registry's digest, and every image is rendered somewhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from haflow import images
from haflow.config import Environment
from haflow.render import render_environment
from haflow.rules import evaluate
from haflow.rules.rendered import evaluate_rendered
from haflow.rules.rendered import running_images as rendered_images
from haflow.synthesis import synthesize
from tests.conftest import CHECK_DATE
from tests.images.conftest import Published
from tests.images.test_lock import lock
from tests.render.conftest import _require_charts


def running_images(objects: list[Any]) -> Iterator[str]:
    """Every image the rendered objects make the cluster run: the rule's own reading (HA-SEC-066), which covers
    the pods prometheus-operator builds (spec.image, the injected config reloader)."""
    for item in objects:
        for _, image in rendered_images(item.manifest):
            yield image


def repository_of(image: str) -> str:
    name = image.split("@", 1)[0].rsplit(":", 1)[0] if "@" in image or ":" in image.rsplit("/", 1)[-1] else image
    return name.removeprefix("docker.io/")


def test_rendered_pods_run_the_locked_digests(published: Published, lock_copy: Path, tmp_path: Path,
                                              environments: dict[str, Environment],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _require_charts()
    assert lock(published, lock_copy).returncode == 0
    monkeypatch.setenv(images.LOCK_ENV, str(lock_copy))
    env = environments["prod"]
    stacks = synthesize([env], tmp_path / "cdktf.out")
    rendered = render_environment(stacks, env, check_unread=True)
    # Every digest value is one the chart reads (HA-RND-004), and prod still passes (suppressions applied).
    evaluation = evaluate(stacks, env, extra=evaluate_rendered(rendered, env), as_of=CHECK_DATE)
    assert evaluation.errors == []

    ours: dict[str, list[images.Image]] = {}
    for image in images.IMAGES:
        ours.setdefault(image.repository.removeprefix("docker.io/"), []).append(image)
    seen: set[images.Image] = set()
    for running in running_images(rendered.objects):
        candidates = ours.get(repository_of(running), [])
        if not candidates:
            continue  # model-api (the user's image), Grafana's: not in haflow/images.py
        assert running.endswith(f"@{published.digest}"), running
        tagged = [image for image in candidates if f":{image.tag}@" in running]
        # Reloader's chart renders repository@digest, without the tag, when image.digest is set.
        untagged = [image for image in candidates if running.startswith(f"{image.repository}@")]
        [image] = tagged or untagged
        seen.add(image)
    assert seen == set(images.IMAGES), sorted(image.reference for image in set(images.IMAGES) - seen)
