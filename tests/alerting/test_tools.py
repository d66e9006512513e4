"""Missing promtool/amtool skip a local run and fail CI (.ci/run sets HAFLOW_REQUIRE_ALERT_TOOLS=1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.alerting import tools


@pytest.mark.parametrize(("required", "outcome"), [("1", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_tool_fails_where_the_tools_are_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, required: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(tools, "TOOLS_DIR", tmp_path / "empty")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv(tools.REQUIRE_ALERT_TOOLS, required)
    with pytest.raises(outcome, match="run `make alert-tools`"):
        tools.tool("amtool")


def test_ci_requires_the_alert_tools() -> None:
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    assert f"export {tools.REQUIRE_ALERT_TOOLS}=1" in ci
