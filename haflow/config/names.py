"""Naming rules AWS enforces, kept in one place with the doc each comes from."""

from __future__ import annotations

import ipaddress
import re

# Environment names end up in cluster, bucket, role and parameter-group names. EKS cluster names
# allow 1-100 chars of [0-9A-Za-z_-]; S3 bucket and RDS identifiers only lowercase letters, digits
# and hyphens, starting with a letter; keep the environment name short so every derived name fits.
ENV_NAME = re.compile(r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$")

# https://docs.aws.amazon.com/general/latest/gr/rande.html (region codes such as us-east-1, us-gov-west-1)
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

# https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html: keys <= 128, values <= 256,
# the aws: prefix is reserved.
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
TAG_CHARS = re.compile(r"^[\w\s.:/=+\-@]*$")

# EC2 instance types are <family>.<size> (m6i.xlarge); RDS classes and ElastiCache node types add a db. or
# cache. prefix: https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
EC2_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")


def bucket_name_problem(name: str) -> str | None:
    """Why S3 would reject ``name``, or None when it is acceptable."""
    if not BUCKET_NAME.match(name):
        return "S3 bucket names are 3-63 characters of lowercase letters, digits, dots and hyphens"
    if ".." in name:
        return "S3 bucket names cannot contain two adjacent dots"
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return "S3 bucket names cannot look like an IP address"
    if name.startswith("xn--") or name.endswith("-s3alias"):
        return "S3 reserves the xn-- prefix and the -s3alias suffix"
    return None
# KMS alias names: https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html
KMS_ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]{1,250}$")
