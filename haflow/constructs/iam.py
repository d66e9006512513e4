"""Small IAM helpers shared by constructs: policy documents as data, rendered to JSON once."""

from __future__ import annotations

import json
from typing import Any


def assume_role_policy(service: str) -> str:
    """Trust policy letting one AWS service principal assume a role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def policy_document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
