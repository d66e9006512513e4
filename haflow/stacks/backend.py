"""Remote state for environment stacks: S3 with S3-native locking, encrypted with the bootstrap KMS key.

cdktf 0.21's S3Backend predates ``use_lockfile`` (Terraform >= 1.10 locks with a
``<key>.tflock`` object beside the state instead of a DynamoDB table), so it is added as an override,
and every stack says it needs Terraform >= 1.11: 1.10 for the lock file, 1.11 for write-only
arguments (``master_password_wo`` of a global database's primary, haflow.constructs.database).
https://developer.hashicorp.com/terraform/language/resources/ephemeral/write-only
https://developer.hashicorp.com/terraform/language/backend/s3#state-locking

``encrypt`` alone makes Terraform ask S3 for AES256, which overrides the bucket's SSE-KMS default; the
backend names the bootstrap key by its alias (a backend block cannot reference a resource, and the S3
backend accepts alias names since Terraform 1.6.1, hashicorp/terraform#33993).
"""

from __future__ import annotations

from cdktf import S3Backend, TerraformStack

from haflow.config.model import StateBackend

# use_lockfile exists from Terraform 1.10, write-only arguments from 1.11.
REQUIRED_TERRAFORM = ">= 1.11"


def require_terraform(stack: TerraformStack) -> None:
    """``terraform { required_version }``: an older Terraform stops at init instead of ignoring settings."""
    stack.add_override("terraform.required_version", REQUIRED_TERRAFORM)


def use_s3_backend(stack: TerraformStack, state: StateBackend, stack_name: str) -> S3Backend:
    backend = S3Backend(
        stack, bucket=state.bucket, key=state.object_key(stack_name), region=state.region,
        encrypt=True, kms_key_id=state.kms_key_alias,
    )
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    require_terraform(stack)
    return backend
