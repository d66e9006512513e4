"""Image fixtures: a real docker-registry on 127.0.0.1 holding every image haflow runs, as a small two-platform
image pushed with the real `skopeo copy --all` under ``<registry>/<repository>:<tag>`` (the layout
`haflow images lock --mirror <registry>` reads)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from haflow import images
from tests.images.registry import Registry, oci_layout, push, running_registry


@dataclass
class Published:
    registry: Registry
    digest: str  # the index digest every image was pushed with
    layouts: Path

    def repush(self, image: images.Image, seed: str) -> str:
        """Push a different image under ``image``'s tag; its index digest."""
        layout = self.layouts / seed
        digest = oci_layout(layout, image.tag, seed)
        push(layout, image.tag, f"{self.registry.host}/{image.reference}")
        return digest


def publish(registry: Registry, workdir: Path, skip: tuple[images.Image, ...] = ()) -> Published:
    layouts = workdir / "layouts"
    digests = set()
    for image in images.IMAGES:
        if image in skip:
            continue
        layout = layouts / image.tag  # one layout per tag (the layout's index.json names it)
        if not layout.exists():
            digests.add(oci_layout(layout, image.tag, "one"))
        push(layout, image.tag, f"{registry.host}/{image.reference}")
    [digest] = digests  # the same layers and configs under every tag: one index
    return Published(registry, digest, layouts)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """A registry holding every image (module-wide: tests that change it use ``fresh``)."""
    workdir = tmp_path_factory.mktemp("registry")
    with running_registry(workdir / "registry") as registry:
        yield publish(registry, workdir)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Callable[..., Published]]:
    """A registry of the test's own (it may change or kill it), filled by the call."""
    started = []

    def start(skip: tuple[images.Image, ...] = ()) -> Published:
        context = running_registry(tmp_path / f"registry-{len(started)}")
        registry = context.__enter__()
        started.append(context)
        return publish(registry, tmp_path / f"work-{len(started)}", skip)

    yield start
    for context in started:
        context.__exit__(None, None, None)


@pytest.fixture
def lock_copy(tmp_path: Path) -> Path:
    """A copy of the committed lock, for a command to write or check."""
    path = tmp_path / "lock" / "images.lock.json"
    path.parent.mkdir()
    shutil.copyfile(images.LOCK_FILE, path)
    return path
