"""haflow charts pull: fill the chart cache with the packages charts.lock pins, refusing any other bytes."""

from __future__ import annotations

from pathlib import Path

from haflow.commands.common import EXIT_BAD_INPUT, EXIT_OK, print_error
from haflow.render.charts import ChartError, Fetch, default_cache, fetch_url, load_lock
from haflow.render.charts import pull as pull_packages


def pull(charts_dir: Path | None, fetch: Fetch = fetch_url, lock_file: Path | None = None) -> int:
    destination = charts_dir or default_cache()
    try:
        lock = load_lock(lock_file) if lock_file else load_lock()
        destination.mkdir(parents=True, exist_ok=True)
    except ChartError as err:
        print_error(str(err))
        return EXIT_BAD_INPUT
    except OSError as err:
        print_error(f"{destination}: cannot create the chart directory ({err.strerror}); pass --charts-dir")
        return EXIT_BAD_INPUT
    failed = 0
    for result in pull_packages(lock, destination, fetch):
        if result.path is None:
            failed += 1
            print_error(f"FAILED {result.entry.file}: {result.problem}")
        else:
            print(f"ok     {result.entry.file} ({result.entry.sha256[:12]}) {result.url or 'already present'}")
    if failed:
        print_error(f"{failed} of {len(lock.files)} locked files not pulled into {destination}; without network to "
                    f"the chart repositories, copy the pinned packages (e.g. ../shared/reference/charts) there or "
                    f"pass --charts-dir to `haflow check`")
        return EXIT_BAD_INPUT
    return EXIT_OK
