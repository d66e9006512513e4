"""moto_server whose Lambda runs functions in-process: the one fake of the rotation test.

Secrets Manager's RotateSecret (moto's real implementation: the AWSPENDING stub without a value, the four steps,
then the staging) invokes the rotation function through moto's Lambda backend, which runs functions in Docker;
there is no Docker here. This launcher replaces only ``LambdaBackend.invoke``: the function's zip, as uploaded
with CreateFunction (the synthesized asset), is unpacked once, its handler (the function's Handler) imported and
called in this process with the event moto built, under the function's Environment variables. A handler that
raises stops the rotation there, as Secrets Manager stops at a failed step; moto then answers RotateSecret with an
error carrying the handler's message (Secrets Manager rotates asynchronously and records the failure in the
function's log instead).

Usage: python -m tests.smoke.rotation_moto PORT. Secrets Manager's endpoint for the handler's boto3
(AWS_ENDPOINT_URL_SECRETS_MANAGER) and the trust store it fetches the CA bundle with (SSL_CERT_FILE) are this
process's environment, as the Lambda runtime's are the handler's.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import os
import sys
import tempfile
import zipfile
from collections.abc import Callable
from typing import Any

FUNCTIONS_ROOT = tempfile.mkdtemp(prefix="haflow-moto-lambda-")


def load_handler(code: bytes, handler: str) -> Callable[[dict[str, Any], object], Any]:
    """The handler of the function whose zip is ``code``, unpacked into a directory of its own."""
    directory = os.path.join(FUNCTIONS_ROOT, hashlib.sha256(code).hexdigest()[:16])
    if not os.path.isdir(directory):
        with zipfile.ZipFile(io.BytesIO(code)) as archive:
            archive.extractall(directory)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module_name, _, function_name = handler.rpartition(".")
    return getattr(importlib.import_module(module_name), function_name)  # type: ignore[no-any-return]


def main(argv: list[str]) -> None:
    (port,) = argv
    logging.basicConfig(level=logging.INFO, format="rotation-function %(levelname)s %(message)s", stream=sys.stdout)

    from moto.awslambda.models import LambdaBackend
    from moto.secretsmanager.exceptions import InvalidRequestException

    def invoke(self: LambdaBackend, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: Any) -> bytes:
        function = self.get_function(function_name, qualifier)
        handler = load_handler(function.code_bytes, function.handler)
        event = json.loads(body)
        print(f"rotation-function invoked: {event['Step']} {event['ClientRequestToken']}", flush=True)
        saved = dict(os.environ)
        os.environ.update(function.environment_vars)
        try:
            handler(event, None)
        except Exception as err:
            print(f"rotation-function failed: {type(err).__name__}: {err}", flush=True)
            raise InvalidRequestException(f"rotation step {event['Step']} failed: {type(err).__name__}: {err}") from err
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return b"null"

    LambdaBackend.invoke = invoke  # type: ignore[method-assign]

    from moto.server import main as moto_main

    moto_main(["-H", "127.0.0.1", "-p", port])


if __name__ == "__main__":
    main(sys.argv[1:])
