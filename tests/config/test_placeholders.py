"""The example values of environments/base.yaml: synth warns, `haflow check --deploy` refuses them (issue 22, 5)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from haflow.cli import app
from haflow.config import load_environments
from haflow.config.placeholders import placeholder_messages, warn_text
from tests.config.overlays import config_dir_with
from tests.conftest import CONFIG_DIR, ENVIRONMENT_NAMES

runner = CliRunner()
BASE = (CONFIG_DIR / "base.yaml").read_text(encoding="utf-8")
OWN = BASE.replace("bucket: haflow-terraform-state", "bucket: example-org-haflow-tfstate").replace(
    "https://github.com/acme/haflow.git", "https://github.com/example-org/haflow.git")


def test_check_deploy_refuses_the_shipped_examples_naming_key_value_and_fix() -> None:
    result = runner.invoke(app, ["check", "--deploy", "--env", "prod", "--config-dir", str(CONFIG_DIR),
                                 "--from", "/nonexistent"])
    assert result.exit_code == 2, result.output
    assert "2 example value(s) from environments/base.yaml would be deployed; refusing" in result.output
    assert "prod: state.bucket = 'haflow-terraform-state'" in result.output
    assert "set state.bucket in environments/base.yaml" in result.output
    assert "eks.deploy_access.repository_url = 'https://github.com/acme/haflow.git'" in result.output
    assert "your copy's HTTPS URL" in result.output and "Traceback" not in result.output


def test_validate_and_check_without_deploy_still_accept_them_for_a_fresh_clone() -> None:
    assert runner.invoke(app, ["validate", "--config-dir", str(CONFIG_DIR)]).exit_code == 0
    environments = load_environments(config_dir=CONFIG_DIR)
    assert len(placeholder_messages(environments)) == 2
    warning = warn_text(environments)
    assert warning.startswith("WARNING: 2 example value(s)") and "refused by `haflow check --deploy`" in warning
    assert f"{', '.join(sorted(ENVIRONMENT_NAMES))}: state.bucket" in warning


def test_own_values_pass_the_deploy_check(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path, {"base.yaml": OWN})
    environments = load_environments(config_dir=config_dir)
    assert placeholder_messages(environments) == [] and warn_text(environments) == ""
    result = runner.invoke(app, ["check", "--deploy", "--env", "dev", "--config-dir", str(config_dir),
                                 "--from", str(tmp_path / "none")])
    assert "example value" not in result.output


def test_each_example_value_is_reported_on_its_own(tmp_path: Path) -> None:
    only_bucket = OWN.replace("bucket: example-org-haflow-tfstate", "bucket: haflow-terraform-state")
    environments = load_environments(config_dir=config_dir_with(tmp_path, {"base.yaml": only_bucket}))
    assert [m.split(" = ")[0].split(": ")[1] for m in placeholder_messages(environments)] == ["state.bucket"]
