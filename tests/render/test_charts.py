"""Chart packages: the lock decides which bytes render; `haflow charts pull` refuses anything else."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import urllib.error
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import yaml
from typer.testing import CliRunner

from haflow.cli import app
from haflow.commands.charts import pull
from haflow.config import Environment
from haflow.plan import StackJson, chart_name, resources
from haflow.render import RenderUnavailable, render_environment
from haflow.render.charts import ChartLock, LockedFile, fetch_url, load_lock, reference_charts, sha256_of
from haflow.render.charts import pull as pull_packages
from haflow.render.mirror import HelmIgnore, content_digest, helm_filtered, pack, package_files
from tests.conftest import CONFIG_DIR

runner = CliRunner()
LOCK = load_lock()
REFERENCE_CHARTS = reference_charts() or Path('/nonexistent')


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
    """Published packages by their bytes; packages packed from git by their files, whatever tar wrote."""
    sums = dict(reversed(line.split()) for line in (REFERENCE_CHARTS / "SHA256SUMS").read_text().splitlines())
    assert {entry.file: entry.sha256 for entry in LOCK.files if not entry.content_sha256} == \
        {file: digest for file, digest in sums.items() if file in {e.file for e in LOCK.files if not e.content_sha256}}
    packed_from_git = [entry for entry in LOCK.charts if entry.content_sha256]
    assert {entry.chart for entry in packed_from_git} == {
        "cluster-autoscaler", "external-secrets", "fluent-bit", "grafana", "ingress-nginx", "kube-prometheus-stack",
        "metrics-server", "reloader"}
    for entry in packed_from_git:
        files = package_files(REFERENCE_CHARTS / entry.file)
        assert content_digest(files) == entry.content_sha256, entry.file
        # the deterministic packer keeps exactly these files, and packs them the same way twice
        assert content_digest(package_files(pack(files))) == entry.content_sha256
        assert pack(files) == pack(dict(reversed(list(files.items()))))
        assert all(part.repo and len(part.commit) == 40 and part.path for part in entry.parts), entry.file


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


def test_a_package_packed_from_git_is_refused_when_one_file_differs(tmp_path: Path, synthesized: dict[str, StackJson],
                                                                    environments: dict[str, Environment]) -> None:
    charts = _charts_copy(tmp_path)
    package = charts / "metrics-server-3.13.0.tgz"
    files = package_files(package)
    files["metrics-server/values.yaml"] += b"\n# edited\n"
    package.write_bytes(pack(files))
    with pytest.raises(RenderUnavailable, match=r"metrics-server-3\.13\.0\.tgz: content digest [0-9a-f]{64} is not "
                                                r"the locked [0-9a-f]{64}"):
        render_environment(synthesized, environments["prod"], charts)


def test_a_package_packed_from_git_is_accepted_repacked_with_other_tar_metadata(
        tmp_path: Path, synthesized: dict[str, StackJson], environments: dict[str, Environment]) -> None:
    """What `haflow charts pull` packs on a runner renders like the reference package here."""
    charts = _charts_copy(tmp_path)
    for entry in LOCK.charts:
        if entry.content_sha256:
            package = charts / entry.file
            package.write_bytes(pack(package_files(package)))
            assert sha256_of(package) != sha256_of(REFERENCE_CHARTS / entry.file)
    assert render_environment(synthesized, environments["prod"], charts).objects


def test_check_without_the_reference_charts_says_what_to_run(tmp_path: Path, synth_dir: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A runner without ../shared and with an empty HOME: exit 2 naming `haflow charts pull`."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HAFLOW_CHARTS_DIR", raising=False)
    monkeypatch.setenv("HAFLOW_REFERENCE_CHARTS", str(tmp_path / "empty"))
    result = runner.invoke(app, ["check", "--config-dir", str(CONFIG_DIR), "--from", str(synth_dir), "--env", "prod"])
    assert result.exit_code == 2, result.output
    assert "render gate cannot run for prod" in result.output
    assert f"not found in {tmp_path / 'home' / '.cache' / 'haflow' / 'charts'}, {tmp_path / 'empty'}" in result.output
    assert "run `haflow charts pull`" in result.output and "github.com" in result.output
    assert "Traceback" not in result.output


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
    assert "metrics-server-3.13.0.tgz: content digest unreadable" in result.output and "refusing" in result.output
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


# --- haflow charts pull: packages packed from git, over real HTTP ------------------------------------

def _github_archive(top: str, files: dict[str, bytes]) -> bytes:
    """A commit archive as GitHub's codeload serves it: one top folder, other mtimes and modes than ours."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as archive:
        for number, (path, data) in enumerate(sorted(files.items(), reverse=True)):
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size, info.mode, info.mtime, info.uname = len(data), 0o664, 1_700_000_000 + number, "runner"
            archive.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def _archives_behind(entry: LockedFile) -> dict[str, bytes]:
    """The GitHub archives of each commit ``entry`` is packed from, rebuilt from the reference package.

    Each archive also holds files outside the chart directory and files the chart's .helmignore drops: the
    pull must leave both out to reach the locked content digest.
    """
    files = package_files(REFERENCE_CHARTS / entry.file)
    served: dict[str, bytes] = {}
    for part in entry.parts:
        root = "/".join(p for p in (entry.chart, part.into) if p) + "/"
        others = [f"{entry.chart}/{o.into}/" for o in entry.parts if o.into and o is not part]
        tree = {path[len(root):]: data for path, data in files.items()
                if path.startswith(root) and not any(path.startswith(o) for o in others)}
        tree |= {"values.yaml.swp": b"an editor's swap file", ".git/HEAD": b"ref: refs/heads/main",
                 "templates/.hidden.yaml": b"kind: Secret"}
        commit_files = {f"{part.path}/{path}": data for path, data in tree.items()}
        commit_files["README.md"] = b"the repository's own readme"
        served[part.url] = _github_archive(f"{part.repo.split('/')[1]}-{part.commit}", commit_files)
    return served


class _Served(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        data = self.files.get(self.path)
        self.send_response(200 if data is not None else 404)
        self.end_headers()
        self.wfile.write(data or b"")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[Callable[[dict[str, bytes]], Callable[[str], bytes]]]:
    """An HTTP server on 127.0.0.1 serving given URLs' bytes; yields a fetch that sends GitHub's URLs to it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Served)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(by_url: dict[str, bytes]) -> Callable[[str], bytes]:
        _Served.files = {urllib.parse.urlsplit(url).path: data for url, data in by_url.items()}
        return lambda url: fetch_url(f"http://127.0.0.1:{server.server_port}{urllib.parse.urlsplit(url).path}")

    yield serve
    server.shutdown()
    thread.join()


@pytest.mark.parametrize("chart", ["metrics-server", "kube-prometheus-stack"])
def test_pull_packs_a_git_chart_from_its_commits_to_the_locked_content_digest(
        chart: str, tmp_path: Path, loopback: Callable[[dict[str, bytes]], Callable[[str], bytes]]) -> None:
    entry = next(e for e in LOCK.charts if e.chart == chart)
    fetch = loopback(_archives_behind(entry))
    pulled = list(pull_packages(ChartLock(LOCK.path, (entry,), ()), tmp_path / "cache", fetch))
    assert [r.problem for r in pulled] == [""]
    package = tmp_path / "cache" / entry.file
    assert content_digest(package_files(package)) == entry.content_sha256
    files = package_files(package)
    assert [name for name in files if name.endswith(".swp") or "/.git/" in name or "/.hidden" in name] == []
    assert b"the repository's own readme" not in files.values()
    # packed deterministically: the same bytes from a second pull
    again = list(pull_packages(ChartLock(LOCK.path, (entry,), ()), tmp_path / "again", fetch))
    assert again[0].path is not None and sha256_of(again[0].path) == sha256_of(package)


def test_pull_refuses_a_git_archive_whose_chart_differs(tmp_path: Path,
                                                        loopback: Callable[[dict[str, bytes]], Callable[[str], bytes]]
                                                        ) -> None:
    entry = next(e for e in LOCK.charts if e.chart == "metrics-server")
    served = _archives_behind(entry)
    top = f"metrics-server-{entry.parts[0].commit}"
    files = {name.removeprefix(top + "/"): data for name, data in package_files(served[entry.parts[0].url]).items()}
    files[f"{entry.parts[0].path}/values.yaml"] += b"\nreplicas: 9\n"
    served[entry.parts[0].url] = _github_archive(top, files)
    pulled = list(pull_packages(ChartLock(LOCK.path, (entry,), ()), tmp_path / "cache", loopback(served)))
    assert pulled[0].path is None
    assert "content digest" in pulled[0].problem and f"is not the locked {entry.content_sha256}" in pulled[0].problem
    assert "refused, nothing written" in pulled[0].problem
    assert list((tmp_path / "cache").iterdir()) == []


def test_helmignore_is_read_as_helm_reads_it() -> None:
    negated = HelmIgnore("# comment\n!keep.txt\n")
    assert not negated.ignores("keep.txt", False)  # helm keeps what a "!" rule names...
    assert negated.ignores("other.txt", False)  # ...and ignores what it does not (pkg/ignore's reading)
    plain = HelmIgnore("*.swp\n.git/\n/ci\ndocs/*.md\n")
    assert plain.ignores("templates/a.swp", False) and plain.ignores(".git", True)
    assert not plain.ignores(".git", False)  # a trailing slash matches directories only
    assert plain.ignores("ci", True) and not plain.ignores("sub/ci", True)  # a leading slash anchors at the root
    assert plain.ignores("docs/a.md", False) and not plain.ignores("docs/sub/a.md", False)  # '*' stays in a segment
    assert plain.ignores("templates/.helpers.tpl", False)  # Helm's own default rule
    chart = {".helmignore": b"/ci\n.git/\n", "Chart.yaml": b"", ".git/config": b"", "ci/x.yaml": b"",
             "templates/a.yaml": b"", "templates/.b.yaml": b""}
    assert helm_filtered(chart) == {".helmignore": b"/ci\n.git/\n", "Chart.yaml": b"", "templates/a.yaml": b""}


@pytest.mark.parametrize(("required", "outcome"), [("1", "1 error"), ("", "1 skipped")])
def test_missing_charts_fail_the_render_tests_where_they_are_required(tmp_path: Path, required: str,
                                                                      outcome: str) -> None:
    """CI sets HAFLOW_REQUIRE_CHARTS=1 (.ci/run): a render test without its charts is an error, not a skip."""
    env = {**os.environ, "HAFLOW_REQUIRE_CHARTS": required, "HAFLOW_CHARTS_DIR": str(tmp_path / "cache"),
           "HAFLOW_REFERENCE_CHARTS": str(tmp_path / "empty")}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          f"{Path(__file__)}::test_helmignore_is_read_as_helm_reads_it"],
                         env=env, capture_output=True, text=True, cwd=Path(__file__).parent.parent.parent, timeout=300)
    assert outcome in run.stdout, run.stdout + run.stderr
    assert run.returncode == (1 if required else 0)
    if required:
        assert "HAFLOW_REQUIRE_CHARTS=1: the render tests must run here" in run.stdout
        assert "run `haflow charts pull`" in run.stdout
