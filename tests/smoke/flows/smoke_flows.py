"""The flow the smoke deploys: the worker runs it in a subprocess of .venv-prefect's Python."""

import time

from prefect import flow


@flow(name="smoke-sleep")
def sleep(seconds: float = 0.0) -> float:
    time.sleep(seconds)
    return seconds
