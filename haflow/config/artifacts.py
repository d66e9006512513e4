"""The `artifacts` section: the S3 bucket for flow artifacts and models."""

from __future__ import annotations

from pydantic import Field, field_validator

from haflow.config import names
from haflow.config.limits import MAX_LIFECYCLE_DAYS
from haflow.config.section import Section, custom_error


class Artifacts(Section):
    """The S3 bucket for flow artifacts and models: versioned, SSE-KMS, private, TLS only."""

    bucket_name: str | None = Field(
        default=None, description="Globally unique bucket name; default haflow-<environment>-artifacts"
    )
    noncurrent_version_expiration_days: int = Field(
        default=30, ge=1, le=MAX_LIFECYCLE_DAYS,
        description="Days an overwritten or deleted object version is kept; default 30",
    )
    abort_incomplete_multipart_upload_days: int = Field(
        default=7, ge=1, le=MAX_LIFECYCLE_DAYS,
        description="Days before an unfinished multipart upload is removed; default 7",
    )
    protect_from_destroy: bool = Field(
        default=False, description="prevent_destroy on the bucket and its key; default false"
    )

    @field_validator("bucket_name")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        problem = names.bucket_name_problem(value) if value is not None else None
        if problem:
            raise custom_error(problem, "choose a globally unique name such as acme-haflow-prod-artifacts")
        return value

    def bucket_for(self, environment: str) -> str:
        return self.bucket_name or f"haflow-{environment}-artifacts"
