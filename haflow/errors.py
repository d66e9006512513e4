"""One error type for bad input (environment files and every file haflow.reader reads), carrying every
problem found at once. A bottom module: config, the reader and the rule pack all raise it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MISSING = object()


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in an environment file: where, what was found, what is allowed, how to fix it."""

    file: str
    path: str
    value: Any
    problem: str
    fix: str

    def __str__(self) -> str:
        shown = "<missing>" if self.value is MISSING else repr(self.value)
        where = f"{self.file}: {self.path} = {shown}" if self.path else f"{self.file}"
        return f"{where}: {self.problem}; {self.fix}"


class ConfigError(Exception):
    """Raised once with every issue found, so a user fixes them all in one pass."""

    def __init__(self, issues: list[ConfigIssue], *, subject: str = "the environment configuration") -> None:
        self.issues = issues
        self.subject = subject
        super().__init__("\n".join(str(issue) for issue in issues))

    def render(self) -> str:
        count = len(self.issues)
        header = f"{count} problem{'s' if count != 1 else ''} in {self.subject}:"
        return "\n".join([header, *(f"  - {issue}" for issue in self.issues)])
