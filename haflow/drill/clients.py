"""boto3 clients for the drills: a real account, or a local endpoint through localstack-client.

Every client gets bounded connect/read timeouts and a bounded retry budget, so no call can hang;
transport failures (endpoint down, no credentials, timeouts) become one error type, EndpointError,
that the commands turn into exit 2 with the endpoint named.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

# Bounded: at most MAX_ATTEMPTS tries of CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS each, with the
# "standard" retry mode's capped exponential backoff in between (botocore retries guide:
# https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html).
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 30
MAX_ATTEMPTS = 3
CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
)
# The variable localstack-client itself reads (host:port of the endpoint).
LOCALSTACK_HOST_VARIABLE = "LOCALSTACK_HOST"
DEFAULT_LOCAL_REGION = "us-east-1"


class EndpointError(Exception):
    """The endpoint or account cannot be reached or used: nothing about the environment was learned."""


@dataclass
class AwsClients:
    """Clients for one region, through either a local endpoint or a normal boto3 session."""

    region: str | None
    endpoint: str | None = None
    """``host:port`` of a local endpoint; None means the real AWS APIs."""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __call__(self, service: str) -> Any:
        if service not in self._cache:
            self._cache[service] = self._build(service)
        return self._cache[service]

    def _build(self, service: str) -> Any:
        if self.endpoint is not None:
            from localstack_client.session import Session as LocalSession

            local = LocalSession(localstack_host=self.endpoint, region_name=self.region or DEFAULT_LOCAL_REGION)
            return local.client(service, config=CLIENT_CONFIG)
        with translate_errors(self):
            return boto3.session.Session(region_name=self.region).client(service, config=CLIENT_CONFIG)

    @property
    def where(self) -> str:
        if self.endpoint is not None:
            return f"endpoint {self.endpoint}"
        return f"AWS region {self.region or '(default from the AWS configuration)'}"


def local_endpoint(endpoint_url: str | None) -> str | None:
    """``host:port`` of the local endpoint to use: --endpoint-url, else $LOCALSTACK_HOST, else None (AWS)."""
    if endpoint_url is None:
        host = os.environ.get(LOCALSTACK_HOST_VARIABLE, "").strip()
        return host or None
    parsed = urlparse(endpoint_url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise EndpointError(
            f"--endpoint-url {endpoint_url!r} is not an http(s)://host[:port] URL; "
            "pass e.g. --endpoint-url http://127.0.0.1:5000"
        )
    # localstack-client builds http:// URLs unless USE_SSL is set; it has no per-call scheme.
    if parsed.scheme == "https" and os.environ.get("USE_SSL") not in ("1", "true"):
        raise EndpointError(
            f"--endpoint-url {endpoint_url!r} is https, but localstack-client uses https only with "
            "USE_SSL=1; set USE_SSL=1 or use the http:// URL"
        )
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.hostname}:{port}"


def aws_clients(region: str | None, endpoint_url: str | None = None) -> AwsClients:
    return AwsClients(region=region, endpoint=local_endpoint(endpoint_url))


@contextmanager
def translate_errors(clients: AwsClients) -> Iterator[None]:
    """Turn transport and credential failures into EndpointError naming where the call went."""
    try:
        yield
    except (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError) as err:
        raise EndpointError(f"cannot reach {clients.where}: {err}; is it running and reachable?") from None
    except ReadTimeoutError as err:
        raise EndpointError(
            f"{clients.where} did not answer within {READ_TIMEOUT_SECONDS} s ({MAX_ATTEMPTS} attempts): {err}"
        ) from None
    except (NoCredentialsError, PartialCredentialsError) as err:
        raise EndpointError(
            f"no usable AWS credentials for {clients.where}: {err}; "
            "set AWS_PROFILE or the AWS_* variables, or pass --endpoint-url for a local endpoint"
        ) from None
    except NoRegionError:
        raise EndpointError("no AWS region: pass --env (its region) or --region, or set AWS_REGION") from None
    except BotoCoreError as err:
        raise EndpointError(f"call to {clients.where} failed: {err}") from None


def error_code(err: Exception) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(err, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))
