"""The Terraform gate (haflow/review/tfgate.py, `haflow check --terraform`): this machine's terraform and the
AWS provider of the mirror validate every AWS-only stack, and plan it against the session's moto_server.

Without terraform or the provider mirror these tests skip, saying so; HAFLOW_REQUIRE_TERRAFORM=1 (.ci/run,
CI) turns the skip into a failure (tests/review/realplans.py: require_terraform).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from haflow import contract
from haflow.cli import app
from haflow.config import Environment
from haflow.plan import STACKS_DIR, StackJson
from haflow.review.terraform import Workdir
from haflow.review.tfgate import (
    GateReport,
    check_stack,
    format_gate,
    gate_config,
    provider_schema,
    remote_stand_ins,
    run_gate,
    split_stacks,
    write_stand_ins,
)
from tests.conftest import CHECK_DATE, CONFIG_DIR
from tests.review import realplans

pytestmark = pytest.mark.slow

GLOBAL_CLUSTER = "aws_rds_global_cluster"


def aws_only_stacks(environments: Mapping[str, Environment]) -> list[str]:
    """What the gate must run: bootstrap, each <env>-foundation, each <env>-dr-foundation."""
    names = [contract.BOOTSTRAP_STACK]
    for env in environments.values():
        names.append(env.foundation_stack_name)
        if env.dr.enabled:
            names.append(env.dr_foundation_stack_name)
    return names


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory, synthesized: dict[str, StackJson], synth_dir: Path,
         moto_endpoint: str) -> tuple[GateReport, Path]:
    """The gate over every synthesized stack, once; its report and its scratch directory."""
    version = realplans.require_terraform()
    scratch = tmp_path_factory.mktemp("tfgate")
    report = run_gate(synthesized, scratch, moto_endpoint, version, stacks_dir=synth_dir / STACKS_DIR)
    print("\n".join(format_gate(report)))  # the counts and the unchecked attributes, with pytest -s
    return report, scratch


@pytest.fixture(scope="module")
def schema(gate: tuple[GateReport, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return provider_schema(tmp_path_factory.mktemp("tf-provider-schema"), gate[0].aws_version)


def test_every_aws_only_stack_validates_and_plans_every_resource(
        gate: tuple[GateReport, Path], synthesized: dict[str, StackJson],
        environments: dict[str, Environment]) -> None:
    report = gate[0]
    assert [o.stack for o in report.outcomes] == sorted(aws_only_stacks(environments), key=list(synthesized).index)
    for outcome in report.outcomes:
        assert outcome.errors == [], "\n".join(map(str, outcome.errors))
        assert outcome.plan_error is None, outcome.plan_error
        resources = sum(len(blocks) for blocks in synthesized[outcome.stack]["resource"].values())
        whole = [path for path in outcome.unchecked if "(the whole resource" in path]
        assert outcome.counts == {"create": resources - len(whole)}, outcome.stack
    assert report.clean


def test_the_edge_certificate_plans_with_one_validation_record_per_domain(gate: tuple[GateReport, Path]) -> None:
    """Issue 19, item 3: the ACM certificate, its DNS validation records (for_each keyed by the domain name,
    which Terraform must know at plan time) and the validation plan with the real AWS provider. A plan calls
    no ACM API: issuance and DNS validation happen at apply, against a real hosted zone, not here."""
    report, scratch = gate
    for stack in ("prod-foundation", "prod-dr-foundation"):
        outcome = next(o for o in report.outcomes if o.stack == stack)
        assert outcome.planned and not [path for path in outcome.unchecked if "acm" in path or "route53" in path]
        plan = json.loads((scratch / stack / "plan.json").read_text(encoding="utf-8"))
        planned = {change["address"]: change for change in plan["resource_changes"]
                   if change["type"] in ("aws_acm_certificate", "aws_route53_record", "aws_acm_certificate_validation")}
        addresses = sorted(planned)
        assert [a.split(".")[0] for a in addresses] == [
            "aws_acm_certificate", "aws_acm_certificate_validation", "aws_route53_record"], addresses
        record = next(change for address, change in planned.items() if address.startswith("aws_route53_record"))
        assert record["index"] == "api.prod.example.com" and record["change"]["actions"] == ["create"]
        certificate = next(change for address, change in planned.items() if address.startswith("aws_acm_certificate."))
        assert certificate["change"]["after"]["domain_name"] == "api.prod.example.com"
        assert certificate["change"]["after"]["validation_method"] == "DNS"


def test_the_platform_stacks_are_named_as_not_validated(gate: tuple[GateReport, Path],
                                                        environments: dict[str, Environment]) -> None:
    report = gate[0]
    platforms = {env.platform_stack_name for env in environments.values()} | {
        env.dr_platform_stack_name for env in environments.values() if env.dr.enabled}
    assert set(report.not_validated) == platforms
    assert all({"helm", "kubernetes"} <= set(needs) for needs in report.not_validated.values())
    lines = format_gate(report)
    assert any(line.strip().startswith("prod-platform: NOT VALIDATED here: needs the helm") for line in lines)


def _keys(body: Any, prefix: str) -> set[str]:
    """Every key path under ``body`` (lists of blocks flattened), as the gate names removed paths."""
    found: set[str] = set()
    items = body if isinstance(body, list) else [body]
    for item in items:
        if isinstance(item, dict):
            for key, value in item.items():
                found.add(f"{prefix}{key}")
                if key != "//":
                    found |= _keys(value, f"{prefix}{key}.")
    return found


def test_what_the_mirrors_schema_does_not_know_is_removed_and_listed_never_silently(
        gate: tuple[GateReport, Path], synthesized: dict[str, StackJson]) -> None:
    report, scratch = gate
    listed: dict[str, set[str]] = {}
    for outcome in report.outcomes:
        ran = json.loads((scratch / outcome.stack / "cdk.tf.json").read_text())
        missing = set()
        for rtype, blocks in synthesized[outcome.stack]["resource"].items():
            for name, body in blocks.items():
                if name not in ran["resource"].get(rtype, {}):
                    missing.add(f"{rtype}.{name}")
                    continue
                before = _keys(body, f"{rtype}.{name}.")
                after = _keys(ran["resource"][rtype][name], f"{rtype}.{name}.")
                # a removed key takes its nested keys with it: the list names the outermost one
                missing |= {path for path in before - after if path.rsplit(".", 1)[0] in after
                            or path.count(".") == 2}
        # a whole resource is listed with the reason Terraform gave
        listed[outcome.stack] = {path.split(" (the whole resource", 1)[0] for path in outcome.unchecked}
        assert missing <= listed[outcome.stack], f"{outcome.stack}: removed without a word: {missing - listed[outcome.stack]}"
    # EKS deletion_protection came with provider 6.x; 5.100.0 cannot check it
    assert any(path.startswith("aws_eks_cluster.") and path.endswith(".deletion_protection")
               for path in listed["prod-foundation"])
    assert "not checked by Terraform" in "\n".join(format_gate(report))


def test_the_alarms_and_fis_templates_plan_with_every_attribute(
        gate: tuple[GateReport, Path], synthesized: dict[str, StackJson]) -> None:
    """Issue 20 items 4 and 6: Terraform and the 5.100.0 provider take every alarm, topic, FIS template and the
    experiment role as synthesized, nothing removed; moto plans them (a plan creates nothing, so moto's FIS
    and CloudWatch need only answer the provider's data sources)."""
    report = gate[0]
    types = ("aws_cloudwatch_metric_alarm", "aws_fis_experiment_template", "aws_sns_topic")
    planned = {o.stack: o for o in report.outcomes}
    for stack in ("prod-foundation", "prod-dr-foundation", "staging-foundation", "dev-foundation"):
        assert synthesized[stack]["resource"].get("aws_cloudwatch_metric_alarm"), stack
        assert not [path for path in planned[stack].unchecked if path.startswith(types)], stack
    assert len(synthesized["prod-foundation"]["resource"]["aws_fis_experiment_template"]) == 4


def test_a_resource_only_the_newer_provider_can_express_is_listed_whole_with_terraforms_reason(
        gate: tuple[GateReport, Path], synthesized: dict[str, StackJson]) -> None:
    """dev's regional NAT gateway (availability_mode, vpc_id: provider 6.x) is, in 5.100.0, a zonal one
    missing its subnet_id: the gate plans the stack without it, references to it replaced by a literal."""
    report, scratch = gate
    [nat] = synthesized["dev-foundation"]["resource"]["aws_nat_gateway"]
    [outcome] = [o for o in report.outcomes if o.stack == "dev-foundation"]
    [entry] = [path for path in outcome.unchecked if path.startswith(f"aws_nat_gateway.{nat} (the whole resource")]
    assert 'Missing required argument: The argument "subnet_id" is required' in entry
    ran = (scratch / "dev-foundation" / "cdk.tf.json").read_text()
    assert nat not in json.loads(ran)["resource"].get("aws_nat_gateway", {})
    assert f"aws_nat_gateway.{nat}" not in ran  # no reference left
    assert '"nat_gateway_id": "gate-unchecked-id"' in ran


def test_gate_config_removes_an_unknown_attribute_and_names_it(schema: dict[str, Any]) -> None:
    stack = {
        "terraform": {"backend": {"s3": {"bucket": "b", "key": "k", "region": "us-east-1"}},
                      "required_providers": {"aws": {"source": "aws", "version": "6.25.0"}}},
        "provider": {"aws": [{"region": "eu-west-1", "made_up_setting": True}]},
        "resource": {"aws_s3_bucket": {"logs": {"bucket": "x", "not_an_attribute": 1,
                                                "lifecycle": {"ignore_changes": ["tags", "not_an_attribute"]}}},
                     "aws_made_up_thing": {"one": {"name": "x"}}},
    }
    document, unchecked = gate_config(stack, schema, "5.100.0", "http://127.0.0.1:1")
    assert document["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}
    assert document["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"
    assert document["resource"]["aws_s3_bucket"]["logs"] == {"bucket": "x", "lifecycle": {"ignore_changes": ["tags"]}}
    [provider] = document["provider"]["aws"]
    assert provider["region"] == "eu-west-1" and provider["endpoints"][0]["s3"] == "http://127.0.0.1:1"
    assert provider["skip_credentials_validation"] is True
    assert sorted(unchecked) == [
        "aws_made_up_thing.one (the whole resource type)",
        "aws_s3_bucket.logs.lifecycle.ignore_changes[not_an_attribute]",
        "aws_s3_bucket.logs.not_an_attribute",
        "provider.aws[0].made_up_setting",
    ]


def test_a_global_cluster_without_force_destroy_is_refused_by_terraform_validate(
        gate: tuple[GateReport, Path], schema: dict[str, Any], synthesized: dict[str, StackJson],
        tmp_path: Path, moto_endpoint: str) -> None:
    """Fix 1: the DR foundation's global cluster sets source_db_cluster_identifier, which the provider's
    schema requires with force_destroy. The synthesized stack passes (the gate above); without it, not."""
    stack = copy.deepcopy(synthesized["prod-dr-foundation"])
    [(name, cluster)] = stack["resource"][GLOBAL_CLUSTER].items()
    assert cluster["force_destroy"] is False and cluster["source_db_cluster_identifier"]
    del cluster["force_destroy"]
    outcome = check_stack("prod-dr-foundation", stack, Workdir.create(tmp_path, gate[0].aws_version), schema,
                          moto_endpoint)
    [error] = outcome.errors
    assert error.address == f"{GLOBAL_CLUSTER}.{name}"
    assert error.summary == "Missing required argument"
    assert "all of `force_destroy,source_db_cluster_identifier` must be specified" in error.detail
    assert outcome.counts == {}  # an invalid stack is not planned


def test_a_stacks_assets_travel_with_the_gates_copy(gate: tuple[GateReport, Path], schema: dict[str, Any],
                                                     synth_dir: Path, tmp_path: Path, moto_endpoint: str) -> None:
    """The rotation function's zip is a cdktf asset whose hash Terraform reads at plan (filebase64sha256): the
    gate copies the stack's assets directory beside its copy. Without it, the plan fails naming the file."""
    [rotation] = [outcome for outcome in gate[0].outcomes if outcome.stack == "prod-foundation"]
    assert rotation.planned and not rotation.plan_error
    stack = {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "6.25.0"}}},
        "provider": {"aws": [{"region": "us-east-1"}]},
        "output": {"code": {"value": '${filebase64sha256("assets/code/archive.zip")}'}},
    }
    source = tmp_path / "stack"
    (source / "assets" / "code").mkdir(parents=True)
    (source / "assets" / "code" / "archive.zip").write_bytes(b"zip")
    copied = check_stack("assets", stack, Workdir.create(tmp_path / "with", gate[0].aws_version), schema,
                         moto_endpoint, source)
    assert copied.planned and not copied.plan_error, copied.plan_error
    missing = check_stack("assets", stack, Workdir.create(tmp_path / "without", gate[0].aws_version), schema,
                          moto_endpoint)
    assert "assets/code/archive.zip" in (missing.plan_error or "") + " ".join(
        error.detail for error in missing.errors)


runner = CliRunner()


def test_check_terraform_runs_the_gate_and_prints_its_report(gate: tuple[GateReport, Path], synth_dir: Path) -> None:
    result = runner.invoke(app, ["check", "--config-dir", str(CONFIG_DIR), "--no-render", "--as-of",
                                 CHECK_DATE.isoformat(), "--from", str(synth_dir), "--env", "dev", "--terraform"])
    assert result.exit_code == 0, result.output
    assert "Terraform gate: 2 AWS-only stack(s) with hashicorp/aws" in result.stderr
    assert "dev-foundation: validates; plan: " in result.stderr
    assert "dev-platform: NOT VALIDATED here" in result.stderr


@pytest.mark.parametrize(
    ("variables", "message"),
    [({"PATH": "/nonexistent"}, "no terraform on PATH"),
     ({"HAFLOW_TF_PLUGIN_MIRROR": "/nonexistent/mirror"}, "no hashicorp/aws provider in the filesystem mirror")],
    ids=["no-terraform", "no-provider"],
)
def test_check_terraform_exits_2_naming_what_is_missing(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str],
                                                        message: str) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["check", "--config-dir", str(CONFIG_DIR), "--no-render", "--env", "dev",
                                 "--terraform"])
    assert result.exit_code == 2, result.output
    assert "haflow check --terraform: the Terraform gate cannot run: " + message in result.stderr
    assert "Traceback" not in result.output


def test_the_health_check_alarms_stack_is_gated_and_plans_reading_the_dr_foundations_outputs(
        gate: tuple[GateReport, Path], schema: dict[str, Any], dns_variant: tuple[Environment, dict[str, StackJson]],
        tmp_path: Path, moto_endpoint: str) -> None:
    """<env>-dns-alarms (prod with dr.dns) is AWS-only, so the gate runs it; its terraform_remote_state of the DR
    foundation reads the gate's stand-in state, and Terraform plans its alarms, topic and key against moto."""
    env, stacks = dns_variant
    name = env.dns_alarms_stack_name
    aws_only, _ = split_stacks(stacks)
    assert name in aws_only
    outcome = check_stack(name, stacks[name], Workdir.create(tmp_path, gate[0].aws_version), schema, moto_endpoint)
    assert outcome.errors == [], "\n".join(map(str, outcome.errors))
    assert outcome.plan_error is None, outcome.plan_error
    resources = sum(len(blocks) for blocks in stacks[name]["resource"].values())
    assert outcome.counts == {"create": resources} and resources == 6  # 2 alarms, topic, its policy, key, alias
    [(remote, outputs)] = outcome.stand_ins.items()
    assert remote == f"cross-stack-reference-input-{env.dr_foundation_stack_name}"
    # exactly the DR foundation's outputs of the two health checks' ids
    produced = stacks[env.dr_foundation_stack_name]["output"]
    assert outputs == sorted(key for key, value in produced.items()
                             if value["value"].startswith("${aws_route53_health_check."))
    assert len(outputs) == 2
    assert outcome.unchecked == []


def test_remote_state_is_pointed_at_a_stand_in_holding_exactly_the_outputs_read(tmp_path: Path) -> None:
    document: dict[str, Any] = {
        "data": {"terraform_remote_state": {"dr": {"backend": "s3", "config": {"bucket": "b", "key": "k"}}}},
        "resource": {"aws_cloudwatch_metric_alarm": {"a": {"dimensions": {
            "HealthCheckId": "${data.terraform_remote_state.dr.outputs.check_id}"}}}},
    }
    stand_ins = remote_stand_ins(document)
    assert stand_ins == {"dr": ["check_id"]}
    assert document["data"]["terraform_remote_state"]["dr"] == {"backend": "local",
                                                                "config": {"path": "remote-dr.tfstate"}}
    write_stand_ins(tmp_path, stand_ins)
    state = json.loads((tmp_path / "remote-dr.tfstate").read_text())
    assert state["version"] == 4
    assert state["outputs"] == {"check_id": {"value": "gate-remote-check_id", "type": "string"}}
