"""Synth performance: haflow against the documented provider import, measured in the same run.

    make bench            # or: .venv/bin/python bench/synth.py [--repeat N]

(a) baseline: a fresh process importing the three provider packages the documented way
(b) `haflow synth` of every environment, fresh process
(b') (b) with the jsii package cache disabled (what the cache saves)
(c) `haflow validate` of every environment, fresh process
(d) `haflow check --from` of every environment with the render gate (every Helm release rendered by
    Helm's engine, validated, its rules run) and (d') with --no-render: the difference is the gate
Runs alternate a, b, c so machine noise hits all three alike; prints the median wall time and peak
RSS (process tree: Python + the jsii Node process) of each, and the ratio b/a. Then the scaling:
synth of 1, 3 and 10 generated environments and the marginal seconds per added environment
(least-squares slope).

The figures hold for the conditions they were measured under, so the output starts with them: CPU count,
load average before and after, and an idle check. A machine already busy (1-minute load average above
IDLE_LOAD_PER_CPU per CPU) is warned about on stderr and in the result: its figures are slower than an idle
machine's and are not comparable with an idle machine's. Each measurement is announced on stderr with the
elapsed seconds (haflow/progress.py), so a run is never silent for long.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from haflow import progress

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# The documented way; haflow.providers must not be imported here (it would install the fast loading).
BASELINE = "import cdktf_cdktf_provider_aws, cdktf_cdktf_provider_helm, cdktf_cdktf_provider_kubernetes"
SAMPLE_SECONDS = 0.02
# jsii unpacks each assembly tarball (the AWS one is ~600 MB unpacked) into a cache it reuses across
# processes; this turns that off, to show what the cache saves.
NO_PACKAGE_CACHE = {"JSII_RUNTIME_PACKAGE_CACHE": "disabled"}
# The targets `make bench` holds haflow to; missing either is exit 1.
TARGET_RATIO = 0.35
TARGET_SECONDS_PER_ENVIRONMENT = 0.5
# Rendering every environment's releases with the pinned charts (issue 10).
TARGET_RENDER_SECONDS = 60.0
# A 1-minute load average above this per CPU before or after the run: the machine was not idle.
IDLE_LOAD_PER_CPU = 0.25


@dataclass(frozen=True)
class Conditions:
    cpus: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float] | None = None

    def busy(self) -> list[str]:
        """Why the machine was not idle (empty: it was)."""
        limit = IDLE_LOAD_PER_CPU * self.cpus
        found = [f"load average {load[0]:.2f} {when} (idle: <= {limit:.2f} on {self.cpus} CPUs)"
                 for when, load in (("before", self.load_before), ("after", self.load_after))
                 if load is not None and load[0] > limit]
        return found

    def describe(self) -> str:
        def show(load: tuple[float, float, float] | None) -> str:
            return "n/a" if load is None else " / ".join(f"{value:.2f}" for value in load)

        verdict = "BUSY: " + "; ".join(self.busy()) if self.busy() else "idle"
        return (f"conditions: {self.cpus} CPUs; load average (1/5/15 min) before {show(self.load_before)}, after "
                f"{show(self.load_after)}; machine {verdict}")


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss_mb: float


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as children:
                    stack.extend(int(child) for child in children.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def measure(argv: list[str], cwd: Path = REPO, env: dict[str, str] | None = None,
            ok: tuple[int, ...] = (0,)) -> Sample:
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, **(env or {})})
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss_kb(process.pid))
        time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - start
    if process.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} failed:\n{process.stderr.read().decode() if process.stderr else ''}")
    return Sample(seconds, peak / 1024)


def haflow(*args: str) -> list[str]:
    return [PYTHON, "-m", "haflow", *args]


def generated_config(root: Path, count: int) -> Path:
    """``count`` prod-shaped environments (distinct names and CIDRs) beside the real base.yaml."""
    config = root / f"envs-{count}"
    config.mkdir()
    shutil.copy(REPO / "environments" / "base.yaml", config / "base.yaml")
    prod = (REPO / "environments" / "prod.yaml").read_text(encoding="utf-8")
    for index in range(count):
        text = prod.replace("10.30.0.0/16", f"10.{100 + index}.0.0/16")
        (config / f"bench{index:02d}.yaml").write_text(text, encoding="utf-8")
    return config


def slope(points: list[tuple[int, float]]) -> float:
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)


def row(name: str, samples: list[Sample]) -> str:
    seconds = statistics.median(s.seconds for s in samples)
    rss = statistics.median(s.peak_rss_mb for s in samples)
    runs = ", ".join(f"{s.seconds:.2f}" for s in samples)
    return f"| {name} | {seconds:.2f} | {rss:.0f} | {runs} |"


def missed_targets(ratio: float, seconds_per_environment: float, render_gate_seconds: float = 0.0) -> list[str]:
    """What the measurements miss, one line each (empty: every target met)."""
    missed = []
    if render_gate_seconds >= TARGET_RENDER_SECONDS:
        missed.append(f"the render gate took {render_gate_seconds:.1f} s, not under {TARGET_RENDER_SECONDS:.0f} s")
    if ratio > TARGET_RATIO:
        missed.append(f"ratio b/a {ratio:.2f} is above the target {TARGET_RATIO}")
    if seconds_per_environment > TARGET_SECONDS_PER_ENVIRONMENT:
        missed.append(f"{seconds_per_environment:.3f} s per added environment is above the target "
                      f"{TARGET_SECONDS_PER_ENVIRONMENT} s")
    return missed


def timed(label: str, argv: list[str], **kwargs: Any) -> Sample:
    """``measure`` announced on stderr before it starts and with its seconds when it ends."""
    progress.say(f"{label} ...")
    sample = measure(argv, **kwargs)
    progress.say(f"{label}: {sample.seconds:.2f} s, {sample.peak_rss_mb:.0f} MB")
    return sample


def main() -> int:
    # Every measured process runs jsii on the same Node (the one haflow selects), baseline included.
    from haflow.node import use_bundled_node

    use_bundled_node()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement (default 3)")
    args = parser.parse_args()
    progress.configure(quiet=False)
    conditions = Conditions(os.cpu_count() or 1, load_average())
    progress.say(conditions.describe())
    for reason in conditions.busy():
        print(f"WARNING: the machine is busy ({reason}): the figures will be slower than an idle machine's; "
              f"stop other jobs and run make bench again to compare with an idle run", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="haflow-bench-") as scratch:
        root = Path(scratch)
        runs: dict[str, list[Sample]] = {"baseline": [], "synth": [], "uncached": [], "validate": [], "help": [],
                                         "check": [], "no-render": []}
        for run in range(args.repeat):
            step = f"run {run + 1}/{args.repeat}:"
            runs["baseline"].append(timed(f"{step} (a) baseline import", [PYTHON, "-c", BASELINE]))
            runs["synth"].append(timed(f"{step} (b) synth", haflow("synth", "--out", str(root / "cdktf.out"))))
            runs["uncached"].append(timed(f"{step} (b') synth without the jsii package cache",
                                          haflow("synth", "--out", str(root / "cdktf.out")), env=NO_PACKAGE_CACHE))
            runs["validate"].append(timed(f"{step} (c) validate", haflow("validate")))
            runs["help"].append(timed(f"{step} --help", haflow("--help")))
            # exit 1 (findings) is a completed check; 2 (the gate could not run) is not
            runs["check"].append(timed(f"{step} (d) check with the render gate",
                                       haflow("check", "--from", str(root / "cdktf.out")), ok=(0, 1)))
            runs["no-render"].append(timed(f"{step} (d') check --no-render",
                                           haflow("check", "--from", str(root / "cdktf.out"), "--no-render"),
                                           ok=(0, 1)))
        baseline = statistics.median(s.seconds for s in runs["baseline"])
        synth = statistics.median(s.seconds for s in runs["synth"])

        scaling: list[tuple[int, float]] = []
        for count in (1, 3, 10):
            config = generated_config(root, count)
            samples = [
                timed(f"scaling: synth of {count} generated environment(s), run {run + 1}/{args.repeat}",
                      haflow("synth", "--config-dir", str(config), "--out", str(root / f"out-{count}")))
                for run in range(args.repeat)
            ]
            scaling.append((count, statistics.median(s.seconds for s in samples)))

    conditions = Conditions(conditions.cpus, conditions.load_before, load_average())
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {args.repeat} runs each")
    print(conditions.describe() + "\n")
    print("| measurement | median s | median peak RSS MB | runs (s) |")
    print("|---|---|---|---|")
    print(row("(a) baseline: eager import of the 3 provider packages", runs["baseline"]))
    print(row("(b) haflow synth, every environment", runs["synth"]))
    print(row("(b') the same with the jsii package cache disabled", runs["uncached"]))
    print(row("(c) haflow validate, every environment", runs["validate"]))
    print(row("haflow --help", runs["help"]))
    print(row("(d) haflow check --from, every environment, render gate on", runs["check"]))
    print(row("(d') the same with --no-render", runs["no-render"]))
    gate = statistics.median(s.seconds for s in runs["check"]) - statistics.median(s.seconds for s in runs["no-render"])
    print(f"\nrender gate, every environment (d - d'): {gate:.2f} s  (target < {TARGET_RENDER_SECONDS})")
    print(f"\nratio b/a (synth / baseline): {synth / baseline:.2f}  (target <= {TARGET_RATIO})")
    print("\n| environments | median synth s |")
    print("|---|---|")
    for count, seconds in scaling:
        print(f"| {count} | {seconds:.2f} |")
    per_environment = slope(scaling)
    print(f"\nmarginal cost per added environment: {per_environment:.3f} s  "
          f"(target <= {TARGET_SECONDS_PER_ENVIRONMENT})")
    missed = missed_targets(synth / baseline, per_environment, gate)
    for line in missed:
        print(f"MISSED: {line}", file=sys.stderr)
    for reason in conditions.busy():
        print(f"WARNING: measured on a busy machine ({reason}): not comparable with an idle machine's figures",
              file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
