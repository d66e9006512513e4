"""Creates Prefect's database roles, signed in as the Aurora master user: run by the bootstrap Job, never by Prefect.

Runs inside the prefecthq/prefect image (its Python and asyncpg) as the ``prefect-database-bootstrap`` Job, a Helm
hook that exists only while it runs (docs/security-prefect.md). Idempotent, and serialized by an advisory lock:

1. a NOLOGIN role ``OWNER_ROLE`` owns Prefect's database and everything in it (objects the master created before,
   when Prefect signed in as the master, are handed over);
2. the login roles ``LOGIN_ROLES`` (``prefect`` and ``prefect_clone``, Secrets Manager's alternating users) are
   members of it with no other attribute (no CREATEROLE, no CREATEDB; REPLICATION is off for a new role and only a
   superuser could turn it on), and every session of theirs runs as the
   owner (``ALTER ROLE ... SET role``), so tables created by either stay usable by the other after a rotation;
3. the login role the database secret names now (``ROLE``) gets the secret's password; the other keeps its own,
   so pods still holding the previous secret keep signing in while the new one rolls out;
4. nobody but the owner may connect to Prefect's database (CONNECT revoked from PUBLIC).

The password reaches PostgreSQL as a SCRAM-SHA-256 verifier computed here (as psql's \\password does): Aurora
logs DDL statements (log_statement = ddl), and a verifier in the log is not the password.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import ssl
import sys

ADDRESS_ENV = "HAFLOW_DATABASE_ADDRESS"  # host:port of the writer
DATABASE_ENV = "HAFLOW_DATABASE_NAME"
MASTER_USER_ENV = "HAFLOW_MASTER_USERNAME"
MASTER_PASSWORD_ENV = "HAFLOW_MASTER_PASSWORD"
ROLE_ENV = "HAFLOW_PREFECT_ROLE"
ROLE_PASSWORD_ENV = "HAFLOW_PREFECT_ROLE_PASSWORD"
OWNER_ROLE_ENV = "HAFLOW_PREFECT_OWNER_ROLE"
LOGIN_ROLES_ENV = "HAFLOW_PREFECT_LOGIN_ROLES"  # comma-separated
CA_FILE_ENV = "HAFLOW_DATABASE_CA_FILE"

# pg_advisory_xact_lock key of the bootstrap ("prefdb" in ASCII): two Jobs never interleave
LOCK_KEY = 0x70_7265_6664_62
SCRAM_ITERATIONS = 4096  # PostgreSQL's scram_iterations default

# Objects of Prefect's database the master user still owns (Prefect signed in as the master before), with the
# ALTER statement that hands each to the owner. Indexes and the sequences of identity/serial columns move with
# their table; extensions stay with whoever created them.
OWNED_BY_MASTER = """
select format('alter %s %s owner to %I',
              case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view'
                             when 'f' then 'foreign table' else 'table' end,
              c.oid::regclass, $1::text)
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relowner = (select oid from pg_roles where rolname = current_user)
  and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
  and not (c.relkind = 'S' and exists (select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i')))
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
union all
select format('alter type %s owner to %I', t.oid::regtype, $1::text)
from pg_type t join pg_namespace n on n.oid = t.typnamespace
where t.typowner = (select oid from pg_roles where rolname = current_user)
  and t.typtype in ('e', 'd', 'r', 'm') and n.nspname not in ('pg_catalog', 'information_schema')
union all
select format('alter routine %s owner to %I', p.oid::regprocedure, $1::text)
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where p.proowner = (select oid from pg_roles where rolname = current_user)
  and n.nspname not in ('pg_catalog', 'information_schema')
  and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
union all
select format('alter schema %I owner to %I', n.nspname, $1::text)
from pg_namespace n
where n.nspowner = (select oid from pg_roles where rolname = current_user)
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_%'
"""


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 7677; PostgreSQL's scram_build_secret).
    The password is used as given (SASLprep leaves the letters and digits Secrets Manager generates unchanged)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    # Joined, not one f-string: "$" followed by "{" in this source would be a Terraform interpolation in the values
    return "$".join(("SCRAM-SHA-256", f"{iterations}:{b64(salt)}", f"{b64(stored_key)}:{b64(server_key)}"))


def required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise SystemExit(f"haflow prefect-database bootstrap: environment variable {name} is not set")
    return value


async def bootstrap() -> list[str]:
    """Run the bootstrap; returns what it did (role and object names, never a password)."""
    import asyncpg  # the image's; imported here so that haflow can read this module's constants without it

    owner = required(OWNER_ROLE_ENV)
    logins = [name.strip() for name in required(LOGIN_ROLES_ENV).split(",") if name.strip()]
    role = required(ROLE_ENV)
    if role not in logins:
        raise SystemExit(f"haflow prefect-database bootstrap: the database secret names {role!r}, "
                         f"not one of the login roles {logins}")
    database = required(DATABASE_ENV)
    context = ssl.create_default_context(cafile=required(CA_FILE_ENV))
    host, _, port = required(ADDRESS_ENV).rpartition(":")
    connection = await asyncpg.connect(
        host=host, port=int(port), database=database,
        user=required(MASTER_USER_ENV), password=required(MASTER_PASSWORD_ENV), ssl=context,
    )
    done: list[str] = []
    try:
        async with connection.transaction():
            await connection.execute(f"select pg_advisory_xact_lock({LOCK_KEY})")

            async def role_exists(name: str) -> bool:
                return bool(await connection.fetchval("select 1 from pg_roles where rolname = $1", name))

            async def run(statement: str, *args: str) -> None:
                sql = await connection.fetchval(statement, *args) if args else statement
                await connection.execute(sql)

            if not await role_exists(owner):
                await run("select format('create role %I nologin', $1::text)", owner)
                done.append(f"created role {owner} (nologin)")
            for login in logins:
                if not await role_exists(login):
                    await run("select format('create role %I login', $1::text)", login)
                    done.append(f"created role {login} (login)")
                # Every run, so that a role changed by hand returns to the least it needs
                await run("select format('alter role %I login nocreatedb nocreaterole', $1::text)",
                          login)
                await run("select format('grant %I to %I', $1::text, $2::text)", owner, login)
                await run("select format('alter role %I set role to %L', $1::text, $2::text)", login, owner)
            verifier = scram_verifier(required(ROLE_PASSWORD_ENV))
            await run("select format('alter role %I password %L', $1::text, $2::text)", role, verifier)
            done.append(f"password of {role} set from the database secret")
            # The master may act as the owner (ALTER ... OWNER TO needs it), as RDS's master administers any role
            await run("select format('grant %I to current_user', $1::text)", owner)
            await run("select format('alter database %I owner to %I', $1::text, $2::text)", database, owner)
            await run("select format('revoke all on database %I from public', $1::text)", database)
            for (statement,) in await connection.fetch(OWNED_BY_MASTER, owner):
                await connection.execute(statement)
                done.append(statement)
    finally:
        await connection.close()
    return done


def main() -> int:
    for line in asyncio.run(bootstrap()):
        print(f"haflow prefect-database bootstrap: {line}", flush=True)
    print("haflow prefect-database bootstrap: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
