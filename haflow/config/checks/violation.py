"""What a cross-field check is: a function of the environment yielding violations (key path, value, problem, fix)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from haflow.config.model import Environment


@dataclass(frozen=True)
class Violation:
    path: str
    value: Any
    problem: str
    fix: str


Check = Callable[[Environment], Iterator[Violation]]
