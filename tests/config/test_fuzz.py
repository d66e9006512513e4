"""Fuzzing the configuration with Hypothesis: whatever an overlay holds, haflow answers exit 0 or 2 with a
message, never a traceback, and a failed synth leaves cdktf.out untouched.

Mutations are generated from the pydantic models: every key path of ``Environment`` (walking nested
sections, lists and literals) gets values of its own type at and beyond its bounds, values of the wrong
type, deletions and unknown keys, on top of each real overlay. Then random bytes, and valid overlays in
other encodings. validate and synth run in-process (synth stops at the configuration, before any
provider is loaded); a few runs go through the real CLI process.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import types
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from haflow.commands import synth, validate
from haflow.config.model import Environment
from haflow.errors import ConfigError
from haflow.output import OutputError
from tests.conftest import CONFIG_DIR, ENVIRONMENT_NAMES, REPO_ROOT


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
OVERLAYS = {name: yaml.safe_load((CONFIG_DIR / f"{name}.yaml").read_text(encoding="utf-8")) for name in ENVIRONMENT_NAMES}


def model_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every key path of ``model`` with the annotation found there, nested sections included."""
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        yield path, field.annotation
        nested = _section(field.annotation)
        if nested is not None:
            yield from model_paths(nested, path)


def _section(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return next(filter(None, (_section(arg) for arg in typing.get_args(annotation))), None)
    return None


PATHS = [path for path, _ in model_paths(Environment) if path != ("name",)]
ANNOTATIONS = dict(model_paths(Environment))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from([10**30, -(10**30), 99999999999999999999, 0, -1, 1e308, "", "1e30", "0.0.0.0/0", "us-east-1z"]),
)
ANY_VALUE = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                         | st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=12)


def typed_values(annotation: Any) -> st.SearchStrategy[Any]:
    """Values of ``annotation``'s own type, edge values included."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return typed_values(args[0])
    if origin is Literal:
        return st.sampled_from(args) | st.text(max_size=10)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([typed_values(arg) for arg in args])
    if origin is list:
        return st.lists(typed_values(args[0]) if args else ANY_VALUE, max_size=5)
    if origin is dict:
        return st.dictionaries(st.text(max_size=20), st.text(max_size=20), max_size=5)
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers() | st.sampled_from([0, 1, 2, 3, 450, 451, 10**30, -(10**30)])
    if annotation is float:
        return st.floats(allow_nan=True, allow_infinity=True)
    if annotation is str:
        return st.text(max_size=40) | st.sampled_from(["us-east-1z", "10.30.0.0/16", "1e30", "99999h", "db.x"])
    if _section(annotation) is not None:
        return st.dictionaries(st.text(max_size=12), ANY_VALUE, max_size=3)
    return ANY_VALUE


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, tuple[str, ...], Any]:
    path = draw(st.sampled_from(PATHS))
    kind = draw(st.sampled_from(["typed", "typed", "wrong-type", "delete", "unknown-key"]))
    if kind == "typed":
        return kind, path, draw(typed_values(ANNOTATIONS[path]))
    if kind == "wrong-type":
        return kind, path, draw(ANY_VALUE)
    if kind == "unknown-key":
        return kind, (*path[:-1], draw(st.text(min_size=1, max_size=12))), draw(ANY_VALUE)
    return kind, path, None


def mutated(document: dict[str, Any], mutations: list[tuple[str, tuple[str, ...], Any]]) -> dict[str, Any]:
    result: dict[str, Any] = yaml.safe_load(yaml.safe_dump(document))
    for kind, path, value in mutations:
        node = result
        for key in path[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = node[key] = {}
            node = child
        if kind == "delete":
            node.pop(path[-1], None)
        else:
            node[path[-1]] = value
    return result


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file()}


def tree_stamp(root: Path) -> dict[str, tuple[int, int, int]]:
    """Cheap enough for every example: any write, replacement or removal changes an entry."""
    return {str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def workspace(synth_dir: Path) -> Iterator[tuple[Path, Path, dict[str, tuple[int, int, int]]]]:
    """A copy of environments/ to write fuzzed overlays into, and a previous cdktf.out that must survive."""
    root = Path(tempfile.mkdtemp(prefix="haflow-fuzz-"))
    shutil.copytree(CONFIG_DIR, root / "environments")
    shutil.copytree(synth_dir, root / "cdktf.out")
    yield root / "environments", root / "cdktf.out", tree_stamp(root / "cdktf.out")
    shutil.rmtree(root, ignore_errors=True)


def in_process(command: Callable[[], int]) -> tuple[int, str]:
    """A command body as the CLI's guard runs it: bad input is exit 2; anything else escapes and fails."""
    stderr = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
        try:
            code = command()
        except (ConfigError, OutputError) as err:
            print(err.render() if isinstance(err, ConfigError) else err, file=stderr)
            code = 2
    return code, stderr.getvalue()


def answer(config_dir: Path, out: Path, stamp: dict[str, tuple[int, int, int]], name: str, payload: bytes) -> int:
    """validate the overlay; on exit 2, synth must refuse it too (with a message) and leave ``out`` as it was."""
    overlay = config_dir / f"{name}.yaml"
    original = overlay.read_bytes()
    overlay.write_bytes(payload)
    try:
        code, message = in_process(lambda: validate.run([name], config_dir))
        assert code in (0, 2), f"exit {code}:\n{message}\n{payload[:400]!r}"
        if code == 2:
            assert name in message or "environments" in message, message
            synth_code, synth_message = in_process(lambda: synth.run([name], config_dir, out))
            assert synth_code == 2, synth_message
            assert tree_stamp(out) == stamp
        return code
    finally:
        overlay.write_bytes(original)


@fuzz(350)
@given(name=st.sampled_from(ENVIRONMENT_NAMES), mutations=st.lists(mutation(), min_size=1, max_size=3))
def test_mutated_overlays_are_accepted_or_refused_with_a_message(
    workspace: tuple[Path, Path, dict[str, tuple[int, int, int]]], name: str, mutations: list[tuple[str, tuple[str, ...], Any]]
) -> None:
    document = mutated(OVERLAYS[name], mutations)
    answer(*workspace, name, yaml.safe_dump(document, allow_unicode=True).encode("utf-8"))


@fuzz(150)
@given(name=st.sampled_from(ENVIRONMENT_NAMES), payload=st.binary(max_size=600))
def test_random_bytes_are_refused_with_a_message(
    workspace: tuple[Path, Path, dict[str, tuple[int, int, int]]], name: str, payload: bytes
) -> None:
    answer(*workspace, name, payload)


@fuzz(60)
@given(
    name=st.sampled_from(ENVIRONMENT_NAMES),
    encoding=st.sampled_from(["utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252", "shift_jis", "utf-8-sig"]),
    tag=st.text(alphabet="äöüéçñ日本語 abc", min_size=1, max_size=12),
)
def test_overlays_in_other_encodings_are_read_or_refused(
    workspace: tuple[Path, Path, dict[str, tuple[int, int, int]]], name: str, encoding: str, tag: str
) -> None:
    text = (CONFIG_DIR / f"{name}.yaml").read_text(encoding="utf-8") + f"# owner: {tag}\n"
    try:
        payload = text.encode(encoding)
    except UnicodeEncodeError:
        payload = text.encode(encoding, errors="replace")
    code = answer(*workspace, name, payload)
    try:
        payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        assert code == 2
    else:
        assert code == 0 or payload != text.encode("utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("payload", [b"\xff\xfe\x00r\x00e", "region: 日本\n".encode("utf-16"), b"a: &a [*a]\n",
                                     b"eks:\n  node_pool: {max_size_per_az: 1000000000000000000000000000000}\n"],
                         ids=["bytes", "utf-16", "recursive-alias", "max-size-1e30"])
def test_the_cli_process_refuses_fuzzed_overlays_and_keeps_cdktf_out(
    tmp_path: Path, synth_dir: Path, payload: bytes
) -> None:
    shutil.copytree(CONFIG_DIR, tmp_path / "environments")
    shutil.copytree(synth_dir, tmp_path / "cdktf.out")
    before = tree_digest(tmp_path / "cdktf.out")
    name = ENVIRONMENT_NAMES[0]
    (tmp_path / "environments" / f"{name}.yaml").write_bytes(payload)
    result = subprocess.run([sys.executable, "-m", "haflow", "synth", "--env", name], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and f"{name}.yaml" in result.stderr
    assert tree_digest(tmp_path / "cdktf.out") == before
