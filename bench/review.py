"""`haflow review --plan` on each shared real plan (../shared/reference/plans): wall time of a fresh
process (CLI start-up included), median of --repeat runs. The target is under a second each.

Like bench/synth.py, the output starts with the conditions it measured under (CPU count, load average
before and after, the idle check of bench/synth.py's Conditions), warns on stderr when the machine is busy,
and announces each plan on stderr with the elapsed seconds before it is measured.

    make bench            # or: .venv/bin/python bench/review.py [--repeat N] [--plans DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

from haflow import progress

REPO = Path(__file__).resolve().parent.parent
PLANS = Path(os.environ.get("HAFLOW_SHARED_DIR") or REPO.parent / "shared") / "reference" / "plans"
TARGET_SECONDS = 1.0


def _bench_synth() -> ModuleType:
    """bench/synth.py, the home of Conditions (the idle check both benchmarks use)."""
    name = "haflow_bench_synth"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("synth.py"))
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    return sys.modules[name]


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plans", type=Path, default=PLANS)
    args = parser.parse_args()
    plans = sorted(args.plans.glob("*.json"))
    if not plans:
        print(f"no plans in {args.plans}", file=sys.stderr)
        return 2
    haflow = Path(sys.executable).with_name("haflow")
    conditions_type = _bench_synth().Conditions
    progress.configure(quiet=False)
    conditions = conditions_type(os.cpu_count() or 1, load_average())
    progress.say(conditions.describe())
    for reason in conditions.busy():
        print(f"WARNING: the machine is busy ({reason}): the figures will be slower than an idle machine's; "
              f"stop other jobs and run make bench again to compare", file=sys.stderr, flush=True)
    slowest = 0.0
    for number, plan in enumerate(plans, 1):
        progress.say(f"plan {number}/{len(plans)}: haflow review --plan {plan.name}, {args.repeat} run(s)")
        times, cpu = [], []
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            completed = subprocess.run([str(haflow), "-q", "review", "--plan", f"bench={plan}", "--config-dir",
                                        str(REPO / "environments")], capture_output=True, text=True, check=False)
            times.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if completed.returncode not in (0, 1):
                print(f"{plan.name}: exit {completed.returncode}: {completed.stderr.strip()}", file=sys.stderr)
                return 1
        median = statistics.median(times)
        slowest = max(slowest, median)
        print(f"haflow review --plan {plan.name}: {median:.3f} s wall, {statistics.median(cpu):.3f} s CPU "
              f"(median of {args.repeat}, {plan.stat().st_size / 1024:.0f} KiB)")
    verdict = "met" if slowest < TARGET_SECONDS else "MISSED"
    conditions = conditions_type(conditions.cpus, conditions.load_before, load_average())
    print(conditions.describe())
    print(f"slowest {slowest:.3f} s wall: target < {TARGET_SECONDS:.0f} s per plan {verdict}")
    for reason in conditions.busy():
        print(f"WARNING: measured on a busy machine ({reason}): not comparable with an idle machine's figures",
              file=sys.stderr)
    return 0 if slowest < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
