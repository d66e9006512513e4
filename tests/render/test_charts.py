"""Chart packages: the lock decides which bytes render; `haflow charts pull` refuses anything else."""

from __future__ import annotations

import hashlib
import shutil
import urllib.error
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from haflow.cli import app
from haflow.commands.charts import pull
from haflow.config import Environment
from haflow.plan import StackJson, chart_name, resources
from haflow.render import RenderUnavailable, render_environment
from haflow.render.charts import REFERENCE_CHARTS, ChartLock, LockedFile, load_lock, sha256_of
from tests.conftest import CONFIG_DIR

runner = CliRunner()
LOCK = load_lock()


def _charts_copy(tmp_path: Path) -> Path:
    target = tmp_path / "charts"
    shutil.copytree(REFERENCE_CHARTS, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


def test_every_release_of_every_platform_stack_is_locked(synthesized: dict[str, StackJson]) -> None:
    pinned = {(chart_name(r.body["chart"]), r.body["version"]) for name, stack in synthesized.items()
              for r in resources(stack, "helm_release") if r.body.get("repository")}
    locked = {(entry.chart, entry.version) for entry in LOCK.charts}
    assert pinned <= locked


def test_the_lock_holds_the_digests_of_the_reference_packages() -> None:
    sums = dict(reversed(line.split()) for line in (REFERENCE_CHARTS / "SHA256SUMS").read_text().splitlines())
    assert {entry.file: entry.sha256 for entry in LOCK.files} == sums


def test_a_package_whose_digest_differs_is_refused(tmp_path: Path, synthesized: dict[str, StackJson],
                                                    environments: dict[str, Environment]) -> None:
    charts = _charts_copy(tmp_path)
    tampered = charts / "prefect-server-2026.8.18172642.tgz"
    tampered.write_bytes(tampered.read_bytes() + b"\0")
    locked = LOCK.package("prefect-server", "2026.8.18172642").sha256
    with pytest.raises(RenderUnavailable) as refused:
        render_environment(synthesized, environments["prod"], charts)
    message = str(refused.value)
    assert str(tampered) in message
    assert f"sha256 {sha256_of(tampered)} is not the locked {locked}" in message


def test_a_package_missing_from_the_charts_dir_says_where_it_looked(tmp_path: Path, synthesized: dict[str, StackJson],
                                                                    environments: dict[str, Environment]) -> None:
    charts = _charts_copy(tmp_path)
    (charts / "fluent-bit-0.57.0.tgz").unlink()
    with pytest.raises(RenderUnavailable, match=rf"fluent-bit-0.57.0.tgz \(fluent-bit 0.57.0\) not found in {charts}"):
        render_environment(synthesized, environments["prod"], charts)


def test_a_chart_version_missing_from_the_lock_is_refused(synthesized: dict[str, StackJson],
                                                          environments: dict[str, Environment]) -> None:
    partial = ChartLock(Path("charts.lock"), tuple(e for e in LOCK.charts if e.chart != "metrics-server"), LOCK.crds)
    with pytest.raises(RenderUnavailable, match=r"charts\.lock: no entry for chart metrics-server version 3\.13\.0"):
        render_environment(synthesized, environments["prod"], lock=partial)


def test_check_exits_2_on_a_tampered_package(tmp_path: Path, synth_dir: Path) -> None:
    charts = _charts_copy(tmp_path)
    (charts / "metrics-server-3.13.0.tgz").write_bytes(b"not the chart")
    result = runner.invoke(app, ["check", "--config-dir", str(CONFIG_DIR), "--from", str(synth_dir), "--env", "prod",
                                 "--charts-dir", str(charts)])
    assert result.exit_code == 2, result.output
    assert "render gate cannot run for prod" in result.output
    assert "metrics-server-3.13.0.tgz: sha256" in result.output and "refusing" in result.output
    assert "Traceback" not in result.output


def test_check_exits_2_when_no_engine_can_run(synth_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAFLOW_HELM", "/nonexistent/helm")
    result = runner.invoke(app, ["check", "--config-dir", str(CONFIG_DIR), "--from", str(synth_dir), "--env", "prod"])
    assert result.exit_code == 2, result.output
    assert "render gate cannot run for prod: HAFLOW_HELM='/nonexistent/helm': no such executable" in result.output
    assert "--no-render" in result.output


def test_check_refuses_a_charts_dir_that_does_not_exist(tmp_path: Path, synth_dir: Path) -> None:
    result = runner.invoke(app, ["check", "--config-dir", str(CONFIG_DIR), "--from", str(synth_dir),
                                 "--charts-dir", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "nope: no such directory" in result.output


# --- haflow charts pull ------------------------------------------------------------------------------

ENTRY = LockedFile("metrics-server", "3.13.0", "metrics-server-3.13.0.tgz",
                   hashlib.sha256(b"the pinned package").hexdigest(), repository="https://charts.example/ms/")
INDEX = yaml.safe_dump({"apiVersion": "v1", "entries": {"metrics-server": [
    {"version": "3.13.0", "urls": ["metrics-server-3.13.0.tgz"]}]}}).encode()
ONE = ChartLock(Path("charts.lock"), (ENTRY,), ())


def _lock_file(tmp_path: Path) -> Path:
    path = tmp_path / "charts.lock"
    path.write_text('{"charts": [{"chart": "metrics-server", "version": "3.13.0", "file": "metrics-server-3.13.0.tgz", '
                    f'"sha256": "{ENTRY.sha256}", "repository": "https://charts.example/ms/"}}]}}', encoding="utf-8")
    return path


def test_pull_writes_a_package_with_the_locked_digest(tmp_path: Path) -> None:
    served = {"https://charts.example/ms/index.yaml": INDEX,
              "https://charts.example/ms/metrics-server-3.13.0.tgz": b"the pinned package"}
    assert pull(tmp_path / "cache", served.__getitem__, _lock_file(tmp_path)) == 0
    assert (tmp_path / "cache" / "metrics-server-3.13.0.tgz").read_bytes() == b"the pinned package"


def test_pull_refuses_a_package_whose_digest_differs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    served = {"https://charts.example/ms/index.yaml": INDEX,
              "https://charts.example/ms/metrics-server-3.13.0.tgz": b"something else"}
    assert pull(tmp_path / "cache", served.__getitem__, _lock_file(tmp_path)) == 2
    error = capsys.readouterr().err
    assert f"sha256 {hashlib.sha256(b'something else').hexdigest()} is not the locked {ENTRY.sha256}" in error
    assert list((tmp_path / "cache").iterdir()) == []


def test_pull_without_network_fails_cleanly_naming_what_it_tried(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def offline(url: str) -> bytes:
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    assert pull(tmp_path / "cache", offline, _lock_file(tmp_path)) == 2
    error = capsys.readouterr().err
    assert "could not fetch https://charts.example/ms/index.yaml: [Errno -2] Name or service not known" in error
    assert "copy the pinned packages" in error


def test_pull_says_when_the_repository_does_not_list_the_version(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    served = {"https://charts.example/ms/index.yaml": b"apiVersion: v1\nentries: {}\n"}
    assert pull(tmp_path / "cache", served.__getitem__, _lock_file(tmp_path)) == 2
    assert "lists no metrics-server 3.13.0" in capsys.readouterr().err


def test_charts_pull_command_exits_2_without_network(tmp_path: Path) -> None:
    result = runner.invoke(app, ["charts", "pull", "--charts-dir", str(tmp_path / "cache")])
    assert result.exit_code == 2, result.output
    assert "FAILED" in result.output and "could not fetch https://" in result.output
    assert "Traceback" not in result.output
