"""Remote state for environment stacks: S3 with S3-native locking.

cdktf 0.21's S3Backend predates ``use_lockfile`` (Terraform >= 1.10 locks with a
``<key>.tflock`` object beside the state instead of a DynamoDB table), so it is added as an override.
https://developer.hashicorp.com/terraform/language/backend/s3#state-locking
"""

from __future__ import annotations

from cdktf import S3Backend, TerraformStack

from haflow.config.model import StateBackend


def use_s3_backend(stack: TerraformStack, state: StateBackend, stack_name: str) -> S3Backend:
    backend = S3Backend(
        stack, bucket=state.bucket, key=f"{state.key_prefix}/{stack_name}.tfstate", region=state.region,
        encrypt=True,
    )
    stack.add_override("terraform.backend.s3.use_lockfile", True)
    return backend
