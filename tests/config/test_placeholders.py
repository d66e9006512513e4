"""The example values shipped in environments/: synth warns, `haflow check --deploy` refuses them (issue 22, 5;
issue 19, 3: the model-api host and hosted zone of prod.yaml and staging.yaml)."""

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
# The overlays that ship an example model-api host and hosted zone, with names of one's own.
OWN_OVERLAYS = {
    name: (CONFIG_DIR / name).read_text(encoding="utf-8").replace(".example.com", ".acme-corp.io").replace(
        "Z00000000000EXAMPLE", "Z0123456789ABCDEFGHIJ")
    for name in ("prod.yaml", "staging.yaml")
}


def test_check_deploy_refuses_the_shipped_examples_naming_key_value_and_fix() -> None:
    result = runner.invoke(app, ["check", "--deploy", "--env", "prod", "--config-dir", str(CONFIG_DIR),
                                 "--from", "/nonexistent"])
    assert result.exit_code == 2, result.output
    assert "4 example value(s) shipped in environments/ would be deployed; refusing" in result.output
    assert "prod: state.bucket = 'haflow-terraform-state'" in result.output
    assert "set state.bucket in environments/base.yaml" in result.output
    assert "eks.deploy_access.repository_url = 'https://github.com/acme/haflow.git'" in result.output
    assert "your copy's HTTPS URL" in result.output and "Traceback" not in result.output
    assert "prod: model_api.host = 'api.prod.example.com'" in result.output
    assert "ingress.tls.hosted_zone_id = 'Z00000000000EXAMPLE'" in result.output


def test_validate_and_check_without_deploy_still_accept_them_for_a_fresh_clone() -> None:
    assert runner.invoke(app, ["validate", "--config-dir", str(CONFIG_DIR)]).exit_code == 0
    environments = load_environments(config_dir=CONFIG_DIR)
    # the base.yaml pair, prod's and staging's hosts, and the hosted zone both overlays share
    assert len(placeholder_messages(environments)) == 5
    warning = warn_text(environments)
    assert warning.startswith("WARNING: 5 example value(s)") and "refused by `haflow check --deploy`" in warning
    assert f"{', '.join(sorted(ENVIRONMENT_NAMES))}: state.bucket" in warning


def test_own_values_pass_the_deploy_check(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path, {"base.yaml": OWN, **OWN_OVERLAYS})
    environments = load_environments(config_dir=config_dir)
    assert placeholder_messages(environments) == [] and warn_text(environments) == ""
    result = runner.invoke(app, ["check", "--deploy", "--env", "dev", "--config-dir", str(config_dir),
                                 "--from", str(tmp_path / "none")])
    assert "example value" not in result.output


def test_each_example_value_is_reported_on_its_own(tmp_path: Path) -> None:
    only_bucket = OWN.replace("bucket: example-org-haflow-tfstate", "bucket: haflow-terraform-state")
    environments = load_environments(config_dir=config_dir_with(tmp_path, {"base.yaml": only_bucket, **OWN_OVERLAYS}))
    assert [m.split(" = ")[0].split(": ")[1] for m in placeholder_messages(environments)] == ["state.bucket"]
