"""The edge's configuration (issue 19, item 3): a public NLB needs TLS and a host; bad values name file, key,
value and fix; the example host and hosted zone of prod.yaml are refused by `haflow check --deploy`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from haflow.cli import app
from haflow.config import load_environments
from haflow.config.placeholders import placeholder_messages
from tests.config.overlays import config_dir_with, issues_at
from tests.conftest import CONFIG_DIR

runner = CliRunner()
PROD = (CONFIG_DIR / "prod.yaml").read_text(encoding="utf-8")
DEV = (CONFIG_DIR / "dev.yaml").read_text(encoding="utf-8")
ARN_EAST = "arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
ARN_WEST = ARN_EAST.replace("us-east-1", "us-west-2")
ZONE = "    hosted_zone_id: Z00000000000EXAMPLE\n"


def _prod(old: str, new: str) -> str:
    assert old in PROD, old
    return PROD.replace(old, new)


# (case id, prod.yaml text, key path, fragment of the message, fragment of the fix)
BAD_PROD = [
    ("public-without-tls", _prod("  tls:\n" + ZONE, ""), "ingress.tls",
     "an internet-facing load balancer without TLS serves model-api", "or set ingress.load_balancer_scheme: internal"),
    ("public-without-host", _prod("  host: api.prod.example.com\n", ""), "model_api.host",
     "model-api needs a host name here: the ACM certificate is issued for it", "set model_api.host"),
    ("host-with-scheme", _prod("host: api.prod.example.com", "host: https://api.prod.example.com"), "model_api.host",
     "not a DNS host name", "without scheme or path"),
    ("certificate-not-an-arn", _prod(ZONE, "    certificate_arn: my-cert\n"), "ingress.tls.certificate_arn",
     "not an ACM certificate ARN", "aws acm list-certificates"),
    ("certificate-other-region", _prod(ZONE, f"    certificate_arn: {ARN_WEST}\n    secondary_certificate_arn: {ARN_WEST}\n"),
     "ingress.tls.certificate_arn", "an NLB can only use an ACM certificate of its own region (us-east-1)",
     "in us-east-1"),
    ("certificate-without-dr-copy", _prod(ZONE, f"    certificate_arn: {ARN_EAST}\n"),
     "ingress.tls.secondary_certificate_arn", "the DR region's NLB needs a certificate of its own region (us-west-2)",
     "ingress.tls.secondary_certificate_arn"),
    ("dr-copy-in-primary-region",
     _prod(ZONE, f"    certificate_arn: {ARN_EAST}\n    secondary_certificate_arn: {ARN_EAST}\n"),
     "ingress.tls.secondary_certificate_arn", "not in dr.secondary_region (us-west-2)", "in us-west-2"),
    ("both-certificate-sources", _prod(ZONE, ZONE + f"    certificate_arn: {ARN_EAST}\n"), "ingress.tls.hosted_zone_id",
     "both an existing certificate", "keep one"),
    ("zone-id-malformed", _prod(ZONE, "    hosted_zone_id: example.com\n"), "ingress.tls.hosted_zone_id",
     "not a Route 53 hosted zone id", "aws route53 list-hosted-zones"),
    ("ssl-policy-unknown", _prod(ZONE, ZONE + "    ssl_policy: TLSv1.2\n"), "ingress.tls.ssl_policy",
     "not an ELB security policy name", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
    ("source-range-not-cidr", _prod("  load_balancer_scheme: internet-facing\n",
                                    "  load_balancer_scheme: internet-facing\n  load_balancer_source_ranges: [203.0.113.7/24]\n"),
     "ingress.load_balancer_source_ranges", "'203.0.113.7/24' is not a CIDR block", "host bits zero"),
    ("auth-secret-arn", _prod("basic_auth_secret: haflow/prod/model-api-clients",
                              "basic_auth_secret: arn:aws:secretsmanager:us-east-1:123456789012:secret:x"),
     "model_api.auth.basic_auth_secret", "an ARN, but a secret name is expected", "haflow/prod/model-api-clients"),
    ("rate-limit-negative", _prod("requests_per_second: 50", "requests_per_second: -1"),
     "model_api.rate_limit.requests_per_second", "must be greater than or equal to 0", "inside that range"),
    ("failover-record-other-name",
     _prod("  network_cidr: 10.31.0.0/16\n", "  network_cidr: 10.31.0.0/16\n  dns: {hosted_zone_id: Z0123456789ABC, "
           "record_name: www.prod.example.com, primary_target: a.elb.amazonaws.com, secondary_target: b.elb.amazonaws.com}\n"),
     "dr.dns.record_name", "is not model_api.host (api.prod.example.com)", "set dr.dns.record_name: api.prod.example.com"),
]


@pytest.mark.parametrize(("text", "path", "problem", "fix"), [case[1:] for case in BAD_PROD],
                         ids=[case[0] for case in BAD_PROD])
def test_bad_edge_settings_name_file_key_value_and_fix(tmp_path: Path, text: str, path: str, problem: str,
                                                       fix: str) -> None:
    issue = issues_at(config_dir_with(tmp_path, {"prod.yaml": text}), "prod", path)[0]
    assert issue.file.endswith("environments/prod.yaml")
    message = str(issue)
    assert problem in message and fix in message, message
    assert f"{path} = " in message


def test_validation_refuses_prod_without_tls_through_the_cli(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path, {"prod.yaml": _prod("  tls:\n" + ZONE, "")})
    result = runner.invoke(app, ["validate", "--env", "prod", "--config-dir", str(config_dir)])
    assert result.exit_code == 2, result.output
    assert "environments/prod.yaml: ingress.tls = 'none': an internet-facing load balancer without TLS" in result.output
    assert "Traceback" not in result.output


def test_an_existing_certificate_per_region_is_accepted(tmp_path: Path) -> None:
    text = _prod(ZONE, f"    certificate_arn: {ARN_EAST}\n    secondary_certificate_arn: {ARN_WEST}\n")
    (env,) = load_environments(["prod"], config_dir_with(tmp_path, {"prod.yaml": text}))
    assert env.ingress.tls.certificate_arn == ARN_EAST and env.ingress.tls.hosted_zone_id is None


def test_an_internal_load_balancer_needs_neither_tls_nor_host() -> None:
    (dev,) = load_environments(["dev"], CONFIG_DIR)
    assert "load_balancer_scheme: internal" in DEV
    assert dev.ingress.load_balancer_scheme == "internal" and not dev.ingress.tls.enabled and dev.model_api.host == ""


def test_a_public_dev_without_tls_is_refused(tmp_path: Path) -> None:
    text = DEV.replace("load_balancer_scheme: internal", "load_balancer_scheme: internet-facing")
    issues = issues_at(config_dir_with(tmp_path, {"dev.yaml": text}), "dev", "ingress.tls")
    assert issues[0].file.endswith("environments/dev.yaml")


def test_the_example_host_and_zone_are_placeholders_check_deploy_refuses() -> None:
    messages = placeholder_messages(load_environments(["prod"], CONFIG_DIR))
    assert any("model_api.host = 'api.prod.example.com'" in message for message in messages)
    assert any("ingress.tls.hosted_zone_id = 'Z00000000000EXAMPLE'" in message for message in messages)


def test_an_own_host_and_zone_are_no_placeholders(tmp_path: Path) -> None:
    text = PROD.replace("api.prod.example.com", "api.acme-corp.io").replace("Z00000000000EXAMPLE", "Z0123456789ABCDEFGHIJ")
    messages = placeholder_messages(load_environments(["prod"], config_dir_with(tmp_path, {"prod.yaml": text})))
    assert not [message for message in messages if "model_api.host" in message or "hosted_zone_id" in message]
