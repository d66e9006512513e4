"""PostgreSQL 15 and Redis 7, both TLS-only on a free loopback port, in a directory of their own.

PostgreSQL stands in for Aurora: TLS required (``hostssl`` only, as ``rds.force_ssl``), SCRAM passwords,
a master user that owns the database. Redis stands in for ElastiCache with in-transit encryption and
RBAC: no plaintext port, the ACL users of ``haflow.config.redis_acl`` (the definitions the foundation builds
its ElastiCache users from) set with ``ACL SETUSER`` from the same access strings, each consumer with a password
of its own, the default user off; an append-only file synced on every write so that a restart keeps what a
promoted replica would have (ElastiCache replicates asynchronously, with a lag of milliseconds).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from haflow.config.redis_acl import USERS, RedisUser
from tests.smoke.processes import RUN_MARKER, Process, free_port, port_open, wait_for
from tests.smoke.tls import ServerCertificate

POSTGRES_BIN = Path(os.environ.get("HAFLOW_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = os.environ.get("HAFLOW_REDIS_SERVER", "redis-server")
INSTALL_HINT = "run `make smoke-deps` (Debian packages postgresql-15 and redis-server; as root it installs them)"
DATABASE = "prefect"
MASTER_USER = "haflow_master"  # RDS's master user, which the platform's secret holds today
SUPERUSER = "postgres"  # local administration only, over the Unix socket
# The harness's own Redis user (reads ACL LOG, sets the users up): ElastiCache has none, AWS administers the
# users through its API. No Prefect or model-api process ever gets its password.
REDIS_ADMIN = "haflow-smoke-admin"
REDIS_CLI = os.environ.get("HAFLOW_REDIS_CLI", "redis-cli")


def missing_binaries() -> list[str]:
    missing = [str(POSTGRES_BIN / name) for name in ("postgres", "initdb", "psql") if not (POSTGRES_BIN / name).exists()]
    if shutil.which(REDIS_SERVER) is None:
        missing.append(REDIS_SERVER)
    return missing


def _unprivileged_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as the packages' ``postgres`` user."""
    if os.geteuid() != 0:
        return None
    pwd.getpwnam("postgres")
    return "postgres"


@dataclass
class Postgres:
    run_id: str
    certificate: ServerCertificate
    log_dir: Path
    port: int = field(default_factory=free_port)
    master_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    process: Process | None = None

    def __post_init__(self) -> None:
        self.user = _unprivileged_user()
        self.root = Path(tempfile.mkdtemp(prefix="haflow-smoke-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"

    def _as_owner(self, path: Path) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _environment(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8", RUN_MARKER: self.run_id}

    def init(self) -> None:
        self.root.chmod(0o755)
        self._as_owner(self.root)
        self.socket_dir.mkdir(mode=0o755)
        self._as_owner(self.socket_dir)
        subprocess.run(
            [str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth-local=trust",
             "--auth-host=reject", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, env=self._environment(), user=self.user, cwd=self.root,
        )
        for source, name in ((self.certificate.certificate_file, "server.crt"), (self.certificate.key_file, "server.key")):
            target = self.data / name
            shutil.copyfile(source, target)
            target.chmod(0o600)
            self._as_owner(target)
        (self.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "local replication all trust\n"  # pg_basebackup of a hot standby (Postgres.standby_of), socket only
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"  # no `host` line: a plaintext client is refused
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.socket_dir}'\n"
                "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
                "password_encryption = 'scram-sha-256'\nmax_connections = 200\nfsync = off\n"
                "log_connections = on\nlog_min_messages = warning\n"
            )

    def standby_of(self, primary: Postgres) -> None:
        """A hot standby of ``primary`` in place of ``init``: what an Aurora global-database secondary is to
        Prefect (read-only, streaming the primary's changes). pg_basebackup -R writes standby.signal and
        primary_conninfo; the copy keeps the primary's TLS certificate and pg_hba.conf."""
        self.root.chmod(0o755)
        self._as_owner(self.root)
        self.socket_dir.mkdir(mode=0o755)
        self._as_owner(self.socket_dir)
        subprocess.run(
            [str(POSTGRES_BIN / "pg_basebackup"), "-h", str(primary.socket_dir), "-p", str(primary.port),
             "-U", SUPERUSER, "-D", str(self.data), "-R", "-X", "stream", "--no-sync"],
            check=True, capture_output=True, env=self._environment(), user=self.user, cwd=self.root,
        )
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"port = {self.port}\nunix_socket_directories = '{self.socket_dir}'\nhot_standby = on\n")

    def in_recovery(self) -> bool:
        return self.psql("select pg_is_in_recovery()", database="postgres").stdout.strip() == "t"

    def promote(self) -> None:
        """What detaching and promoting the secondary cluster does to its database: read-write from now on."""
        self.psql("select pg_promote(wait => true, wait_seconds => 60)", database="postgres")
        wait_for(lambda: not self.in_recovery(), 60, what="the standby promoted")

    def start(self) -> None:
        self.process = Process(
            "postgres", [str(POSTGRES_BIN / "postgres"), "-D", str(self.data)], self._environment(),
            self.log_dir / "postgres.log", user=self.user, cwd=self.root,
        ).start()
        wait_for(lambda: (self.socket_dir / f".s.PGSQL.{self.port}").exists() and port_open(self.port), 30,
                 what=f"PostgreSQL on 127.0.0.1:{self.port}")
        wait_for(self._accepts_queries, 30, what="PostgreSQL accepting queries")

    def _accepts_queries(self) -> bool:
        return self.psql("select 1", database="postgres", check=False).returncode == 0

    def bootstrap(self) -> None:
        """The master user and the database it owns, as RDS creates them."""
        self.psql(f"create role {MASTER_USER} login createrole createdb password '{self.master_password}'",
                  database="postgres")
        self.psql(f"create database {DATABASE} owner {MASTER_USER}", database="postgres")

    def psql(self, sql: str, *, database: str = DATABASE, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run SQL as the local superuser over the Unix socket (administration, never the application's path)."""
        result = subprocess.run(
            [str(POSTGRES_BIN / "psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER,
             "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            capture_output=True, text=True, env=self._environment(), user=self.user, cwd=self.root,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"psql failed: {sql}\n{result.stderr}")
        return result

    def failover(self, downtime: float) -> None:
        """What an Aurora failover looks like to a client: every connection drops at once, the endpoint
        refuses connections for ``downtime`` seconds, then the same endpoint answers again."""
        assert self.process is not None
        self.process.signal(signal.SIGQUIT)  # immediate shutdown: connections cut, no checkpoint
        assert self.process.popen is not None
        self.process.popen.wait(timeout=30)
        time.sleep(downtime)
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.signal(signal.SIGINT)  # fast shutdown
            self.process.stop(timeout=15)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Redis:
    run_id: str
    certificate: ServerCertificate
    ca_file: Path
    log_dir: Path
    port: int = field(default_factory=free_port)
    # user name -> password, one per enabled ACL user (what each consumer's secret holds)
    passwords: dict[str, str] = field(
        default_factory=lambda: {user.user_name: secrets.token_urlsafe(24) for user in USERS if user.enabled})
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    process: Process | None = None
    # ACL LOG entries (refusals) of every server life: read before each restart, as the log lives in memory
    refusals: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="haflow-smoke-redis-"))
        self.acl_file = self.root / "users.acl"

    def start(self) -> None:
        config = self.root / "redis.conf"
        config.write_text(
            "bind 127.0.0.1\nport 0\n"  # no plaintext port at all
            f"tls-port {self.port}\ntls-cert-file {self.certificate.certificate_file}\n"
            f"tls-key-file {self.certificate.key_file}\ntls-ca-cert-file {self.ca_file}\n"
            "tls-auth-clients no\n"
            f"aclfile {self.acl_file}\n"
            f"dir {self.root}\nappendonly yes\nappendfsync always\nsave \"\"\n"
            "protected-mode yes\nloglevel warning\n"
        )
        config.chmod(0o600)
        first = not self.acl_file.exists()
        if first:
            # Only the harness's user at first; the ACL users are set below, as ElastiCache's API sets them.
            self.acl_file.write_text(f"user {REDIS_ADMIN} on >{self.admin_password} ~* &* +@all\n"
                                     "user default off nopass resetchannels -@all\n")
            self.acl_file.chmod(0o600)
        self.process = Process(
            "redis", [REDIS_SERVER, str(config)], {"PATH": os.environ.get("PATH", ""), RUN_MARKER: self.run_id},
            self.log_dir / "redis.log", cwd=self.root,
        ).start()
        wait_for(lambda: port_open(self.port), 30, what=f"Redis TLS on 127.0.0.1:{self.port}")
        if first:
            for user in USERS:
                self.admin("ACL", "SETUSER", user.user_name, *setuser_rules(user, self.passwords.get(user.user_name)))
            self.admin("ACL", "SAVE")  # a restarted server (a promoted replica) has the same users

    def cli(self, *command: str, user: str | None = None, password: str | None = None,
            url: str | None = None) -> subprocess.CompletedProcess[str]:
        """One command with redis-cli over TLS, as ``user`` (or the URL's user; none: unauthenticated)."""
        argv = [REDIS_CLI, "--tls", "--cacert", str(self.ca_file), "--no-auth-warning"]
        if url is not None:
            argv += ["-u", url]
        else:
            argv += ["-h", "127.0.0.1", "-p", str(self.port)]
            if user is not None:
                argv += ["--user", user, "--pass", password or ""]
        return subprocess.run([*argv, *command], capture_output=True, text=True, timeout=30, check=False)

    def admin(self, *command: str) -> str:
        result = self.cli(*command, user=REDIS_ADMIN, password=self.admin_password)
        if result.returncode != 0 or result.stdout.startswith(("ERR", "NOPERM", "WRONGPASS")):
            raise RuntimeError(f"redis-cli {' '.join(command[:3])}: {result.stdout}{result.stderr}")
        return result.stdout

    def acl_log(self) -> list[dict[str, str]]:
        """The refusals since the server started (ACL LOG, newest first), each as field -> value."""
        lines = self.admin("ACL", "LOG", "128").splitlines()
        entries: list[dict[str, str]] = []
        # redis-cli prints each entry's fields as alternating name / value lines, entries one after another
        for name, value in zip(lines[0::2], lines[1::2], strict=False):
            if name == "count":
                entries.append({})
            if entries:
                entries[-1][name] = value
        return entries

    def failover(self, downtime: float) -> None:
        """A cache primary failover as clients see it: the primary dies (SIGKILL), the endpoint refuses
        connections for ``downtime`` seconds, then a server with the replicated data answers."""
        assert self.process is not None
        self.refusals += self.acl_log()
        self.process.kill()
        time.sleep(downtime)
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def setuser_rules(user: RedisUser, password: str | None) -> list[str]:
    """ACL SETUSER's arguments for ``user``: its access string, token by token, after what ElastiCache sets
    through its API (the password, or nopass for a user that needs none)."""
    credential = f">{password}" if password else "nopass"
    # reset: start from nothing (no keys, no channels, no commands), as ElastiCache creates a user
    return ["reset", credential, *user.access_string().split()]
