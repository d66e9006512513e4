"""haflow review on a real plan with an `import` block and a deferred data source read (issue 21: imported, read).

Terraform reads an imported object from the provider while it plans, so this plan is made against a real
moto_server (S3 and STS endpoints) instead of the offline mock credentials of tests/review/conftest.py: a bucket
that exists there is imported, a new bucket is created, and a data source reading the new bucket can only be
read at apply (``read_because_config_unknown``).
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from haflow.review.planformat import to_json, to_markdown
from haflow.review.planreview import PlanReview
from haflow.review.terraform import Workdir, provider_config
from haflow.review.tfplan import StackPlan, read

pytestmark = pytest.mark.slow

EXISTING = "haflow-test-imported"


@pytest.fixture(scope="module")
def import_plan(tmp_path_factory: pytest.TempPathFactory, aws_version: str,
                moto_endpoint: str) -> tuple[dict[str, Any], StackPlan]:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      aws_access_key_id="mock-access-key", aws_secret_access_key="mock-secret-key")
    s3.create_bucket(Bucket=EXISTING)
    workdir = Workdir.create(tmp_path_factory.mktemp("tf-import"), aws_version)
    provider = {**provider_config(), "endpoints": [{"s3": moto_endpoint, "sts": moto_endpoint}],
                "s3_use_path_style": True}
    workdir.write_config(
        {"aws_s3_bucket": {"imported": {"bucket": EXISTING}, "fresh": {"bucket": "haflow-test-fresh"}}},
        {"provider": {"aws": provider},
         "import": [{"to": "aws_s3_bucket.imported", "id": EXISTING}],
         "data": {"aws_s3_bucket": {"fresh": {"bucket": "${aws_s3_bucket.fresh.id}"}}}})
    workdir.init()
    document = workdir.plan_json("import")
    return document, read(workdir.path / "import.json", "imports")


def test_an_imported_resource_is_listed_as_imported_not_created(import_plan: tuple[dict[str, Any], StackPlan]) -> None:
    document, plan = import_plan
    [entry] = [rc for rc in document["resource_changes"] if rc["address"] == "aws_s3_bucket.imported"]
    assert "importing" in entry["change"]  # what Terraform wrote
    assert [(c.address, c.action) for c in plan.imported] == [("aws_s3_bucket.imported", "no-op")]
    assert plan.of("create") == [c for c in plan.changes if c.address == "aws_s3_bucket.fresh"]
    assert plan.risks == []  # a stateful type, but nothing is destroyed
    markdown = to_markdown(PlanReview([plan]))
    assert "- `aws_s3_bucket.imported` (imported)" in markdown
    assert "| imports | - | 1 | 0 | 0 | 0 | 0 | 0 | 1 | 0 | 0 |" in markdown


def test_a_data_source_read_at_apply_is_listed_with_its_reason_in_words(
        import_plan: tuple[dict[str, Any], StackPlan]) -> None:
    document, plan = import_plan
    [entry] = [rc for rc in document["resource_changes"] if rc["address"] == "data.aws_s3_bucket.fresh"]
    assert (entry["change"]["actions"], entry["action_reason"]) == (["read"], "read_because_config_unknown")
    [change] = plan.of("read")
    assert (change.address, change.reason) == ("data.aws_s3_bucket.fresh", "its configuration is known only after apply")
    assert "**Read (data sources)**\n\n- `data.aws_s3_bucket.fresh` (its configuration is known only after apply)" \
        in to_markdown(PlanReview([plan]))
    assert '"action": "read"' in to_json(PlanReview([plan]))
