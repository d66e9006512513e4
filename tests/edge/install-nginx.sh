#!/usr/bin/env bash
# Fetches Debian's nginx into a repo-local directory, without root: `apt-get download` + `dpkg -x`. Called by
# `make edge-tools` (and so by `make test`, CI) for tests/edge, which run the edge's rendered annotations in a
# real nginx. Idempotent: does nothing when the binary is already there.
set -euo pipefail

DEST=${1:?usage: install-nginx.sh DIR}
PACKAGES=(nginx)
BINARY="$DEST/root/usr/sbin/nginx"

if [ -x "$BINARY" ]; then
    exit 0
fi
# shellcheck source=../apt-unpack.sh
. "$(dirname "$0")/../apt-unpack.sh"
apt_unpack "$DEST.partial" "the edge tests need nginx: put it on PATH instead" "${PACKAGES[@]}"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
[ -x "$BINARY" ]
echo "nginx in $DEST/root/usr/sbin: $("$BINARY" -v 2>&1 | head -1)"
