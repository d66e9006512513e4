#!/usr/bin/env bash
# Installs the servers the Prefect runtime smoke starts: PostgreSQL 15 and Redis 7.0, both built with
# OpenSSL (Debian's packages). Called by `make smoke-deps` (and so by `make smoke`, `make test`, CI).
# Idempotent: does nothing when both are already there. The harness starts its own instances on free
# loopback ports; the packages' own services are not started by this script.
set -euo pipefail

PACKAGES=(postgresql-15 redis-server)
POSTGRES_BIN=/usr/lib/postgresql/15/bin

installed() {
    [ -x "$POSTGRES_BIN/postgres" ] && [ -x "$POSTGRES_BIN/initdb" ] && command -v redis-server >/dev/null
}

if installed; then
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    cat >&2 <<EOF
The Prefect smoke needs PostgreSQL 15 ($POSTGRES_BIN/postgres) and redis-server 7 on this machine,
both built with TLS. They are not installed, and this script can install them only as root with apt-get.
Install the Debian packages: ${PACKAGES[*]}
  e.g.  sudo apt-get install --no-install-recommends ${PACKAGES[*]}
or skip the smoke locally: .venv/bin/pytest -m "not smoke"
EOF
    exit 2
fi

export DEBIAN_FRONTEND=noninteractive
# Debian's maintainer scripts start the packaged services; keep them from doing so (exit 101 = "not
# allowed"), unless the machine already has its own policy.
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
fi
trap '[ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null

if ! installed; then
    echo "apt-get installed ${PACKAGES[*]}, but $POSTGRES_BIN/postgres or redis-server is still missing" >&2
    exit 1
fi
echo "installed: $("$POSTGRES_BIN/postgres" --version), $(redis-server --version)"
