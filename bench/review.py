"""`haflow review --plan` on each shared real plan (../shared/reference/plans): wall time of a fresh
process (CLI start-up included), median of --repeat runs. The target is under a second each.

    make bench            # or: .venv/bin/python bench/review.py [--repeat N] [--plans DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PLANS = Path(os.environ.get("HAFLOW_SHARED_DIR") or REPO.parent / "shared") / "reference" / "plans"
TARGET_SECONDS = 1.0


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
    slowest = 0.0
    for plan in plans:
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
    load = os.getloadavg()[0]
    print(f"slowest {slowest:.3f} s wall: target < {TARGET_SECONDS:.0f} s per plan {verdict} "
          f"(load average {load:.1f} on {os.cpu_count()} CPUs)")
    return 0 if slowest < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
