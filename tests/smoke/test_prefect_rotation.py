"""haflow's rotation of Prefect's database password, run by Secrets Manager's RotateSecret against real PostgreSQL.

The receivers: PostgreSQL 15 with TLS, SCRAM and ``log_statement = ddl`` (Aurora's QUERY_LOGGING), with the
roles made by the real bootstrap program (haflow/in_image/prefect_database.py, in the Prefect image's Python); a
real moto_server's Secrets Manager (RotateSecret's AWSPENDING stub, the four steps, the staging) and Lambda
(CreateFunction with the synthesized zip, handler and environment of prod's foundation stack). The one fake:
moto's Lambda runs functions in Docker, which is not here, so tests/smoke/rotation_moto.py calls the uploaded zip's
handler in the moto process instead (with the function's environment). The CA bundle is fetched over HTTPS as in
AWS, from a local server whose certificate a stand-in public root signs (SSL_CERT_FILE).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from haflow import contract
from haflow.config import Environment
from haflow.constructs import prefect_rotation as construct
from haflow.drill.motoserver import answers
from haflow.in_image import prefect_rotation
from haflow.in_image.prefect_rotation import Connection, DatabaseError
from haflow.plan import STACKS_DIR, read_stacks, resources
from haflow.synthesis import synthesize
from tests.smoke import tls
from tests.smoke.conftest import PREFECT_VENV, REPO_ROOT
from tests.smoke.processes import RUN_MARKER, Process, free_port, reap, wait_for
from tests.smoke.servers import DATABASE, MASTER_USER, Postgres, missing_binaries

REGION = "us-east-1"
HOST = "localhost"  # the name the server certificate carries (verify-full checks it)
CA_PATH = "/global/global-bundle.pem"
BOOTSTRAP = REPO_ROOT / "haflow" / "in_image" / "prefect_database.py"
FIRST, CLONE = contract.PREFECT_DATABASE_ROLES
CLEARTEXT_ROLE, TRUST_ROLE = "haflow_cleartext", "haflow_trust"
NOT_PEM_PATH = "/error-page.html"


@dataclass
class Rig:
    root: Path
    postgres: Postgres
    moto: str
    function_arn: str
    master_arn: str
    ca_pem: bytes
    trust: Path
    ca_base: str = ""

    def client(self) -> Any:
        return boto3.client("secretsmanager", region_name=REGION, endpoint_url=self.moto,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(retries={"max_attempts": 1}))

    def connect(self, user: str, password: str, database: str = DATABASE) -> Connection:
        return Connection(host=HOST, port=self.postgres.port, user=user, password=password, database=database,
                          tls=ssl.create_default_context(cadata=self.ca_pem.decode()))

    def server_log(self) -> str:
        return (self.root / "logs" / "postgres.log").read_text(errors="replace")

    def function_log(self) -> str:
        return (self.root / "logs" / "moto.log").read_text(errors="replace")

    def verifiers(self) -> dict[str, str]:
        """Each Prefect login role's stored verifier (what a change to the database would change)."""
        rows = self.postgres.psql("select rolname, coalesce(rolpassword, '') from pg_authid where rolname in "
                                  f"('{FIRST}', '{CLONE}') order by 1", database="postgres").stdout.split()
        return dict(row.split("|", 1) for row in rows)


class CaServer(http.server.ThreadingHTTPServer):
    body = b""


class CaHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = {CA_PATH: self.server.body, NOT_PEM_PATH: b"<html>captive portal</html>"}.get(  # type: ignore[attr-defined]
            self.path, b"not found")
        self.send_response(404 if body == b"not found" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


def secret_document(rig_port: int, username: str, password: str, master_arn: str, host: str = HOST) -> str:
    return json.dumps({"engine": "postgres", "host": host, "port": str(rig_port), "dbname": DATABASE,
                       "username": username, "password": password, "masterarn": master_arn})


def function_of(stacks: dict[str, Any]) -> dict[str, Any]:
    [function] = list(resources(stacks["prod-foundation"], "aws_lambda_function"))
    return function.body  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def prod_foundation(environments: dict[str, Environment], tmp_path_factory: pytest.TempPathFactory
                    ) -> tuple[dict[str, Any], Path]:
    """prod synthesized alone: the foundation stack and its directory (the function's zip is an asset there)."""
    outdir = tmp_path_factory.mktemp("rotation-synth") / "cdktf.out"
    synthesize([environments["prod"]], outdir)
    return read_stacks(outdir)["prod-foundation"], outdir / STACKS_DIR / "prod-foundation"


@pytest.fixture(scope="module")
def rig(prod_foundation: tuple[dict[str, Any], Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    missing = missing_binaries()
    if missing or not (PREFECT_VENV / "bin" / "python").exists():
        pytest.fail(f"the rotation test needs PostgreSQL 15 and .venv-prefect (asyncpg): missing {missing}; "
                    "run `make smoke-deps`", pytrace=False)
    stack, stack_dir = prod_foundation
    [function] = list(resources(stack, "aws_lambda_function"))
    body = function.body
    run_id = uuid.uuid4().hex
    root = tmp_path_factory.mktemp("rotation")
    (root / "logs").mkdir()
    rds_ca = tls.authority("haflow rotation test RDS CA")
    public_root = tls.authority("haflow rotation test public root")
    trust = root / "public-roots.pem"
    trust.write_bytes(public_root.pem)
    postgres = Postgres(run_id, tls.server_certificate(rds_ca, "postgres", root / "pg-cert"), root / "logs")
    ca_server = CaServer(("127.0.0.1", 0), CaHandler)
    ca_server.body = rds_ca.pem
    web = tls.server_certificate(public_root, "truststore", root / "web-cert")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(web.certificate_file, web.key_file)
    ca_server.socket = context.wrap_socket(ca_server.socket, server_side=True)
    threading.Thread(target=ca_server.serve_forever, daemon=True).start()
    moto_port = free_port()
    moto = Process("moto", [sys.executable, "-m", "tests.smoke.rotation_moto", str(moto_port)], {
        "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO_ROOT),
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{moto_port}", "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION, "SSL_CERT_FILE": str(trust),
        RUN_MARKER: run_id,
    }, root / "logs" / "moto.log", cwd=REPO_ROOT)
    try:
        postgres.init()
        with (postgres.data / "postgresql.conf").open("a") as conf:
            conf.write("log_statement = 'ddl'\n")  # haflow.constructs.database.QUERY_LOGGING
        # Two roles a server could let in by weaker means: the client must refuse both
        hba = postgres.data / "pg_hba.conf"
        hba.write_text(f"hostssl all {CLEARTEXT_ROLE} 127.0.0.1/32 password\n"
                       f"hostssl all {TRUST_ROLE} 127.0.0.1/32 trust\n" + hba.read_text())
        postgres.start()
        postgres.bootstrap()
        moto.start()
        wait_for(lambda: answers(f"http://127.0.0.1:{moto_port}"), 30, what="moto_server")
        url = f"http://127.0.0.1:{moto_port}"
        rig = Rig(root, postgres, url, "", "", rds_ca.pem, trust)
        client = rig.client()
        rig.master_arn = client.create_secret(
            Name="haflow/prod/aurora-master", SecretString=json.dumps(
                {"username": MASTER_USER, "password": postgres.master_password}))["ARN"]
        iam = boto3.client("iam", region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        role = iam.create_role(RoleName=body["function_name"], AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "lambda.amazonaws.com"}}]}))
        # The synthesized environment, with what Terraform resolves at apply: the cluster endpoint, the master
        # secret's ARN; the CA bundle's URL points at the local HTTPS server.
        variables = dict(body["environment"]["variables"])
        assert re.fullmatch(r"\$\{aws_rds_cluster\.\S+\.endpoint\}", variables[prefect_rotation.DATABASE_HOST_ENV])
        assert re.fullmatch(r"\$\{aws_secretsmanager_secret\.\S+\.arn\}",
                            variables[prefect_rotation.MASTER_SECRET_ARN_ENV])
        variables[prefect_rotation.DATABASE_HOST_ENV] = HOST
        variables[prefect_rotation.MASTER_SECRET_ARN_ENV] = rig.master_arn
        rig.ca_base = f"https://localhost:{ca_server.server_port}"
        variables[prefect_rotation.CA_BUNDLE_URL_ENV] = f"{rig.ca_base}{CA_PATH}"
        rig.function_arn = boto3.client(
            "lambda", region_name=REGION, endpoint_url=url, aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_function(
            FunctionName=body["function_name"], Runtime=body["runtime"], Role=role["Role"]["Arn"],
            Handler=body["handler"], Code={"ZipFile": (stack_dir / body["filename"]).read_bytes()},
            Timeout=body["timeout"], Environment={"Variables": variables},
        )["FunctionArn"]
        yield rig
    finally:
        ca_server.shutdown()
        moto.stop()
        postgres.stop()
        reap(run_id)


def new_secret(rig: Rig, name: str, username: str, password: str, host: str = HOST) -> str:
    return str(rig.client().create_secret(
        Name=name, SecretString=secret_document(rig.postgres.port, username, password, rig.master_arn, host))["ARN"])


def bootstrap(rig: Rig, role: str, password: str) -> None:
    """The bootstrap Job's program, as the master (creates the roles, sets ``role``'s password)."""
    subprocess.run([str(PREFECT_VENV / "bin" / "python"), str(BOOTSTRAP)], check=True, capture_output=True,
                   timeout=120, env={
                       "PATH": "/usr/bin:/bin", "HAFLOW_DATABASE_ADDRESS": f"{HOST}:{rig.postgres.port}",
                       "HAFLOW_DATABASE_NAME": DATABASE, "HAFLOW_MASTER_USERNAME": MASTER_USER,
                       "HAFLOW_MASTER_PASSWORD": rig.postgres.master_password, "HAFLOW_PREFECT_ROLE": role,
                       "HAFLOW_PREFECT_ROLE_PASSWORD": password,
                       "HAFLOW_PREFECT_OWNER_ROLE": contract.PREFECT_DATABASE_OWNER,
                       "HAFLOW_PREFECT_LOGIN_ROLES": ",".join(contract.PREFECT_DATABASE_ROLES),
                       "HAFLOW_DATABASE_CA_FILE": str(rig.root / "pg-cert" / "postgres.crt"),
                   })


def rotate(rig: Rig, secret: str) -> None:
    rig.client().rotate_secret(SecretId=secret, RotationLambdaARN=rig.function_arn,
                               RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=True)


def current(rig: Rig, secret: str) -> tuple[str, dict[str, Any]]:
    client = rig.client()
    stages = client.describe_secret(SecretId=secret)["VersionIdsToStages"]
    [version] = [version for version, labels in stages.items() if "AWSCURRENT" in labels]
    return version, json.loads(client.get_secret_value(SecretId=secret, VersionStage="AWSCURRENT")["SecretString"])


def session_roles(rig: Rig, user: str, password: str) -> list[tuple[str | None, ...]]:
    with rig.connect(user, password) as session:
        return session.query("select session_user, current_user")


def refused(rig: Rig, user: str, password: str) -> bool:
    try:
        rig.connect(user, password).close()
    except DatabaseError as err:
        return err.sqlstate == "28P01"
    return False


def test_the_zip_holds_the_handler_module_haflow_ships(prod_foundation: tuple[dict[str, Any], Path]) -> None:
    """The archive is the module this repository tests (byte for byte), under the handler the function names."""
    import zipfile

    stack, stack_dir = prod_foundation
    body = function_of({"prod-foundation": stack})
    assert body["handler"] == construct.HANDLER
    with zipfile.ZipFile(stack_dir / body["filename"]) as archive:
        for module in construct.FUNCTION_MODULES:
            shipped = archive.read(f"{construct.FUNCTION_PACKAGE}/{module}")
            assert shipped == (REPO_ROOT / "haflow" / "in_image" / module).read_bytes(), module


def test_rotate_twice_through_secrets_manager_without_an_outage(rig: Rig) -> None:
    """RotateSecret (moto's) drives the four steps: prefect -> prefect_clone -> prefect. After each, the new
    AWSCURRENT signs in and runs as prefect_owner, the previous role's credentials still sign in, a session opened
    before the rotation keeps working; the server's log has each ALTER ROLE and no password."""
    first_password = secrets.token_hex(20)
    bootstrap(rig, FIRST, first_password)
    secret = new_secret(rig, "haflow/prod/prefect-database", FIRST, first_password)
    seen = [first_password]
    with rig.connect(FIRST, first_password) as before:
        previous = (FIRST, first_password)
        for expected in (CLONE, FIRST):
            old_version, _ = current(rig, secret)
            rotate(rig, secret)
            version, document = current(rig, secret)
            assert version != old_version
            assert document["username"] == expected, document["username"]
            assert document["password"] not in seen and len(document["password"]) == construct_password_length()
            seen.append(document["password"])
            assert session_roles(rig, expected, document["password"]) == [(expected, contract.PREFECT_DATABASE_OWNER)]
            assert session_roles(rig, *previous) == [(previous[0], contract.PREFECT_DATABASE_OWNER)], (
                "the previous role's credentials stopped working: an outage until every pod has the new secret")
            assert before.query("select 1") == [("1",)]
            stages = rig.client().describe_secret(SecretId=secret)["VersionIdsToStages"]
            assert stages[old_version] == ["AWSPREVIOUS"] and stages[version] == ["AWSCURRENT"], stages
            previous = (expected, document["password"])
    # The first password was replaced by the second rotation: the roles really alternate
    assert refused(rig, FIRST, first_password)
    log = rig.server_log()
    for password in seen:
        assert password not in log, "a password is in PostgreSQL's log"
        assert password not in rig.function_log(), "a password is in the function's log"
    for role in (CLONE, FIRST):
        assert re.search(rf"LOG:  statement: alter role \"{role}\" password 'SCRAM-SHA-256\$4096:", log), (
            f"no logged ALTER ROLE of {role}: is log_statement = ddl on?")


def construct_password_length() -> int:
    from haflow.constructs.prefect_credentials import DATABASE_PASSWORD_LENGTH

    assert prefect_rotation.PASSWORD_LENGTH == DATABASE_PASSWORD_LENGTH
    return DATABASE_PASSWORD_LENGTH


def refused_rotation(rig: Rig, secret: str, fragment: str) -> None:
    """The rotation fails with ``fragment`` in its message, and neither the database nor AWSCURRENT changed."""
    before_verifiers = rig.verifiers()
    before = current(rig, secret)
    with pytest.raises(ClientError) as raised:
        rotate(rig, secret)
    assert fragment in str(raised.value), str(raised.value)
    assert rig.verifiers() == before_verifiers
    assert current(rig, secret) == before


def test_a_role_outside_the_allowlist_is_refused(rig: Rig) -> None:
    bootstrap(rig, FIRST, secrets.token_hex(20))
    secret = new_secret(rig, "negative/owner-role", contract.PREFECT_DATABASE_OWNER, "x" * 40)
    refused_rotation(rig, secret, "not one of the alternating users")


def test_a_secret_naming_another_host_is_refused(rig: Rig) -> None:
    password = secrets.token_hex(20)
    bootstrap(rig, FIRST, password)
    secret = new_secret(rig, "negative/other-host", FIRST, password, host="db.attacker.example")
    refused_rotation(rig, secret, "is not the cluster this function serves")


def test_a_wrong_master_password_is_refused(rig: Rig) -> None:
    password = secrets.token_hex(20)
    bootstrap(rig, FIRST, password)
    secret = new_secret(rig, "negative/wrong-master", FIRST, password)
    client = rig.client()
    client.put_secret_value(SecretId=rig.master_arn, SecretString=json.dumps(
        {"username": MASTER_USER, "password": "not-the-master-password"}))
    try:
        refused_rotation(rig, secret, "the master user cannot sign in")
    finally:
        client.put_secret_value(SecretId=rig.master_arn, SecretString=json.dumps(
            {"username": MASTER_USER, "password": rig.postgres.master_password}))


def test_control_log_statement_ddl_logs_a_plaintext_password(rig: Rig) -> None:
    """Why AWS's function is not used: with log_statement = ddl, PostgreSQL 15 logs ALTER ROLE ... PASSWORD
    'literal' (what its client-side parameter substitution sends) with the password in it."""
    literal = f"plain{secrets.token_hex(12)}"
    with rig.connect(MASTER_USER, rig.postgres.master_password, database="postgres") as master:
        master.query('create role "haflow_control" login')
        master.query(f"alter role \"haflow_control\" with password '{literal}'")
        master.query('drop role "haflow_control"')
    assert literal in rig.server_log()


def test_the_client_refuses_a_server_it_cannot_verify(rig: Rig) -> None:
    """verify-full: a server certificate that the given CA did not sign is refused before any password is sent."""
    other = tls.authority("some other CA")
    with pytest.raises(ssl.SSLCertVerificationError):
        Connection(host=HOST, port=rig.postgres.port, user=MASTER_USER, password=rig.postgres.master_password,
                   database="postgres", tls=ssl.create_default_context(cadata=other.pem.decode()))


def test_the_client_refuses_cleartext_and_unauthenticated_logins(rig: Rig) -> None:
    """Only SCRAM-SHA-256, completed with the server's signature: a server asking for the password in clear never
    gets it, and one letting the session in without authentication is refused."""
    password = secrets.token_hex(20)
    rig.postgres.psql(f"create role {CLEARTEXT_ROLE} login password '{password}'; create role {TRUST_ROLE} login",
                      database="postgres")
    try:
        with pytest.raises(DatabaseError, match="asks for cleartext password authentication"):
            rig.connect(CLEARTEXT_ROLE, password, database="postgres")
        with pytest.raises(DatabaseError, match="without SCRAM-SHA-256 authentication"):
            rig.connect(TRUST_ROLE, "anything", database="postgres")
    finally:
        rig.postgres.psql(f"drop role {CLEARTEXT_ROLE}; drop role {TRUST_ROLE}", database="postgres")


def test_a_ca_bundle_url_answering_without_certificates_is_refused(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundle is trusted only if it holds PEM certificates (a captive portal's page is not a trust store), and
    only over HTTPS verified with the public trust store."""
    monkeypatch.setattr(prefect_rotation, "_TLS", None)
    monkeypatch.setenv("SSL_CERT_FILE", str(rig.trust))
    monkeypatch.setenv(prefect_rotation.CA_BUNDLE_URL_ENV, f"{rig.ca_base}{NOT_PEM_PATH}")
    with pytest.raises(prefect_rotation.RotationError, match="answered without PEM certificates"):
        prefect_rotation.tls_context()
    monkeypatch.setenv(prefect_rotation.CA_BUNDLE_URL_ENV, f"http://localhost:1{CA_PATH}")
    with pytest.raises(prefect_rotation.RotationError, match="over HTTPS only"):
        prefect_rotation.tls_context()
    monkeypatch.setenv(prefect_rotation.CA_BUNDLE_URL_ENV, f"{rig.ca_base}{CA_PATH}")
    monkeypatch.delenv("SSL_CERT_FILE")
    with pytest.raises(prefect_rotation.RotationError, match=r"cannot fetch the RDS CA bundle.*CERTIFICATE_VERIFY_FAILED"):
        prefect_rotation.tls_context()
    monkeypatch.setenv("SSL_CERT_FILE", str(rig.trust))
    with prefect_rotation.connect({"host": HOST, "port": rig.postgres.port, "dbname": "postgres"},
                                  user=MASTER_USER, password=rig.postgres.master_password) as master:
        assert master.query("select 1") == [("1",)]
