"""Secrets Manager's rotation of Prefect's database secret, alternating users, as a Lambda function (Python 3.12).

The four steps Secrets Manager calls (createSecret, setSecret, testSecret, finishSecret) and the version staging
(AWSPENDING, AWSCURRENT) are those of AWS's SecretsManagerRDSPostgreSQLRotationMultiUser function
(aws-samples/aws-secrets-manager-rotation-lambdas), with these differences:

- the password is set as a SCRAM-SHA-256 verifier computed here (``prefect_database.scram_verifier``, as psql's
  \\password does). AWS's function sends ``ALTER USER x WITH PASSWORD %s`` through PyGreSQL, which substitutes
  the parameter on the client, so the plaintext password is in the statement text; Aurora runs with
  ``log_statement = ddl`` (haflow.constructs.database.QUERY_LOGGING) and exports that log to CloudWatch Logs;
- the two login roles are an allowlist (``LOGIN_ROLES_ENV``), never derived from the secret ("_clone" suffix),
  and the roles are not created here: the bootstrap Job (``prefect_database``) creates them, members of the
  owner role; a missing role is an error that says so;
- the secret must name the cluster this function serves (``DATABASE_HOST_ENV``) and the master secret it may read
  (``MASTER_SECRET_ARN_ENV``); an RDS-managed master secret holds only username and password, so the master signs
  in to the Prefect secret's host (database ``postgres``);
- testSecret signs in with the pending credentials and checks that the session runs as the owner role
  (``current_user``), not only that a query answers;
- finishSecret also takes AWSPENDING off the new version (AWS's leaves it beside AWSCURRENT; the RotateSecret API
  reference names both as a finished rotation);
- TLS is verify-full (the RDS CA bundle, the host name) with no plaintext fallback, and only SCRAM-SHA-256 is
  accepted, with the server's signature verified.

The Lambda runtime has boto3 and no PostgreSQL driver: ``Connection`` is a small client of PostgreSQL's frontend/
backend protocol v3 (SSLRequest, StartupMessage, SASL, simple Query, Terminate):
https://www.postgresql.org/docs/15/protocol-flow.html, https://www.postgresql.org/docs/15/sasl-authentication.html.

The RDS CA bundle is fetched once per execution environment from ``CA_BUNDLE_URL_ENV`` (HTTPS, verified against
the runtime's public trust store; AWS publishes it at https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem),
as the platform stack fetches it at plan time (haflow.constructs.trust): AWS adds CAs ahead of rotations, and a
copy in the zip would have to be refreshed by hand. An answer without PEM certificates is refused.

Nothing here logs a password or a secret's value; the log names roles, steps and version ids.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import socket
import ssl
import struct
import urllib.request
from typing import Any

from .prefect_database import scram_verifier

LOGIN_ROLES_ENV = "HAFLOW_PREFECT_LOGIN_ROLES"  # the two alternating users, comma-separated
OWNER_ROLE_ENV = "HAFLOW_PREFECT_OWNER_ROLE"
DATABASE_HOST_ENV = "HAFLOW_DATABASE_HOST"
MASTER_SECRET_ARN_ENV = "HAFLOW_MASTER_SECRET_ARN"
CA_BUNDLE_URL_ENV = "HAFLOW_RDS_CA_BUNDLE_URL"
HANDLER = "lambda_handler"

PASSWORD_LENGTH = 40  # haflow.constructs.prefect_credentials.DATABASE_PASSWORD_LENGTH (tests hold them equal)
ENGINE = "postgres"
MASTER_DATABASE = "postgres"
CONNECT_TIMEOUT_SECONDS = 10
PEM_CERTIFICATE_HEADER = "-----BEGIN CERTIFICATE-----"
APPLICATION_NAME = "haflow-prefect-rotation"
# SQLSTATEs of a refused login (invalid_authorization_specification, invalid_password): the password is not set yet
LOGIN_REFUSED = frozenset({"28000", "28P01"})
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
VERIFIER = re.compile(r"SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+")

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


class RotationError(ValueError):
    """The rotation cannot go on; the message says why (never a password)."""


class DatabaseError(Exception):
    """An ErrorResponse of the server (its SQLSTATE and message), or a protocol failure."""

    def __init__(self, message: str, sqlstate: str = "") -> None:
        super().__init__(f"{message} (SQLSTATE {sqlstate})" if sqlstate else message)
        self.sqlstate = sqlstate


# --- PostgreSQL frontend/backend protocol v3 --------------------------------------------------------------------

SSL_REQUEST_CODE = 80877103
PROTOCOL_VERSION = 196608  # 3.0
SCRAM = "SCRAM-SHA-256"
AUTH_OK, AUTH_CLEARTEXT, AUTH_MD5, AUTH_SASL, AUTH_SASL_CONTINUE, AUTH_SASL_FINAL = 0, 3, 5, 10, 11, 12


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


def _cstring(value: str) -> bytes:
    return value.encode("utf-8") + b"\0"


def _error_fields(body: bytes) -> dict[str, str]:
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return fields


class Connection:
    """One session: TLS verify-full, SCRAM-SHA-256 (mutual), simple queries. Use as a context manager."""

    def __init__(self, *, host: str, port: int, user: str, password: str, database: str,
                 tls: ssl.SSLContext, timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
        raw = socket.create_connection((host, port), timeout=timeout)
        try:
            raw.sendall(struct.pack("!II", 8, SSL_REQUEST_CODE))
            answer = raw.recv(1)
            if answer != b"S":
                raise DatabaseError(f"{host}:{port} refused TLS (answer {answer!r}); a plaintext session is never used")
            # Nothing may follow the 'S' before the handshake (CVE-2021-23222): recv(1) read exactly that byte.
            self._socket = tls.wrap_socket(raw, server_hostname=host)
        except BaseException:
            raw.close()
            raise
        self._buffer = b""
        try:
            self._startup(user, password, database)
        except BaseException:
            self._socket.close()
            raise

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self._socket.recv(65536)
            if not chunk:
                raise DatabaseError("the server closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _receive(self) -> tuple[bytes, bytes]:
        header = self._read(5)
        kind, length = header[:1], struct.unpack("!I", header[1:])[0]
        return kind, self._read(length - 4)

    def _send(self, data: bytes) -> None:
        self._socket.sendall(data)

    def _raise(self, body: bytes) -> None:
        fields = _error_fields(body)
        raise DatabaseError(fields.get("M", "error"), fields.get("C", ""))

    def _startup(self, user: str, password: str, database: str) -> None:
        parameters = b"".join(_cstring(item) for item in (
            "user", user, "database", database, "application_name", APPLICATION_NAME, "client_encoding", "UTF8"))
        self._send(struct.pack("!II", len(parameters) + 9, PROTOCOL_VERSION) + parameters + b"\0")
        authenticated = False
        client_nonce = base64.b64encode(secrets.token_bytes(18)).decode("ascii")
        client_first_bare = f"n=,r={client_nonce}"
        expected_signature = b""
        while True:
            kind, body = self._receive()
            if kind == b"E":
                self._raise(body)
            if kind == b"R":
                code = struct.unpack("!I", body[:4])[0]
                if code == AUTH_SASL:
                    mechanisms = [item.decode() for item in body[4:].split(b"\0") if item]
                    if SCRAM not in mechanisms:
                        raise DatabaseError(f"the server offers {mechanisms}, not {SCRAM}")
                    first = f"n,,{client_first_bare}".encode()
                    self._send(_message(b"p", _cstring(SCRAM) + struct.pack("!I", len(first)) + first))
                elif code == AUTH_SASL_CONTINUE:
                    server_first = body[4:].decode("utf-8")
                    attributes = dict(item.split("=", 1) for item in server_first.split(","))
                    nonce, salt, iterations = attributes["r"], base64.b64decode(attributes["s"]), int(attributes["i"])
                    if not nonce.startswith(client_nonce) or iterations < 4096:
                        raise DatabaseError("the server's SCRAM challenge is not valid")
                    without_proof = f"c=biws,r={nonce}"
                    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
                    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
                    auth_message = f"{client_first_bare},{server_first},{without_proof}".encode()
                    signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, hashlib.sha256).digest()
                    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
                    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
                    expected_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
                    final = f"{without_proof},p={base64.b64encode(proof).decode('ascii')}".encode()
                    self._send(_message(b"p", final))
                elif code == AUTH_SASL_FINAL:
                    attributes = dict(item.split("=", 1) for item in body[4:].decode("utf-8").split(","))
                    if not expected_signature or not hmac.compare_digest(
                            base64.b64decode(attributes.get("v", "")), expected_signature):
                        raise DatabaseError("the server's SCRAM signature does not match: it does not hold the "
                                            "role's verifier")
                    authenticated = True
                elif code == AUTH_OK:
                    if not authenticated:
                        raise DatabaseError("the server let the session in without SCRAM-SHA-256 authentication")
                elif code in (AUTH_CLEARTEXT, AUTH_MD5):
                    raise DatabaseError(f"the server asks for {'cleartext' if code == AUTH_CLEARTEXT else 'MD5'} "
                                        "password authentication; only SCRAM-SHA-256 is used")
                else:
                    raise DatabaseError(f"unsupported authentication request {code}")
            elif kind == b"Z":
                return
            # ParameterStatus (S), BackendKeyData (K), NoticeResponse (N): nothing to do

    def query(self, sql: str) -> list[tuple[str | None, ...]]:
        """Run ``sql`` (simple Query protocol); the rows of its last result set, as text."""
        self._send(_message(b"Q", _cstring(sql)))
        rows: list[tuple[str | None, ...]] = []
        error: DatabaseError | None = None
        while True:
            kind, body = self._receive()
            if kind == b"T":
                rows = []
            elif kind == b"D":
                count = struct.unpack("!H", body[:2])[0]
                offset = 2
                values: list[str | None] = []
                for _ in range(count):
                    length = struct.unpack("!i", body[offset:offset + 4])[0]
                    offset += 4
                    if length < 0:
                        values.append(None)
                    else:
                        values.append(body[offset:offset + length].decode("utf-8"))
                        offset += length
                rows.append(tuple(values))
            elif kind == b"E":
                fields = _error_fields(body)
                error = DatabaseError(fields.get("M", "error"), fields.get("C", ""))
            elif kind == b"Z":
                if error is not None:
                    raise error
                return rows

    def close(self) -> None:
        try:
            self._send(_message(b"X", b""))
        except OSError:
            pass
        finally:
            self._socket.close()


def literal(value: str) -> str:
    """A string constant (standard_conforming_strings is on in PostgreSQL >= 9.1)."""
    return "'" + value.replace("'", "''") + "'"


def identifier(value: str) -> str:
    if not IDENTIFIER.fullmatch(value):
        raise RotationError(f"{value!r} is not a plain PostgreSQL role name")
    return '"' + value + '"'


# --- Configuration ----------------------------------------------------------------------------------------------

_TLS: ssl.SSLContext | None = None


def tls_context() -> ssl.SSLContext:
    """verify-full against the RDS CA bundle (fetched once per execution environment)."""
    global _TLS
    if _TLS is None:
        url = required(CA_BUNDLE_URL_ENV)
        if not url.startswith("https://"):
            raise RotationError(f"{CA_BUNDLE_URL_ENV} = {url!r}: the CA bundle is fetched over HTTPS only")
        try:
            with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_SECONDS,
                                        context=ssl.create_default_context()) as answer:
                bundle = answer.read().decode("ascii", "replace")
        except OSError as err:  # urllib.error.URLError (a refused certificate among them) is an OSError
            raise RotationError(f"cannot fetch the RDS CA bundle from {url}: {err}") from None
        if PEM_CERTIFICATE_HEADER not in bundle:
            raise RotationError(f"{url} answered without PEM certificates; Aurora cannot be verified with it")
        context = ssl.create_default_context(cadata=bundle)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        _TLS = context
    return _TLS


def required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RotationError(f"environment variable {name} is not set")
    return value


def login_roles() -> tuple[str, str]:
    roles = [item.strip() for item in required(LOGIN_ROLES_ENV).split(",") if item.strip()]
    if len(roles) != 2 or roles[0] == roles[1]:
        raise RotationError(f"{LOGIN_ROLES_ENV} must name two different login roles, not {roles}")
    for role in roles:
        identifier(role)
    return roles[0], roles[1]


def alternate(username: str) -> str:
    first, second = login_roles()
    if username not in (first, second):
        raise RotationError(f"the secret names role {username!r}, not one of the alternating users {[first, second]}; "
                            "this function rotates only those")
    return second if username == first else first


def checked(document: dict[str, Any], what: str) -> dict[str, Any]:
    """The secret's JSON, refused unless it names this function's cluster, master secret and an allowed role."""
    for key in ("engine", "host", "port", "dbname", "username", "password", "masterarn"):
        if key not in document:
            raise RotationError(f"{what}: key {key!r} is missing from the secret JSON")
    if document["engine"] != ENGINE:
        raise RotationError(f"{what}: engine {document['engine']!r}; this function rotates {ENGINE!r} secrets")
    host = required(DATABASE_HOST_ENV)
    if document["host"] != host:
        raise RotationError(f"{what}: host {document['host']!r} is not the cluster this function serves ({host!r})")
    master = required(MASTER_SECRET_ARN_ENV)
    if document["masterarn"] != master:
        raise RotationError(f"{what}: masterarn {document['masterarn']!r} is not the master secret this function "
                            f"may use ({master!r})")
    alternate(document["username"])
    return document


# --- Secrets Manager's four steps (as AWS's multi-user function) --------------------------------------------------

def secrets_client() -> Any:
    import boto3  # the Lambda runtime's; imported here so that haflow reads this module without it

    return boto3.client("secretsmanager")


def secret_dict(client: Any, arn: str, stage: str, token: str | None = None) -> dict[str, Any]:
    arguments = {"SecretId": arn, "VersionStage": stage}
    if token:
        arguments["VersionId"] = token
    document = json.loads(client.get_secret_value(**arguments)["SecretString"])
    if not isinstance(document, dict):
        raise RotationError(f"the {stage} version of {arn} is not a JSON object")
    return document


def lambda_handler(event: dict[str, Any], context: object) -> None:
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    client = secrets_client()
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled", True):
        raise RotationError(f"secret {arn} is not enabled for rotation")
    versions = metadata["VersionIdsToStages"]
    if token not in versions:
        raise RotationError(f"secret version {token} has no stage for rotation of secret {arn}")
    if "AWSCURRENT" in versions[token]:
        logger.info("%s: version %s of %s is already AWSCURRENT", step, token, arn)
        return
    if "AWSPENDING" not in versions[token]:
        raise RotationError(f"secret version {token} is not AWSPENDING for rotation of secret {arn}")
    steps = {"createSecret": create_secret, "setSecret": set_secret, "testSecret": test_secret,
             "finishSecret": finish_secret}
    if step not in steps:
        raise RotationError(f"invalid step {step!r} for secret {arn}")
    steps[step](client, arn, token)


def create_secret(client: Any, arn: str, token: str) -> None:
    current = checked(secret_dict(client, arn, "AWSCURRENT"), "AWSCURRENT")
    try:
        secret_dict(client, arn, "AWSPENDING", token)
        logger.info("createSecret: version %s of %s already holds a value", token, arn)
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    pending = dict(current)
    pending["username"] = alternate(current["username"])
    pending["password"] = client.get_random_password(
        PasswordLength=PASSWORD_LENGTH, ExcludePunctuation=True, IncludeSpace=False, RequireEachIncludedType=True,
    )["RandomPassword"]
    client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=json.dumps(pending),
                            VersionStages=["AWSPENDING"])
    logger.info("createSecret: version %s of %s names role %s with a new password", token, arn, pending["username"])


def connect(document: dict[str, Any], *, user: str | None = None, password: str | None = None,
            database: str | None = None) -> Connection:
    return Connection(host=document["host"], port=int(document["port"]), user=user or document["username"],
                      password=password if password is not None else document["password"],
                      database=database or document["dbname"], tls=tls_context())


def signs_in(document: dict[str, Any]) -> bool:
    """Whether the secret's role signs in with its password (False only when the server refuses the login)."""
    try:
        with connect(document):
            return True
    except DatabaseError as err:
        if err.sqlstate in LOGIN_REFUSED:
            return False
        raise


def set_secret(client: Any, arn: str, token: str) -> None:
    current = checked(secret_dict(client, arn, "AWSCURRENT"), "AWSCURRENT")
    pending = checked(secret_dict(client, arn, "AWSPENDING", token), "AWSPENDING")
    if pending["username"] != alternate(current["username"]):
        raise RotationError(f"setSecret: AWSPENDING names {pending['username']!r}; the alternate of the current "
                            f"role {current['username']!r} is {alternate(current['username'])!r}")
    for key in ("host", "port", "dbname", "masterarn"):
        if pending[key] != current[key]:
            raise RotationError(f"setSecret: AWSPENDING's {key} {pending[key]!r} differs from AWSCURRENT's "
                                f"{current[key]!r}")
    if signs_in(pending):
        logger.info("setSecret: %s already signs in with the AWSPENDING password of %s", pending["username"], arn)
        return
    # The current credentials must work before the master acts on the secret's word (AWS's confused-deputy check)
    if not signs_in(current):
        raise RotationError(f"setSecret: the AWSCURRENT role {current['username']!r} of {arn} cannot sign in; "
                            "refusing to change another role's password")
    master = json.loads(client.get_secret_value(SecretId=current["masterarn"], VersionStage="AWSCURRENT")[
        "SecretString"])
    if master.get("host", current["host"]) != current["host"]:
        raise RotationError(f"setSecret: the master secret names host {master['host']!r}, not {current['host']!r}")
    role = pending["username"]
    owner = required(OWNER_ROLE_ENV)
    try:
        session = connect(current, user=master["username"], password=master["password"], database=MASTER_DATABASE)
    except DatabaseError as err:
        raise RotationError(f"setSecret: the master user cannot sign in with the master secret "
                            f"{current['masterarn']}: {err}") from None
    with session:
        found = session.query(f"select rolcanlogin, pg_has_role(oid, {literal(owner)}, 'MEMBER') "
                              f"from pg_roles where rolname = {literal(role)}")
        if found != [("t", "t")]:
            raise RotationError(f"setSecret: role {role!r} is missing, cannot log in or is not a member of {owner!r} "
                                f"({found}); the prefect-database bootstrap Job creates it")
        verifier = scram_verifier(pending["password"])
        if not VERIFIER.fullmatch(verifier):
            raise RotationError("setSecret: the computed verifier has an unexpected form")
        session.query(f"alter role {identifier(role)} password {literal(verifier)}")
    logger.info("setSecret: the AWSPENDING password of %s is set on role %s (as a SCRAM-SHA-256 verifier)", arn, role)


def test_secret(client: Any, arn: str, token: str) -> None:
    pending = checked(secret_dict(client, arn, "AWSPENDING", token), "AWSPENDING")
    owner = required(OWNER_ROLE_ENV)
    try:
        session = connect(pending)
    except DatabaseError as err:
        raise RotationError(f"testSecret: {pending['username']!r} cannot sign in with the AWSPENDING password of "
                            f"{arn}: {err}") from None
    with session:
        rows = session.query("select session_user, current_user")
    if rows != [(pending["username"], owner)]:
        raise RotationError(f"testSecret: the session of {pending['username']!r} runs as {rows}; Prefect's sessions "
                            f"must run as {owner!r} (ALTER ROLE ... SET role, set by the bootstrap Job)")
    logger.info("testSecret: %s signs in with the AWSPENDING password of %s and runs as %s",
                pending["username"], arn, owner)


def finish_secret(client: Any, arn: str, token: str) -> None:
    metadata = client.describe_secret(SecretId=arn)
    current_version = None
    for version, stages in metadata["VersionIdsToStages"].items():
        if "AWSCURRENT" in stages:
            if version == token:
                logger.info("finishSecret: version %s of %s is already AWSCURRENT", token, arn)
                return
            current_version = version
            break
    client.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token,
                                       RemoveFromVersionId=current_version)
    # AWSPENDING leaves the version too: no label then says a rotation is under way (the RotateSecret API
    # reference names both "AWSPENDING on the AWSCURRENT version" and "on no version" as a finished rotation)
    client.update_secret_version_stage(SecretId=arn, VersionStage="AWSPENDING", RemoveFromVersionId=token)
    logger.info("finishSecret: version %s of %s is AWSCURRENT", token, arn)
