"""Bad overlays: each gives one clear error naming the file, the key path, the value and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from haflow.config import ConfigError, load_environments
from tests.config.overlays import config_dir_with, issues_at
from tests.conftest import CONFIG_DIR, ENVIRONMENT_NAMES

DEV = "availability_zones: [us-east-1a, us-east-1b]\nnetwork:\n  cidr: 10.10.0.0/16\n"

# (case id, dev.yaml text, key path, expected fragment of the message)
BAD_OVERLAYS = [
    ("unknown-top-level-key", DEV + "regoin: us-east-2\n", "regoin", "did you mean 'region'?"),
    ("unknown-nested-key", DEV + "slo:\n  rto: 60\n", "slo.rto", "unknown key (allowed here: availability, region_rpo_seconds, region_rto_seconds, rpo_seconds, rto_seconds)"),
    ("misspelt-section-key", "availability_zones: [us-east-1a, us-east-1b]\nnetwork:\n  nat_gateway: single\n",
     "network.nat_gateway", "did you mean 'nat_gateways'?"),
    ("wrong-type", DEV + "slo:\n  rto_seconds: soon\n", "slo.rto_seconds", "wrong type: expected a whole number"),
    ("one-az", "availability_zones: [us-east-1a]\n", "availability_zones",
     "needs at least 2 distinct availability zones"),
    ("same-az-twice", "availability_zones: [us-east-1a, us-east-1a]\n", "availability_zones[1]", "is listed twice"),
    ("az-outside-region", "availability_zones: [us-east-1a, us-west-2b]\n", "availability_zones[1]",
     "is not an availability zone of region us-east-1"),
    ("region-display-name", DEV + "region: US East\n", "region", "not an AWS region code"),
    ("cidr-not-a-network", DEV.replace("10.10.0.0/16", "10.10.0.0/33"), "network.cidr", "not a valid IPv4 network"),
    ("cidr-host-bits", DEV.replace("10.10.0.0/16", "10.10.0.1/16"), "network.cidr", "has host bits set"),
    ("cidr-too-small-for-subnets", DEV.replace("10.10.0.0/16", "10.10.0.0/20"), "network.cidr",
     "it needs at least a /17"),
    ("cidr-public-range", DEV.replace("10.10.0.0/16", "8.8.0.0/16"), "network.cidr", "private (RFC 1918) range"),
    ("subnet-wider-than-vpc", DEV.replace("10.10.0.0/16", "10.10.0.0/20") + "  subnet_prefix_lengths: {private: 19}\n",
     "network.cidr", "is too small for 2 AZs x 3 tiers"),
    ("nat-mode-unknown", "availability_zones: [us-east-1a, us-east-1b]\nnetwork:\n  nat_gateways: two\n",
     "network.nat_gateways", "must be one of 'per_az', 'single' or 'regional'"),
    ("flow-log-retention-not-allowed", DEV + "  flow_log_retention_days: 45\n", "network.flow_log_retention_days",
     "use 30"),
    ("slo-availability-100", DEV + "slo:\n  availability: 100\n", "slo.availability", "must be less than 100"),
    ("suppression-short-reason", DEV + "suppressions:\n  - rule: HA-NET-002\n    reason: cheap\n",
     "suppressions[0].reason", "a suppression needs a reason of at least 10 characters"),
    ("suppression-without-reason", DEV + "suppressions:\n  - rule: HA-NET-002\n", "suppressions[0].reason",
     "required key is missing"),
    ("reserved-tag-prefix", DEV + "tags:\n  aws:owner: me\n", "tags", "reserved aws: prefix"),
    ("state-bucket-name", DEV + "state:\n  bucket: Haflow_State\n", "state.bucket",
     "3-63 characters of lowercase letters"),
    ("name-differs-from-file", DEV + "name: development\n", "name", "does not match the file name"),
    ("list-instead-of-mapping", DEV + "tags: [a, b]\n", "tags", "wrong type: expected a mapping"),
]


@pytest.mark.parametrize(("text", "path", "fragment"), [case[1:] for case in BAD_OVERLAYS],
                         ids=[case[0] for case in BAD_OVERLAYS])
def test_bad_overlay_names_file_path_and_fix(tmp_path: Path, text: str, path: str, fragment: str) -> None:
    issue = issues_at(config_dir_with(tmp_path, {"dev.yaml": text}), "dev", path)[0]
    assert issue.file.endswith("environments/dev.yaml")
    assert fragment in str(issue)
    # every message carries a fix after the problem
    assert "; " in str(issue)


def test_yaml_syntax_error_gives_file_and_line(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path, {"dev.yaml": "network:\n  cidr: 10.10.0.0/16\n   nat_gateways: single\n"})
    with pytest.raises(ConfigError) as caught:
        load_environments(["dev"], config_dir)
    (issue,) = caught.value.issues
    assert issue.file.endswith("environments/dev.yaml:3:16")
    assert "YAML syntax error" in issue.problem


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path, {"dev.yaml": DEV + "region: us-east-1\nregion: us-west-2\n"})
    with pytest.raises(ConfigError, match="duplicate key 'region'"):
        load_environments(["dev"], config_dir)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    config_dir = config_dir_with(tmp_path, {"dev.yaml": "- region\n- us-east-1\n"})
    with pytest.raises(ConfigError, match="the top level must be a mapping"):
        load_environments(["dev"], config_dir)


def test_unknown_environment_lists_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_environments(["qa"], config_dir_with(tmp_path, {}))
    (issue,) = caught.value.issues
    assert f"unknown environment 'qa' (available: {', '.join(ENVIRONMENT_NAMES)})" in str(issue)
    assert issue.file.endswith("environments/qa.yaml")


def test_every_problem_in_every_environment_is_reported_at_once(tmp_path: Path) -> None:
    config_dir = config_dir_with(
        tmp_path,
        {
            "dev.yaml": DEV + "regoin: x\nslo:\n  rto_seconds: -1\n",
            "staging.yaml": "availability_zones: [us-east-1a]\n",
        },
    )
    with pytest.raises(ConfigError) as caught:
        load_environments(None, config_dir)
    found = {(Path(issue.file).name, issue.path) for issue in caught.value.issues}
    assert {("dev.yaml", "regoin"), ("dev.yaml", "slo.rto_seconds"), ("staging.yaml", "availability_zones")} <= found


def test_error_in_base_names_base_yaml(tmp_path: Path) -> None:
    base = (CONFIG_DIR / "base.yaml").read_text(encoding="utf-8").replace("rto_seconds: 900", "rto_seconds: fast")
    prod = (CONFIG_DIR / "prod.yaml").read_text(encoding="utf-8").replace("  rto_seconds: 900\n", "")
    config_dir = config_dir_with(tmp_path, {"base.yaml": base, "prod.yaml": prod})
    with pytest.raises(ConfigError) as caught:
        load_environments(["prod"], config_dir)
    (issue,) = [issue for issue in caught.value.issues if issue.path == "slo.rto_seconds"]
    assert issue.file.endswith("environments/base.yaml")


def test_real_environments_are_valid() -> None:
    names = [env.name for env in load_environments(None, CONFIG_DIR)]
    assert names == list(ENVIRONMENT_NAMES) == sorted(names)
